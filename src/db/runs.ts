/**
 * Automation runs: one execution of a handler for one delivery (table `runs`). Status words are in
 * {@link RUN_STATUSES}; the worker moves a run `queued` → `running` → an outcome.
 *
 * One owner per run: claiming a run stamps it with the claiming process's id (`owner`) and a lease
 * (`lease_expires_at`, ms), which the owner renews while the run executes ({@link renewRunLeases}). Another process
 * only takes a `running` run back to the queue once its lease has expired ({@link requeueExpiredRuns}: the owner
 * crashed or stalled), and every write that ends or releases a run checks that the writer still owns it, so a process
 * that lost its lease cannot overwrite the new owner's result. Decision record: docs/decisions/004-run-leases.md.
 */
import type { Ticket } from '../ticket.js';
import type { Db } from './client.js';
import { statement } from './statements.js';
import type { RunRow } from './schema.js';
import { writeAudited } from './audit-chain.js';

/**
 * `planned` is the outcome of a dry run; `shadow` the outcome of a run queued by a rule in `mode: shadow` (executed
 * like a dry run: actions planned, nothing sent); `dead` is the dead-letter state (attempts exhausted);
 * `awaiting-approval` waits for an approver's `/approve`; `denied` and `expired` end such a run.
 */
export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'skipped', 'planned', 'shadow', 'dead', 'awaiting-approval', 'denied', 'expired'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type RunOutcome = Exclude<RunStatus, 'queued' | 'running'>;

export interface NewRun {
  deliveryId: number;
  ticketKey: string;
  handler: string;
  reason: string;
  dryRun: boolean;
  /** Queued by a rule in `mode: shadow`: stored with `dry_run` set too (whatever `dryRun` says), so nothing is sent; the run ends `shadow`. Default false. */
  shadow?: boolean;
  /** The rules file version that routed the run (12 hex of its SHA-256), or null without a rules file. */
  rulesVersion?: string | null;
  idempotencyKey: string;
  maxAttempts: number;
  /**
   * The ticket the run acts on, as routing saw it (stored as JSON in `ticket_snapshot`). Routing always sets it;
   * without it the run falls back to the `tickets` row of its key, as runs queued before the column existed do.
   */
  ticket?: Ticket | null;
}

const SELECT_RUN = `SELECT id, delivery_id AS deliveryId, ticket_key AS ticketKey, handler, reason, status, dry_run AS dryRun,
  idempotency_key AS idempotencyKey, attempts, max_attempts AS maxAttempts, run_after AS runAfter, locked_at AS lockedAt,
  owner, lease_expires_at AS leaseExpiresAt, started_at AS startedAt, finished_at AS finishedAt, duration_ms AS durationMs, summary, applied, error, manual_retries AS manualRetries,
  shadow, rules_version AS rulesVersion, created_at AS createdAt FROM runs`;

const toRun = (row: RunRow & { dryRun: number | boolean; applied: number | boolean; shadow: number | boolean }): RunRow => ({
  ...row,
  dryRun: Boolean(row.dryRun),
  applied: Boolean(row.applied),
  shadow: Boolean(row.shadow),
});

/**
 * Queues a run with its ticket snapshot; a second run for the same (delivery, handler) is ignored (UNIQUE).
 * Returns the id or null if it existed.
 */
export function enqueueRun(db: Db, run: NewRun, now = Date.now()): number | null {
  const row = statement(db,
      `INSERT INTO runs (delivery_id, ticket_key, handler, reason, status, dry_run, idempotency_key, attempts, max_attempts, run_after, created_at, ticket_snapshot,
         shadow, rules_version)
       VALUES (?, ?, ?, ?, 'queued', ?, ?, 0, ?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING RETURNING id`,
    )
    .get(run.deliveryId, run.ticketKey, run.handler, run.reason, run.dryRun || run.shadow ? 1 : 0, run.idempotencyKey, run.maxAttempts, now, now, run.ticket ? JSON.stringify(run.ticket) : null,
      run.shadow ? 1 : 0, run.rulesVersion ?? null) as
    | { id: number }
    | undefined;
  return row?.id ?? null;
}

