/**
 * `GET /metrics` on the real server (loopback, fake Jira, the pass's backend: test-backend.ts): the answer is valid Prometheus text exposition format 0.0.4
 * (checked line by line with a strict grammar), its counters move with a delivery and a run, and it is protected
 * like the API (401 without a token, 200 with an auditor token) unless DEFLECT_METRICS_PUBLIC=true.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { authHeader } from '../support/api-token.js';
import { postWebhook, REPO_ROOT, startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { tokenResetEvent } from '../reliability/helpers.js';

/**
 * One sample line: name, optional {labels}, value, no timestamp. Values are Go `strconv.ParseFloat` syntax, which
 * Prometheus' parser uses: Inf and NaN in any case (prom-client writes `Nan` for an empty event-loop histogram).
 */
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*")*)?\})? (-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|[+-]?inf|nan))$/i;
const HELP = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*$/;
const TYPE = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/;

/** Parses exposition text strictly; throws on any line that is not HELP, TYPE or a sample of a declared family. */
function parseExposition(text: string): { types: Map<string, string>; samples: Array<{ name: string; labels: string; value: number }> } {
  const types = new Map<string, string>();
  const samples: Array<{ name: string; labels: string; value: number }> = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = TYPE.exec(line);
    if (type) {
      expect(types.has(type[1]), `family ${type[1]} declared twice`).toBe(false);
      types.set(type[1], type[2]);
      continue;
    }
    if (HELP.test(line)) continue;
    const sample = SAMPLE.exec(line);
    if (!sample) throw new Error(`not a Prometheus exposition line: ${JSON.stringify(line)}`);
    const family = sample[1].replace(/_(bucket|sum|count)$/, '');
    expect(types.has(sample[1]) || types.has(family), `sample ${sample[1]} has no # TYPE`).toBe(true);
    samples.push({ name: sample[1], labels: sample[2] ?? '', value: Number(sample[3].replace(/^([+-]?)inf$/i, '$1Infinity').replace(/^nan$/i, 'NaN')) });
  }
  return { types, samples };
}

/** Sum of the samples of `name` whose label text contains every `labels` pair. */
function valueOf(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return parseExposition(text)
    .samples.filter((s) => s.name === name && wanted.every((w) => s.labels.includes(w)))
    .reduce((sum, s) => sum + s.value, 0);
}

