/**
 * Scenario `audit`: the audit view on a database of 500,000 runs (`BENCH_AUDIT_RUNS`; 50,000 with BENCH_QUICK).
 * The database is filled through the project's repository functions (`insertDeliveries`, `enqueueRun` with a ticket
 * snapshot, `recordRunRuleSettings`, `finishRun`, `beginAction`/`finishAction`) in transactions of 5,000 runs: a year
 * of runs over three handlers and trackers, a mix of outcomes, one or two actions each. Then `deflect serve` (compiled
 * like the report scenario) answers, each timed `repeats` times to the last byte (median):
 * - `GET /api/runs?limit=50` (first page), `GET /api/runs?handler=…&outcome=failed&limit=50` (filtered page) and
 *   `GET /audit` (the page HTML), each against the 300 ms target;
 * - for information: the 20th page by cursor, a tracker filter, a frequent and a rare free-text search (the rare one
 *   scans every run: the worst case of a LIKE filter), and one trace (`GET /api/runs/:id`).
 */
import { join } from 'node:path';
import { issueApiToken } from '../../src/auth/issue-token.js';
import { beginAction, finishAction } from '../../src/db/actions.js';
import { recordRunRuleSettings } from '../../src/db/approvals.js';
import { openDatabase } from '../../src/db/client.js';
import { insertDeliveries } from '../../src/db/deliveries.js';
import { enqueueRun, finishRun, type RunOutcome } from '../../src/db/runs.js';
import { launcher as getLauncher, serveArgs } from '../lib/build.js';
import { baseEnv, freePort, spawnService, tempDir } from '../lib/processes.js';
import type { Settings } from '../lib/settings.js';
import { check, fmt, info, type ScenarioResult } from '../lib/table.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';

const TARGET_MS = 300;
const BATCH = 5_000;
const HANDLERS = [
  { handler: 'grant-repo-access', rule: 'repo-access' },
  { handler: 'create-repository', rule: 'new-repository' },
  { handler: 'reset-ci-token', rule: 'ci-token-reset' },
];
const OUTCOMES: RunOutcome[] = ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'failed', 'planned', 'shadow', 'skipped', 'dead'];
const TRACKERS = ['jira', 'jira', 'jira', 'github', 'linear'] as const;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];

/** Fills `dbPath` with `count` finished runs spread over the last year. Returns the seconds it took and the newest run id. */
function seedRuns(dbPath: string, count: number): { seconds: number; lastId: number } {
  const t0 = performance.now();
  const db = openDatabase(dbPath);
  const start = Date.now() - 365 * 86_400_000;
  const step = Math.floor((365 * 86_400_000) / count);
  let lastId = 0;
  for (let from = 0; from < count; from += BATCH) {
    db.$client.transaction(() => {
      const n = Math.min(BATCH, count - from);
      const deliveries = insertDeliveries(
        db,
        Array.from({ length: n }, (_, j) => ({
          source: TRACKERS[(from + j) % TRACKERS.length],
          deliveryKey: `bench:${from + j}`,
          webhookIdentifier: null,
          event: 'jira:issue_created',
          issueKey: `PLAT-${from + j}`,
          headers: {},
          body: '{}',
          eventTimestamp: start + (from + j) * step,
          receivedAt: start + (from + j) * step,
        })),
      );
      for (let j = 0; j < n; j++) {
        const i = from + j;
        const at = start + i * step;
        const { handler, rule } = HANDLERS[i % HANDLERS.length];
        const tracker = TRACKERS[i % TRACKERS.length];
        const key = tracker === 'github' ? `acme/api#${i}` : tracker === 'linear' ? `ENG-${i}` : `PLAT-${i}`;
        const id = enqueueRun(
          db,
          {
            deliveryId: deliveries[j].id,
            ticketKey: key,
            handler,
            reason: `label access-request → ${handler} (rule ${rule} #1)`,
            dryRun: false,
            rulesVersion: 'abc123def456',
            idempotencyKey: `${key}:${handler}:bench:${i}`,
            maxAttempts: 5,
            ticket: {
              ...(tracker === 'jira' ? {} : { tracker }),
              id: String(i),
              key,
              project: 'PLAT',
              issueType: 'Task',
              status: 'Done',
              labels: ['access-request'],
              summary: `Need write access to payments-api-${i % 500}`,
              description: 'Repository: acme/payments-api\nPermission: write',
              reporter: `user-${i % 2000}`,
              reporterId: `id-${i % 2000}`,
              created: at,
              updated: at,
              resolved: null,
              siteUrl: tracker === 'github' ? 'https://github.com' : tracker === 'linear' ? 'https://linear.app/acme' : 'https://acme.atlassian.net',
            },
          },
          at,
        )!;
        recordRunRuleSettings(db, id, { ruleName: rule, options: {}, approval: null });
        const status = OUTCOMES[i % OUTCOMES.length];
        for (let seq = 1; seq <= 1 + (i % 2); seq++) {
          const action = beginAction(db, { runId: id, seq, kind: seq === 1 ? 'comment' : 'transition', ticketKey: key, idempotencyKey: `${key}:${handler}:bench:${i}:${seq}`, request: seq === 1 ? { markdown: 'Done.' } : { status: 'Done' }, status: 'started' }, at);
          finishAction(db, action, { status: 'applied', response: { id: String(seq) } }, at + 5);
        }
        finishRun(db, id, { status, summary: status === 'failed' ? null : `granted write on acme/payments-api-${i % 500}`, error: status === 'failed' ? 'GitHub answered 422' : null, durationMs: 40 }, at + 10);
        lastId = id;
      }
    })();
  }
  db.$client.prepare('ANALYZE').run();
  db.$client.close();
  return { seconds: (performance.now() - t0) / 1000, lastId };
}

