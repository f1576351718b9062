/**
 * The jobs of the runs queue on PostgreSQL (decision 019): every time a run becomes `queued` its graphile-worker job
 * `deflect_run` (payload `{ runId }`) is added or replaced **in the same statement** as the write that queues it, so a
 * run is queued exactly when its job is, and a rolled-back transaction leaves neither. The `runs` table stays the
 * record (audit chain, leases, attempts, reports); the job only says "look at run N from `run_at` on".
 *
 * The job, per graphile-worker 0.17.3's `add_job` (node_modules/graphile-worker/sql/000018.sql: `add_job(identifier
 * text, payload json, queue_name text, run_at timestamptz, max_attempts int, job_key text, priority int, flags text[],
 * job_key_mode text)`):
 * - `queue_name` = the run's ticket key: graphile-worker runs the jobs of one named queue one at a time, so two runs
 *   of one ticket are never handed out together (deflect's claim checks it again);
 * - `run_at` = `run_after` (ms since the epoch → `to_timestamp(ms / 1000.0)`); the runner is started with
 *   `useNodeTime`, so both sides compare against the Node clock;
 * - `job_key` = `run:<id>`, `job_key_mode` = `replace`: requeueing a run (retry with Retry-After, lease expiry,
 *   approval decided) moves its one job to the new `run_at` instead of adding a second. When that job is running
 *   right now (locked), graphile-worker clears the running job's key and adds a new one, so the new state is acted on;
 * - `max_attempts` = {@link RUN_JOB_MAX_ATTEMPTS}: graphile-worker only retries a job whose task threw (a database
 *   error while claiming); deflect's own retry policy (attempts, backoff, dead letter) lives on the run.
 */
import type { PgSession } from './pg-session.js';

/** The graphile-worker task identifier of a run's job. */
export const RUN_TASK = 'deflect_run';

/** Attempts graphile-worker gives one job whose task throws (its default, with its exponential backoff). */
export const RUN_JOB_MAX_ATTEMPTS = 25;

/** The job key of run `id`. */
export const runJobKey = (id: number) => `run:${id}`;

/**
 * The `add_job` call for a run whose id, ticket key and `run_after` are the SQL expressions given, for a
 * `CROSS JOIN LATERAL` after the rows that were queued.
 */
export const addRunJobCall = (id: string, ticketKey: string, runAfter: string) =>
  `graphile_worker.add_job('${RUN_TASK}', json_build_object('runId', ${id}), queue_name => ${ticketKey},
     run_at => to_timestamp(${runAfter} / 1000.0), max_attempts => ${RUN_JOB_MAX_ATTEMPTS}, job_key => 'run:' || ${id},
     job_key_mode => 'replace')`;

/**
 * Wraps a statement that queues runs (`INSERT INTO runs …` or `UPDATE runs SET status = 'queued' …`, without its
 * RETURNING) so the same statement adds each queued run's job: `WITH queued AS (<write> RETURNING <returning>, …)
 * SELECT <returning> FROM queued CROSS JOIN LATERAL add_job(…)`. One statement, so atomic with or without an open
 * transaction (a writable CTE runs exactly once, https://www.postgresql.org/docs/15/queries-with.html#QUERIES-WITH-MODIFYING).
 * @param returning the columns the caller wants back, against the written table (e.g. `runs.id`); names must not
 *   start with `job_`.
 */
export function queueingRuns(write: string, returning: string): string {
  return `WITH queued AS (${write} RETURNING ${returning}, runs.id AS job_run_id, runs.ticket_key AS job_ticket_key, runs.run_after AS job_run_after)
    SELECT queued.* FROM queued CROSS JOIN LATERAL ${addRunJobCall('queued.job_run_id', 'queued.job_ticket_key', 'queued.job_run_after')} job`;
}

/**
 * Adds (or moves) the job of every queued run matching `where` (SQL over `runs r`, parameters `params`): a resumed
 * handler's runs, runs copied from SQLite, a run whose job was dropped.
 * @returns the ids of the runs whose job was added.
 */
export async function addRunJobs(pg: PgSession, where: string, params: readonly unknown[]): Promise<number[]> {
  const rows = await pg.query<{ id: number }>(
    `WITH due AS MATERIALIZED (SELECT r.id, r.ticket_key, r.run_after FROM runs r WHERE r.status = 'queued' AND (${where}))
     SELECT due.id FROM due CROSS JOIN LATERAL ${addRunJobCall('due.id', 'due.ticket_key', 'due.run_after')} job ORDER BY due.id`,
    params,
  );
  return rows.map((row) => row.id);
}
