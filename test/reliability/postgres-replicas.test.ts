/**
 * Two replicas on one PostgreSQL (decision 018, issue 14): two `deflect serve` child processes share one database
 * (`DATABASE_URL`) while a load generator streams signed deliveries to both; one of them is SIGKILLed and restarted
 * again and again, so one replica is always up: first in the crash window — the fake Jira holds a comment POST, the
 * test finds which replica owns that ticket's running run (`runs.owner`) and SIGKILLs it, and Jira applies the comment
 * anyway, so the action row stays `started` while Jira has it and the other replica must take the run over after its
 * lease and find the comment already there — then at seeded random moments, alternating. The generator behaves like
 * Jira: it resends each delivery, with the same identifier, to whichever replica is up, until it gets a 2xx.
 * Each delivery is an access request (`grant-repo-access` against a fake GitHub: a GitHub call, a comment, a
 * transition). Afterwards every acknowledged delivery must have exactly one delivery row and exactly one run,
 * succeeded; the fake Jira must have received each comment and each transition exactly once; GitHub must hold one
 * invitation per request. Lost = 0 and duplicated = 0 are asserted and printed.
 */
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratePostgres, openPostgres } from '../../src/db/postgres/client.js';
import { parseDatabaseUrl } from '../../src/db/postgres/postgres-config.js';
import { spawnDeflect, type DeflectProcess } from '../support/deflect-process.js';
import { freshDir, postWebhook } from '../support/deflect-under-test.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { accessRequestEvent, accessRequestUser, actionKeyOf, deflectEnv, githubEnv, seededRandom } from './helpers.js';

const DELIVERIES = 120;
const TARGETED_KILLS = 4;
const RANDOM_KILLS = 4;
const SEED = 1_400_014;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const unavailable = postgresUnavailable();
if (unavailable) console.warn(`two-replica PostgreSQL test skipped: ${unavailable}`);

