/**
 * The runs queue's jobs (decision 019). On both backends: `claimRun` claims one run with claimDueRuns' checks. On
 * PostgreSQL: every write that queues a run adds or moves its graphile-worker job `deflect_run` in the same statement
 * (a rolled-back transaction leaves neither run nor job; a requeue or retry moves the one job's `run_at`); resuming a
 * handler gives its runs their jobs back; `repair` frees jobs a dead process holds and adds missing ones; and a real
 * Worker on PostgreSQL takes a queued run from graphile-worker's runner, claims it and runs it to its outcome.
 */
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineHandler } from '../../../src/automation/define-handler.js';
import { Worker } from '../../../src/worker/worker.js';
import { waitFor } from '../../support/deflect-under-test.js';
import { ticketWith } from '../../support/ticket-fixture.js';
import { closeRunsBackends, pauseHandler, queueRun, runsBackends, type Opened } from './run-fixtures.js';

afterAll(closeRunsBackends);

const NOW = 1_700_000_000_000;
const A = { owner: 'web-1:1:a', leaseMs: 60_000 };
const backends = runsBackends();
const postgres = backends.find((b) => b.name === 'postgres')!;

describe.each(backends)('claimRun on %s', (backend) => {
  it.skipIf(backend.skip !== null)('claims a queued, due run of an unpaused handler whose ticket has nothing running; else says why', async () => {
    const o = await backend.open();
    const t1 = await queueRun(o, 'T-1', NOW - 10);
    const t1b = await queueRun(o, 'T-1', NOW - 5);
    const future = await queueRun(o, 'T-2', NOW + 5_000);
    const paused = await queueRun(o, 'T-3', NOW - 10, { handler: 'close-stale' });
    await pauseHandler(o, 'close-stale', NOW - 1);

    const claimed = await o.store.claimRun(t1, A, NOW);
    expect(claimed.run).toMatchObject({ id: t1, status: 'running', attempts: 1, owner: A.owner, lockedAt: NOW, startedAt: NOW, leaseExpiresAt: NOW + A.leaseMs });
    expect(await o.store.findRun(t1)).toEqual(claimed.run);
    expect(await o.store.claimRun(t1, A, NOW)).toEqual({ run: null, notClaimed: 'not-queued', runAfter: null });
    expect(await o.store.claimRun(t1b, A, NOW)).toEqual({ run: null, notClaimed: 'ticket-busy', runAfter: NOW - 5 });
    expect(await o.store.claimRun(future, A, NOW)).toEqual({ run: null, notClaimed: 'not-due', runAfter: NOW + 5_000 });
    expect(await o.store.claimRun(paused, A, NOW)).toEqual({ run: null, notClaimed: 'handler-paused', runAfter: NOW - 10 });
    expect(await o.store.claimRun(999, A, NOW)).toEqual({ run: null, notClaimed: 'not-queued', runAfter: null });
    for (const id of [t1b, future, paused]) expect((await o.store.findRun(id))!.status).toBe('queued');
    expect(o.store.runJobs === null).toBe(backend.name === 'sqlite');
  });
});

interface JobRow {
  key: string | null;
  queue: string | null;
  runAt: number;
  lockedBy: string | null;
  attempts: number;
  maxAttempts: number;
}
const jobs = (o: Opened) =>
  o.sql<JobRow>(
    `SELECT key, queue_name AS queue, (extract(epoch FROM run_at) * 1000)::bigint AS "runAt", locked_by AS "lockedBy", attempts,
       max_attempts AS "maxAttempts" FROM graphile_worker.jobs WHERE task_identifier = 'deflect_run' ORDER BY id`,
  );
const jobOf = async (o: Opened, runId: number) => (await jobs(o)).filter((j) => j.key === `run:${runId}`);

