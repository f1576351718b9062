/**
 * Scheduled reconcile against a fake Jira (a real HTTP server on loopback) with a 1 s period: ticks store the missed
 * ticket as a delivery, log one line with counts and move the reconcile metrics; a slow Jira never gets two ticks at
 * once (the blocked tick is counted `skipped`); `stop` waits for the tick in progress and no tick follows. The server
 * starts it when Jira credentials are set and not with DEFLECT_RECONCILE_EVERY=off.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Db } from '../../src/db/client.js';
import { createLogger } from '../../src/logger.js';
import { reconcileRunsTotal } from '../../src/metrics/metrics.js';
import { ReconcileSchedule, reconcileTargets, type ReconcileTarget } from '../../src/worker/reconcile-schedule.js';
import { freshDir, startDeflect, waitFor } from '../support/deflect-under-test.js';
import { startFakeGitHub } from '../support/fake-github.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';

/** Jira's date-time form, `ms` ago. */
const ago = (ms: number) => new Date(Date.now() - ms).toISOString().replace('Z', '+0000');

async function reconcileCount(result: string): Promise<number> {
  const { values } = await reconcileRunsTotal.get();
  return values.find((v) => v.labels.tracker === 'jira' && v.labels.result === result)?.value ?? 0;
}

describe('scheduled reconcile', () => {
  let jira: FakeJira;
  let db: Db;
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) });
  let targets: ReconcileTarget[];

  beforeAll(async () => {
    jira = await startFakeJira();
    // Updated 35 minutes ago: past Jira's 30-minute settle time, inside the first tick's window.
    jira.seedIssue({ key: 'REC-1', id: '77001', fields: { labels: ['ci-token'], created: ago(35 * 60_000), updated: ago(35 * 60_000) } });
    db = openDatabase(join(freshDir(), 'reconcile-schedule.db'));
    const config = loadConfig({ JIRA_BASE_URL: jira.url, JIRA_EMAIL: 'bot@example.test', JIRA_API_TOKEN: 'test-token', DEFLECT_WEBHOOK_SECRET: 's' });
    targets = reconcileTargets(config, sqliteStore(db), logger);
  });
  afterAll(async () => {
    db.$client.close();
    await jira.close();
  });

  it('has one target, Jira, when only Jira has credentials', () => {
    expect(targets.map((t) => t.tracker)).toEqual(['jira']);
  });

  it('ticks every period: stores the missed ticket once, logs one line per tick with counts, counts successes', async () => {
    const successes = await reconcileCount('success');
    const schedule = new ReconcileSchedule({ db: sqliteStore(db), logger, everyMs: 1000, targets });
    schedule.start();
    try {
      await waitFor('two ticks', () => schedule.ticks >= 2 && lines.filter((l) => l.msg === 'reconcile tick').length >= 2, 10_000);
    } finally {
      await schedule.stop();
    }
    const stored = db.$client.prepare("SELECT delivery_key AS key, event, issue_key AS issueKey FROM deliveries WHERE delivery_key LIKE 'reconcile:%'").all();
    expect(stored).toEqual([expect.objectContaining({ event: 'jira:issue_created', issueKey: 'REC-1' })]);
    const ticks = lines.filter((l) => l.msg === 'reconcile tick');
    expect(ticks).toHaveLength(schedule.ticks);
    expect(ticks[0].results).toEqual({ jira: { scanned: 1, upToDate: 0, skipped: 0, missed: 1, stored: 1 } });
    // The second tick finds the same state: the delivery key makes it a duplicate, nothing new is stored.
    expect(ticks[1].results).toMatchObject({ jira: { missed: 1, stored: 0 } });
    expect(await reconcileCount('success')).toBe(successes + schedule.ticks);
    expect(JSON.stringify(lines)).not.toContain('test-token');
  });

  it('never runs two ticks at once against a slow Jira, and stop waits for the tick in progress', async () => {
    jira.setFault((req) => (req.path.includes('/search') ? { delayMs: 1_500 } : undefined));
    let active = 0;
    let most = 0;
    const counting: ReconcileTarget[] = targets.map((t) => ({
      ...t,
      run: async (since, now) => {
        most = Math.max(most, ++active);
        try {
          return await t.run(since, now);
        } finally {
          active--;
        }
      },
    }));
    const skippedBefore = await reconcileCount('skipped');
    const schedule = new ReconcileSchedule({ db: sqliteStore(db), logger, everyMs: 1000, targets: counting });
    schedule.start();
    try {
      await waitFor('a second tick after a skipped one', async () => schedule.ticks >= 2 && (await reconcileCount('skipped')) > skippedBefore, 15_000);
    } finally {
      await schedule.stop();
      jira.setFault(undefined);
    }
    expect(active).toBe(0); // stop resolved only once the tick in progress had finished
    expect(most).toBe(1);
    const ticks = schedule.ticks;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(schedule.ticks).toBe(ticks);
  });

  it('a failing Jira counts a failure and logs the reason, without credentials', async () => {
    jira.setFault((req) => (req.path.includes('/search') ? { status: 503, body: { errorMessages: ['down for maintenance'] } } : undefined));
    const failures = await reconcileCount('failure');
    const schedule = new ReconcileSchedule({ db: sqliteStore(db), logger, everyMs: 1000, targets });
    try {
      await schedule.tick();
    } finally {
      jira.setFault(undefined);
    }
    expect(await reconcileCount('failure')).toBe(failures + 1);
    const line = lines.at(-1)!;
    expect(line.msg).toBe('reconcile tick: a tracker failed');
    expect(JSON.stringify(line.results)).toMatch(/503/);
    expect(JSON.stringify(line)).not.toContain('test-token');
  });
});

