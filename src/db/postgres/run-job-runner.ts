/**
 * graphile-worker's runner for the runs queue on PostgreSQL (decision 019): the {@link RunJobs} of a PostgreSQL Store.
 * The worker (`src/worker/worker.ts`) starts it in-process instead of polling `claimDueRuns`; each `deflect_run` job
 * hands it one run id, which it claims (`claimRun`) and executes as before. graphile-worker brings the wake-up
 * (`LISTEN jobs:insert`, sent by `add_job`), `FOR UPDATE SKIP LOCKED` job fetching, the ticket's named queue (one job
 * of a ticket at a time) and its poll for jobs that come due (`pollInterval`).
 * https://worker.graphile.org/docs/library/run
 *
 * Its locks are not deflect's safety (a run's lease and `claimRun`'s checks are): graphile-worker only frees the job
 * and the ticket's queue locked by a process that died after 4 hours. {@link RunJobs.repair} does it sooner.
 */
import type pg from 'pg';
import type { Logger as PinoLogger } from 'pino';
import type { RunJobs, RunJobRunnerOptions } from '../store.js';
import type { PgSession } from './pg-session.js';
import { addRunJobCall, addRunJobs, RUN_TASK } from './run-jobs.js';

/** How often {@link RunJobs.repair} also runs graphile-worker's cleanup (unused queues, jobs that failed for good), ms. */
const CLEANUP_EVERY_MS = 60 * 60_000;

/** The {@link RunJobs} over `pool` (the Store's pool) and its session. */
export function postgresRunJobs(pool: pg.Pool, session: PgSession): RunJobs {
  let lastCleanupAt = 0;
  const reschedule = (runId: number, atMs: number) =>
    session.query(
      `SELECT r.id FROM runs r CROSS JOIN LATERAL ${addRunJobCall('r.id', 'r.ticket_key', 'greatest(r.run_after, $2::bigint)')} job
       WHERE r.id = $1 AND r.status = 'queued'`,
      [runId, atMs],
    );

  return {
    async start(options: RunJobRunnerOptions) {
      const { run, Logger } = await import('graphile-worker');
      const runner = await run({
        pgPool: pool,
        concurrency: options.concurrency,
        pollInterval: options.pollIntervalMs,
        noHandleSignals: true,
        // deflect's times (run_after, the claim's "due") are the Node clock's; the job's run_at must compare with it.
        useNodeTime: true,
        logger: new Logger(() => (level, message, meta) => logTo(options.logger, level, message, meta)),
        taskList: {
          [RUN_TASK]: async (payload) => {
            const runId = Number((payload as { runId?: unknown } | null)?.runId);
            if (!Number.isSafeInteger(runId)) return;
            const lookAgainAt = await options.onJob(runId);
            // A job added for the same key while this one runs replaces nothing (this one is locked): a new job is made.
            if (lookAgainAt !== null) await reschedule(runId, lookAgainAt);
          },
        },
      });
      return { stop: () => runner.stop() };
    },

    async repair(now: number, staleLockMs: number) {
      // Jobs held longer than a lease while their run is not running: the process that took them died (or stalled
      // longer than a lease) between taking the job and claiming the run, or after finishing it. Free what it holds.
      const stale = await session.query<{ lockedBy: string }>(
        `SELECT DISTINCT j.locked_by AS "lockedBy" FROM graphile_worker.jobs j
         WHERE j.task_identifier = $1 AND j.locked_by IS NOT NULL AND j.locked_at < to_timestamp($2 / 1000.0)
           AND NOT EXISTS (SELECT 1 FROM runs r WHERE j.key = 'run:' || r.id AND r.status = 'running')`,
        [RUN_TASK, now - staleLockMs],
      );
      const unlockedPools = stale.map((row) => row.lockedBy);
      if (unlockedPools.length > 0) await session.query('SELECT graphile_worker.force_unlock_workers($1::text[])', [unlockedPools]);
      // Queued runs without a job (copied from SQLite, queued before the job engine, a job that failed for good);
      // runs of paused handlers get theirs back when resumed.
      const added = await addRunJobs(
        session,
        `NOT EXISTS (SELECT 1 FROM graphile_worker.jobs j WHERE j.key = 'run:' || r.id)
         AND r.handler NOT IN (SELECT handler FROM handler_states WHERE paused_at IS NOT NULL)`,
        [],
      );
      if (now - lastCleanupAt >= CLEANUP_EVERY_MS) {
        lastCleanupAt = now;
        const { makeWorkerUtils, Logger } = await import('graphile-worker');
        const utils = await makeWorkerUtils({ pgPool: pool, logger: new Logger(() => () => {}) });
        try {
          await utils.cleanup({ tasks: ['GC_JOB_QUEUES', 'DELETE_PERMAFAILED_JOBS'] });
        } finally {
          await utils.release();
        }
      }
      return { unlockedPools, added };
    },
  };
}

/** graphile-worker's log lines into deflect's logger: its `info` lines (start, stop) at debug. */
function logTo(logger: PinoLogger, level: string, message: string, meta?: unknown): void {
  const fields = { graphileWorker: meta ?? {} };
  if (level === 'error') logger.error(fields, `graphile-worker: ${message}`);
  else if (level === 'warning') logger.warn(fields, `graphile-worker: ${message}`);
  else logger.debug(fields, `graphile-worker: ${message}`);
}
