/**
 * Scenario `postgres`: the same measurements on both backends, side by side (issue 14) — SQLite (the default) and
 * PostgreSQL (`DATABASE_URL`), on this machine:
 * - ingest: `deflect serve` under the ingest scenario's load (signed Jira deliveries, fresh ids, autocannon with
 *   `ingestConnections` connections), once per backend; then SIGKILL and count the rows: every 2xx must have its row;
 * - end to end: the e2e scenario's measurement (end-to-end.ts {@link measureEndToEnd}: `BENCH_E2E_RATE` deliveries/s
 *   for `BENCH_E2E_SECONDS`, 2xx → the fake Jira receiving the handler's comment, queue lag), on a fresh SQLite file,
 *   then on a fresh PostgreSQL database;
 * - report: `buildTopTicketsReport` in-process (bench/scenarios/report-query.ts, 90 days, top 10, first key page) over
 *   the report scenario's generated tickets (`BENCH_REPORT_TICKETS`, default 1,000,000; 100,000 with BENCH_QUICK;
 *   `BENCH_PG_REPORT_TICKETS` sets this scenario's alone), the SQLite file first, then its copy made by
 *   `deflect migrate --to postgres --from` (timed: rows per second; progress of the generation and the copy echoed
 *   on stderr).
 * PostgreSQL is a throwaway cluster started for the run (test/support/postgres.ts) with PostgreSQL's durable defaults
 * (fsync, synchronous_commit, full_page_writes on): a commit is on disk before the 2xx, as with SQLite's
 * `synchronous=FULL`. It runs on the same 2 cores as deflect and the load generator, so the comparison is of the two
 * backends on one machine, not of a managed PostgreSQL over a network. Skipped, saying why, when PostgreSQL's server
 * binaries are not installed.
 */
import { join } from 'node:path';
import { postgresUnavailable, startTestPostgres } from '../../test/support/postgres.js';
import { launcher, serveArgs } from '../lib/build.js';
import { jiraIngestPayload, sign } from '../lib/payloads.js';
import { baseEnv, freePort, runNode, spawnService, tempDir, tsNode, REPO_ROOT } from '../lib/processes.js';
import type { Settings } from '../lib/settings.js';
import { fmt, info, type Row, type ScenarioResult } from '../lib/table.js';
import { measureEndToEnd, sqliteE2eStorage, type E2eFigures } from './end-to-end.js';
import { measure, SECRET, type LoadFigures } from './ingest.js';

/** Tickets of the report's database: `BENCH_PG_REPORT_TICKETS`, else the report scenario's count. */
function reportTickets(settings: Settings): number {
  const raw = process.env.BENCH_PG_REPORT_TICKETS;
  if (raw === undefined || raw === '') return settings.reportTickets;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`BENCH_PG_REPORT_TICKETS=${raw}: expected a positive integer`);
  return value;
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];