describe.skipIf(unavailable !== null)('two replicas on PostgreSQL: SIGKILL one under load, nothing lost, nothing done twice', () => {
  let postgres: TestPostgres;
  let jira: FakeJira;
  let github: FakeGitHub;
  const replicas: Array<DeflectProcess | null> = [null, null];
  const random = seededRandom(SEED);
  let armed: ((issueKey: string) => void) | null = null;

  beforeAll(async () => {
    postgres = await startTestPostgres();
    const target = parseDatabaseUrl(postgres.url);
    if (typeof target === 'string') throw new Error(target);
    const database = await openPostgres(target);
    await migratePostgres(database);
    await database.close();
    jira = await startFakeJira();
    github = await startFakeGitHub();
    for (let i = 1; i <= DELIVERIES; i++) jira.seedIssue({ key: `REP-${i}`, id: String(70_000 + i) });
    jira.setFault((req) => {
      if (req.method !== 'POST') return undefined;
      const commented = /\/issue\/([^/]+)\/comment$/.exec(req.path);
      if (armed && commented) {
        // Held while the test kills the replica that sent it; applied anyway (the write "succeeded").
        const fire = armed;
        armed = null;
        fire(commented[1]);
        return { delayMs: 1500 };
      }
      // Other writes take 0–150 ms, so random kills often land while a call is in flight.
      return { delayMs: Math.floor(random() * 150) };
    });
  }, 120_000);
  afterAll(async () => {
    for (const replica of replicas) await replica?.kill('SIGKILL');
    await jira?.close();
    await github?.close();
    await postgres?.close();
  });

  it(`${DELIVERIES} deliveries to 2 replicas, ${TARGETED_KILLS + RANDOM_KILLS} SIGKILLs: lost = 0, duplicated = 0`, { timeout: 300_000 }, async () => {
    const env = deflectEnv(join(freshDir('deflect-replicas-'), 'unused.db'), jira, {
      ...githubEnv(github),
      DATABASE_URL: postgres.url,
      DEFLECT_HANDLER_TIMEOUT_MS: '5000',
      JIRA_TIMEOUT_MS: '2000',
      DEFLECT_RETRY_BASE_MS: '100',
      DEFLECT_MAX_ATTEMPTS: '10',
      DEFLECT_PAUSE_AFTER_FAILURES: '0',
      // A killed replica's runs are taken over by the other once their lease expires; short, so the test does not wait.
      DEFLECT_RUN_LEASE_MS: '2000',
    });
    replicas[0] = await spawnDeflect(env, 60_000);
    replicas[1] = await spawnDeflect(env, 60_000);

    const acked = new Set<number>();
    const answers = { accepted: 0, duplicate: 0, refusedOrDropped: 0 };
    const sentTo = [0, 0];
    const pending = Array.from({ length: DELIVERIES }, (_, i) => i + 1);
    let kills = 0;
    let targeted = 0;
    // Deliveries are let out in steps while targeted kills remain: between kills (a restart takes seconds on a loaded
    // machine) the senders stop at the next step, so every run could otherwise finish before the killer arms again and
    // no comment POST would come for it to catch; while the killer waits for one, deliveries flow.
    const step = () => Math.floor(((targeted + 1) * DELIVERIES) / (TARGETED_KILLS + 1));
    const sender = async () => {
      while (pending.length > 0) {
        while (targeted < TARGETED_KILLS && armed === null && acked.size >= step()) await sleep(50);
        if (pending.length === 0) break;
        const i = pending.shift()!;
        const up = replicas.map((r, n) => [r, n] as const).filter(([r]) => r !== null);
        const [replica, n] = up.length > 0 ? up[Math.floor(random() * up.length)] : [null, -1];
        let ok = false;
        if (replica) {
          try {
            const answer = await postWebhook(replica.url, accessRequestEvent(`REP-${i}`, String(70_000 + i)), { identifier: `rep-${i}` });
            ok = answer.status === 200;
            if (ok) {
              answers[answer.json.status as 'accepted' | 'duplicate']++;
              sentTo[n]++;
            }
          } catch {
            // connection refused or reset: that replica was killed mid-request
          }
        }
        if (ok) acked.add(i);
        else {
          answers.refusedOrDropped++;
          pending.unshift(i);
        }
        await sleep(ok ? 450 : 20);
      }
    };
    const generator = Promise.all([sender(), sender(), sender()]);

    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    const ownerOf = async (issueKey: string) =>
      (await client.query<{ owner: string }>("SELECT owner FROM runs WHERE ticket_key = $1 AND status = 'running'", [issueKey])).rows[0]?.owner;

    // The killer: targeted kills of the replica holding a run in the crash window, then random ones, alternating;
    // each killed replica is restarted before the next kill, so one is always up.
    for (let k = 0; k < TARGETED_KILLS + RANDOM_KILLS; k++) {
      let victim = k % 2;
      if (k < TARGETED_KILLS) {
        const issueKey = await new Promise<string>((resolve) => (armed = resolve));
        const owner = await ownerOf(issueKey);
        const holder = replicas.findIndex((r) => r !== null && owner !== undefined && r.output.some((line) => line.includes(`"owner":"${owner}"`)));
        expect(holder, `the replica running ${issueKey} (owner ${owner})`).toBeGreaterThanOrEqual(0);
        victim = holder;
        targeted++;
      } else await sleep(400 + Math.floor(random() * 900));
      const replica = replicas[victim]!;
      // Killed while senders may still pick it: their requests are refused or cut, and resent to whichever is up.
      expect((await replica.kill('SIGKILL')).signal).toBe('SIGKILL');
      replicas[victim] = null;
      kills++;
      replicas[victim] = await spawnDeflect(env, 60_000);
    }
    const ackedDuringKills = acked.size;
    await generator;

    let runs: Array<{ identifier: string; status: string | null; n: number }> = [];
    let recovered = 0;
    try {
      const deadline = Date.now() + 120_000;
      for (;;) {
        runs = (
          await client.query<{ identifier: string; status: string | null; n: string }>(
            `SELECT d.webhook_identifier AS identifier, r.status, count(r.id) AS n FROM deliveries d LEFT JOIN runs r ON r.delivery_id = d.id
             GROUP BY d.id, r.status`,
          )
        ).rows.map((r) => ({ ...r, n: Number(r.n) }));
        const done = runs.length >= DELIVERIES && runs.every((r) => r.status !== null && !['queued', 'running'].includes(r.status));
        if (done || Date.now() > deadline) break;
        await sleep(100);
      }
      const deliveryRows = Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM deliveries')).rows[0].n);
      expect(deliveryRows).toBe(DELIVERIES);
      recovered = Number(
        (await client.query<{ n: string }>(`SELECT count(*) AS n FROM actions WHERE response LIKE '%"verifiedInTracker":true%'`)).rows[0].n,
      );
    } finally {
      await client.end();
    }
    for (const [n, replica] of replicas.entries()) {
      replicas[n] = null;
      expect((await replica!.kill('SIGTERM')).code).toBe(0);
    }
    // graphile-worker deletes a job once its task returned: the jobs processed are the rows deleted from its table
    // (the server's statistics; each replica's backends report theirs when they exit), and none may be left.
    const stats = new pg.Client({ connectionString: postgres.url });
    await stats.connect();
    let jobsProcessed = 0;
    let jobsLeft = -1;
    try {
      for (const deadline = Date.now() + 10_000; ; await sleep(100)) {
        jobsProcessed = Number(
          (await stats.query<{ n: string }>(`SELECT n_tup_del AS n FROM pg_stat_user_tables WHERE schemaname = 'graphile_worker' AND relname = '_private_jobs'`)).rows[0].n,
        );
        if (jobsProcessed >= DELIVERIES || Date.now() > deadline) break;
      }
      jobsLeft = Number((await stats.query<{ n: string }>(`SELECT count(*) AS n FROM graphile_worker.jobs WHERE task_identifier = 'deflect_run' AND key IS NOT NULL`)).rows[0].n);
    } finally {
      await stats.end();
    }

    let lost = 0;
    for (const i of acked) {
      const rows = runs.filter((r) => r.identifier === `rep-${i}`);
      if (!(rows.length === 1 && rows[0].status === 'succeeded' && rows[0].n === 1)) lost++;
    }
    let duplicated = 0;
    let missing = 0;
    const invitations = github.invitations('acme/payments-api');
    for (let i = 1; i <= DELIVERIES; i++) {
      const comments = jira.commentsFor(`REP-${i}`).map(actionKeyOf);
      const transitions = jira.requestsTo('POST', `/rest/api/3/issue/REP-${i}/transitions`).length;
      const invited = invitations.filter((inv) => inv.invitee === accessRequestUser(`REP-${i}`)).length;
      duplicated += Math.max(0, comments.length - 1) + Math.max(0, transitions - 1) + Math.max(0, invited - 1);
      if (comments.length === 0 || transitions === 0 || invited === 0) missing++;
    }
    console.log(
      `two replicas on PostgreSQL: deliveries ${DELIVERIES}, acknowledged ${acked.size} (${answers.accepted} accepted + ${answers.duplicate} duplicate answers; ` +
        `replica 0 acknowledged ${sentTo[0]}, replica 1 ${sentTo[1]}), ${answers.refusedOrDropped} sends refused or cut by a kill and resent, ` +
        `kills ${kills} (${targeted} in the crash window), actions found already applied in Jira after a kill ${recovered}, ${ackedDuringKills} acknowledged while replicas were being killed; lost ${lost}, duplicated ${duplicated}, missing actions ${missing}; ` +
        `graphile-worker jobs processed ${jobsProcessed}, left ${jobsLeft}`,
    );
    expect(kills).toBe(TARGETED_KILLS + RANDOM_KILLS);
    expect(recovered).toBeGreaterThanOrEqual(TARGETED_KILLS);
    expect(acked.size).toBe(DELIVERIES);
    expect(sentTo[0]).toBeGreaterThan(0);
    expect(sentTo[1]).toBeGreaterThan(0);
    expect(lost, `runs: ${JSON.stringify(runs.filter((r) => r.status !== 'succeeded' || r.n !== 1))}`).toBe(0);
    expect(duplicated).toBe(0);
    expect(missing).toBe(0);
    expect(invitations).toHaveLength(DELIVERIES);
    // Every run was handed out by graphile-worker (no polling on PostgreSQL): at least one job per run, none left over.
    expect(jobsProcessed).toBeGreaterThanOrEqual(DELIVERIES);
    expect(jobsLeft).toBe(0);
  });
});
