/**
 * Scenario 3, report: the top-10 report over the last 90 days on a database of 1,000,000 generated tickets
 * (generate-tickets-db.ts), as the README documents it:
 * - HTTP (target ≤ 500 ms): `GET /api/reports/top-tickets?since=90d&top=10` against `deflect serve` on that database,
 *   time to the last byte, `repeats` times; each row lists its newest 1,000 member keys and `keysNext`. The server runs
 *   with DEFLECT_DELIVERY_RETENTION=off, so it does not prune the generated deliveries' bodies meanwhile (see below).
 *   Then, for information, the rest of the largest row's keys paged from its `keysNext`
 *   (`GET /api/reports/top-tickets/groups/:id/keys?cursor=…&limit=10000`). The server's peak RSS from /proc.
 * - CLI (target ≤ 500 ms, process start included): `deflect report --since 90d --top 10 --format json --keys first`
 *   (the same answer as the API) as a subprocess, wall time from spawn to exit, `repeats` times, with the compiled
 *   `bin/deflect.js` as after `npm ci` (bench/lib/build.ts compiles the current sources into a temp folder). For
 *   information: the default `deflect report --since 90d --top 10` (table), `--format json` listing every key of every
 *   row, and start-up alone (`deflect --help`, `deflect report --help`). Peak RSS comes from a preload
 *   (bench/lib/rss-on-exit.mjs).
 * - In process: `buildTopTicketsReport` timed inside one process (report-query.ts), plus JSON serialisation, every
 *   key, top 1, and (over target) the SQL statements against the total.
 * All use the example rules (DEFLECT_RULES=examples/rules.yaml) for the report's handler and estimate columns.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueApiToken } from '../../src/auth/issue-token.js';
import { revokeApiToken } from '../../src/db/api-tokens.js';
import { openDatabase } from '../../src/db/client.js';
import { launcher as getLauncher, serveArgs } from '../lib/build.js';
import { baseEnv, freePort, runNode, spawnService, tempDir, tsNode, REPO_ROOT } from '../lib/processes.js';
import type { Settings } from '../lib/settings.js';
import { check, fmt, info, type ScenarioResult } from '../lib/table.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';

const RSS_PRELOAD = join(REPO_ROOT, 'bench/lib/rss-on-exit.mjs');

const reportEnv = (dbPath: string) => ({ DEFLECT_DB: dbPath, DEFLECT_LOG_LEVEL: 'warn', DEFLECT_RULES: join(REPO_ROOT, 'examples/rules.yaml') });

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];

interface CliRun {
  wallMs: number;
  bytes: number;
  groups: number;
  maxRssMb: number | null;
}

async function runCli(deflect: (...args: string[]) => string[], args: string[], dbPath: string, rssFile: string): Promise<CliRun> {
  const result = await runNode(['--import', RSS_PRELOAD, ...deflect(...args)], baseEnv({ ...reportEnv(dbPath), BENCH_RSS_FILE: rssFile }));
  if (result.code !== 0) throw new Error(`deflect ${args.join(' ')} exited ${result.code}: ${result.stderr.slice(0, 500)}`);
  let groups = 0;
  if (args.includes('json')) groups = (JSON.parse(result.stdout) as { groups: unknown[] }).groups.length;
  let maxRssMb: number | null = null;
  try {
    maxRssMb = (JSON.parse(readFileSync(rssFile, 'utf8')) as { maxRssMb: number }).maxRssMb;
  } catch {
    // no figure
  }
  return { wallMs: result.wallMs, bytes: Buffer.byteLength(result.stdout), groups, maxRssMb };
}

export async function runReport(settings: Settings): Promise<ScenarioResult> {
  const tmp = tempDir('report-');
  const dbPath = join(tmp.path, 'tickets.db');
  const rssFile = join(tmp.path, 'rss.json');
  const repeats = settings.reportRepeats;
  try {
    const gen = await runNode(tsNode('bench/scenarios/generate-tickets-db.ts', dbPath, String(settings.reportTickets)), baseEnv(), 600_000, { progress: 'generate' });
    if (gen.code !== 0) throw new Error(`generating the database failed: ${gen.stderr.slice(0, 1000)}`);
    const generated = JSON.parse(gen.stdout.trim().split('\n').at(-1)!) as { tickets: number; labels: number; runs: number; textGroups: number; seconds: number; bytes: number };

    const inProc = await runNode(tsNode('bench/scenarios/report-query.ts', String(repeats)), baseEnv(reportEnv(dbPath)), 600_000);
    if (inProc.code !== 0) throw new Error(`report-query failed: ${inProc.stderr.slice(0, 1000)}`);
    const q = JSON.parse(inProc.stdout.trim().split('\n').at(-1)!) as {
      reportMs: number[];
      top1Ms: number[];
      stringifyMs: number;
      allKeysMs: number;
      allKeysBytes: number;
      allKeysListed: number;
      instrumented: { ms: number | null; sqlMs: number | null; slowest: Array<{ ms: number; calls: number; sql: string }> };
      bytes: number;
      totalTickets: number;
      groups: number;
      keysListed: number;
      memberKeys: number;
      maxRssMb: number;
    };

    const launcher = await getLauncher();
    const startup = await runCli(launcher.deflect, ['--help'], dbPath, rssFile);
    const reportStartup = await runCli(launcher.deflect, ['report', '--help'], dbPath, rssFile);
    // Repeats stop early when a run exceeds 5 s, to keep the bench inside its time budget.
    const timeCli = async (args: string[], times = repeats) => {
      const runs: CliRun[] = [];
      for (let i = 0; i < times && !(runs[0]?.wallMs > 5000); i++) runs.push(await runCli(launcher.deflect, args, dbPath, rssFile));
      return runs;
    };
    const cli = await timeCli(['report', '--since', '90d', '--top', '10', '--format', 'json', '--keys', 'first']);
    const cliTable = await timeCli(['report', '--since', '90d', '--top', '10'], 1);
    const cliAll = await timeCli(['report', '--since', '90d', '--top', '10', '--format', 'json'], 1);

    // The report API needs an auditor token (the same as `deflect tokens create`); a rerun on a kept database replaces it.
    const tokenDb = openDatabase(dbPath);
    revokeApiToken(tokenDb, 'bench');
    const { token } = await issueApiToken(sqliteStore(tokenDb), 'bench', 'auditor');
    tokenDb.$client.close();
    const port = await freePort();
    const server = await spawnService({
      name: 'deflect',
      args: serveArgs(launcher),
      // Retention off: the generated database holds 282,415 delivery bodies older than the default 30 days, which the
      // server would prune right after start, 500 to a transaction (each one fsynced), on the event loop the report
      // shares: minutes on a busy disk. That backlog is a one-off of a fresh upgrade, not the report.
      env: baseEnv({ ...reportEnv(dbPath), PORT: String(port), HOST: '127.0.0.1', DEFLECT_WEBHOOK_SECRET: 'bench', DEFLECT_DELIVERY_RETENTION: 'off' }),
      port,
      readyPath: '/healthz',
    });
    const http: Array<{ wallMs: number; bytes: number; status: number }> = [];
    const paged = { pages: 0, keys: 0, ms: 0, group: '' };
    let serverRssMb: number | null = null;
    try {
      const get = async (path: string) => {
        const t = performance.now();
        const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(120_000) });
        const body = await response.arrayBuffer();
        return { wallMs: performance.now() - t, bytes: body.byteLength, status: response.status, body };
      };
      let last: ArrayBuffer | null = null;
      for (let i = 0; i < repeats && !(http[0]?.wallMs > 5000); i++) {
        const { body, ...run } = await get('/api/reports/top-tickets?since=90d&top=10');
        http.push(run);
        last = body;
      }
      // The largest row's other keys, page by page, as `deflect report --url … --format json` fetches them.
      const groups = last ? (JSON.parse(Buffer.from(last).toString('utf8')) as { groups: Array<{ id: string; keyCount: number; keysNext: string | null }> }).groups : [];
      const largest = [...groups].sort((a, b) => b.keyCount - a.keyCount)[0];
      for (let next = largest?.keysNext ?? null; next; ) {
        const page = await get(`${next}&limit=10000`);
        if (page.status !== 200) throw new Error(`GET ${next}: ${page.status}`);
        const json = JSON.parse(Buffer.from(page.body).toString('utf8')) as { keys: string[]; next: string | null };
        paged.pages++;
        paged.keys += json.keys.length;
        paged.ms += page.wallMs;
        paged.group = largest.id;
        next = json.next;
      }
      serverRssMb = server.peakRssMb();
    } finally {
      await server.stop();
    }

    const s = `report (${fmt(generated.tickets / 1e6, generated.tickets >= 1e6 ? 0 : 1)}M tickets, 90 d, top 10)`;
    const cliMedian = median(cli.map((c) => c.wallMs));
    const httpMedian = median(http.map((h) => h.wallMs));
    const inProcMedian = median(q.reportMs);
    const cliRss = Math.max(...[...cli, ...cliTable, ...cliAll].map((c) => c.maxRssMb ?? 0));
    const httpOk = http.every((h) => h.status === 200);
    const rows = [
      info(s, 'database', `${fmt(generated.tickets)} tickets, ${fmt(generated.labels)} labels, ${fmt(generated.runs)} runs, ${fmt(generated.textGroups)} text groups, ${fmt(generated.bytes / 1e6)} MB, built in ${fmt(generated.seconds, 1)} s`),
      info(s, 'window: tickets · member keys of the 10 rows · keys listed (first pages) · JSON size', `${fmt(q.totalTickets)} · ${fmt(q.memberKeys)} · ${fmt(q.keysListed)} · ${fmt(q.bytes / 1e6, 1)} MB`),
      check(s, `HTTP GET /api/reports/top-tickets?since=90d&top=10, median of ${http.length}`, `${fmt(httpMedian)} ms`, '≤ 500 ms', httpOk ? httpMedian <= 500 : false),
      info(s, 'HTTP runs · response size', `${http.map((h) => fmt(h.wallMs)).join(' / ')} ms · ${fmt((http[0]?.bytes ?? 0) / 1e6, 1)} MB${httpOk ? '' : ' (non-200!)'}`),
      info(s, 'HTTP keys of the largest row after its first page (…/groups/:id/keys, limit 10000)', paged.pages ? `${fmt(paged.keys)} keys in ${paged.pages} pages, ${fmt(paged.ms)} ms (${paged.group})` : 'no row has more than 1,000 keys'),
      check(s, `CLI deflect report --since 90d --top 10 --format json --keys first, median of ${cli.length} (start included)`, `${fmt(cliMedian)} ms`, '≤ 500 ms', cli.every((c) => c.groups > 0) ? cliMedian <= 500 : false),
      info(s, 'CLI runs · start-up alone (deflect --help · deflect report --help)', `${cli.map((c) => fmt(c.wallMs)).join(' / ')} ms · ${fmt(startup.wallMs)} · ${fmt(reportStartup.wallMs)} ms`),
      info(s, 'CLI deflect report --since 90d --top 10 (table, the default)', `${fmt(cliTable[0]?.wallMs)} ms`),
      info(s, 'CLI … --format json (every key of every row, sorted by key)', `${fmt(cliAll[0]?.wallMs)} ms, ${fmt((cliAll[0]?.bytes ?? 0) / 1e6, 1)} MB`),
      info(s, 'CLI launched as', launcher.how),
      info(s, "in-process buildTopTicketsReport (keys: 'first'), median", `${fmt(inProcMedian)} ms (+ JSON.stringify ${fmt(q.stringifyMs)} ms)`),
      info(s, "same with every key (keys: 'all') · at top 1", `${fmt(q.allKeysMs)} ms (${fmt(q.allKeysListed)} keys, ${fmt(q.allKeysBytes / 1e6, 1)} MB JSON) · ${fmt(median(q.top1Ms))} ms`),
      ...(q.instrumented.ms !== null ? [info(s, 'instrumented run: SQL statements · the rest (JavaScript)', `${fmt(q.instrumented.sqlMs)} ms · ${fmt(q.instrumented.ms - (q.instrumented.sqlMs ?? 0))} ms of ${fmt(q.instrumented.ms)} ms`)] : []),
      ...q.instrumented.slowest.slice(0, 3).map((st, i) =>
        info(s, `slowest SQL #${i + 1} (${fmt(st.calls)} calls, instrumented run)`, `${fmt(st.ms)} ms: ${st.sql.slice(0, 90)}${st.sql.length > 90 ? '…' : ''}`),
      ),
      check(s, 'peak RSS deflect serve (HTTP)', `${fmt(serverRssMb)} MB`, '≤ 250 MB', serverRssMb === null ? null : serverRssMb <= 250),
      check(s, 'peak RSS deflect report (CLI, every run above)', `${fmt(cliRss)} MB`, '≤ 250 MB', cliRss > 0 ? cliRss <= 250 : null),
    ];
    return {
      rows,
      data: {
        generated,
        inProcess: q,
        cli: { launcher: launcher.how, startupMs: startup.wallMs, reportStartupMs: reportStartup.wallMs, runs: cli, table: cliTable, allKeys: cliAll },
        http: { runs: http, paged, peakRssMb: serverRssMb },
      },
    };
  } finally {
    tmp.cleanup();
  }
}