export async function runPostgres(settings: Settings): Promise<ScenarioResult> {
  const s = 'postgres vs sqlite';
  const REPORT_TICKETS = reportTickets(settings);
  const skip = postgresUnavailable({ ...process.env, DEFLECT_TEST_DATABASE_URL: '' });
  if (skip) return { rows: [info(s, 'skipped', skip)], data: { skipped: skip } };
  const tmp = tempDir('postgres-');
  const server = await startTestPostgres(process.env, { durable: true });
  const run = await launcher();
  try {
    // Ingest, once per backend.
    const jira = jiraIngestPayload();
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Atlassian Webhook HTTP Client',
      'x-atlassian-webhook-identifier': '[<id>]',
      'x-hub-signature': sign(jira.body, SECRET),
    };
    const ingest: Record<'sqlite' | 'postgres', LoadFigures & { rows: number }> = {} as never;
    const ingestDb = await server.createDatabase();
    for (const backend of ['sqlite', 'postgres'] as const) {
      const port = await freePort();
      const dbPath = join(tmp.path, 'ingest.db');
      const service = await spawnService({
        name: `deflect (${backend})`,
        args: serveArgs(run),
        env: baseEnv({
          PORT: String(port),
          HOST: '127.0.0.1',
          ...(backend === 'postgres' ? { DATABASE_URL: ingestDb } : { DEFLECT_DB: dbPath }),
          DEFLECT_WEBHOOK_SECRET: SECRET,
          DEFLECT_LOG_LEVEL: 'warn',
          DEFLECT_RULES: join(REPO_ROOT, 'examples/rules.yaml'),
        }),
        port,
        readyPath: '/healthz',
      });
      let figures: LoadFigures;
      try {
        figures = await measure(service, { name: 'deflect', path: '/webhooks/jira', headers, payload: jira, signatureHeader: 'x-hub-signature' }, settings);
      } finally {
        await service.stop('SIGKILL');
      }
      const rows =
        backend === 'postgres'
          ? Number((await server.query<{ n: string }>('SELECT count(*) AS n FROM deliveries', [], ingestDb))[0].n)
          : await countSqliteDeliveries(dbPath);
      ingest[backend] = { ...figures, rows };
    }

    // End to end, once per backend, each on fresh storage.
    const e2e: Record<'sqlite' | 'postgres', E2eFigures> = {} as never;
    e2e.sqlite = await measureEndToEnd(settings, sqliteE2eStorage(tmp.path));
    const e2eDb = await server.createDatabase();
    e2e.postgres = await measureEndToEnd(settings, {
      env: { DATABASE_URL: e2eDb },
      all: (sql) => server.query(sql, [], e2eDb),
    });

    // Report over generated tickets: the SQLite file, then its PostgreSQL copy.
    const dbPath = join(tmp.path, 'tickets.db');
    const gen = await runNode(tsNode('bench/scenarios/generate-tickets-db.ts', dbPath, String(REPORT_TICKETS)), baseEnv(), 900_000, { progress: 'generate' });
    if (gen.code !== 0) throw new Error(`generating the database failed: ${gen.stderr.slice(0, 1000)}`);
    const reportDb = await server.createDatabase();
    const copyStarted = performance.now();
    const copy = await runNode(run.deflect('migrate', '--to', 'postgres', '--from', dbPath, '--format', 'json'), baseEnv({ DATABASE_URL: reportDb }), 1_800_000, {
      progress: 'migrate --to postgres',
    });
    if (copy.code !== 0) throw new Error(`migrate --to postgres failed: ${copy.stderr.slice(0, 1000)}`);
    const copyMs = performance.now() - copyStarted;
    const copied = JSON.parse(copy.stdout) as { tables: Array<{ postgresRows: number; match: boolean }> };
    const copiedRows = copied.tables.reduce((n, t) => n + t.postgresRows, 0);
    const report: Record<'sqlite' | 'postgres', { ms: number[]; totalTickets: number }> = {} as never;
    for (const backend of ['sqlite', 'postgres'] as const) {
      const env = baseEnv({
        ...(backend === 'postgres' ? { DATABASE_URL: reportDb } : { DEFLECT_DB: dbPath }),
        DEFLECT_LOG_LEVEL: 'warn',
        DEFLECT_RULES: join(REPO_ROOT, 'examples/rules.yaml'),
      });
      const out = await runNode(tsNode('bench/scenarios/report-query.ts', String(settings.reportRepeats)), env, 900_000);
      if (out.code !== 0) throw new Error(`report-query on ${backend} failed: ${out.stderr.slice(0, 1000)}`);
      const q = JSON.parse(out.stdout.trim().split('\n').at(-1)!) as { reportMs: number[]; totalTickets: number };
      report[backend] = { ms: q.reportMs, totalTickets: q.totalTickets };
    }

    const both = (metric: string, value: (b: 'sqlite' | 'postgres') => string) => info(s, metric, `SQLite ${value('sqlite')} · PostgreSQL ${value('postgres')}`);
    const rows: Row[] = [
      info(s, 'PostgreSQL', `throwaway cluster on this machine, durable defaults (fsync, synchronous_commit on), PostgreSQL ${(await server.query<{ server_version: string }>('SHOW server_version'))[0].server_version}`),
      both(`ingest req/s (${settings.ingestConnections} conn, ${settings.ingestSeconds} s)`, (b) => fmt(ingest[b].rps)),
      both('ingest p50 · p99', (b) => `${fmt(ingest[b].p50Ms, 1)} ms · ${fmt(ingest[b].p99Ms, 1)} ms`),
      both('ingest errors + non-2xx', (b) => fmt(ingest[b].errors + ingest[b].non2xx)),
      both('ingest rows after SIGKILL / 2xx', (b) => `${fmt(ingest[b].rows)} / ${fmt(ingest[b].totalOk)}`),
      both('ingest peak RSS', (b) => `${fmt(ingest[b].peakRssMb)} MB`),
      both(`e2e (${fmt(settings.e2eRate)}/s, ${fmt(settings.e2eSeconds)} s) deliveries sent · 2xx · commented · failed`, (b) => `${fmt(e2e[b].sent)} · ${fmt(e2e[b].acknowledged)} · ${fmt(e2e[b].commented)} · ${fmt(e2e[b].failed)}`),
      both('e2e 2xx → comment p50 · p99 · max', (b) => `${fmt(e2e[b].commentLatencyMs.p50, 1)} · ${fmt(e2e[b].commentLatencyMs.p99, 1)} · ${fmt(e2e[b].commentLatencyMs.max, 1)} ms`),
      both('e2e POST → 2xx p50 · p99', (b) => `${fmt(e2e[b].postLatencyMs.p50, 1)} · ${fmt(e2e[b].postLatencyMs.p99, 1)} ms`),
      ...Object.keys(e2e.sqlite.stagesMs).map((stage) =>
        both(`e2e stage ${stage} p50 · p99`, (b) => (e2e[b].stagesMs[stage] ? `${fmt(e2e[b].stagesMs[stage].p50)} · ${fmt(e2e[b].stagesMs[stage].p99)} ms` : 'n/a')),
      ),
      both('e2e queue lag right after the last 2xx · 1 s later', (b) => `${fmt(e2e[b].queueLag.atLastAck)} · ${fmt(e2e[b].queueLag.after1s)}`),
      both('e2e runs by outcome', (b) => Object.entries(e2e[b].runs).map(([k, n]) => `${k} ${fmt(n)}`).join(', ') || 'n/a'),
      both('e2e peak RSS', (b) => `${fmt(e2e[b].peakRssMb)} MB`),
      info(
        s,
        'report database',
        `${fmt(REPORT_TICKETS)} generated tickets (built in ${fmt(gen.wallMs / 1000, 1)} s); copied to PostgreSQL with deflect migrate --to postgres in ${fmt(copyMs / 1000, 1)} s, verification included (${fmt(copiedRows)} rows, ${fmt(copiedRows / (copyMs / 1000))} rows/s, checksums ${copied.tables.every((t) => t.match) ? 'equal' : 'DIFFER'})`,
      ),
      both(`report 90 d, top 10 (median of ${settings.reportRepeats})`, (b) => `${fmt(median(report[b].ms))} ms`),
      both('report tickets in window', (b) => fmt(report[b].totalTickets)),
    ];
    return { rows, data: { ingest, e2e, report, copyMs, copiedRows, generateMs: gen.wallMs, reportTickets: REPORT_TICKETS } };
  } finally {
    await server.close();
    tmp.cleanup();
  }
}

async function countSqliteDeliveries(dbPath: string): Promise<number> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM deliveries').get() as { n: number }).n;
  } finally {
    db.close();
  }
}
