/**
 * One owner per run, across processes: two real `deflect serve` processes (child processes, tsx on the sources) on one
 * database of the pass's backend (a SQLite file or a PostgreSQL database: test-backend.ts), against a fake Jira and a fake GitHub. Signed access requests (`grant-repo-access`: one GitHub call, one
 * comment, one transition) are streamed alternately to both. Mid-stream:
 * - while process A holds running runs (GitHub is made to stall for longer than a lease, so A must renew its leases to
 *   keep them), a third process C starts on the same database: it must not take A's runs over (the bug this guards
 *   against: a starting process requeued every `running` run, and GitHub received 8 grants for 4 runs);
 * - process B is restarted the way a rolling deploy does it (SIGTERM, then a new process).
 * Afterwards each run succeeded once, and GitHub and Jira received exactly one call of each kind per run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit/verify-chain.js';
import { spawnDeflect, type DeflectProcess } from '../support/deflect-process.js';
import { postWebhook, waitFor } from '../support/deflect-under-test.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { accessRequestEvent, accessRequestUser, actionKeyOf, deflectEnv, githubEnv } from '../reliability/helpers.js';
import { freshDatabase, type TestDatabase } from '../support/test-backend.js';

const DELIVERIES = 60;
/** Time between two deliveries, ms: the stream outlasts the third start and the restart. */
const SPACING_MS = 250;
const LEASE_MS = 3_000;
/** Longer than a lease: A keeps its runs only by renewing their leases. */
const STALL_MS = 4_500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The `owner` a deflect process logged in its "worker started" line. */
function ownerOf(process: DeflectProcess): string {
  for (const line of process.output) {
    if (!line.includes('"worker started"')) continue;
    const owner = (JSON.parse(line) as { owner?: string }).owner;
    if (owner) return owner;
  }
  throw new Error(`no "worker started" line with an owner:\n${process.output.join('\n')}`);
}

type RunState = { id: number; key: string; status: string; owner: string | null };
const runStates = (database: TestDatabase): Promise<RunState[]> =>
  database.all<RunState>('SELECT r.id, r.ticket_key AS key, r.status, r.owner FROM runs r ORDER BY r.id');

