/**
 * The audit view's run search (table `runs`): dynamic filters built with drizzle's query builder, newest first
 * (`created_at DESC, id DESC`), paged by a keyset cursor so page 1,000 of half a million runs costs what page 1 does
 * (no OFFSET: each page seeks the `(created_at, id)` index to the cursor and reads `limit + 1` rows).
 *
 * Backs `GET /api/runs`, the `/audit` page and `deflect audit` (table and streamed exports). Indexes it relies on:
 * `runs_created_id_idx (created_at, id)`, `runs_handler_created_idx (handler, created_at, id)`,
 * `runs_status_created_idx (status, created_at, id)`, `runs_ticket_key_idx`, and
 * `run_rule_settings_rule_idx (rule_name, run_id)` (migration `audit_indexes`).
 */
import { and, desc, asc, eq, getTableColumns, gte, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from './client.js';
import { statement } from './statements.js';
import { runTrackerSql, type ListedRun, type RunStatus } from './runs.js';
import { runs } from './schema.js';

/** Longest free-text search accepted, characters (a LIKE pattern is scanned row by row: keep it bounded). */
export const MAX_SEARCH_LENGTH = 200;
/** Largest page, runs. */
export const MAX_PAGE_LIMIT = 1000;

/** The filters of the audit view. Every field is optional; absent = no filter. */
export interface RunFilter {
  /** Only runs created at or after this time, ms (inclusive). */
  from?: number | null;
  /** Only runs created before this time, ms (exclusive). */
  to?: number | null;
  /** Run statuses (outcomes) to keep, e.g. `['failed', 'dead']`; empty = all. */
  statuses?: readonly RunStatus[];
  handler?: string;
  /** The rule that routed the run (`run_rule_settings.rule_name`, or `(rule <name> #n)` in the reason of older runs). */
  rule?: string;
  /** The ticket's display key, exact: `PLAT-12`, `acme/api#12`, `ENG-12`. */
  ticketKey?: string;
  /** The ticket's reporter as the run's snapshot names them (display name or account id / login), case-insensitive. */
  reporter?: string;
  /** Trackers of the run's ticket (`jira`, `github`, `linear`); empty = every tracker. */
  trackers?: readonly string[] | null;
  /** Free text, matched as a substring (case-insensitive for ASCII) of the run's summary, its error and the ticket's summary. */
  text?: string;
}

/** Where a page starts: after (older than) or before (newer than) a run's `(createdAt, id)`. */
export interface RunCursor {
  direction: 'older' | 'newer';
  createdAt: number;
  id: number;
}

/** A run as the search lists it: with its ticket's tracker and site URL (from the run's ticket snapshot; null when unknown). */
export type SearchedRun = ListedRun & { siteUrl: string | null };

/** One page of runs, newest first, with the cursors of its neighbours (null when there is none). */
export interface RunPage {
  runs: SearchedRun[];
  /** Cursor of the next, older page. */
  older: RunCursor | null;
  /** Cursor of the previous, newer page (null on the first page). */
  newer: RunCursor | null;
}

/** `a%b_c\` → `a\%b\_c\\`: a LIKE pattern that matches the text literally (used with `ESCAPE '\'`). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

const RUN_TRACKER = sql.raw(runTrackerSql());
const snapshotField = (field: 'reporter' | 'reporterId' | 'summary' | 'siteUrl') =>
  sql`CASE WHEN json_valid(${runs.ticketSnapshot}) THEN json_extract(${runs.ticketSnapshot}, ${`$.${field}`}) END`;

/** The WHERE conditions of `filter` (an empty list = every run). */
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
        sql`${runs.reason} LIKE ${`%(rule ${escapeLike(filter.rule)} #%`} ESCAPE '\\'`,
      )!,
    );
  }
  if (filter.reporter) {
    const who = filter.reporter.toLowerCase();
    where.push(or(sql`lower(${snapshotField('reporter')}) = ${who}`, sql`lower(${snapshotField('reporterId')}) = ${who}`)!);
  }
  if (filter.trackers?.length) where.push(sql`${RUN_TRACKER} IN (SELECT value FROM json_each(${JSON.stringify(filter.trackers)}))`);
  if (filter.text) {
    const pattern = `%${escapeLike(filter.text.slice(0, MAX_SEARCH_LENGTH))}%`;
    where.push(
      or(
        sql`${runs.summary} LIKE ${pattern} ESCAPE '\\'`,
        sql`${runs.error} LIKE ${pattern} ESCAPE '\\'`,
        sql`${snapshotField('summary')} LIKE ${pattern} ESCAPE '\\'`,
      )!,
    );
  }
  return where;
}

