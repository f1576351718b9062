/**
 * In-process timing of the top-tickets report, run as its own process by the report scenario: builds the report the
 * way `GET /api/reports/top-tickets` does (the project's `loadConfig` → `reportContextFor` → `openDatabase` →
 * `buildTopTicketsReport` with `keys: 'first'`, 90-day window) `repeats` times at top 10, then `JSON.stringify` of the
 * result as the CLI prints it. As diagnostics it also times the same report listing every key (`keys: 'all'`, what
 * `deflect report --format json` prints) and top 1 (the difference is roughly what nine more rows cost). When the
 * report is over its 500 ms target, a last, instrumented run wraps `prepare` to time every SQL statement the report
 * executes and lists the slowest, with the SQL total against the run's total (the rest is JavaScript), so a FAIL
 * points at a query or at the aggregation. Prints one JSON line.
 *
 *   DEFLECT_DB=/tmp/tickets.db DEFLECT_RULES=examples/rules.yaml node --import tsx bench/scenarios/report-query.ts 3
 */
import { loadConfig } from '../../src/config.js';
import { reportContextFor } from '../../src/reports/report-context.js';
import { resolveWindow } from '../../src/reports/report-window.js';
import { buildTopTicketsReport } from '../../src/reports/top-tickets-report.js';
import { openStore } from '../../src/db/open-store.js';

const repeats = Number(process.argv[2] ?? 3);
const config = loadConfig(process.env);
const context = reportContextFor(config);
const db = await openStore(config);

const time = async (top: number, keys: 'first' | 'all' = 'first') => {
  const t = performance.now();
  const report = await buildTopTicketsReport(db, { window: resolveWindow({ since: '90d' }), top, keys }, context);
  return { report, ms: performance.now() - t };
};

const reportMs: number[] = [];
let report: Awaited<ReturnType<typeof buildTopTicketsReport>> | null = null;
// Repeats stop early when one run exceeds 5 s, so a slow report cannot push the bench past its time budget.
for (let i = 0; i < repeats && !(reportMs[0] > 5000); i++) {
  const run = await time(10);
  reportMs.push(run.ms);
  report = run.report;
}
const t = performance.now();
const json = JSON.stringify(report, null, 2);
const stringifyMs = performance.now() - t;
const top1Ms: number[] = [];
for (let i = 0; i < reportMs.length; i++) top1Ms.push((await time(1)).ms);
const allKeys = await time(10, 'all');
const allKeysBytes = Buffer.byteLength(JSON.stringify(allKeys.report, null, 2));

// Instrumented run (only when over the 500 ms target): time each statement's execution, keyed by its SQL. The
// methods are wrapped on better-sqlite3's Statement prototype, so statements the report prepared (and cached) before
// count too. An `iterate` (the report's one scan) counts until its last row is read, so the caller's work on each row
// (parsing it into columns) is in its figure: timing each `next` alone would cost more than the rows themselves.
const bySql = new Map<string, { ms: number; calls: number }>();
const record = (source: string, ms: number) => {
  const key = source.replace(/\s+/g, ' ').trim();
  const entry = bySql.get(key) ?? { ms: 0, calls: 0 };
  entry.ms += ms;
  entry.calls++;
  bySql.set(key, entry);
};
type Methods = Record<'get' | 'all' | 'run' | 'iterate', (...args: unknown[]) => unknown>;
// (SQLite only: on PostgreSQL (DATABASE_URL) there are no better-sqlite3 statements to time.)
const proto = (db.sqlite ? Object.getPrototypeOf(db.sqlite.$client.prepare('SELECT 1')) : {}) as Methods;
const originals = { get: proto.get, all: proto.all, run: proto.run, iterate: proto.iterate };
for (const method of ['get', 'all', 'run'] as const) {
  proto[method] = function (this: { source: string }, ...args: unknown[]) {
    const started = performance.now();
    try {
      return originals[method].apply(this, args);
    } finally {
      record(this.source, performance.now() - started);
    }
  };
}
proto.iterate = function* (this: { source: string }, ...args: unknown[]) {
  const started = performance.now();
  try {
    yield* originals.iterate.apply(this, args) as IterableIterator<unknown>;
  } finally {
    record(this.source, performance.now() - started);
  }
};
const instrumented = db.sqlite && Math.min(...reportMs) > 500 ? (await time(10)).ms : null;
Object.assign(proto, originals);
const sqlMs = [...bySql.values()].reduce((sum, v) => sum + v.ms, 0);
const slowest = [...bySql]
  .sort((a, b) => b[1].ms - a[1].ms)
  .slice(0, 6)
  .map(([sql, v]) => ({ ms: Math.round(v.ms), calls: v.calls, sql: sql.length > 160 ? `${sql.slice(0, 160)}…` : sql }));
await db.close();

console.log(
  JSON.stringify({
    reportMs,
    top1Ms,
    stringifyMs,
    allKeysMs: allKeys.ms,
    allKeysBytes,
    allKeysListed: allKeys.report.groups.reduce((sum, g) => sum + g.keys.length, 0),
    instrumented: { ms: instrumented, sqlMs: instrumented === null ? null : sqlMs, slowest },
    bytes: Buffer.byteLength(json),
    totalTickets: report?.totalTickets ?? 0,
    groups: report?.groups.map((g) => ({ kind: g.kind, key: g.key, count: g.count, keys: g.keys.length })) ?? [],
    keysListed: report?.groups.reduce((sum, g) => sum + g.keys.length, 0) ?? 0,
    memberKeys: report?.groups.reduce((sum, g) => sum + g.keyCount, 0) ?? 0,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  }),
);
