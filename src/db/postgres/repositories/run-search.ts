/**
 * PostgreSQL twin of `../../run-search.ts` (the audit view's run search: dynamic filters with drizzle's query builder,
 * newest first by `(created_at, id)`, keyset pages). Same filters, order, page and cursor logic; where the SQL
 * differs, and why:
 * - **Case-insensitive for ASCII only, as SQLite**: SQLite's `LIKE` folds only A–Z (https://www.sqlite.org/lang_expr.html#like)
 *   and its `lower()` too; PostgreSQL's `ILIKE` / `lower()` follow the database's locale (`Ä` = `ä` under ICU or a
 *   glibc language locale). So both sides of every comparison are folded with `translate(x, 'A…Z', 'a…z')` in SQL and
 *   the same A–Z fold in JavaScript, and compared with plain `LIKE … ESCAPE '\'` (the same escaping, `escapeLike`).
 *   That reads the text filter, the older runs' `(rule <name> #n)` reason and the reporter exactly as SQLite does.
 * - **Snapshot fields**: `CASE WHEN json_valid(s) THEN json_extract(s, '$.f') END` → `(s::jsonb ->> 'f')`; a
 *   snapshot that is not JSON fails the query here (PostgreSQL 15 has no non-throwing JSON test; see the note in
 *   `report-queries.ts`). The run's tracker is `pgRunTrackerSql` of that module.
 * - Tracker list: `IN (SELECT value FROM json_each(?))` → drizzle's `inArray` (a parameter list).
 * Ordering needs no collation: `created_at` and `id` are integers. Read-only module: nothing to lock.
 */
import { and, asc, desc, eq, getTableColumns, gte, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import { escapeLike, MAX_PAGE_LIMIT, MAX_SEARCH_LENGTH, type RunCursor, type RunFilter, type SearchedRun } from '../../run-search.js';
import type { Repositories } from '../../store.js';
import type { PgSession } from '../pg-session.js';
import { runs } from '../schema.js';
import { pgRunTrackerSql } from './report-queries.js';

const RUN_TRACKER = sql.raw(pgRunTrackerSql('runs'));
const snapshotField = (field: 'reporter' | 'reporterId' | 'summary' | 'siteUrl') => sql`(${runs.ticketSnapshot}::jsonb ->> ${sql.raw(`'${field}'`)})`;
/** SQLite's case folding (A–Z only), in SQL. */
const foldAscii = (value: SQL) => sql`translate(${value}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')`;
/** SQLite's case folding (A–Z only), in JavaScript. */
const foldAsciiText = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());
/** `value LIKE pattern ESCAPE '\'` as SQLite compares it (A–Z folded on both sides). */
const likeAscii = (value: SQL, pattern: string) => sql`${foldAscii(value)} LIKE ${foldAsciiText(pattern)} ESCAPE '\\'`;

function conditions(filter: RunFilter): SQL[] {
  const where: SQL[] = [];
  if (filter.from != null) where.push(gte(runs.createdAt, filter.from));
  if (filter.to != null) where.push(lt(runs.createdAt, filter.to));
  if (filter.statuses?.length) where.push(filter.statuses.length === 1 ? eq(runs.status, filter.statuses[0]) : inArray(runs.status, [...filter.statuses]));
  if (filter.handler) where.push(eq(runs.handler, filter.handler));
  if (filter.ticketKey) where.push(eq(runs.ticketKey, filter.ticketKey));
  if (filter.rule) {
    where.push(
      or(
        sql`${runs.id} IN (SELECT run_id FROM run_rule_settings WHERE rule_name = ${filter.rule})`,
        likeAscii(sql`${runs.reason}`, `%(rule ${escapeLike(filter.rule)} #%`),
      )!,
    );
  }
  if (filter.reporter) {
    const who = filter.reporter.toLowerCase();
    where.push(or(sql`${foldAscii(snapshotField('reporter'))} = ${who}`, sql`${foldAscii(snapshotField('reporterId'))} = ${who}`)!);
  }
  if (filter.trackers?.length) where.push(inArray(RUN_TRACKER, [...filter.trackers]));
  if (filter.text) {
    const pattern = `%${escapeLike(filter.text.slice(0, MAX_SEARCH_LENGTH))}%`;
    where.push(or(likeAscii(sql`${runs.summary}`, pattern), likeAscii(sql`${runs.error}`, pattern), likeAscii(snapshotField('summary'), pattern))!);
  }
  return where;
}

const { ticketSnapshot: _snapshot, ...RUN_COLUMNS } = getTableColumns(runs);

/** Twin of the SQLite `run-search.ts` (see the module comment). */
export const runSearch = (pg: PgSession): Repositories['runSearch'] => {
  const selectRunStep = async (filter: RunFilter, cursor: RunCursor | null, limit: number): Promise<SearchedRun[]> => {
    const where = conditions(filter);
    const newer = cursor?.direction === 'newer';
    if (cursor) {
      where.push(newer ? sql`(${runs.createdAt}, ${runs.id}) > (${cursor.createdAt}, ${cursor.id})` : sql`(${runs.createdAt}, ${runs.id}) < (${cursor.createdAt}, ${cursor.id})`);
    }
    const order = newer ? [asc(runs.createdAt), asc(runs.id)] : [desc(runs.createdAt), desc(runs.id)];
    return (await pg.db
      .select({ ...RUN_COLUMNS, tracker: sql<string>`${RUN_TRACKER}`.as('tracker'), siteUrl: sql<string | null>`${snapshotField('siteUrl')}`.as('site_url') })
      .from(runs)
      .where(where.length ? and(...where) : undefined)
      .orderBy(...order)
      .limit(limit)) as SearchedRun[];
  };

  return {
    selectRunStep,

    findRunPage: async (filter, cursor, limit) => {
      // The page logic of the SQLite `findRunPage`, over this module's steps.
      const size = Math.max(1, Math.min(MAX_PAGE_LIMIT, Math.floor(limit)));
      const rows = await selectRunStep(filter, cursor, size + 1);
      const more = rows.length > size;
      const page = rows.slice(0, size);
      if (cursor?.direction === 'newer') page.reverse();
      const key = (run: SearchedRun | undefined, direction: RunCursor['direction']): RunCursor | null => (run ? { direction, createdAt: run.createdAt, id: run.id } : null);
      const first = page[0];
      const last = page[page.length - 1];
      if (cursor?.direction === 'newer') {
        return { runs: page, older: key(last, 'older') ?? { ...cursor, direction: 'older' }, newer: more ? key(first, 'newer') : null };
      }
      return { runs: page, older: more ? key(last, 'older') : null, newer: cursor ? (key(first, 'newer') ?? { ...cursor, direction: 'newer' }) : null };
    },

    findRunTraceExtras: async (runId) => {
      const [row] = await pg.query<{ ticketSnapshot: string | null; ruleName: string | null; ruleOptions: string | null }>(
        `SELECT r.ticket_snapshot AS "ticketSnapshot", s.rule_name AS "ruleName", s.options AS "ruleOptions"
           FROM runs r LEFT JOIN run_rule_settings s ON s.run_id = r.id WHERE r.id = $1`,
        [runId],
      );
      return row;
    },
  };
};
