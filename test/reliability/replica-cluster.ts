/**
 * Two `deflect serve` replicas on one PostgreSQL database (decision 018, issue 14), for the reliability tests that
 * SIGKILL one of them under load (postgres-replicas*.test.ts):
 * - {@link startReplicaCluster}: a fresh migrated database, a fake Jira and a fake GitHub, and a {@link HoldingProxy}
 *   between the replicas and the fake Jira; {@link ReplicaCluster.start} spawns both replicas on the same env.
 * - The proxy can hold one request until the test releases it: the crash window. The test finds the replica that
 *   owns the ticket's running run ({@link ReplicaCluster.holderOf}), SIGKILLs it, and only then releases the request,
 *   which the fake Jira applies anyway (the write "succeeded"): the action row stays `started` while Jira has it, and
 *   the other replica must take the run over after its lease and find the write already there. Unlike a fixed delay,
 *   this does not depend on how fast the test kills.
 * - Each spawn of a replica is an *incarnation* (numbered from 1) that calls Jira as `replica-<n>@example.test`, so a
 *   request the fake Jira recorded tells which incarnation sent it ({@link incarnationOf}).
 * - {@link ReplicaCluster.deliver} behaves like Jira: it resends a delivery, with the same identifier, to whichever
 *   replica is up, until it gets a 2xx.
 */
