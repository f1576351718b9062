/**
 * Actions: the audit trail of external side effects (table `actions`). An action row is written before the
 * call and finished after it, keyed by an idempotency key, so a retried run skips what was already applied.
 * Every write here also brings the audit chain up to date in the same transaction (`planned`, `applied`, `failed`
 * seal the row; a sealed row started again is reopened): `db/audit-chain.ts`.
 */
import type { Db } from './client.js';
import { statement } from './statements.js';
import type { ActionRow } from './schema.js';
import { writeAudited } from './audit-chain.js';

/** `planned` (dry run: nothing sent) | `started` (call under way, or crashed during it) | `applied` | `failed`. */
export type ActionStatus = 'planned' | 'started' | 'applied' | 'failed';

const SELECT_ACTION = `SELECT id, run_id AS runId, seq, kind, ticket_key AS ticketKey, idempotency_key AS idempotencyKey, request,
  status, response, error, created_at AS createdAt, finished_at AS finishedAt FROM actions`;

/** The action with this idempotency key, if any. */
export function findAction(db: Db, idempotencyKey: string): ActionRow | undefined {
  return statement(db, `${SELECT_ACTION} WHERE idempotency_key = ?`).get(idempotencyKey) as ActionRow | undefined;
}

/**
 * Records that an action is about to be taken (`started`) or was planned in a dry run (`planned`).
 * If a row with the key exists (a retry), it is reset to the new status and its error cleared. Returns the row id.
 */
export function beginAction(
  db: Db,
  action: { runId: number; seq: number; kind: string; ticketKey: string; idempotencyKey: string; request: unknown; status: 'planned' | 'started' },
  now = Date.now(),
): number {
  return writeAudited(db, () => {
    const row = statement(db,
        `INSERT INTO actions (run_id, seq, kind, ticket_key, idempotency_key, request, status, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(idempotency_key) DO UPDATE SET status = excluded.status, error = NULL, request = excluded.request
         RETURNING id`,
      )
      .get(action.runId, action.seq, action.kind, action.ticketKey, action.idempotencyKey, JSON.stringify(action.request), action.status, now) as {
      id: number;
    };
    return { result: row.id, rows: [['actions', row.id]] };
  }, now);
}

/** Records the result of an action: `applied` with an optional response, or `failed` with the error. */
export function finishAction(db: Db, id: number, result: { status: 'applied' | 'failed'; response?: unknown; error?: string }, now = Date.now()): void {
  writeAudited(db, () => {
    statement(db, 'UPDATE actions SET status = ?, response = ?, error = ?, finished_at = ? WHERE id = ?')
      .run(result.status, result.response === undefined ? null : JSON.stringify(result.response), result.error ?? null, now, id);
    return { result: undefined, rows: [['actions', id]] };
  }, now);
}

/** Actions of the given runs, in run then sequence order. */
export function listActionsForRuns(db: Db, runIds: readonly number[]): ActionRow[] {
  if (runIds.length === 0) return [];
  const placeholders = runIds.map(() => '?').join(',');
  return statement(db, `${SELECT_ACTION} WHERE run_id IN (${placeholders}) ORDER BY run_id, seq`).all(...runIds) as ActionRow[];
}

/**
 * Actions on one ticket created at or after `since` (ms) that went out or may have (`started`, `applied`), not counting
 * the row keyed `exceptKey` (the action about to be retried already has its row). Backs the per-ticket loop guard
 * (`DEFLECT_MAX_ACTIONS_PER_HOUR`).
 */
export function countRecentActions(db: Db, ticketKey: string, since: number, exceptKey?: string): number {
  const row = statement(db,
      `SELECT count(*) AS n FROM actions WHERE ticket_key = ? AND created_at >= ? AND status IN ('started', 'applied')
         AND idempotency_key != ?`,
    )
    .get(ticketKey, since, exceptKey ?? '') as { n: number };
  return row.n;
}

/**
 * Records an action whose earlier attempt had an unknown outcome (`started` after a crash, or `failed` on a timeout)
 * as `applied` because Jira shows it was (the comment with its idempotency key exists, the issue is in the target
 * status). Writes the row if the earlier attempt left none. Returns the row id.
 */
export function recordVerifiedAction(
  db: Db,
  action: { runId: number; seq: number; kind: string; ticketKey: string; idempotencyKey: string; request: unknown; response: unknown },
  now = Date.now(),
): number {
  return writeAudited(db, () => {
    const row = statement(db,
        `INSERT INTO actions (run_id, seq, kind, ticket_key, idempotency_key, request, status, response, created_at, finished_at)
         VALUES (?, ?, ?, ?, ?, ?, 'applied', ?, ?, ?)
         ON CONFLICT(idempotency_key) DO UPDATE SET status = 'applied', response = excluded.response, error = NULL, finished_at = excluded.finished_at
         RETURNING id`,
      )
      .get(action.runId, action.seq, action.kind, action.ticketKey, action.idempotencyKey, JSON.stringify(action.request), JSON.stringify(action.response), now, now) as {
      id: number;
    };
    return { result: row.id, rows: [['actions', row.id]] };
  }, now);
}
