/**
 * PostgreSQL twin of `../../report-scan.ts`: the report's one pass over a scope's tickets, into the same columns
 * (`ScopeTickets`). Each ticket comes back as the same one text value as on SQLite (fields joined by U+001F, the
 * labels JSON last) and is decoded by the same function, so both backends hand the report identical columns for the same
 * rows (`decodeScopeRows`, shared) — except their order, which neither side fixes ("in no particular order": SQLite's
 * follows its index, here the plan's). Where the SQL differs: `ifnull(x, '')` on an integer → `coalesce(x::text, '')`; `char(31)` → `chr(31)`;
 * the automated flag is `CASE WHEN EXISTS … THEN '1' ELSE '0' END` (SQLite concatenates EXISTS' 0/1), with the run
 * conditions of `report-queries.ts`' twin; `json_each(?)` → `= ANY($1::text[])`. `requestTypeNames` orders by id
 * (`COLLATE "C"`), which is the order SQLite's `IN (SELECT …)` visits them (its ephemeral index of the list).
 *
 * node-postgres reads the whole result before answering (no cursor here): one string per ticket, about 10 MB for the
 * ~120,000 tickets of a 90-day window on a 1M-ticket database, released once decoded.
 * Read-only module: nothing to lock.
 */
import { decodeScopeRows } from '../../report-scan.js';
import type { Repositories } from '../../store.js';
import type { PgSession } from '../pg-session.js';
import { Params, PG_AUTOMATED_SQL, pgInWindow } from './report-queries.js';

/** Twin of the SQLite `report-scan.ts` (see the module comment). */
export const reportScan = (pg: PgSession): Repositories['reportScan'] => ({
  scanScopeTickets: async (scope) => {
    const p = new Params();
    const sql = `SELECT coalesce(t.created::text, '') || chr(31) || coalesce(t.resolved::text, '') || chr(31)
                        || CASE WHEN ${PG_AUTOMATED_SQL} THEN '1' ELSE '0' END || t.tracker
                        || chr(31) || coalesce(g.type_id, '') || chr(31) || coalesce(g.variant_id, '') || chr(31) || t.labels AS row
                 FROM tickets t LEFT JOIN ticket_groups g ON g.ticket_id = t.id WHERE ${pgInWindow(scope, 't', p)}`;
    const rows = await pg.query<{ row: string }>(sql, p.values);
    return decodeScopeRows(rows.map((r) => r.row));
  },

  requestTypeNames: async (typeIds) => {
    if (typeIds.length === 0) return new Map();
    const rows = await pg.query<{ id: string; name: string }>('SELECT id, name FROM request_types WHERE id = ANY($1::text[]) ORDER BY id COLLATE "C"', [[...typeIds]]);
    return new Map(rows.map((r) => [r.id, r.name]));
  },
});
