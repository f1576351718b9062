/**
 * PostgreSQL twin of `../../impact-queries.ts` (the impact report's per-ticket reads). Where the SQL differs:
 * `json_each(@refs)` with `json_extract(j.value, '$.key')` → `jsonb_array_elements($1::jsonb) WITH ORDINALITY` with
 * `j.value ->> 'key'`; the automated-run and resolution conditions are those of `report-queries.ts`' twin (booleans,
 * the snapshot's tracker through `::jsonb`); the camelCase aliases are quoted (PostgreSQL folds unquoted names).
 * Order: SQLite walks the refs in order and each ref's tickets by its key index (rowid order); here the rows come in
 * ref order, then by ticket id (`COLLATE "C"`) — the same refs, the same rows; callers key them by tracker and key.
 * Read-only module: nothing to lock.
 */
import type { ImpactTicketRow } from '../../impact-queries.js';
import type { Repositories } from '../../store.js';
import type { PgSession } from '../pg-session.js';
import { pgAutomatedRunSql, pgDeflectResolutionSql } from './report-queries.js';

/** Refs per statement, as on SQLite. */
const CHUNK = 500;

const SQL = `SELECT t.tracker, t.key, t.project AS team, COALESCE(t.reporter_id, t.reporter) AS reporter, t.created, t.resolved,
    (SELECT min(COALESCE(r.finished_at, r.created_at)) FROM runs r WHERE ${pgAutomatedRunSql('r', 't')}) AS "automatedAt",
    (SELECT r.handler FROM runs r WHERE ${pgAutomatedRunSql('r', 't')} ORDER BY COALESCE(r.finished_at, r.created_at), r.id LIMIT 1) AS "automatedBy",
    (SELECT min(a.finished_at) FROM runs r JOIN actions a ON ${pgDeflectResolutionSql('a', 'r')}
      WHERE ${pgAutomatedRunSql('r', 't')} AND a.finished_at >= COALESCE(t.created, 0)) AS "deflectResolvedAt"
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS j(value, n)
  JOIN tickets t ON t.key = (j.value ->> 'key') AND t.tracker = (j.value ->> 'tracker')
  ORDER BY j.n, t.id COLLATE "C"`;

/** Twin of the SQLite `impact-queries.ts` (see the module comment). */
export const impactQueries = (pg: PgSession): Repositories['impactQueries'] => ({
  impactTicketRows: async (refs) => {
    const rows: ImpactTicketRow[] = [];
    for (let i = 0; i < refs.length; i += CHUNK) {
      const chunk = refs.slice(i, i + CHUNK).map((r) => ({ tracker: r.tracker, key: r.key }));
      rows.push(...(await pg.query<ImpactTicketRow>(SQL, [JSON.stringify(chunk)])));
    }
    return rows;
  },
});