const { ticketSnapshot: _snapshot, ...RUN_COLUMNS } = getTableColumns(runs);

/** The rows of one keyset step: `limit` rows after `cursor` in its direction (newer steps come back oldest first); the Store's callers page with it (`reports/audit.ts`). */
export function selectRunStep(db: Db, filter: RunFilter, cursor: RunCursor | null, limit: number): SearchedRun[] {
  const where = conditions(filter);
  const newer = cursor?.direction === 'newer';
  if (cursor) {
    where.push(newer ? sql`(${runs.createdAt}, ${runs.id}) > (${cursor.createdAt}, ${cursor.id})` : sql`(${runs.createdAt}, ${runs.id}) < (${cursor.createdAt}, ${cursor.id})`);
  }
  const order = newer ? [asc(runs.createdAt), asc(runs.id)] : [desc(runs.createdAt), desc(runs.id)];
  return db
    .select({ ...RUN_COLUMNS, tracker: sql<string>`${RUN_TRACKER}`.as('tracker'), siteUrl: sql<string | null>`${snapshotField('siteUrl')}`.as('site_url') })
    .from(runs)
    .where(where.length ? and(...where) : undefined)
    .orderBy(...order)
    .limit(limit)
    .all() as SearchedRun[];
}

/**
 * One page of runs matching `filter`, newest first.
 * @param cursor where the page starts (from a previous page's `older` / `newer`); null = the newest runs.
 * @param limit runs per page, 1..{@link MAX_PAGE_LIMIT} (clamped).
 */
export function findRunPage(db: Db, filter: RunFilter, cursor: RunCursor | null, limit: number): RunPage {
  const size = Math.max(1, Math.min(MAX_PAGE_LIMIT, Math.floor(limit)));
  const rows = selectRunStep(db, filter, cursor, size + 1);
  const more = rows.length > size;
  const page = rows.slice(0, size);
  if (cursor?.direction === 'newer') page.reverse();
  const key = (run: SearchedRun | undefined, direction: RunCursor['direction']): RunCursor | null =>
    run ? { direction, createdAt: run.createdAt, id: run.id } : null;
  const first = page[0];
  const last = page[page.length - 1];
  if (cursor?.direction === 'newer') {
    // Came from an older page: there is always one below; above only when this step found more.
    return { runs: page, older: key(last, 'older') ?? { ...cursor, direction: 'older' }, newer: more ? key(first, 'newer') : null };
  }
  return { runs: page, older: more ? key(last, 'older') : null, newer: cursor ? key(first, 'newer') ?? { ...cursor, direction: 'newer' } : null };
}

/** The run's ticket snapshot (JSON text) and rule settings row, for the trace. */
export function findRunTraceExtras(db: Db, runId: number): { ticketSnapshot: string | null; ruleName: string | null; ruleOptions: string | null } | undefined {
  return statement(
    db,
    `SELECT r.ticket_snapshot AS ticketSnapshot, s.rule_name AS ruleName, s.options AS ruleOptions
       FROM runs r LEFT JOIN run_rule_settings s ON s.run_id = r.id WHERE r.id = ?`,
  ).get(runId) as { ticketSnapshot: string | null; ruleName: string | null; ruleOptions: string | null } | undefined;
}
