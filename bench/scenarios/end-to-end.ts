/**
 * Scenario 2, end to end: deliveries at a steady rate (default 100/s for 30 s), each for its own ticket and carrying
 * the routed label `access-request` (rule repo-access → handler grant-repo-access, which comments then transitions).
 * Measures, per delivery, the time from deflect's 2xx to the fake Jira receiving the handler's comment: p50, p99,
 * max; and the queue lag (`/readyz` queueLag: pending deliveries + runs due) right after the last 2xx and 1 s later.
 *
 * How: deflect runs as `deflect serve` (compiled, bench/lib/build.ts) in its own process (log level warn) with JIRA_* pointing at the project's
 * fake Jira (test/support/fake-jira.ts, a real loopback HTTP server) running in this process, seeded with one issue
 * per delivery. An open-loop generator (this process) sends delivery i at t0 + i/rate regardless of earlier answers
 * and timestamps the 2xx with performance.now(); the fake Jira's request hook timestamps each comment with the same
 * clock.
 *
 * The storage is SQLite by default (a fresh file); the postgres scenario runs the same measurement with a
 * {@link E2eStorage} for PostgreSQL (`DATABASE_URL`), through {@link measureEndToEnd}.
 */
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startFakeJira, type FakeJira } from '../../test/support/fake-jira.js';
import { routedEventFactory, sign } from '../lib/payloads.js';
import { launcher, serveArgs } from '../lib/build.js';
import { baseEnv, freePort, spawnService, tempDir, REPO_ROOT } from '../lib/processes.js';
import type { Settings } from '../lib/settings.js';
import { check, fmt, info, type ScenarioResult } from '../lib/table.js';

const SECRET = 'bench-secret-not-for-production';

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** POSTs one delivery on a keep-alive agent; resolves with the status once the response has ended. */
function post(url: URL, agent: Agent, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: '/webhooks/jira', method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

async function queueLag(url: string): Promise<number | null> {
  try {
    const response = await fetch(`${url}/readyz`);
    return ((await response.json()) as { queueLag?: number }).queueLag ?? null;
  } catch {
    return null;
  }
}

/** Where the measured deflect keeps its data: the env that selects it, and how to read back what it stored. */
export interface E2eStorage {
  /** `DEFLECT_DB` or `DATABASE_URL` (and nothing else). */
  env: Record<string, string>;
  /** Runs `sql` (valid on both backends) and resolves with the rows; integers as numbers. */
  all(sql: string): Promise<Array<Record<string, unknown>>>;
}

/** What one end-to-end measurement found (the scenario's `data`). */
export type E2eFigures = Awaited<ReturnType<typeof measureEndToEnd>>;

/** SQLite storage: a file in `dir`, read back read-only with better-sqlite3. */
export function sqliteE2eStorage(dir: string): E2eStorage {
  const path = join(dir, 'deflect.db');
  return {
    env: { DEFLECT_DB: path },
    async all(sql) {
      const sqlite = new Database(path, { readonly: true });
      try {
        return sqlite.prepare(sql).all() as Array<Record<string, unknown>>;
      } finally {
        sqlite.close();
      }
    },
  };
}

export async function runEndToEnd(settings: Settings): Promise<ScenarioResult> {
  const tmp = tempDir('e2e-');
  try {
    const figures = await measureEndToEnd(settings, sqliteE2eStorage(tmp.path));
    return { rows: endToEndRows(settings, figures), data: figures };
  } finally {
    tmp.cleanup();
  }
}

/** The end-to-end load against `deflect serve` on `storage`; resolves with the figures. */
export async function measureEndToEnd(settings: Settings, storage: E2eStorage) {
  const rate = settings.e2eRate;
  const total = Math.round(rate * settings.e2eSeconds);
  const fake: FakeJira = await startFakeJira();
  const commentAt = new Map<string, number>();
  fake.setFault((req) => {
    const match = /^\/rest\/api\/3\/issue\/([^/]+)\/comment$/.exec(req.path);
    if (req.method === 'POST' && match && !commentAt.has(match[1])) commentAt.set(match[1], performance.now());
    return undefined;
  });
  const keyOf = (i: number) => `BENCH-${i + 1}`;
  for (let i = 0; i < total; i++) {
    fake.seedIssue({ key: keyOf(i), id: String(500_000 + i), fields: { labels: ['access-request'], summary: 'Need write access to payments-api' } });
  }
  const makeBody = routedEventFactory();
  const port = await freePort();
  const server = await spawnService({
    name: 'deflect',
    args: serveArgs(await launcher()),
    env: baseEnv({
      PORT: String(port),
      HOST: '127.0.0.1',
      ...storage.env,
      DEFLECT_WEBHOOK_SECRET: SECRET,
      DEFLECT_LOG_LEVEL: 'warn',
      DEFLECT_RULES: join(REPO_ROOT, 'examples/rules.yaml'),
      JIRA_BASE_URL: fake.url,
      // The example payloads' site: deflect routes only events from its configured site.
      JIRA_SITE_URL: 'https://acme-example.atlassian.net',
      JIRA_EMAIL: 'bot@example.test',
      JIRA_API_TOKEN: 'bench-token',
      JIRA_ACCOUNT_ID: 'deflect-bot',
    }),
    port,
    readyPath: '/healthz',
  });

  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const target = new URL(server.url);
  const ackAt = new Map<string, number>();
  const postLatency: number[] = [];
  const failures: string[] = [];
  let lagAtEnd: number | null = null;
  let lagAfter1s: number | null = null;
  let peakRssMb: number | null = null;
  let lateSends = 0;
  let runs: Record<string, number> = {};
  let stages: Record<string, { p50: number; p99: number }> = {};
  try {
    const t0 = performance.now() + 50;
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      else if (wait < -5) lateSends++;
      const key = keyOf(i);
      const body = makeBody(key, String(500_000 + i), Date.now());
      const headers = {
        'content-type': 'application/json',
        'x-atlassian-webhook-identifier': `bench-e2e-${key}-${Date.now()}`,
        'x-hub-signature': sign(body, SECRET),
      };
      const sent = performance.now();
      inflight.push(
        post(target, agent, body, headers).then(
          (status) => {
            const now = performance.now();
            if (status >= 200 && status < 300) {
              ackAt.set(key, now);
              postLatency.push(now - sent);
            } else failures.push(`${key}: HTTP ${status}`);
          },
          (error: Error) => void failures.push(`${key}: ${error.message}`),
        ),
      );
    }
    await Promise.all(inflight);
    lagAtEnd = await queueLag(server.url);
    await new Promise((r) => setTimeout(r, 1000));
    lagAfter1s = await queueLag(server.url);
    // Let stragglers arrive (bounded), so a slow tail shows up in max instead of as "missing".
    const drainUntil = performance.now() + 10_000;
    while (commentAt.size < ackAt.size && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 50));
    peakRssMb = server.peakRssMb();
  } finally {
    agent.destroy();
    await server.stop();
    await fake.close();
    try {
      const counted = await storage.all('SELECT status, count(*) AS n FROM runs GROUP BY status');
      runs = Object.fromEntries(counted.map((r) => [String(r.status), Number(r.n)]));
      // Where the time goes, from the timestamps deflect stores (ms): received → routed → run claimed → run finished.
      const column = async (sql: string) => (await storage.all(sql)).map((r) => Number(r.v)).sort((a, b) => a - b);
      const stage = (values: number[]) => ({ p50: percentile(values, 50), p99: percentile(values, 99) });
      stages = {
        'received → routed': stage(await column('SELECT routed_at - received_at AS v FROM deliveries WHERE routed_at IS NOT NULL')),
        'routed → run claimed': stage(await column('SELECT started_at - created_at AS v FROM runs WHERE started_at IS NOT NULL')),
        'run duration': stage(await column('SELECT duration_ms AS v FROM runs WHERE duration_ms IS NOT NULL')),
      };
    } catch {
      // the figures above stand without the run counts
    }
  }

  const latencies = [...ackAt].filter(([key]) => commentAt.has(key)).map(([key, at]) => commentAt.get(key)! - at).sort((a, b) => a - b);
  const missing = ackAt.size - latencies.length;
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  const max = latencies.at(-1) ?? Number.NaN;
  const postSorted = postLatency.sort((a, b) => a - b);
  return {
    rate,
    seconds: settings.e2eSeconds,
    sent: total,
    acknowledged: ackAt.size,
    commented: latencies.length,
    missing,
    failures: failures.slice(0, 20),
    failed: failures.length,
    commentLatencyMs: { p50, p90: percentile(latencies, 90), p99, max },
    postLatencyMs: { p50: percentile(postSorted, 50), p99: percentile(postSorted, 99), max: postSorted.at(-1) ?? null },
    queueLag: { atLastAck: lagAtEnd, after1s: lagAfter1s },
    peakRssMb,
    lateSends,
    runs,
    stagesMs: stages,
  };
}