import { createServer, request as httpRequest, Agent, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { expect } from 'vitest';
import { migratePostgres, openPostgres } from '../../src/db/postgres/client.js';
import { parseDatabaseUrl } from '../../src/db/postgres/postgres-config.js';
import { spawnDeflect, type DeflectProcess } from '../support/deflect-process.js';
import { freshDir, postWebhook } from '../support/deflect-under-test.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { startFakeJira, type FakeJira, type RecordedRequest } from '../support/fake-jira.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { deflectEnv, githubEnv } from './helpers.js';

export { postgresUnavailable } from '../support/postgres.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Header the proxy adds to a request it held, so a fake's fault hook can tell it (and leave it unfaulted). */
export const HELD_HEADER = 'x-deflect-test-held';

/** A request the proxy holds: not forwarded until {@link release}. */
export interface HeldRequest {
  method: string;
  path: string;
  /** The Jira issue key in the path (`/rest/api/3/issue/<key>/…`), or null. */
  issueKey: string | null;
  /** True once the sender's connection is gone (it was killed, or gave up). */
  readonly senderGone: boolean;
  /** Forwards the request (even when the sender is gone) and resolves once the target answered it. */
  release(): Promise<void>;
}

/** A loopback HTTP proxy in front of one fake: passes requests through, or holds one that an armed matcher picks. */
export interface HoldingProxy {
  readonly url: string;
  /** Holds the next request `match` accepts (once); resolves when it arrived. */
  holdNext(match: (method: string, path: string) => boolean): Promise<HeldRequest>;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host', 'upgrade', 'proxy-connection']);
const endToEnd = (headers: IncomingHttpHeaders) => Object.fromEntries(Object.entries(headers).filter(([k, v]) => !HOP_BY_HOP.has(k) && v !== undefined));

/**
 * Starts a proxy on 127.0.0.1 forwarding to `targetUrl` (an `http://127.0.0.1:<port>` fake). A reset by the target
 * resets the sender's connection; an answer to a sender that is gone is dropped (the target applied it anyway).
 */
export async function startHoldingProxy(targetUrl: string): Promise<HoldingProxy> {
  const target = new URL(targetUrl);
  const agent = new Agent({ keepAlive: true });
  let armed: { match: (method: string, path: string) => boolean; resolve: (held: HeldRequest) => void } | null = null;
  const forward = (req: IncomingMessage, body: Buffer, res: ServerResponse, extra: Record<string, string>) =>
    new Promise<void>((resolve) => {
      const out = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, agent, headers: { ...endToEnd(req.headers), ...extra, 'content-length': String(body.length) } },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('error', () => (res.destroy(), resolve()));
          answer.on('end', () => {
            const payload = Buffer.concat(chunks);
            if (!res.destroyed && !res.headersSent) {
              res.writeHead(answer.statusCode ?? 502, { ...endToEnd(answer.headers), 'content-length': String(payload.length) });
              res.end(payload);
            }
            resolve();
          });
        },
      );
      // The target reset the connection (an injected fault) or is gone: the sender sees a reset too.
      out.on('error', () => (res.destroy(), resolve()));
      out.end(body);
    });
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return res.destroy();
    }
    const body = Buffer.concat(chunks);
    const path = new URL(req.url ?? '/', 'http://proxy.invalid').pathname;
    const method = req.method ?? 'GET';
    if (armed && armed.match(method, path)) {
      const { resolve } = armed;
      armed = null;
      let gone = false;
      res.once('close', () => (gone = !res.writableFinished));
      let released: Promise<void> | null = null;
      resolve({
        method,
        path,
        issueKey: /^\/rest\/api\/\d\/issue\/([^/]+)/.exec(path)?.[1] ?? null,
        get senderGone() {
          return gone;
        },
        release: () => (released ??= forward(req, body, res, { [HELD_HEADER]: '1' })),
      });
      return;
    }
    await forward(req, body, res, {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    holdNext: (match) => new Promise<HeldRequest>((resolve) => (armed = { match, resolve })),
    async close() {
      armed = null;
      server.closeAllConnections();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The incarnation (1, 2, …) that sent a request the fake Jira recorded (its basic-auth user), or null. */
export function incarnationOf(req: RecordedRequest): number | null {
  const auth = req.headers.authorization;
  if (typeof auth !== 'string' || !auth.startsWith('Basic ')) return null;
  const user = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':')[0];
  const n = /^replica-(\d+)@/.exec(user)?.[1];
  return n === undefined ? null : Number(n);
}

/** The answer a delivery finally got (a 2xx), to which replica, and how many sends before it were refused or cut. */
export interface Delivered {
  status: 'accepted' | 'duplicate';
  deliveryId: number;
  replica: number;
  resent: number;
}

export interface ReplicaCluster {
  postgres: TestPostgres;
  jira: FakeJira;
  github: FakeGitHub;
  /** Between the replicas and the fake Jira. */
  jiraProxy: HoldingProxy;
  /** The two replicas; null while one is killed and not yet restarted. */
  readonly replicas: Array<DeflectProcess | null>;
  /** Incarnation number of each slot's current process (0 before the first spawn). */
  readonly incarnations: number[];
  /** Incarnations that were SIGKILLed. */
  readonly killed: Set<number>;
  /** Spawns both replicas. */
  start(): Promise<void>;
  /** A replica that is up, drawn with `random`, or null when none is. */
  pick(random: () => number): [DeflectProcess, number] | null;
  /** Posts `body` with `identifier` until a replica answers 2xx (connection refused or cut → resent after 20 ms). */
  deliver(body: unknown, identifier: string, random: () => number, timeoutMs?: number): Promise<Delivered>;
  /** The slot (0/1) of the replica that owns the `running` run of `issueKey`; asserts there is one. */
  holderOf(issueKey: string): Promise<number>;
  /** SIGKILLs slot `n` (asserts it died of it) and leaves it null. */
  kill(n: number): Promise<void>;
  /** Spawns slot `n` again (a new incarnation). */
  restart(n: number): Promise<void>;
  /** Rows of `text` on the cluster's database (a short-lived connection). */
  query<T extends pg.QueryResultRow>(text: string, params?: unknown[]): Promise<T[]>;
  /** Waits (≤ `timeoutMs`) until `expected` runs exist and none is queued or running; resolves with them. */
  waitForOutcomes(expected: number, timeoutMs: number): Promise<Array<{ id: number; key: string; identifier: string; status: string; attempts: number; error: string | null }>>;
  /** SIGTERMs both replicas and asserts each exited 0. */
  stop(): Promise<void>;
  /** graphile-worker's jobs processed (rows deleted from its table; read after {@link stop}) and `deflect_run` jobs left. */
  jobStats(atLeast: number): Promise<{ processed: number; left: number }>;
  /** SIGKILLs whatever still runs, closes the fakes and drops the database. */
  close(): Promise<void>;
}

/**
 * A fresh migrated database, the fakes and the Jira proxy; `env` goes on top of the replicas' env (fake Jira and
 * GitHub, `DATABASE_URL`). Call {@link ReplicaCluster.start} to spawn the replicas.
 */
export async function startReplicaCluster(env: Record<string, string>): Promise<ReplicaCluster> {
  const postgres = await startTestPostgres();
  const target = parseDatabaseUrl(postgres.url);
  if (typeof target === 'string') throw new Error(target);
  const database = await openPostgres(target);
  await migratePostgres(database);
  await database.close();
  const jira = await startFakeJira();
  const github = await startFakeGitHub();
  const jiraProxy = await startHoldingProxy(jira.url);
  const baseEnv = deflectEnv(join(freshDir('deflect-replicas-'), 'unused.db'), jira, {
    ...githubEnv(github),
    DATABASE_URL: postgres.url,
    JIRA_BASE_URL: jiraProxy.url,
    ...env,
  });
  const replicas: Array<DeflectProcess | null> = [null, null];
  const incarnations = [0, 0];
  const killed = new Set<number>();
  let spawned = 0;
  const spawn = async (n: number) => {
    const incarnation = ++spawned;
    replicas[n] = await spawnDeflect({ ...baseEnv, JIRA_EMAIL: `replica-${incarnation}@example.test` }, 60_000);
    incarnations[n] = incarnation;
  };
  const query = async <T extends pg.QueryResultRow>(text: string, params: unknown[] = []) => postgres.query<T>(text, params);

  const cluster: ReplicaCluster = {
    postgres,
    jira,
    github,
    jiraProxy,
    replicas,
    incarnations,
    killed,
    async start() {
      await spawn(0);
      await spawn(1);
    },
    pick(random) {
      const up = replicas.map((r, n) => [r, n] as const).filter((e): e is [DeflectProcess, number] => e[0] !== null);
      return up.length > 0 ? up[Math.floor(random() * up.length)] : null;
    },
    async deliver(body, identifier, random, timeoutMs = 120_000) {
      let resent = 0;
      for (const deadline = Date.now() + timeoutMs; ; ) {
        const picked = cluster.pick(random);
        if (picked) {
          const [replica, n] = picked;
          try {
            const answer = await postWebhook(replica.url, body, { identifier });
            if (answer.status >= 200 && answer.status < 300) return { status: answer.json.status, deliveryId: answer.json.deliveryId, replica: n, resent };
          } catch {
            // connection refused or reset: that replica was killed mid-request
          }
        }
        resent++;
        if (Date.now() > deadline) throw new Error(`delivery ${identifier} got no 2xx within ${timeoutMs} ms (${resent} sends)`);
        await sleep(20);
      }
    },
    async holderOf(issueKey) {
      const owner = (await query<{ owner: string }>("SELECT owner FROM runs WHERE ticket_key = $1 AND status = 'running'", [issueKey]))[0]?.owner;
      const holder = replicas.findIndex((r) => r !== null && owner !== undefined && r.output.some((line) => line.includes(`"owner":"${owner}"`)));
      expect(holder, `the replica running ${issueKey} (owner ${owner})`).toBeGreaterThanOrEqual(0);
      return holder;
    },
    async kill(n) {
      const replica = replicas[n]!;
      replicas[n] = null;
      expect((await replica.kill('SIGKILL')).signal).toBe('SIGKILL');
      killed.add(incarnations[n]);
    },
    restart: (n) => spawn(n),
    query,
    async waitForOutcomes(expected, timeoutMs) {
      type Row = { id: number; key: string; identifier: string; status: string; attempts: number; error: string | null };
      let rows: Row[] = [];
      for (const deadline = Date.now() + timeoutMs; ; await sleep(100)) {
        rows = (
          await query<Row>(
            `SELECT r.id, r.ticket_key AS key, d.webhook_identifier AS identifier, r.status, r.attempts, r.error
             FROM runs r JOIN deliveries d ON d.id = r.delivery_id ORDER BY r.id`,
          )
        ).map((r) => ({ ...r, id: Number(r.id), attempts: Number(r.attempts) }));
        if ((rows.length >= expected && rows.every((r) => !['queued', 'running'].includes(r.status))) || Date.now() > deadline) return rows;
      }
    },
    async stop() {
      for (const [n, replica] of replicas.entries()) {
        replicas[n] = null;
        if (replica) expect((await replica.kill('SIGTERM')).code).toBe(0);
      }
    },
    async jobStats(atLeast) {
      // graphile-worker deletes a job once its task returned: the jobs processed are the rows deleted from its table
      // (the server's statistics; each replica's backends report theirs when they exit), and none may be left.
      let processed = 0;
      for (const deadline = Date.now() + 10_000; ; await sleep(100)) {
        processed = Number(
          (await query<{ n: string }>(`SELECT n_tup_del AS n FROM pg_stat_user_tables WHERE schemaname = 'graphile_worker' AND relname = '_private_jobs'`))[0].n,
        );
        if (processed >= atLeast || Date.now() > deadline) break;
      }
      const left = Number((await query<{ n: string }>(`SELECT count(*) AS n FROM graphile_worker.jobs WHERE task_identifier = 'deflect_run' AND key IS NOT NULL`))[0].n);
      return { processed, left };
    },
    async close() {
      for (const replica of replicas) await replica?.kill('SIGKILL');
      await jiraProxy.close();
      await jira.close();
      await github.close();
      await postgres.close();
    },
  };
  return cluster;
}
