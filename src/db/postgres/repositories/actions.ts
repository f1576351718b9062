/**
 * PostgreSQL twin of `../../actions.ts` (the action ledger: external side effects keyed by idempotency key, so a
 * retried run skips what was already applied). Function contracts are documented in the SQLite module.
 *
 * Where the SQL differs, and why:
 * - Effectively-once by key needs no extra lock: `INSERT … ON CONFLICT (idempotency_key) DO UPDATE` is atomic on
 *   PostgreSQL too, so two replicas beginning the same action end with one row (the second waits for the first's
 *   commit, then updates it) and both get its id. https://www.postgresql.org/docs/15/sql-insert.html#SQL-ON-CONFLICT
 * - Every write goes through `writeAudited` of `./audit-chain.ts` (the chain's advisory lock, then the write and its
 *   seal in one transaction), where SQLite's `writeAudited` relies on its single writer.
 * - `run_id IN (?, ?, …)` → `run_id = ANY($1::bigint[])`; `!=` → `<>`; aliases quoted (PostgreSQL folds unquoted
 *   identifiers to lower case).
 */
import type { ActionRow } from '../../schema.js';
import type { Repositories } from '../../store.js';
import type { PgSession } from '../pg-session.js';
import { writeAudited } from './audit-chain.js';

const SELECT_ACTION = `SELECT id, run_id AS "runId", seq, kind, ticket_key AS "ticketKey", idempotency_key AS "idempotencyKey", request,
  status, response, error, created_at AS "createdAt", finished_at AS "finishedAt" FROM actions`;

export const actions = (pg: PgSession): Repositories['actions'] => ({
  findAction: async (idempotencyKey) => (await pg.query<ActionRow>(`${SELECT_ACTION} WHERE idempotency_key = $1`, [idempotencyKey]))[0],

  beginAction: (action, now = Date.now()) =>
    writeAudited(pg, async () => {
      const [row] = await pg.query<{ id: number }>(
        `INSERT INTO actions (run_id, seq, kind, ticket_key, idempotency_key, request, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (idempotency_key) DO UPDATE SET status = excluded.status, error = NULL, request = excluded.request
         RETURNING id`,
        [action.runId, action.seq, action.kind, action.ticketKey, action.idempotencyKey, JSON.stringify(action.request), action.status, now],
      );
      return { result: row.id, rows: [['actions', row.id] as const] };
    }, now),

  finishAction: (id, result, now = Date.now()) =>
    writeAudited(pg, async () => {
      await pg.execute('UPDATE actions SET status = $1, response = $2, error = $3, finished_at = $4 WHERE id = $5', [
        result.status,
        result.response === undefined ? null : JSON.stringify(result.response),
        result.error ?? null,
        now,
        id,
      ]);
      return { result: undefined, rows: [['actions', id] as const] };
    }, now),

  listActionsForRuns: async (runIds) => {
    if (runIds.length === 0) return [];
    return pg.query<ActionRow>(`${SELECT_ACTION} WHERE run_id = ANY($1::bigint[]) ORDER BY run_id, seq`, [[...runIds]]);
  },

  countRecentActions: async (ticketKey, since, exceptKey) =>
    (
      await pg.query<{ n: number }>(
        `SELECT count(*) AS n FROM actions WHERE ticket_key = $1 AND created_at >= $2 AND status IN ('started', 'applied')
           AND idempotency_key <> $3`,
        [ticketKey, since, exceptKey ?? ''],
      )
    )[0].n,

  recordVerifiedAction: (action, now = Date.now()) =>
    writeAudited(pg, async () => {
      const [row] = await pg.query<{ id: number }>(
        `INSERT INTO actions (run_id, seq, kind, ticket_key, idempotency_key, request, status, response, created_at, finished_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'applied', $7, $8, $8)
         ON CONFLICT (idempotency_key) DO UPDATE SET status = 'applied', response = excluded.response, error = NULL, finished_at = excluded.finished_at
         RETURNING id`,
        [action.runId, action.seq, action.kind, action.ticketKey, action.idempotencyKey, JSON.stringify(action.request), JSON.stringify(action.response), now],
      );
      return { result: row.id, rows: [['actions', row.id] as const] };
    }, now),
});