/** Who claims runs, and for how long: the process id written to `owner` and the lease length, ms. */
export interface RunClaimant {
  /** This process's id, e.g. `web-1:4242:9f1c2a7b` (see `worker.ts`). */
  owner: string;
  /** How long a claim holds without renewal, ms (`DEFLECT_RUN_LEASE_MS`). */
  leaseMs: number;
}

/**
 * Claims up to `limit` queued runs that are due, oldest first, for `claimant`: never two for one ticket, never one for
 * a ticket that already has a `running` run (in any process) or is in `busyTickets`, nor one of a handler in
 * `pausedHandlers` (those wait in the queue). Claimed runs become `running` with `attempts + 1`, `owner` and
 * `lease_expires_at = now + leaseMs`. One IMMEDIATE transaction (the write lock is taken before the read), so two
 * processes on one database can never take the same run, nor runs of one ticket at the same time.
 */
export function claimDueRuns(
  db: Db,
  limit: number,
  busyTickets: ReadonlySet<string>,
  claimant: RunClaimant,
  now = Date.now(),
  pausedHandlers: ReadonlySet<string> = new Set(),
): RunRow[] {
  if (limit <= 0) return [];
  const sqlite = db.$client;
  // Excluded in SQL, so a busy ticket or a paused handler with many due runs cannot starve the others.
  const busy = [...busyTickets];
  const paused = [...pausedHandlers];
  const candidates = statement(db,
    `${SELECT_RUN} WHERE status = 'queued' AND run_after <= ?
       AND ticket_key NOT IN (SELECT value FROM json_each(?)) AND handler NOT IN (SELECT value FROM json_each(?))
       AND ticket_key NOT IN (SELECT ticket_key FROM runs WHERE status = 'running')
     ORDER BY run_after, id LIMIT ?`,
  );
  const claim = statement(db,
    `UPDATE runs SET status = 'running', attempts = attempts + 1, locked_at = ?, started_at = ?, owner = ?, lease_expires_at = ?
     WHERE id = ? AND status = 'queued'`,
  );
  const leaseExpiresAt = now + claimant.leaseMs;
  const params = [now, JSON.stringify(busy), JSON.stringify(paused), Math.max(limit * 4, 16)];
  // Look first without the write lock: most turns find nothing due, and must not make the receiver wait.
  if (candidates.all(...params).length === 0) return [];
  return sqlite.transaction(() => {
    const taken: RunRow[] = [];
    const tickets = new Set(busyTickets);
    for (const row of candidates.all(...params) as RunRow[]) {
      if (taken.length >= limit) break;
      if (tickets.has(row.ticketKey)) continue;
      if (claim.run(now, now, claimant.owner, leaseExpiresAt, row.id).changes === 1) {
        tickets.add(row.ticketKey);
        taken.push(
          toRun({ ...row, status: 'running', attempts: row.attempts + 1, lockedAt: now, startedAt: now, owner: claimant.owner, leaseExpiresAt }),
        );
      }
    }
    return taken;
  }).immediate();
}

/** Why {@link claimRun} did not claim a run: gone or no longer queued, not due yet, its handler paused, its ticket busy. */
export type RunNotClaimed = 'not-queued' | 'not-due' | 'handler-paused' | 'ticket-busy';

/** What {@link claimRun} answers: the claimed run, or why not (with the run's `run_after`, ms, when it is queued). */
export type RunClaim = { run: RunRow; notClaimed?: undefined } | { run: null; notClaimed: RunNotClaimed; runAfter: number | null };

/**
 * Claims run `id` for `claimant` if it can start now, with the checks {@link claimDueRuns} makes: status `queued`,
 * due (`run_after <= now`, ms), its handler not paused, no other `running` run of its ticket (in any process). The
 * claimed run becomes `running` with `attempts + 1`, `owner` and `lease_expires_at = now + leaseMs`, as there. Used by
 * the PostgreSQL worker, whose job engine hands it one run id at a time (decision 019); one IMMEDIATE transaction here.
 */