describe.skipIf(postgres.skip !== null)('jobs of runs on PostgreSQL (graphile-worker)', () => {
  it('enqueueRun adds the run and its job in one statement; a rolled-back transaction leaves neither', async () => {
    const o = await postgres.open();
    const id = await queueRun(o, 'JOB-1', NOW);
    expect(await jobs(o)).toEqual([{ key: `run:${id}`, queue: 'JOB-1', runAt: NOW, lockedBy: null, attempts: 0, maxAttempts: 25 }]);

    await expect(
      o.store.transaction(async () => {
        await queueRun(o, 'JOB-2', NOW);
        throw new Error('routing failed after queueing');
      }),
    ).rejects.toThrow('routing failed after queueing');
    expect(await o.store.listRuns({ ticketKey: 'JOB-2' })).toEqual([]);
    expect((await jobs(o)).map((j) => j.queue)).toEqual(['JOB-1']);
  });

  it('requeue after a failure, an expired lease, a release, a retry and an approval decision move the one job of the run', async () => {
    const o = await postgres.open();
    const id = await queueRun(o, 'JOB-3', NOW);
    expect((await o.store.claimRun(id, A, NOW)).run).not.toBeNull();
    // Retry-After: the job moves to the run's new run_after (the job is not locked here, so it is replaced in place).
    expect(await o.store.requeueOwnedRun(id, A.owner, NOW + 30_000, 'HTTP 429', 12)).toBe(true);
    expect(await jobOf(o, id)).toEqual([expect.objectContaining({ runAt: NOW + 30_000, queue: 'JOB-3' })]);
    expect(await jobs(o)).toHaveLength(1);

    expect((await o.store.claimRun(id, A, NOW + 30_000)).run).not.toBeNull();
    expect(await o.store.requeueExpiredRuns(NOW + 30_000 + A.leaseMs + 1)).toEqual([{ id, owner: A.owner }]);
    expect(await jobOf(o, id)).toEqual([expect.objectContaining({ runAt: NOW + 30_000 })]);

    expect((await o.store.claimRun(id, A, NOW + 100_000)).run).not.toBeNull();
    expect(await o.store.releaseOwnedRuns(A.owner, [id])).toBe(1);
    expect(await jobOf(o, id)).toHaveLength(1);

    expect((await o.store.claimRun(id, A, NOW + 100_000)).run).not.toBeNull();
    expect(await o.store.finishOwnedRun(id, A.owner, { status: 'dead', error: 'gave up', durationMs: 5 }, NOW + 100_001)).toBe(true);
    await o.sql("DELETE FROM graphile_worker._private_jobs WHERE key = $1", [`run:${id}`]); // what the runner does once the task returns
    expect(await o.store.retryRun(id, NOW + 200_000)).toBe(true);
    expect(await jobOf(o, id)).toEqual([expect.objectContaining({ runAt: NOW + 200_000, attempts: 0 })]);

    expect((await o.store.claimRun(id, A, NOW + 200_000)).run).not.toBeNull();
    expect(await o.store.parkRunForApproval(id, A.owner, 'needs a lead', NOW + 900_000, 3, NOW + 200_001)).toBe(true);
    await o.sql("DELETE FROM graphile_worker._private_jobs WHERE key = $1", [`run:${id}`]);
    expect(await o.store.decideAwaitingRun({ runId: id, decision: 'approved', by: 'ann' }, NOW + 300_000)).toBe(true);
    expect(await jobOf(o, id)).toEqual([expect.objectContaining({ runAt: NOW + 300_000 })]);
    expect(await jobs(o)).toHaveLength(1);
  });

  it('a requeue while the run\'s job is taken adds a second job (graphile-worker clears the taken one\'s key)', async () => {
    const o = await postgres.open();
    const id = await queueRun(o, 'JOB-4', NOW);
    await o.sql("UPDATE graphile_worker._private_jobs SET locked_at = now(), locked_by = 'pool-test', attempts = 1 WHERE key = $1", [`run:${id}`]);
    expect((await o.store.claimRun(id, A, NOW)).run).not.toBeNull();
    expect(await o.store.requeueOwnedRun(id, A.owner, NOW + 5_000, 'timeout', 1)).toBe(true);
    expect(await jobs(o)).toEqual([
      expect.objectContaining({ key: null, lockedBy: 'pool-test', attempts: 25 }),
      expect.objectContaining({ key: `run:${id}`, lockedBy: null, runAt: NOW + 5_000 }),
    ]);
  });

  it('resuming a handler gives its queued runs their jobs back; repair adds missing jobs and frees jobs a dead process holds', async () => {
    const o = await postgres.open();
    const paused = await queueRun(o, 'JOB-5', NOW, { handler: 'close-stale' });
    const other = await queueRun(o, 'JOB-6', NOW);
    const held = await queueRun(o, 'JOB-7', NOW);
    await pauseHandler(o, 'close-stale', NOW);
    // The worker drops a paused handler's job; a run copied from SQLite has none.
    await o.sql('DELETE FROM graphile_worker._private_jobs WHERE key = ANY($1::text[])', [[`run:${paused}`, `run:${other}`]]);
    // A process took JOB-7's job ten minutes ago and died before claiming the run.
    await o.sql("UPDATE graphile_worker._private_jobs SET locked_at = now() - interval '10 minutes', locked_by = 'pool-dead' WHERE key = $1", [`run:${held}`]);
    await o.sql("UPDATE graphile_worker._private_job_queues SET locked_at = now() - interval '10 minutes', locked_by = 'pool-dead' WHERE queue_name = 'JOB-7'");

    expect(await o.store.runJobs!.repair(Date.now(), 60_000)).toEqual({ unlockedPools: ['pool-dead'], added: [other] });
    expect(await jobOf(o, held)).toEqual([expect.objectContaining({ lockedBy: null })]);
    expect(await o.sql("SELECT 1 FROM graphile_worker._private_job_queues WHERE queue_name = 'JOB-7' AND locked_by IS NOT NULL")).toEqual([]);
    expect(await jobOf(o, paused)).toEqual([]);
    // Resumed as the kill switch does: several handlers at once in one transaction.
    await pauseHandler(o, 'grant-repo-access', NOW);
    expect(await o.store.transaction(() => Promise.all(['close-stale', 'grant-repo-access', 'never-paused'].map((h) => o.store.resumeHandler(h, NOW + 1)))))
      .toEqual([true, true, false]);
    expect(await jobOf(o, paused)).toEqual([expect.objectContaining({ runAt: NOW, queue: 'JOB-5' })]);
    // Nothing left to repair; a job held by a live worker for a running run is not touched.
    expect((await o.store.claimRun(held, A, Date.now())).run).not.toBeNull();
    await o.sql("UPDATE graphile_worker._private_jobs SET locked_at = now() - interval '10 minutes', locked_by = 'pool-live' WHERE key = $1", [`run:${held}`]);
    expect(await o.store.runJobs!.repair(Date.now(), 60_000)).toEqual({ unlockedPools: [], added: [] });
  });

  it('a Worker on PostgreSQL runs a queued run through its deflect_run job: claimed, executed, retried at its run_after, ended', async () => {
    const o = await postgres.open();
    const calls: number[] = [];
    const probe = defineHandler({
      name: 'job-probe',
      description: 'fails its first call like a Jira 429 with Retry-After, then succeeds',
      input: z.object({}),
      async run() {
        calls.push(Date.now());
        if (calls.length === 1) throw Object.assign(new Error('Jira answered 429'), { transient: true, retryAfterMs: 400 });
        return { summary: 'done through graphile-worker' };
      },
    });
    const worker = new Worker({
      db: o.store, rules: [], handlers: [probe], api: null, logger: pino({ level: 'silent' }), dryRun: true, maxAttempts: 3, handlerTimeoutMs: 5_000,
      concurrency: 2, selfAccountId: null, pollMs: 50, retryBaseMs: 20, leaseMs: 3_000,
    });
    await worker.start();
    try {
      const id = await queueRun(o, 'JOB-8', Date.now(), { handler: 'job-probe', dryRun: true, ticket: ticketWith('probe', { key: 'JOB-8' }) });
      const run = await waitFor('the run to end', async () => {
        const found = await o.store.findRun(id);
        return found && !['queued', 'running'].includes(found.status) ? found : null;
      });
      expect(run).toMatchObject({ status: 'planned', attempts: 2, summary: expect.stringContaining('done through graphile-worker') });
      expect(calls).toHaveLength(2);
      // The retry's job was moved to the run's run_after, which honours Retry-After.
      expect(calls[1] - calls[0]).toBeGreaterThanOrEqual(400);
      // The jobs were taken by graphile-worker and completed (deleted) once their task returned.
      await waitFor('the jobs to be completed', async () => (await jobs(o)).length === 0);
    } finally {
      await worker.stop(500);
    }
  });
});
