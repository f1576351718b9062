/**
 * PostgreSQL twin of `../../handler-modes.ts` (the reference).
 *
 * Where the SQL differs, and why:
 * - The column `by` is quoted (`"by"`): BY is a reserved word in PostgreSQL (not in SQLite);
 *   https://www.postgresql.org/docs/15/sql-keywords-appendix.html. `at` is quoted too, for symmetry.
 * - `currentHandlerModes` orders by id: SQLite walks `id IN (SELECT max(id) …)` in ascending id, PostgreSQL promises
 *   no order without ORDER BY.
 * - Appends need no lock: ids come from the identity column, and "the latest change is in force" is max(id).
 */
import type { Repositories } from '../../store.js';
import type { HandlerModeChangeRow } from '../../verification-schema.js';
import type { PgSession } from '../pg-session.js';

const SELECT = 'SELECT id, handler, mode, "at", "by", reason FROM handler_mode_changes';

export const handlerModes = (pg: PgSession): Repositories['handlerModes'] => ({
  recordHandlerModeChange: async (change, now = Date.now()) =>
    (await pg.query<{ id: number }>('INSERT INTO handler_mode_changes (handler, mode, "at", "by", reason) VALUES ($1, $2, $3, $4, $5) RETURNING id', [
      change.handler,
      change.mode,
      now,
      change.by,
      change.reason.slice(0, 1000),
    ]))[0]!.id,

  currentHandlerModes: async () => {
    const rows = await pg.query<HandlerModeChangeRow>(`${SELECT} WHERE id IN (SELECT max(id) FROM handler_mode_changes GROUP BY handler) ORDER BY id`);
    return new Map(rows.map((r) => [r.handler, r]));
  },

  listHandlerModeChanges: (options = {}) =>
    options.handler
      ? pg.query<HandlerModeChangeRow>(`${SELECT} WHERE handler = $1 ORDER BY id DESC LIMIT $2`, [options.handler, options.limit ?? 100])
      : pg.query<HandlerModeChangeRow>(`${SELECT} ORDER BY id DESC LIMIT $1`, [options.limit ?? 100]),
});