export function claimRun(db: Db, id: number, claimant: RunClaimant, now = Date.now()): RunClaim {
  return db.$client.transaction((): RunClaim => {
    const row = statement(db, `${SELECT_RUN} WHERE id = ?`).get(id) as RunRow | undefined;
    if (!row || row.status !== 'queued') return { run: null, notClaimed: 'not-queued', runAfter: null };
    const refuse = (notClaimed: RunNotClaimed): RunClaim => ({ run: null, notClaimed, runAfter: row.runAfter });
    if (row.runAfter > now) return refuse('not-due');
    if (statement(db, 'SELECT 1 FROM handler_states WHERE handler = ? AND paused_at IS NOT NULL').get(row.handler)) return refuse('handler-paused');
    if (statement(db, "SELECT 1 FROM runs WHERE ticket_key = ? AND status = 'running' LIMIT 1").get(row.ticketKey)) return refuse('ticket-busy');
    const leaseExpiresAt = now + claimant.leaseMs;
    statement(db,
      `UPDATE runs SET status = 'running', attempts = attempts + 1, locked_at = ?, started_at = ?, owner = ?, lease_expires_at = ?
       WHERE id = ? AND status = 'queued'`,
    ).run(now, now, claimant.owner, leaseExpiresAt, id);
    return { run: toRun({ ...row, status: 'running', attempts: row.attempts + 1, lockedAt: now, startedAt: now, owner: claimant.owner, leaseExpiresAt }) };
  }).immediate();
}

/**
 * Extends the lease of the runs in `ids` that `owner` still holds to `leaseExpiresAt` (ms).
 * @returns the ids it still owns; an id missing from the answer was lost (its lease expired and another process
 *   requeued or took it), and its execution must stop.
 */
export function renewRunLeases(db: Db, owner: string, ids: readonly number[], leaseExpiresAt: number): Set<number> {
  if (ids.length === 0) return new Set();
  const rows = statement(db,
    `UPDATE runs SET lease_expires_at = ? WHERE owner = ? AND status = 'running' AND id IN (SELECT value FROM json_each(?)) RETURNING id`,
  ).all(leaseExpiresAt, owner, JSON.stringify(ids)) as Array<{ id: number }>;
  return new Set(rows.map((r) => r.id));
}

/**
 * Puts back in the queue every `running` run whose lease expired before `now` (ms), whoever owned it: its owner
 * crashed, was killed, or stalled longer than a lease. A run without a lease (claimed before leases existed) counts as
 * expired. The interrupted attempt is not counted against the run. A live lease is never touched, so a second process
 * starting on the same database leaves the first one's runs alone.
 * @returns the runs requeued (id and previous owner), for the log.
 */
export function requeueExpiredRuns(db: Db, now = Date.now()): Array<{ id: number; owner: string | null }> {
  const expired = statement(db,
    `SELECT id, owner FROM runs WHERE status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < ?)`,
  );
  const requeue = statement(db,
    `UPDATE runs SET status = 'queued', attempts = max(attempts - 1, 0), locked_at = NULL, lease_expires_at = NULL, owner = NULL
     WHERE id = ? AND status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < ?)`,
  );
  return db.$client.transaction(() =>
    (expired.all(now) as Array<{ id: number; owner: string | null }>).filter((run) => requeue.run(run.id, now).changes === 1),
  ).immediate();
}

/** The outcome of an attempt, as {@link finishRun} stores it. */
export interface RunOutcomeRecord {
  status: RunOutcome;
  summary?: string | null;
  error?: string | null;
  durationMs: number;
  applied?: boolean;
}

/**
 * Records the final outcome of a run that `owner` holds (status `running`, owner unchanged), and seals it in the audit
 * chain in the same transaction (`db/audit-chain.ts`).
 * @returns false when the run is no longer this owner's (its lease was lost): nothing was written, and the other
 *   process's result stands.
 */
export function finishOwnedRun(db: Db, id: number, owner: string, outcome: RunOutcomeRecord, now = Date.now()): boolean {
  return writeAudited(db, () => {
    const written = statement(db,
      `UPDATE runs SET status = ?, summary = ?, error = ?, duration_ms = ?, applied = ?, finished_at = ?, locked_at = NULL,
         owner = NULL, lease_expires_at = NULL
       WHERE id = ? AND status = 'running' AND owner = ?`,
    ).run(outcome.status, outcome.summary ?? null, outcome.error ?? null, outcome.durationMs, outcome.applied === false ? 0 : 1, now, id, owner)
      .changes === 1;
    return { result: written, rows: written ? [['runs', id]] : [] };
  }, now);
}