describe('GET /metrics', () => {
  let jira: FakeJira;
  let deflect: DeflectUnderTest;
  let auditor: { authorization: string };
  const scrape = async () => {
    const response = await fetch(`${deflect.url}/metrics`, { headers: auditor });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.text();
  };

  beforeAll(async () => {
    jira = await startFakeJira();
    jira.seedIssue({ key: 'MET-1', id: '93001' });
    deflect = await startDeflect({ fakeJira: jira });
    auditor = await authHeader(deflect.db, 'auditor');
  });
  afterAll(async () => {
    await deflect?.close();
    await jira?.close();
  });

  it('answers 401 without a token, 200 with an auditor token', async () => {
    const anonymous = await fetch(`${deflect.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).message).toMatch(/authentication required/);
    const wrong = await fetch(`${deflect.url}/metrics`, { headers: { authorization: 'Bearer not-a-token' } });
    expect(wrong.status).toBe(401);
    await scrape();
  });

  it('is valid exposition text; every family is prefixed deflect_ and the named ones are there', async () => {
    const text = await scrape();
    const { types } = parseExposition(text);
    for (const name of types.keys()) expect(name).toMatch(/^deflect_/);
    expect(types.get('deflect_deliveries_total')).toBe('counter');
    expect(types.get('deflect_runs_total')).toBe('counter');
    expect(types.get('deflect_run_duration_seconds')).toBe('histogram');
    expect(types.get('deflect_actions_total')).toBe('counter');
    expect(types.get('deflect_reconcile_runs_total')).toBe('counter');
    for (const gauge of ['deflect_queue_lag', 'deflect_dead_letters', 'deflect_paused_handlers', 'deflect_demoted_handlers', 'deflect_oldest_pending_delivery_seconds']) {
      expect(types.get(gauge), gauge).toBe('gauge');
    }
    expect(types.get('deflect_process_cpu_user_seconds_total')).toBe('counter');
  });

  it('docs/grafana-dashboard.json queries only metrics this server exposes', async () => {
    const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, 'docs/grafana-dashboard.json'), 'utf8')) as { panels: Array<{ targets?: Array<{ expr: string }> }> };
    const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
    expect(exprs.length).toBeGreaterThanOrEqual(15);
    const { types } = parseExposition(await scrape());
    const used = new Set(exprs.flatMap((e) => e.match(/\bdeflect_[a-z0-9_]+/g) ?? []));
    expect(used.size).toBeGreaterThanOrEqual(12);
    for (const name of used) {
      const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
      expect(types.has(family), `${name} is not exposed by /metrics`).toBe(true);
    }
  });

  it('counts a delivery, its run and its action, and the database gauges follow the queue', async () => {
    const before = await scrape();
    const accepted = valueOf(before, 'deflect_deliveries_total', { tracker: 'jira', result: 'accepted' });
    const unauthorized = valueOf(before, 'deflect_deliveries_total', { tracker: 'jira', result: 'unauthorized' });
    const runs = valueOf(before, 'deflect_runs_total', { handler: 'reset-ci-token', outcome: 'succeeded' });
    const durations = valueOf(before, 'deflect_run_duration_seconds_count', { handler: 'reset-ci-token' });
    const comments = valueOf(before, 'deflect_actions_total', { kind: 'comment', status: 'applied' });

    const posted = await postWebhook(deflect.url, tokenResetEvent('MET-1', '93001'));
    expect(posted.status).toBe(200);
    expect((await postWebhook(deflect.url, tokenResetEvent('MET-1', '93001'), { secret: 'wrong' })).status).toBe(401);
    await waitFor('the run to succeed', () => jira.commentsFor('MET-1').length > 0 && deflect.worker.busy === 0);
    const after = await waitFor('the run counter', async () => {
      const text = await scrape();
      return valueOf(text, 'deflect_runs_total', { handler: 'reset-ci-token', outcome: 'succeeded' }) > runs ? text : null;
    });
    expect(valueOf(after, 'deflect_deliveries_total', { tracker: 'jira', result: 'accepted' })).toBe(accepted + 1);
    expect(valueOf(after, 'deflect_deliveries_total', { tracker: 'jira', result: 'unauthorized' })).toBe(unauthorized + 1);
    expect(valueOf(after, 'deflect_runs_total', { handler: 'reset-ci-token', outcome: 'succeeded' })).toBe(runs + 1);
    expect(valueOf(after, 'deflect_run_duration_seconds_count', { handler: 'reset-ci-token' })).toBe(durations + 1);
    expect(valueOf(after, 'deflect_actions_total', { kind: 'comment', status: 'applied' })).toBe(comments + 1);
    expect(valueOf(after, 'deflect_queue_lag')).toBe(0);

    // A dead run and a paused handler show up in the gauges read from the database at scrape time.
    expect((await deflect.database.run("UPDATE runs SET status = 'dead' WHERE handler = 'reset-ci-token'")).changes).toBe(1);
    expect(await deflect.db.pauseHandler('grant-repo-access', 'paused by the metrics test')).toBe(true);
    const gauges = await scrape();
    expect(valueOf(gauges, 'deflect_dead_letters')).toBe(1);
    expect(valueOf(gauges, 'deflect_paused_handlers')).toBe(1);
  });
});

describe('GET /metrics with DEFLECT_METRICS_PUBLIC=true', () => {
  it('answers 200 without a token, while the API still needs one', async () => {
    const deflect = await startDeflect({ env: { DEFLECT_METRICS_PUBLIC: 'true' } });
    try {
      const response = await fetch(`${deflect.url}/metrics`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('# TYPE deflect_deliveries_total counter');
      expect((await fetch(`${deflect.url}/api/runs`)).status).toBe(401);
    } finally {
      await deflect.close();
    }
  });
});
