/**
 * The Store: the one asynchronous interface between deflect and its database (decision 018, step 1), so the rest of
 * the code does not know whether it runs on the embedded SQLite default or on PostgreSQL (`DATABASE_URL`).
 *
 * Shape: one flat object whose repository functions are those of the SQL modules in this folder (`deliveries.ts`,
 * `runs.ts`, …) without their first `db` argument, each returning a Promise:
 * `insertDeliveries(db, batch)` → `await store.insertDeliveries(batch)`. The SQLite modules stay the reference: a
 * function's arguments, result and errors are documented there once, and {@link AsyncRepository} derives the Store's
 * signatures from them, so both implementations are checked against the same contract by the compiler:
 * - `sqlite-store.ts` binds the synchronous better-sqlite3 functions (behaviour unchanged: group commit,
 *   `BEGIN IMMEDIATE`, savepoints);
 * - `postgres/pg-store.ts` implements each module with drizzle's node-postgres driver.
 *
 * Transactions are ambient: code inside `store.transaction(async () => …)` keeps calling `store.x()`, and every call
 * made in that async context (AsyncLocalStorage) runs in the transaction; a nested `transaction` is a savepoint. A
 * transaction's work must only await the store (and pure code): on SQLite the connection is held for its duration.
 */
import type * as actions from './actions.js';
import type * as apiTokens from './api-tokens.js';
import type * as approvals from './approvals.js';
import type * as auditChain from './audit-chain.js';
import type * as auditRetention from './audit-retention.js';
import type * as authSessions from './auth-sessions.js';
import type { Db } from './client.js';
import type * as deliveries from './deliveries.js';
import type * as handlerModes from './handler-modes.js';
import type * as handlerStates from './handler-states.js';
import type * as healthProbe from './health-probe.js';
import type * as impactQueries from './impact-queries.js';
import type * as importCheckpoints from './import-checkpoints.js';
import type * as reportQueries from './report-queries.js';
import type * as reportScan from './report-scan.js';
import type * as retention from './retention.js';
import type * as runSearch from './run-search.js';
import type * as runVerifications from './run-verifications.js';
import type * as runs from './runs.js';
import type * as scratchRuns from './scratch-runs.js';
import type * as slackRequests from './slack-requests.js';
import type * as textGroups from './text-groups.js';
import type * as tickets from './tickets.js';

/**
 * The asynchronous form of a repository module `M`: every exported function whose first parameter is the SQLite
 * `Db`, without that parameter, returning a Promise of its result. Functions that take no `db` (pure helpers such
 * as `ticketRowId`) are left out.
 */
export type AsyncRepository<M> = {
  [K in keyof M as M[K] extends (db: Db, ...args: never[]) => unknown ? K : never]: M[K] extends (db: Db, ...args: infer A) => infer R
    ? (...args: A) => Promise<R>
    : never;
};

/**
 * Functions of the modules that are not part of the Store: internals that take a synchronous callback or run only
 * while opening the database (`writeAudited`, `recordAuditState`, `sealRowsAtUpgrade`, `inWriteTransaction`).
 */
type Internal = 'writeAudited' | 'recordAuditState' | 'sealRowsAtUpgrade' | 'inWriteTransaction';

/** Every repository function of the Store, by the module that defines it (the PostgreSQL store implements them per module). */
export interface Repositories {
  actions: AsyncRepository<typeof actions>;
  apiTokens: AsyncRepository<typeof apiTokens>;
  approvals: AsyncRepository<typeof approvals>;
  auditChain: Omit<AsyncRepository<typeof auditChain>, Internal>;
  auditRetention: Omit<AsyncRepository<typeof auditRetention>, Internal>;
  authSessions: AsyncRepository<typeof authSessions>;
  deliveries: AsyncRepository<typeof deliveries>;
  handlerModes: AsyncRepository<typeof handlerModes>;
  handlerStates: AsyncRepository<typeof handlerStates>;
  healthProbe: AsyncRepository<typeof healthProbe>;
  impactQueries: AsyncRepository<typeof impactQueries>;
  importCheckpoints: AsyncRepository<typeof importCheckpoints>;
  reportQueries: AsyncRepository<typeof reportQueries>;
  reportScan: AsyncRepository<typeof reportScan>;
  retention: AsyncRepository<typeof retention>;
  runSearch: Omit<AsyncRepository<typeof runSearch>, Internal>;
  runVerifications: AsyncRepository<typeof runVerifications>;
  runs: AsyncRepository<typeof runs>;
  scratchRuns: AsyncRepository<typeof scratchRuns>;
  slackRequests: AsyncRepository<typeof slackRequests>;
  textGroups: AsyncRepository<typeof textGroups>;
  tickets: AsyncRepository<typeof tickets>;
}

