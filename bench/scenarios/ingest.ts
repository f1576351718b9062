/**
 * Scenario 1, ingest: how many signed, verified, deduplicated and durably committed deliveries deflect takes per
 * second, next to the ceiling (a bare Fastify route that only parses the same JSON and answers 202) and a peer
 * (Probot receiving a signed GitHub `issues.labeled` delivery with a no-op handler).
 *
 * How: each server runs alone in its own process on 127.0.0.1; autocannon (in this process) drives it with
 * `connections` keep-alive connections for a warm-up, then for the measured duration. Every request carries a fresh
 * id (`X-Atlassian-Webhook-Identifier` / `X-GitHub-Delivery`, autocannon's `[<id>]` replacement), so none is a
 * duplicate. deflect runs as `deflect serve` (compiled, as `npm start` runs it; see bench/lib/build.ts) with the example
 * rules, dry run, log level warn; its worker routes the stored deliveries in the same process while the load runs, as
 * in production.
 *
 * Durability: deflect opens SQLite with journal_mode=WAL and synchronous=FULL (checked here through the project's
 * `openDatabase`), and answers 2xx only after the group COMMIT returned. At the end the server is killed with SIGKILL
 * (no graceful flush) and the rows are counted: every 2xx must have its row.
 */
import { join } from 'node:path';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { openDatabase } from '../../src/db/client.js';
import { githubLabeledPayload, jiraIngestPayload, sign, type Payload } from '../lib/payloads.js';
import { launcher, serveArgs } from '../lib/build.js';
import { baseEnv, freePort, spawnService, tempDir, REPO_ROOT, type ServiceProcess } from '../lib/processes.js';
import type { Settings } from '../lib/settings.js';
import { check, fmt, info, type Row, type ScenarioResult } from '../lib/table.js';

export const SECRET = 'bench-secret-not-for-production';

export interface LoadFigures {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  ok: number;
  non2xx: number;
  errors: number;
  peakRssMb: number | null;
  /** 2xx of warm-up + measured runs. */
  totalOk: number;
}

export interface Target {
  name: string;
  path: string;
  headers: Record<string, string>;
  payload: Payload;
  /**
   * Header that carries `sha256=<hmac>` of each body. When set, every request gets a distinct, current `timestamp`
   * (deflect refuses events older than DEFLECT_MAX_EVENT_AGE and treats a body seen before as a duplicate, so one
   * fixed body would measure 422s and duplicates) and is signed again: all three servers pay the same HMAC.
   */
  signatureHeader?: string;
}

/** Top-level `"timestamp":<number>` of a Jira event, replaced per request. */
const TIMESTAMP = /"timestamp"\s*:\s*\d+/;
/** Timestamps handed out so far: each request's is distinct (base + n ms, well inside the 5-minute skew allowed). */
let stamped = 0;
const stampBase = Date.now();

async function load(url: string, target: Target, connections: number, seconds: number): Promise<autocannon.Result> {
  const fresh = target.signatureHeader !== undefined && TIMESTAMP.test(target.payload.body);
  return autocannon({
    url: `${url}${target.path}`,
    method: 'POST',
    connections,
    duration: seconds,
    headers: target.headers,
    body: target.payload.body,
    idReplacement: true,
    timeout: 10,
    ...(fresh
      ? {
          requests: [
            {
              setupRequest: (request: autocannon.Request) => {
                const body = target.payload.body.replace(TIMESTAMP, `"timestamp":${stampBase + stamped++}`);
                return { ...request, body, headers: { ...request.headers, [target.signatureHeader!]: sign(body, SECRET) } };
              },
            },
          ],
        }
      : {}),
  });
}

/** Warm-up then measured load against an already started server. */
export async function measure(service: ServiceProcess, target: Target, settings: Settings): Promise<LoadFigures> {
  const warm = await load(service.url, target, settings.ingestConnections, settings.ingestWarmupSeconds);
  const run = await load(service.url, target, settings.ingestConnections, settings.ingestSeconds);
  return {
    rps: run['2xx'] / run.duration,
    p50Ms: run.latency.p50,
    p99Ms: run.latency.p99,
    maxMs: run.latency.max,
    ok: run['2xx'],
    non2xx: run.non2xx,
    errors: run.errors,
    peakRssMb: service.peakRssMb(),
    totalOk: warm['2xx'] + run['2xx'],
  };
}

/** The SQLite synchronous mode deflect's `openDatabase` sets (0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA). */
function synchronousMode(dir: string): string {
  const db = openDatabase(join(dir, 'pragma-check.db'));
  const level = db.$client.pragma('synchronous', { simple: true }) as number;
  const journal = db.$client.pragma('journal_mode', { simple: true }) as string;
  db.$client.close();
  return `${['OFF', 'NORMAL', 'FULL', 'EXTRA'][level] ?? level} (journal_mode=${journal})`;
}

