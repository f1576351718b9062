/**
 * Crash test: `deflect serve` as a child process (real server, SQLite file on disk) under a stream of signed deliveries
 * from a load generator, SIGKILLed again and again and restarted on the same database:
 * - 4 targeted kills land exactly in the crash window: the fake Jira kills the process the moment it receives a
 *   comment (or transition) POST, and applies that write 50 ms later, so the action row stays `started` while Jira
 *   has the comment;
 * - then at least 20 kills at seeded random moments (150–900 ms after the process listens).
 * The generator behaves like Jira: it resends each delivery, with the same identifier, until it gets a 2xx.
 * Each delivery is an access request (`grant-repo-access` against a fake GitHub: a GitHub call, a comment, a transition).
 * Afterwards every delivery that got a 2xx must have exactly one run, succeeded, the fake Jira must have received
 * each comment and each transition exactly once, and GitHub must hold exactly one invitation per request (a GitHub
 * call whose outcome a kill left unknown is made again; the endpoint is idempotent). Lost = 0 and duplicated = 0 are
 * asserted and printed.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnDeflect, type DeflectProcess } from '../support/deflect-process.js';
import { freshDir, postWebhook } from '../support/deflect-under-test.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { accessRequestEvent, accessRequestUser, actionKeyOf, deflectEnv, githubEnv, readDb, seededRandom } from './helpers.js';

const DELIVERIES = 150;
const RANDOM_KILLS = 20;
const TARGETED_KILLS = ['/comment', '/transitions', '/comment', '/transitions'];
const SEED = 424_242;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('crash test: SIGKILL under load, restart, nothing lost, nothing applied twice', () => {
  let jira: FakeJira;
  let github: FakeGitHub;
  const dbPath = join(freshDir('deflect-crash-'), 'deflect.db');
  let current: DeflectProcess | null = null;
  let armed: { suffix: string; fired: () => void } | null = null;
  const random = seededRandom(SEED);

  beforeAll(async () => {
    jira = await startFakeJira();
    github = await startFakeGitHub();
    for (let i = 1; i <= DELIVERIES; i++) jira.seedIssue({ key: `CRASH-${i}`, id: String(60_000 + i) });
    jira.setFault((req) => {
      if (req.method !== 'POST') return undefined;
      if (armed && req.path.endsWith(armed.suffix) && current) {
        // Die while Jira holds the request; Jira applies it anyway once the delay ends (the write "succeeded").
        current.child.kill('SIGKILL');
        armed.fired();
        armed = null;
        return { delayMs: 50 };
      }
      // Writes take 0–150 ms, so random kills often land while a call is in flight.
      return { delayMs: Math.floor(random() * 150) };
    });
  });
  afterAll(async () => {
    await current?.kill('SIGKILL');
    await jira?.close();
    await github?.close();
  });

  it(`${DELIVERIES} deliveries, ≥ ${RANDOM_KILLS + TARGETED_KILLS.length} SIGKILLs: lost = 0, duplicated = 0`, { timeout: 300_000 }, async () => {
    const env = deflectEnv(dbPath, jira, {
      ...githubEnv(github),
      DEFLECT_HANDLER_TIMEOUT_MS: '5000',
      JIRA_TIMEOUT_MS: '2000',
      DEFLECT_RETRY_BASE_MS: '100',
      DEFLECT_MAX_ATTEMPTS: '10',
      DEFLECT_PAUSE_AFTER_FAILURES: '0',
      // A killed process's runs are taken over once their lease expires; short, so the test does not wait a minute.
      DEFLECT_RUN_LEASE_MS: '2000',
    });
    const acked = new Set<number>();
    const answers = { accepted: 0, duplicate: 0, refusedOrDropped: 0 };

    // The load generator: two senders, one delivery every ~200 ms each while a process is up, resending until a 2xx.
    const pending = Array.from({ length: DELIVERIES }, (_, i) => i + 1);
    const sender = async () => {
      while (pending.length > 0) {
        const i = pending.shift()!;
        const url = current?.url;
        let ok = false;
        if (url) {
          try {
            const answer = await postWebhook(url, accessRequestEvent(`CRASH-${i}`, String(60_000 + i)), { identifier: `crash-${i}` });
            ok = answer.status === 200;
            if (ok) answers[answer.json.status as 'accepted' | 'duplicate']++;
          } catch {
            // connection refused or reset: the process is down or was killed mid-request
          }
        }
        if (ok) acked.add(i);
        else {
          answers.refusedOrDropped++;
          pending.unshift(i);
        }
        await sleep(ok ? 200 : 50);
      }
    };
    const generator = Promise.all([sender(), sender()]);

    // The killer.
    let kills = 0;
    let restarts = 0;
    for (const suffix of TARGETED_KILLS) {
      current = await spawnDeflect(env, 60_000);
      restarts++;
      const fired = new Promise<void>((resolve) => (armed = { suffix, fired: resolve }));
      await fired;
      expect((await current.kill('SIGKILL')).signal).toBe('SIGKILL');
      kills++;
    }
    let randomKills = 0;
    while (randomKills < RANDOM_KILLS) {
      current = await spawnDeflect(env, 60_000);
      restarts++;
      await sleep(150 + Math.floor(random() * 750));
      expect((await current.kill('SIGKILL')).signal).toBe('SIGKILL');
      kills++;
      randomKills++;
    }

    // The last process runs until everything acknowledged is processed.
    const ackedBeforeLastStart = acked.size;
    current = await spawnDeflect(env, 60_000);
    await generator;
    const deadline = Date.now() + 120_000;
    let runs: Array<{ identifier: string; status: string; n: number }> = [];
    for (;;) {
      runs = readDb(dbPath, (db) =>
        db
          .prepare(
            `SELECT d.webhook_identifier AS identifier, r.status, count(r.id) AS n FROM deliveries d LEFT JOIN runs r ON r.delivery_id = d.id
             GROUP BY d.id, r.status`,
          )
          .all() as Array<{ identifier: string; status: string; n: number }>,
      );
      const done = runs.length >= DELIVERIES && runs.every((r) => r.status !== null && !['queued', 'running'].includes(r.status));
      if (done || Date.now() > deadline) break;
      await sleep(100);
    }
    const stopped = await current.kill('SIGTERM');
    expect(stopped.code).toBe(0);

    // Every acknowledged delivery: exactly one delivery row and exactly one run, succeeded.
    let lost = 0;
    for (const i of acked) {
      const rows = runs.filter((r) => r.identifier === `crash-${i}`);
      const ok = rows.length === 1 && rows[0].status === 'succeeded' && rows[0].n === 1;
      if (!ok) lost++;
    }
    // Jira received each comment and each transition exactly once; GitHub holds one invitation per request.
    let duplicated = 0;
    let missingInJira = 0;
    let missingInGitHub = 0;
    const invitations = github.invitations('acme/payments-api');
    for (let i = 1; i <= DELIVERIES; i++) {
      const comments = jira.commentsFor(`CRASH-${i}`).map(actionKeyOf);
      const transitions = jira.requestsTo('POST', `/rest/api/3/issue/CRASH-${i}/transitions`).length;
      const invited = invitations.filter((inv) => inv.invitee === accessRequestUser(`CRASH-${i}`)).length;
      duplicated += Math.max(0, comments.length - 1) + Math.max(0, transitions - 1) + Math.max(0, invited - 1);
      if (comments.length === 0 || transitions === 0) missingInJira++;
      if (invited === 0) missingInGitHub++;
    }
    const githubCalls = github.requestsTo('PUT', '/repos/acme/payments-api/collaborators/').length;
    const recovered = readDb(dbPath, (db) =>
      (db.prepare(`SELECT count(*) AS n FROM actions WHERE response LIKE '%"verifiedInTracker":true%'`).get() as { n: number }).n,
    );

    console.log(
      `crash test: deliveries ${DELIVERIES}, acknowledged ${acked.size} (${answers.accepted} accepted + ${answers.duplicate} duplicate answers, ` +
        `${answers.refusedOrDropped} sends refused or cut by a kill and resent), kills ${kills} (${TARGETED_KILLS.length} in the crash window + ${randomKills} random), ` +
        `restarts ${restarts}, ${ackedBeforeLastStart} deliveries acknowledged while processes were being killed, ` +
        `actions found already applied in Jira after a crash ${recovered}, GitHub collaborator calls ${githubCalls} for ${DELIVERIES} requests ` +
        `(repeated after an unknown outcome: ${githubCalls - DELIVERIES}); lost ${lost}, duplicated ${duplicated}`,
    );
    expect(kills).toBeGreaterThanOrEqual(RANDOM_KILLS + TARGETED_KILLS.length);
    expect(acked.size).toBe(DELIVERIES);
    expect(readDb(dbPath, (db) => db.prepare('SELECT count(*) AS n FROM deliveries').get())).toEqual({ n: DELIVERIES });
    expect(lost, `runs: ${JSON.stringify(runs.filter((r) => r.status !== 'succeeded' || r.n !== 1))}`).toBe(0);
    expect(duplicated).toBe(0);
    expect(missingInJira).toBe(0);
    expect(missingInGitHub).toBe(0);
    expect(invitations).toHaveLength(DELIVERIES);
    expect(recovered).toBeGreaterThanOrEqual(TARGETED_KILLS.length);
  });
});