/** What the worker gives the runs queue's job runner ({@link RunJobs.start}). */
export interface RunJobRunnerOptions {
  /** Jobs executed at once in this process (`DEFLECT_CONCURRENCY`). */
  concurrency: number;
  /** Longest wait before jobs that came due are noticed without a notification, ms. */
  pollIntervalMs: number;
  /** Where the runner's own messages go (its `info` at debug). */
  logger: import('pino').Logger;
  /**
   * Called for each job with its run id; resolves when the job is done with (the run executed, or nothing to do: gone,
   * not queued, its handler paused), or with a time (ms) at which to look at the run again (not due yet, its ticket
   * busy). Rejecting makes the job engine retry the job later (its own backoff).
   */
  onJob(runId: number): Promise<number | null>;
}

/**
 * The runs queue's job engine (PostgreSQL only: graphile-worker, decision 019). The jobs themselves are added by the
 * repository functions that queue runs, in the same statement.
 */
export interface RunJobs {
  /** Starts the job runner in this process. `stop()` stops taking jobs and resolves once the running ones returned. */
  start(options: RunJobRunnerOptions): Promise<{ stop(): Promise<void> }>;
  /**
   * Frees the jobs (and the tickets' queues) held for longer than `staleLockMs` by a process that no longer runs their
   * run, and adds a job for every queued run of an unpaused handler that has none. Safe on several replicas at once.
   * @returns the job runner pools freed and the ids of the runs given a job.
   */
  repair(now: number, staleLockMs: number): Promise<{ unlockedPools: string[]; added: number[] }>;
}

/** Which database a Store runs on. */
export type Backend = 'sqlite' | 'postgres';

/** What every Store has besides its repository functions. */
export interface StoreCore {
  readonly backend: Backend;
  /**
   * Runs `work` in one write transaction and resolves with its result once committed (SQLite: `BEGIN IMMEDIATE`,
   * `synchronous=FULL`, so committed = on disk; PostgreSQL: `BEGIN … COMMIT`). Every store call made in `work`'s async
   * context runs inside it; a nested `transaction` is a savepoint (its failure rolls back only its own writes when
   * the caller catches it).
   * @throws (rejects) what `work` throws, after rolling back; or the database's error when BEGIN/COMMIT fails.
   */
  transaction<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Runs `work` in one read snapshot (SQLite: a deferred read transaction; PostgreSQL: `REPEATABLE READ READ ONLY`),
   * so a report's several queries see one state of the database. Writes inside it fail on PostgreSQL.
   */
  snapshot<T>(work: () => Promise<T>): Promise<T>;
  /** Count of migrations applied to the database and shipped with this build (`/readyz`, `deflect migrate`). */
  migrationStatus(): Promise<{ applied: number; shipped: number }>;
  /** Closes the connection (SQLite) or the pool (PostgreSQL). Idempotent. */
  close(): Promise<void>;
  /**
   * The SQLite database beneath, for work that only exists on SQLite (the file's backup, its volume's free space);
   * null on PostgreSQL.
   */
  readonly sqlite: Db | null;
  /**
   * The runs queue's job engine on PostgreSQL; null on SQLite, where the worker polls `claimDueRuns` (its write lock
   * makes that safe and cheap).
   */
  readonly runJobs: RunJobs | null;
}

type Flatten<R> = { [M in keyof R]: R[M] }[keyof R];
type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** Every repository function, flat: `store.insertDeliveries(batch)`, `store.claimDueRuns(…)`, … */
export type RepositoryFunctions = UnionToIntersection<Flatten<Repositories>>;

/** The database as deflect's code sees it. */
export type Store = StoreCore & RepositoryFunctions;