describe('one owner per run: several deflect processes on one database', () => {
  let jira: FakeJira;
  let github: FakeGitHub;
  let database: TestDatabase;
  const processes: DeflectProcess[] = [];
  let stallGitHub = false;

  beforeAll(async () => {
    database = await freshDatabase('deflect-owners-');
    jira = await startFakeJira();
    github = await startFakeGitHub();
    for (let i = 1; i <= DELIVERIES; i++) jira.seedIssue({ key: `OWN-${i}`, id: String(70_000 + i) });
    github.setFault((req) => (req.method === 'PUT' ? { delayMs: stallGitHub ? STALL_MS : 150 } : undefined));
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    await jira?.close();
    await github?.close();
  });

  it(`${DELIVERIES} deliveries to two processes, a third starting mid-run, one restarted: each call made once`, { timeout: 180_000 }, async () => {
    const env = deflectEnv(database, jira, {
      ...githubEnv(github),
      DEFLECT_RUN_LEASE_MS: String(LEASE_MS),
      DEFLECT_RETRY_BASE_MS: '100',
      DEFLECT_PAUSE_AFTER_FAILURES: '0',
    });
    const start = async () => {
      const p = await spawnDeflect(env, 60_000);
      processes.push(p);
      return p;
    };
    const a = await start();
    let b = await start();
    const live = () => [a, b].filter((p) => p.child.exitCode === null && p.child.signalCode === null);

    // The stream: deliveries alternate between A and B (whichever is up), each resent until a 2xx, as Jira does.
    let sent = 0;
    let resent = 0;
    const acked = new Set<number>();
    const send = async (i: number) => {
      for (;;) {
        const targets = live();
        const target = targets[i % targets.length];
        try {
          const answer = await postWebhook(target.url, accessRequestEvent(`OWN-${i}`, String(70_000 + i)), { identifier: `own-${i}` });
          sent++;
          if (answer.status === 200) return void acked.add(i);
        } catch {
          // the process was shutting down: send again
        }
        resent++;
        await sleep(50);
      }
    };
    // The last TAIL deliveries wait for the restart to begin, so they are sent while B shuts down and B' starts; the
    // last TAIL / 2 wait for B' to listen, so it receives some too.
    const TAIL = 20;
    let restarting = false;
    let restarted = false;
    const stream = (async () => {
      for (let i = 1; i <= DELIVERIES; i++) {
        if (i === DELIVERIES - TAIL + 1) await waitFor('the restart to begin', () => restarting, 120_000);
        if (i === DELIVERIES - TAIL / 2 + 1) await waitFor('the restarted process', () => restarted, 120_000);
        await send(i);
        await sleep(SPACING_MS);
      }
    })();

    // 1. A third process starts while A holds running runs whose GitHub calls stall for longer than a lease.
    await waitFor('a few deliveries', () => acked.size >= 8, 30_000);
    stallGitHub = true;
    const ownerA = ownerOf(a);
    const heldByA = await waitFor('A to hold a running run', async () => {
      const held = (await runStates(database)).filter((r) => r.status === 'running' && r.owner === ownerA);
      return held.length > 0 ? held : null;
    }, 30_000);
    const c = await start();
    await sleep(LEASE_MS + 500); // C's start-up sweep and at least one periodic sweep have run; A's runs outlived a lease
    const afterC = new Map((await runStates(database)).map((r) => [r.id, r]));
    const takenOver = heldByA.filter((r) => afterC.get(r.id)!.status !== 'succeeded' && afterC.get(r.id)!.owner !== ownerA);
    stallGitHub = false;
    // Let the stalled calls answer first: a SIGTERM while a call outlives the shutdown grace period (2 s here) leaves its
    // outcome unknown, and the next owner makes that idempotent call again (decision 002) — not what this test is about.
    await sleep(STALL_MS + 200);

    // 2. B is restarted like a rolling deploy: SIGTERM (its runs finish or are released), then a new process.
    const ackedBeforeRestart = acked.size;
    restarting = true;
    expect((await b.kill('SIGTERM')).code).toBe(0);
    b = await start();
    restarted = true;

    await stream;
    const finished = await waitFor(
      'every run to finish',
      async () => {
        const rows = await runStates(database);
        return rows.length === DELIVERIES && rows.every((r) => !['queued', 'running'].includes(r.status)) ? rows : null;
      },
      90_000,
    );

    // Count what the fake GitHub and Jira received, per run.
    let duplicates = 0;
    let missing = 0;
    let githubCalls = 0;
    let comments = 0;
    let transitions = 0;
    for (let i = 1; i <= DELIVERIES; i++) {
      // Exact paths: a prefix would count OWN-10..19 as calls for OWN-1.
      const calls = github.requests.filter((r) => r.method === 'PUT' && r.path === `/repos/acme/payments-api/collaborators/${accessRequestUser(`OWN-${i}`)}`).length;
      const commented = jira.commentsFor(`OWN-${i}`).filter((cm) => actionKeyOf(cm) !== null).length;
      const moved = jira.requests.filter((r) => r.method === 'POST' && r.path === `/rest/api/3/issue/OWN-${i}/transitions`).length;
      githubCalls += calls;
      comments += commented;
      transitions += moved;
      duplicates += Math.max(0, calls - 1) + Math.max(0, commented - 1) + Math.max(0, moved - 1);
      if (calls === 0 || commented === 0 || moved === 0) missing++;
    }
    const owners = (await database.get<{ n: number }>('SELECT count(DISTINCT owner) AS n FROM runs'))!;
    // Runs each process finished (its "run finished" log lines): the work was really shared.
    const finishedBy = processes.map((p) => p.output.filter((line) => line.includes('"msg":"run finished"')).length);
    const requeuedLines = processes.flatMap((p) => p.output).filter((line) => line.includes('were put back in the queue')).length;
    console.log(
      `run ownership: sent ${sent} (${resent} resent), acknowledged ${acked.size}, runs ${finished.length} ` +
        `(${finished.filter((r) => r.status === 'succeeded').length} succeeded), processes ${processes.length} ` +
        `(A, B, C started while A held ${heldByA.length} running run(s), B restarted after ${ackedBeforeRestart} deliveries), A's runs taken over ${takenOver.length}, ` +
        `runs finished per process [A, B, C, B'] ${JSON.stringify(finishedBy)}, expired-lease requeues ${requeuedLines}; GitHub grants ${githubCalls}, Jira comments ${comments}, transitions ${transitions} ` +
        `for ${DELIVERIES} runs; duplicates ${duplicates}, missing ${missing}`,
    );
    expect(ackedBeforeRestart).toBeLessThan(DELIVERIES); // the restart happened mid-stream
    expect(owners.n).toBe(0); // finished runs carry no owner
    expect(finishedBy.reduce((a, b) => a + b, 0)).toBe(DELIVERIES);
    expect(finishedBy.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
    expect(takenOver).toEqual([]);
    expect(requeuedLines).toBe(0);
    expect(acked.size).toBe(DELIVERIES);
    expect(finished.every((r) => r.status === 'succeeded')).toBe(true);
    // Four processes sealed runs into one audit chain (decision 011): it never forked, and every run is in it.
    const chainStore = await database.open();
    const chain = await verifyAuditChain(chainStore);
    await chainStore.close();
    expect(chain).toMatchObject({ state: 'intact', firstBad: null, runs: DELIVERIES });
    expect(duplicates).toBe(0);
    expect(missing).toBe(0);
    expect(githubCalls).toBe(DELIVERIES);
    expect(github.invitations('acme/payments-api')).toHaveLength(DELIVERIES);
    expect((await c.kill('SIGTERM')).code).toBe(0);
  });
});