export async function runIngest(settings: Settings): Promise<ScenarioResult> {
  const tmp = tempDir('ingest-');
  const jira = jiraIngestPayload();
  const github = githubLabeledPayload();
  const jiraHeaders = {
    'content-type': 'application/json',
    'user-agent': 'Atlassian Webhook HTTP Client',
    'x-atlassian-webhook-identifier': '[<id>]',
    'x-hub-signature': sign(jira.body, SECRET),
  };
  const run = await launcher();
  const results: Record<string, LoadFigures> = {};
  let durable: { rows: number; acknowledged: number } | null = null;
  try {
    // Ceiling: bare Fastify.
    {
      const port = await freePort();
      const server = await spawnService({ name: 'ceiling', args: run.server('ceiling-server'), env: baseEnv({ PORT: String(port) }), port });
      try {
        results.ceiling = await measure(server, { name: 'ceiling', path: '/webhooks/jira', headers: jiraHeaders, payload: jira, signatureHeader: 'x-hub-signature' }, settings);
      } finally {
        await server.stop();
      }
    }
    // Peer: Probot.
    {
      const port = await freePort();
      const server = await spawnService({
        name: 'probot',
        args: run.server('probot-server'),
        env: baseEnv({ PORT: String(port), WEBHOOK_SECRET: SECRET }),
        port,
      });
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'GitHub-Hookshot/bench',
        'x-github-event': 'issues',
        'x-github-delivery': '[<id>]',
        'x-hub-signature-256': sign(github.body, SECRET),
      };
      try {
        results.probot = await measure(server, { name: 'probot', path: '/api/github/webhooks', headers, payload: github }, settings);
      } finally {
        await server.stop();
      }
    }
    // deflect.
    {
      const port = await freePort();
      const dbPath = join(tmp.path, 'deflect.db');
      const server = await spawnService({
        name: 'deflect',
        args: serveArgs(run),
        env: baseEnv({
          PORT: String(port),
          HOST: '127.0.0.1',
          DEFLECT_DB: dbPath,
          DEFLECT_WEBHOOK_SECRET: SECRET,
          DEFLECT_LOG_LEVEL: 'warn',
          DEFLECT_RULES: join(REPO_ROOT, 'examples/rules.yaml'),
        }),
        port,
        readyPath: '/healthz',
      });
      try {
        results.deflect = await measure(server, { name: 'deflect', path: '/webhooks/jira', headers: jiraHeaders, payload: jira, signatureHeader: 'x-hub-signature' }, settings);
      } finally {
        await server.stop('SIGKILL');
      }
      const sqlite = new Database(dbPath);
      const rows = (sqlite.prepare('SELECT count(*) AS n FROM deliveries').get() as { n: number }).n;
      sqlite.close();
      durable = { rows, acknowledged: results.deflect.totalOk };
    }
    const sync = synchronousMode(tmp.path);
    return summarise(results, durable, sync, jira, github, settings, run.how);
  } finally {
    tmp.cleanup();
  }
}

function summarise(
  r: Record<string, LoadFigures>,
  durable: { rows: number; acknowledged: number } | null,
  sync: string,
  jira: Payload,
  github: Payload,
  settings: Settings,
  how: string,
): ScenarioResult {
  const s = `ingest (${settings.ingestConnections} conn, ${settings.ingestSeconds} s)`;
  const d = r.deflect;
  const vsCeiling = d.rps / r.ceiling.rps;
  const vsProbot = d.rps / r.probot.rps;
  const line = (name: string, f: LoadFigures) =>
    info(s, `${name}: req/s · p50 · p99 · max`, `${fmt(f.rps)} · ${fmt(f.p50Ms, 1)} ms · ${fmt(f.p99Ms, 1)} ms · ${fmt(f.maxMs, 1)} ms`);
  const rows: Row[] = [
    info(
      s,
      'payloads',
      `Jira ${fmt(jira.bytes / 1024, 1)} KB (${jira.source.startsWith('../shared') ? 'real fixture' : 'example, padded'}), GitHub ${fmt(github.bytes / 1024, 1)} KB (${github.source.startsWith('../shared') ? 'real fixture' : 'synthetic'})`,
    ),
    info(s, 'servers run as', how),
    line('ceiling (bare Fastify)', r.ceiling),
    line('peer (Probot 14)', r.probot),
    line('deflect', d),
    check(s, 'deflect / ceiling req/s', fmt(vsCeiling, 2), '≥ 0.60', vsCeiling >= 0.6),
    check(s, 'deflect / Probot req/s', fmt(vsProbot, 2), '≥ 2.00', vsProbot >= 2),
    check(s, 'deflect p99 latency', `${fmt(d.p99Ms, 1)} ms`, '≤ 25 ms', d.p99Ms <= 25),
    check(
      s,
      'deflect errors + non-2xx',
      `${fmt(d.errors + d.non2xx)}`,
      '0',
      d.errors + d.non2xx === 0,
    ),
    check(
      s,
      'every 2xx committed (rows after SIGKILL ≥ 2xx)',
      durable ? `${fmt(durable.rows)} rows / ${fmt(durable.acknowledged)} 2xx` : 'n/a',
      'rows ≥ 2xx',
      durable ? durable.rows >= durable.acknowledged : null,
    ),
    info(s, 'SQLite synchronous mode', sync),
    check(s, 'peak RSS deflect', `${fmt(d.peakRssMb)} MB`, '≤ 250 MB', d.peakRssMb === null ? null : d.peakRssMb <= 250),
    info(s, 'peak RSS ceiling · Probot', `${fmt(r.ceiling.peakRssMb)} MB · ${fmt(r.probot.peakRssMb)} MB`),
  ];
  return { rows, data: { launcher: how, servers: r, ratios: { deflectOverCeiling: vsCeiling, deflectOverProbot: vsProbot }, durability: durable, synchronous: sync, payloads: { jira: { source: jira.source, bytes: jira.bytes }, github: { source: github.source, bytes: github.bytes } } } };
}