describe('scheduled reconcile of GitHub and Linear', () => {
  it('reconciles the DEFLECT_GITHUB_REPOS of a fake GitHub; without repositories, and for Linear, says once why it skips', async () => {
    const github = await startFakeGitHub({ repositories: ['acme/web'] });
    const db = openDatabase(join(freshDir(), 'reconcile-github.db'));
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) });
    try {
      github.seedIssue('acme/web', { title: 'Missed', labels: ['token-reset'], createdAt: new Date(Date.now() - 5 * 60_000).toISOString(), updatedAt: new Date(Date.now() - 5 * 60_000).toISOString() });
      const base = { GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url, DEFLECT_WEBHOOK_SECRET: 's', LINEAR_API_KEY: 'lin_api_test' };
      expect(reconcileTargets(loadConfig(base), sqliteStore(db), logger)).toEqual([]);
      expect(lines.map((l) => l.msg)).toEqual([
        'scheduled reconcile: GitHub skipped, DEFLECT_GITHUB_REPOS names no repositories (owner/a,owner/b)',
        'scheduled reconcile: Linear skipped, deflect has no Linear reconcile yet',
      ]);
      const targets = reconcileTargets(loadConfig({ ...base, DEFLECT_GITHUB_REPOS: 'acme/web' }), sqliteStore(db), logger);
      expect(targets.map((t) => t.tracker)).toEqual(['github']);
      await new ReconcileSchedule({ db: sqliteStore(db), logger, everyMs: 60_000, targets }).tick();
      expect(lines.at(-1)).toMatchObject({ msg: 'reconcile tick', results: { github: { scanned: 1, missed: 1, stored: 1 } } });
      const stored = db.$client.prepare("SELECT source, event FROM deliveries WHERE delivery_key LIKE 'reconcile:github:%'").all();
      expect(stored).toEqual([{ source: 'github', event: 'issues.opened' }]);
      expect(JSON.stringify(lines)).not.toContain(github.token);
    } finally {
      db.$client.close();
      await github.close();
    }
  });
});

describe('deflect serve starts scheduled reconcile', () => {
  it('with Jira credentials (default 15m), not with DEFLECT_RECONCILE_EVERY=off or without credentials', async () => {
    const jira = await startFakeJira();
    try {
      for (const [env, expected] of [
        [{}, 15 * 60_000],
        [{ DEFLECT_RECONCILE_EVERY: 'off' }, null],
      ] as const) {
        const deflect = await startDeflect({ fakeJira: jira, env: { ...env } });
        try {
          expect(deflect.reconcileSchedule?.everyMs ?? null).toBe(expected);
        } finally {
          await deflect.close();
        }
      }
      const bare = await startDeflect();
      expect(bare.reconcileSchedule).toBeNull();
      await bare.close();
    } finally {
      await jira.close();
    }
  });
});