/** The e2e scenario's rows for `f`. */
function endToEndRows(settings: Settings, f: E2eFigures) {
  const { p50, p99, max } = f.commentLatencyMs;
  const { missing, peakRssMb, lateSends, runs, stagesMs: stages } = f;
  const { atLastAck: lagAtEnd, after1s: lagAfter1s } = f.queueLag;
  const s = `e2e (${fmt(f.rate)}/s, ${fmt(settings.e2eSeconds)} s)`;
  const rows = [
    info(s, 'deliveries sent · 2xx · comments received', `${fmt(f.sent)} · ${fmt(f.acknowledged)} · ${fmt(f.commented)}`),
    info(s, 'runs by outcome', Object.entries(runs).map(([k, n]) => `${k} ${fmt(n)}`).join(', ') || 'n/a'),
    ...Object.entries(stages).map(([name, v]) => info(s, `stage ${name} p50 · p99 (deflect's own timestamps)`, `${fmt(v.p50)} ms · ${fmt(v.p99)} ms`)),
    info(s, 'POST → 2xx p50 · p99', `${fmt(f.postLatencyMs.p50, 1)} ms · ${fmt(f.postLatencyMs.p99, 1)} ms`),
    check(s, '2xx → comment p50', `${fmt(p50, 1)} ms`, '≤ 20 ms', f.commented ? p50 <= 20 : null),
    check(s, '2xx → comment p99', `${fmt(p99, 1)} ms`, '≤ 100 ms', f.commented ? p99 <= 100 : null),
    info(s, '2xx → comment max', `${fmt(max, 1)} ms`),
    check(s, 'every delivery commented, none failed', `${fmt(missing)} missing, ${fmt(f.failed)} failed`, '0', missing === 0 && f.failed === 0),
    info(s, 'queue lag right after the last 2xx', fmt(lagAtEnd)),
    check(s, 'queue lag 1 s after the last 2xx', fmt(lagAfter1s), '0', lagAfter1s === null ? null : lagAfter1s === 0),
    check(s, 'peak RSS deflect', `${fmt(peakRssMb)} MB`, '≤ 250 MB', peakRssMb === null ? null : peakRssMb <= 250),
  ];
  if (lateSends > f.sent * 0.01) rows.push(info(s, 'generator fell behind schedule (>5 ms)', `${fmt(lateSends)} sends`));
  return rows;
}