/**
 * Records a final outcome whatever the run's state or owner. For seeding and tools; the worker uses
 * {@link finishOwnedRun}, which cannot overwrite another process's result.
 */
export function finishRun(db: Db, id: number, outcome: RunOutcomeRecord, now = Date.now()): void {
  writeAudited(db, () => {
    statement(db,
      `UPDATE runs SET status = ?, summary = ?, error = ?, duration_ms = ?, applied = ?, finished_at = ?, locked_at = NULL,
         owner = NULL, lease_expires_at = NULL WHERE id = ?`,
    ).run(outcome.status, outcome.summary ?? null, outcome.error ?? null, outcome.durationMs, outcome.applied === false ? 0 : 1, now, id);
    return { result: undefined, rows: [['runs', id]] };
  }, now);
}

/**
 * Puts a run that `owner` holds back in the queue to be retried at `runAfter` (ms), keeping the error for the audit.
 * @returns false (nothing written) when the run is no longer this owner's.
 */
export function requeueOwnedRun(db: Db, id: number, owner: string, runAfter: number, error: string, durationMs: number): boolean {
  return (
    statement(db,
      `UPDATE runs SET status = 'queued', run_after = ?, error = ?, duration_ms = ?, locked_at = NULL, owner = NULL, lease_expires_at = NULL
       WHERE id = ? AND status = 'running' AND owner = ?`,
    ).run(runAfter, error, durationMs, id, owner).changes === 1
  );
}

/**
 * Puts the `running` runs in `ids` that `owner` still holds back to `queued` (graceful shutdown: runs that did not
 * finish within the grace period). Their attempt is not counted against them. Returns how many were released.
 */
export function releaseOwnedRuns(db: Db, owner: string, ids: readonly number[]): number {
  if (ids.length === 0) return 0;
  return statement(db,
    `UPDATE runs SET status = 'queued', attempts = max(attempts - 1, 0), locked_at = NULL, owner = NULL, lease_expires_at = NULL
     WHERE status = 'running' AND owner = ? AND id IN (SELECT value FROM json_each(?))`,
  ).run(owner, JSON.stringify(ids)).changes;
}

/**
 * The ticket snapshot stored with run `id` when it was queued (parsed JSON of a `Ticket`), or null when the run has
 * none (queued before migration `run_ticket_snapshot`) or does not exist.
 */
export function findRunTicketSnapshot(db: Db, id: number): Ticket | null {
  const row = statement(db, 'SELECT ticket_snapshot AS ticketSnapshot FROM runs WHERE id = ?').get(id) as { ticketSnapshot: string | null } | undefined;
  return row?.ticketSnapshot ? (JSON.parse(row.ticketSnapshot) as Ticket) : null;
}

/** One run by id. */
export function findRun(db: Db, id: number): RunRow | undefined {
  const row = statement(db, `${SELECT_RUN} WHERE id = ?`).get(id) as RunRow | undefined;
  return row && toRun(row);
}

export interface ListRunsOptions {
  /** Only runs created at or after this time, ms. */
  since?: number;
  status?: RunStatus;
  handler?: string;
  ticketKey?: string;
  /** Only runs on tickets of these trackers (`jira`, `github`, `linear`); absent or empty = every tracker. */
  trackers?: readonly string[] | null;
  /** Newest first; default 100. */
  limit?: number;
}

/**
 * SQL for the tracker of a run (of table alias `alias`, or unqualified): its ticket snapshot's `tracker`, else `jira`
 * (Jira snapshots carry none, and runs queued before snapshots existed date from when Jira was the only tracker). A
 * snapshot that is not JSON reads as Jira rather than failing the query.
 */
export const runTrackerSql = (alias?: string) => {
  const column = alias ? `${alias}.ticket_snapshot` : 'ticket_snapshot';
  return `COALESCE(CASE WHEN json_valid(${column}) THEN json_extract(${column}, '$.tracker') END, 'jira')`;
};
const RUN_TRACKER = runTrackerSql();

