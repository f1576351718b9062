/**
 * Scenario 3, report: the top-10 labels over the last 90 days on a database of 1,000,000 generated tickets
 * (generate-tickets-db.ts), three ways:
 * - CLI: `deflect report --since 90d --top 10 --format json` as a subprocess, wall time from spawn to exit (process
 *   start included), `repeats` times, with the compiled `bin/deflect.js` as after `npm ci` (bench/lib/build.ts
 *   compiles the current sources into a temp folder). Start-up alone is timed with `deflect --help`.
 *   Peak RSS comes from a preload (bench/lib/rss-on-exit.mjs).
 * - In process: `buildTopTicketsReport` timed inside one process (report-query.ts), plus JSON serialisation and,
 *   as a diagnostic, the same report at top 1 (the difference is mostly the member rows and key lists).
 * All three use the example rules (DEFLECT_RULES=examples/rules.yaml) for the report's handler and estimate columns.
 * - HTTP: `GET /api/reports/top-tickets?since=90d&top=10` against `deflect serve` on that database, time to the last
 *   byte, `repeats` times; the server's peak RSS from /proc.
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
    const gen = await runNode(tsNode('bench/scenarios/generate-tickets-db.ts', dbPath, String(settings.reportTickets)), baseEnv(), 600_000);
    if (gen.code !== 0) throw new Error(`generating the database failed: ${gen.stderr.slice(0, 1000)}`);
    const generated = JSON.parse(gen.stdout.trim().split('\n').at(-1)!) as { tickets: number; labels: number; runs: number; textGroups: number; seconds: number; bytes: number };

    const inProc = await runNode(tsNode('bench/scenarios/report-query.ts', String(repeats)), baseEnv(reportEnv(dbPath)), 600_000);
    if (inProc.code !== 0) throw new Error(`report-query failed: ${inProc.stderr.slice(0, 1000)}`);
    const q = JSON.parse(inProc.stdout.trim().split('\n').at(-1)!) as {
      reportMs: number[];
      top1Ms: number[];
      stringifyMs: number;
      instrumented: { ms: number | null; slowest: Array<{ ms: number; calls: number; sql: string }> };
      bytes: number;
      totalTickets: number;
      groups: number;
      keysListed: number;
      maxRssMb: number;
    };

    const launcher = await getLauncher();
    const startup = await runCli(launcher.deflect, ['--help'], dbPath, rssFile);
    const cli: CliRun[] = [];
    // Repeats stop early when a run exceeds 5 s, to keep the bench inside its time budget.
    for (let i = 0; i < repeats && !(cli[0]?.wallMs > 5000); i++) {
      cli.push(await runCli(launcher.deflect, ['report', '--since', '90d', '--top', '10', '--format', 'json'], dbPath, rssFile));
    }

    // The report API needs an auditor token (the same as `deflect tokens create`); a rerun on a kept database replaces it.
    const tokenDb = openDatabase(dbPath);
    revokeApiToken(tokenDb, 'bench');
    const { token } = issueApiToken(tokenDb, 'bench', 'auditor');
    tokenDb.$client.close();
    const port = await freePort();
    const server = await spawnService({
      name: 'deflect',
      args: serveArgs(launcher),
      env: baseEnv({ ...reportEnv(dbPath), PORT: String(port), HOST: '127.0.0.1', DEFLECT_WEBHOOK_SECRET: 'bench' }),
      port,
      readyPath: '/healthz',
    });
    const http: Array<{ wallMs: number; bytes: number; status: number }> = [];
    let serverRssMb: number | null = null;
    try {
      for (let i = 0; i < repeats && !(http[0]?.wallMs > 5000); i++) {
        const t = performance.now();
        const response = await fetch(`${server.url}/api/reports/top-tickets?since=90d&top=10`, {
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(120_000),
        });
        const body = await response.arrayBuffer();
        http.push({ wallMs: performance.now() - t, bytes: body.byteLength, status: response.status });
      }
      serverRssMb = server.peakRssMb();
    } finally {
      await server.stop();
    }

    const s = `report (${fmt(generated.tickets / 1e6, generated.tickets >= 1e6 ? 0 : 1)}M tickets, 90 d, top 10)`;
    const cliMedian = median(cli.map((c) => c.wallMs));
    const httpMedian = median(http.map((h) => h.wallMs));
    const inProcMedian = median(q.reportMs);
    const cliRss = Math.max(...cli.map((c) => c.maxRssMb ?? 0));
    const httpOk = http.every((h) => h.status === 200);
    const rows = [
      info(s, 'database', `${fmt(generated.tickets)} tickets, ${fmt(generated.labels)} labels, ${fmt(generated.runs)} runs, ${fmt(generated.textGroups)} text groups, ${fmt(generated.bytes / 1e6)} MB, built in ${fmt(generated.seconds, 1)} s`),
      info(s, 'window: tickets · member keys listed · JSON size', `${fmt(q.totalTickets)} · ${fmt(q.keysListed)} · ${fmt(q.bytes / 1e6, 1)} MB`),
      check(s, `CLI wall, median of ${cli.length} (start included)`, `${fmt(cliMedian)} ms`, '≤ 500 ms', cli.every((c) => c.groups > 0) ? cliMedian <= 500 : false),
      info(s, 'CLI runs · start-up alone (deflect --help)', `${cli.map((c) => fmt(c.wallMs)).join(' / ')} ms · ${fmt(startup.wallMs)} ms`),
      info(s, 'CLI launched as', launcher.how),
      check(s, `HTTP GET, median of ${http.length}`, `${fmt(httpMedian)} ms`, '≤ 500 ms', httpOk ? httpMedian <= 500 : false),
      info(s, 'HTTP runs · response size', `${http.map((h) => fmt(h.wallMs)).join(' / ')} ms · ${fmt((http[0]?.bytes ?? 0) / 1e6, 1)} MB${httpOk ? '' : ' (non-200!)'}`),
      info(s, 'in-process buildTopTicketsReport, median', `${fmt(inProcMedian)} ms (+ JSON.stringify ${fmt(q.stringifyMs)} ms)`),
      info(s, 'same at top 1 (diagnostic: members of 9 groups ≈ the rest)', `${fmt(median(q.top1Ms))} ms`),
      ...q.instrumented.slowest.slice(0, 3).map((st, i) =>
        info(s, `slowest SQL #${i + 1} (${fmt(st.calls)} calls, instrumented run)`, `${fmt(st.ms)} ms: ${st.sql.slice(0, 90)}${st.sql.length > 90 ? '…' : ''}`),
      ),
      check(s, 'peak RSS deflect serve (HTTP)', `${fmt(serverRssMb)} MB`, '≤ 250 MB', serverRssMb === null ? null : serverRssMb <= 250),
      check(s, 'peak RSS deflect report (CLI)', `${fmt(cliRss)} MB`, '≤ 250 MB', cliRss > 0 ? cliRss <= 250 : null),
    ];
    return {
      rows,
      data: { generated, inProcess: q, cli: { launcher: launcher.how, startupMs: startup.wallMs, runs: cli }, http: { runs: http, peakRssMb: serverRssMb } },
    };
  } finally {
    tmp.cleanup();
  }
}