export async function runAuditPage(settings: Settings): Promise<ScenarioResult> {
  const tmp = tempDir('audit-');
  const dbPath = join(tmp.path, 'runs.db');
  const count = settings.auditRuns;
  const repeats = Math.max(3, settings.reportRepeats);
  try {
    const seeded = seedRuns(dbPath, count);
    const tokenDb = openDatabase(dbPath);
    const { token } = await issueApiToken(sqliteStore(tokenDb), 'bench', 'auditor');
    tokenDb.$client.close();

    const launcher = await getLauncher();
    const port = await freePort();
    const server = await spawnService({
      name: 'deflect',
      args: serveArgs(launcher),
      env: baseEnv({ DEFLECT_DB: dbPath, DEFLECT_LOG_LEVEL: 'warn', PORT: String(port), HOST: '127.0.0.1', DEFLECT_WEBHOOK_SECRET: 'bench' }),
      port,
      readyPath: '/healthz',
    });
    const get = async (path: string) => {
      const t = performance.now();
      const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(120_000) });
      const body = await response.text();
      if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${body.slice(0, 300)}`);
      return { ms: performance.now() - t, body };
    };
    const timed = async (path: string) => {
      const runs: number[] = [];
      for (let i = 0; i < repeats; i++) runs.push((await get(path)).ms);
      return { median: median(runs), runs };
    };
    let figures: Record<string, { median: number; runs: number[] }>;
    let serverRssMb: number | null;
    try {
      await get('/api/runs?limit=1'); // warm the connection and the statement cache
      let cursor: string | null = null;
      for (let i = 0; i < 19; i++) cursor = (JSON.parse((await get(`/api/runs?limit=50${cursor ? `&cursor=${cursor}` : ''}`)).body) as { page: { older: string } }).page.older;
      figures = {
        first: await timed('/api/runs?limit=50'),
        filtered: await timed('/api/runs?handler=reset-ci-token&outcome=failed&limit=50'),
        html: await timed('/audit'),
        deep: await timed(`/api/runs?limit=50&cursor=${cursor}`),
        tracker: await timed('/api/runs?tracker=linear&limit=50'),
        text: await timed('/api/runs?q=payments-api-42&limit=50'),
        rare: await timed('/api/runs?q=no-such-words-anywhere&limit=50'),
        trace: await timed(`/api/runs/${seeded.lastId}`),
      };
      serverRssMb = server.peakRssMb();
    } finally {
      await server.stop();
    }
    const s = `audit (${fmt(count / 1000)}k runs)`;
    const row = (name: keyof typeof figures, metric: string, target = true) =>
      target
        ? check(s, `${metric}, median of ${repeats}`, `${fmt(figures[name].median)} ms`, `≤ ${TARGET_MS} ms`, figures[name].median <= TARGET_MS)
        : info(s, `${metric}, median of ${repeats}`, `${fmt(figures[name].median)} ms`);
    return {
      rows: [
        info(s, 'database', `${fmt(count)} runs with 1–2 actions each, seeded in ${fmt(seeded.seconds, 1)} s`),
        row('first', 'GET /api/runs first page (50)'),
        row('filtered', 'GET /api/runs?handler&outcome=failed (50)'),
        row('html', 'GET /audit (page HTML)'),
        row('deep', 'GET /api/runs 20th page by cursor', false),
        row('tracker', 'GET /api/runs?tracker=linear', false),
        row('text', 'GET /api/runs?q=<frequent text>', false),
        row('rare', 'GET /api/runs?q=<text in no run> (scans every run)', false),
        row('trace', 'GET /api/runs/:id (trace)', false),
        info(s, 'peak RSS deflect serve', `${fmt(serverRssMb)} MB`),
      ],
      data: { runs: count, seedSeconds: seeded.seconds, figures, serverRssMb },
    };
  } finally {
    tmp.cleanup();
  }
}