/** A listed run with the tracker of its ticket (see {@link listRuns}). */
export type ListedRun = RunRow & { tracker: string };

/** Runs, newest first, filtered, each with its ticket's tracker. */
export function listRuns(db: Db, options: ListRunsOptions = {}): ListedRun[] {
  const where: string[] = [];
  const params: unknown[] = [];
  if (options.since !== undefined) where.push('created_at >= ?') && params.push(options.since);
  if (options.status) where.push('status = ?') && params.push(options.status);
  if (options.handler) where.push('handler = ?') && params.push(options.handler);
  if (options.ticketKey) where.push('ticket_key = ?') && params.push(options.ticketKey);
  if (options.trackers?.length) where.push(`${RUN_TRACKER} IN (SELECT value FROM json_each(?))`) && params.push(JSON.stringify(options.trackers));
  const select = SELECT_RUN.replace(/ FROM runs$/, `, ${RUN_TRACKER} AS tracker FROM runs`);
  const sql = `${select} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
  return (statement(db, sql).all(...params, options.limit ?? 100) as ListedRun[]).map((row) => ({ ...toRun(row), tracker: row.tracker }));
}

/**
 * Counts of runs by status, and the number due now (queue lag). Runs of paused handlers are not counted as due:
 * they wait on purpose, and must not make `/readyz` fail.
 */
export function countRuns(db: Db, now = Date.now()): { byStatus: Record<string, number>; due: number } {
  const rows = statement(db, 'SELECT status, count(*) AS n FROM runs GROUP BY status').all() as Array<{ status: string; n: number }>;
  const due = (
    statement(db,
        `SELECT count(*) AS n FROM runs WHERE status = 'queued' AND run_after <= ?
           AND handler NOT IN (SELECT handler FROM handler_states WHERE paused_at IS NOT NULL)`,
      )
      .get(now) as { n: number }
  ).n;
  return { byStatus: Object.fromEntries(rows.map((r) => [r.status, r.n])), due };
}

/** Run statuses an operator may re-queue with `deflect runs retry`. */
export const RETRYABLE_STATUSES = ['failed', 'dead'] as const;

/**
 * Re-queues a `failed` or `dead` run (`deflect runs retry`): status `queued`, due now, `attempts` back to 0,
 * `manual_retries + 1`. The run keeps its idempotency key, so actions it already applied are skipped when it runs again.
 * The last error stays on the row until the next outcome replaces it. The audit chain records the reopen.
 * @returns true when the run was re-queued, false when it does not exist or is not failed/dead.
 */
export function retryRun(db: Db, id: number, now = Date.now()): boolean {
  return writeAudited(db, () => {
    const retried = statement(db,
        `UPDATE runs SET status = 'queued', attempts = 0, run_after = ?, locked_at = NULL, finished_at = NULL, owner = NULL, lease_expires_at = NULL,
           manual_retries = manual_retries + 1 WHERE id = ? AND status IN ('failed', 'dead')`,
      )
      .run(now, id).changes === 1;
    return { result: retried, rows: retried ? [['runs', id]] : [] };
  }, now);
}

/** `failed` and `dead` runs created at or after `since` (ms), oldest first: what `deflect runs retry --failed` re-queues. */
export function findRetryableRuns(db: Db, since: number | null): RunRow[] {
  return (
    statement(db, `${SELECT_RUN} WHERE status IN ('failed', 'dead') AND created_at >= ? ORDER BY id`)
      .all(since ?? 0) as RunRow[]
  ).map(toRun);
}

/**
 * The earliest `run_after` (ms) later than `after` among queued runs of handlers that are not paused, or null when
 * there is none (the worker sleeps until then).
 */
export function nextRunDueAt(db: Db, after: number): number | null {
  return (
    statement(db,
        `SELECT min(run_after) AS at FROM runs WHERE status = 'queued' AND run_after > ?
           AND handler NOT IN (SELECT handler FROM handler_states WHERE paused_at IS NOT NULL)`,
      )
      .get(after) as { at: number | null }
  ).at;
}
