/**
 * The top-tickets and impact reports' reads besides the one pass over a scope's tickets (report-scan.ts): the shared
 * scope filter and automated-run condition, label and type aggregates (the impact report), a source's members in the
 * previous window ({@link countMembers}) and its member keys a page at a time, newest first ({@link memberKeys}),
 * and the repeat ratio by resolution. Times are epoch ms;
 * a scope's window is [from, to) on the ticket's `created` (the copies kept in `ticket_labels` / `ticket_groups`
 * let their (label | type, created) indexes serve it). Labels are lower-case, as `ticket_labels` stores them.
 * Nothing here uses a label as an object key: results are arrays and Maps.
 */
import type { Db } from './client.js';
import { runTrackerSql } from './runs.js';
import { statement } from './statements.js';

/** Which tickets: created in [from, to) (from null = open), optionally of one project and of some trackers. */
export interface ReportScope {
  from: number | null;
  to: number;
  project: string | null;
  /** Only tickets of these trackers (`tickets.tracker`: `jira` | `github` | `linear`); null = every tracker. */
  trackers?: readonly string[] | null;
}

/** Which members: a label group, request types, or both (their union: one row for a label and the types it covers). */
export interface MemberSource {
  label: string | null;
  typeIds: readonly string[];
}

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** SQL for the ISO week index of `created` (Monday-based; 1970-01-01 was a Thursday, hence the 3-day shift). */
export const WEEK_SQL = (column: string) => `((${column} + ${3 * DAY_MS}) / ${WEEK_MS})`;
/** The same ISO week index as {@link WEEK_SQL}, of a time in ms. */
export const weekIndex = (ms: number) => Math.floor((ms + 3 * DAY_MS) / WEEK_MS);
/** Start (ms) of the week with index `index` of {@link WEEK_SQL}. */
export const weekIndexStart = (index: number) => index * WEEK_MS - 3 * DAY_MS;
/** SQL for the first day of the month of `created`, `YYYY-MM-01` (UTC). */
const MONTH_SQL = (column: string) => `strftime('%Y-%m-01', ${column} / 1000, 'unixepoch')`;
/** SQL for the start day of the week of `created`, `YYYY-MM-DD` (UTC). */
const WEEK_DAY_SQL = (column: string) => `strftime('%Y-%m-%d', (${WEEK_SQL(column)} * ${WEEK_MS} - ${3 * DAY_MS}) / 1000, 'unixepoch')`;

/**
 * The one definition of an *automated run* of ticket `t` (alias `ticket`), as a condition on run alias `run`: a run of
 * the ticket (its key and its tracker: Jira's `ENG-12` and Linear's `ENG-12` are different tickets) that `succeeded`
 * and carried the request out (`applied`; a run that only validated is not automation). A dry run ends `planned` and a
 * shadow run `shadow`, so neither is ever `succeeded`; `dry_run = 0 AND shadow = 0` says so explicitly. The report and
 * the impact report (`impact-queries.ts`) both read it.
 *
 * It is always a correlated lookup by ticket key: the unary `+` keeps `runs_status_created_idx` (status, created_at),
 * which the audit list needs, from being chosen for it. Without `ANALYZE` statistics SQLite preferred that index,
 * scanning every succeeded run once per ticket: the 1M-ticket report went from about 1.4 s to over 5 minutes.
 */
export const automatedRunSql = (run: string, ticket: string) =>
  `${run}.ticket_key = ${ticket}.key AND +${run}.status = 'succeeded' AND ${run}.applied = 1 AND ${run}.dry_run = 0 AND ${run}.shadow = 0 AND ${runTrackerSql(run)} = ${ticket}.tracker`;

/**
 * The one definition of *resolved by deflect*, as a condition on action alias `action` of an automated run `run`
 * (see {@link automatedRunSql}): the run applied a `transition` (the handler's `ctx.tracker.resolve()`).
 */
export const deflectResolutionSql = (action: string, run: string) => `${action}.run_id = ${run}.id AND ${action}.kind = 'transition' AND ${action}.status = 'applied'`;

/** 1 when the ticket `t` has an automated run (an index lookup on runs.ticket_key; see {@link automatedRunSql}). */
export const AUTOMATED_SQL = `EXISTS (SELECT 1 FROM runs r WHERE ${automatedRunSql('r', 't')})`;

/** Whether the scope filters on columns only `tickets` has (so index-only reads must join it). */
const readsTickets = (scope: ReportScope) => scope.project !== null || (scope.trackers ?? null) !== null;

/**
 * The window filter on the `created` column of `alias`; the project and tracker filters always read tickets `t`.
 * Unless `alias` is `t`, the unary `+` keeps SQLite from driving the query from `tickets_project_created_idx` on the
 * project alone (every ticket of the project, all time), instead of from `alias`'s own created index.
 */
export function inWindow(scope: ReportScope, alias: string): string {
  const ticket = alias === 't' ? 't' : '+t';
  return (
    [
      scope.from === null ? null : `${alias}.created >= @from`,
      scope.from === null && scope.project === null ? null : `${alias}.created < @to`,
      scope.project ? `${ticket}.project = @project` : null,
      scope.trackers ? 't.tracker IN (SELECT value FROM json_each(@trackers))' : null,
    ]
      .filter(Boolean)
      .join(' AND ') || '1 = 1'
  );
}
/** The named parameters {@link inWindow} uses. */
export const params = (scope: ReportScope) => ({ from: scope.from, to: scope.to, project: scope.project, trackers: scope.trackers ? JSON.stringify(scope.trackers) : null });

/** `created` of the newest ticket of the project and trackers of `scope` (any time: the window is ignored), or null when there is none. */
export function newestCreated(db: Db, scope: Pick<ReportScope, 'project' | 'trackers'>): number | null {
  const where = [scope.project ? 'project = @project' : null, scope.trackers ? 'tracker IN (SELECT value FROM json_each(@trackers))' : null].filter(Boolean);
  const sql = `SELECT max(created) AS m FROM tickets ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
  return (db.$client.prepare(sql).get({ project: scope.project, trackers: scope.trackers ? JSON.stringify(scope.trackers) : null }) as { m: number | null }).m;
}

/** Labels carried by ≥ 2 tickets in the scope, with how many of those were automated. */
export function labelAggregates(db: Db, scope: ReportScope): Array<{ label: string; count: number; automated: number }> {
  return db.$client
    .prepare(
      `SELECT l.label AS label, count(*) AS count, sum(${AUTOMATED_SQL}) AS automated
       FROM ticket_labels l JOIN tickets t ON t.id = l.ticket_id
       WHERE ${inWindow(scope, 'l')} GROUP BY l.label HAVING count(*) >= 2`,
    )
    .all(params(scope)) as Array<{ label: string; count: number; automated: number }>;
}

/** Request types with ≥ 2 tickets in the scope (stored by the current grouping), with their names. */
export function typeAggregates(db: Db, scope: ReportScope): Array<{ typeId: string; name: string; count: number; automated: number }> {
  return db.$client
    .prepare(
      `SELECT g.type_id AS typeId, rt.name AS name, count(*) AS count, sum(${AUTOMATED_SQL}) AS automated
       FROM ticket_groups g JOIN tickets t ON t.id = g.ticket_id JOIN request_types rt ON rt.id = g.type_id
       WHERE g.type_id IS NOT NULL AND ${inWindow(scope, 'g')} GROUP BY g.type_id HAVING count(*) >= 2`,
    )
    .all(params(scope)) as Array<{ typeId: string; name: string; count: number; automated: number }>;
}

const sourceParams = (source: MemberSource) => ({ label: source.label, typeId: source.typeIds[0] ?? null, typeIds: JSON.stringify(source.typeIds) });

/**
 * The parts of a source, each driven by its (label | type, created) index, disjoint so they add up without a
 * de-duplicating UNION: the label's members, then the types' members that do not carry the label.
 */
function sourceParts(scope: ReportScope, source: MemberSource): Array<{ table: string; where: string; readsTicket: boolean }> {
  const parts: Array<{ table: string; where: string; readsTicket: boolean }> = [];
  if (source.label !== null) parts.push({ table: 'ticket_labels', where: `m.label = @label AND ${inWindow(scope, 'm')}`, readsTicket: readsTickets(scope) });
  if (source.typeIds.length > 0) {
    parts.push({
      table: 'ticket_groups',
      where:
        (source.typeIds.length === 1 ? 'm.type_id = @typeId' : 'm.type_id IN (SELECT value FROM json_each(@typeIds))') +
        ` AND ${inWindow(scope, 'm')}` +
        (source.label !== null ? ' AND NOT EXISTS (SELECT 1 FROM ticket_labels x WHERE x.ticket_id = m.ticket_id AND x.label = @label)' : ''),
      readsTicket: readsTickets(scope),
    });
  }
  return parts;
}

/** How many members a source has in another window (the previous one, for the change): index-only without a project. */
export function countMembers(db: Db, scope: ReportScope, source: MemberSource): number {
  let n = 0;
  for (const p of sourceParts(scope, source)) {
    const sql = `SELECT count(*) AS n FROM ${p.table} m ${p.readsTicket ? 'JOIN tickets t ON t.id = m.ticket_id' : ''} WHERE ${p.where}`;
    n += (db.$client.prepare(sql).get({ ...params(scope), ...sourceParams(source) }) as { n: number }).n;
  }
  return n;
}

/** One member ticket as a key list shows it (see {@link memberKeys}). */
export interface MemberKey {
  /** `tickets.id` (tracker, site and issue): the last tie-breaker of the order. */
  id: string;
  /** Display key: `PLAT-12`, `acme/api#12`, `ENG-12`. */
  key: string;
  /** `tickets.tracker`: `jira` | `github` | `linear` | `trello`. */
  tracker: string;
  /** `tickets.site`: the Jira host, `github.com`, `linear.app/<workspace>`; `''` when unknown. */
  site: string;
  /** `created` (ms) as the source's index holds it, null when unknown. */
  created: number | null;
  /** Stored variant (text grouping), or null. */
  variantId: string | null;
}

/** A place in a key list: the member last listed (the order is {@link compareMemberKeys}). */
export type KeyPosition = Pick<MemberKey, 'created' | 'key' | 'id'>;

/**
 * The order of key lists: newest first (`created` descending, unknown last), then key, then row id, both compared as
 * SQLite's BINARY collation does (UTF-8 bytes, i.e. code points), so pages read from SQL and merged here agree.
 */
export function compareMemberKeys(x: KeyPosition, y: KeyPosition): number {
  if (x.created !== y.created) {
    if (x.created === null) return 1;
    if (y.created === null) return -1;
    return y.created - x.created;
  }
  return compareBinary(x.key, y.key) || compareBinary(x.id, y.id);
}

/** Code point order (what UTF-8 bytes give): UTF-16 order except that surrogates sort after U+E000–U+FFFF. */
function compareBinary(a: string, b: string): number {
  if (a === b) return 0;
  const rank = (c: number) => (c >= 0xd800 && c <= 0xdfff ? c + 0x2000 : c >= 0xe000 ? c - 0x800 : c);
  for (let i = 0; ; i++) {
    if (i === a.length) return -1;
    if (i === b.length) return 1;
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
}

/**
 * Members of a source in the scope, in {@link compareMemberKeys} order, strictly after `after` when given, at most
 * `limit` of them (null: all). Each part of the source is read in that order from its (label | type, created) index,
 * stopping after `limit` rows, and the parts are merged; a page costs about `limit` index steps, wherever it starts.
 */
export function memberKeys(db: Db, scope: ReportScope, source: MemberSource, after: KeyPosition | null, limit: number | null): MemberKey[] {
  const afterSql =
    after === null
      ? ''
      : after.created === null
        ? 'AND m.created IS NULL AND (t.key > @afterKey OR (t.key = @afterKey AND t.id > @afterId))'
        : // The first condition reads the index alone; the second, for ties on `created`, the ticket.
          'AND (m.created IS NULL OR m.created <= @afterCreated) AND (m.created IS NULL OR m.created < @afterCreated OR t.key > @afterKey OR (t.key = @afterKey AND t.id > @afterId))';
  const values = {
    ...params(scope),
    afterCreated: after?.created ?? null,
    afterKey: after?.key ?? null,
    afterId: after?.id ?? null,
    limit: limit ?? -1,
  };
  // One query per label and per type, each reading its index in order (a query over several types sorts them all).
  const parts = [
    ...sourceParts(scope, { label: source.label, typeIds: [] }).map((part) => ({ part, one: source })),
    ...source.typeIds.flatMap((typeId) => {
      const one = { label: source.label, typeIds: [typeId] };
      return sourceParts(scope, one).filter((p) => p.table === 'ticket_groups').map((part) => ({ part, one }));
    }),
  ];
  let merged: MemberKey[] = [];
  for (const { part, one } of parts) {
    // Once `limit` members are in hand, a later part can only add members at least as new as the last of them.
    const floor = limit !== null && merged.length === limit ? (merged[limit - 1].created ?? null) : null;
    const variant = part.table === 'ticket_groups' ? 'm.variant_id' : '(SELECT g.variant_id FROM ticket_groups g WHERE g.ticket_id = t.id)';
    const sql = `SELECT t.id AS id, t.key AS key, t.tracker AS tracker, t.site AS site, m.created AS created, ${variant} AS variantId
                 FROM ${part.table} m JOIN tickets t ON t.id = m.ticket_id WHERE ${part.where} ${afterSql} ${floor === null ? '' : 'AND m.created >= @floor'}
                 ORDER BY m.created DESC, t.key, t.id LIMIT @limit`;
    const page = statement(db, sql).all({ ...values, ...sourceParams(one), floor }) as MemberKey[];
    merged = merged.length === 0 ? page : [...merged, ...page].sort(compareMemberKeys);
    if (limit !== null && merged.length > limit) merged.length = limit;
  }
  return merged;
}

/**
 * Tickets per period (`week`: ISO weeks from Monday; `month`: calendar months, UTC) in the scope, and how many of them
 * repeat: carry one of `labels` or belong to one of `typeIds`. Periods without tickets are absent. Keys `YYYY-MM-DD`.
 *
 * `basis` `created` (default, the report's repeat ratio) buckets the scope's tickets by their creation;
 * `resolved-by-people` (the impact report) takes only the scope's tickets that are resolved and that deflect did not
 * resolve (no automated run applied a transition, see {@link deflectResolutionSql}), bucketed by their resolution:
 * the share of the team's own resolutions that were repeats, which should fall as automation takes the repeats.
 */
export function repeatedPerPeriod(
  db: Db,
  scope: ReportScope,
  granularity: 'week' | 'month',
  labels: readonly string[],
  typeIds: readonly string[],
  basis: 'created' | 'resolved-by-people' = 'created',
): Map<string, { tickets: number; repeated: number }> {
  const column = basis === 'created' ? 't.created' : 't.resolved';
  const period = granularity === 'week' ? WEEK_DAY_SQL(column) : MONTH_SQL(column);
  const byPeople =
    basis === 'created'
      ? ''
      : `AND t.resolved IS NOT NULL AND NOT EXISTS (SELECT 1 FROM runs r JOIN actions a ON ${deflectResolutionSql('a', 'r')} WHERE ${automatedRunSql('r', 't')})`;
  const rows = db.$client
    .prepare(
      `SELECT ${period} AS period, count(*) AS tickets,
              sum(EXISTS (SELECT 1 FROM ticket_groups g WHERE g.ticket_id = t.id AND g.type_id IN (SELECT value FROM json_each(@types)))
                  OR EXISTS (SELECT 1 FROM ticket_labels l WHERE l.ticket_id = t.id AND l.label IN (SELECT value FROM json_each(@labels)))) AS repeated
       FROM tickets t WHERE t.created IS NOT NULL AND ${inWindow(scope, 't')} ${byPeople} GROUP BY period`,
    )
    .all({ ...params(scope), labels: JSON.stringify(labels), types: JSON.stringify(typeIds) }) as Array<{ period: string; tickets: number; repeated: number }>;
  return new Map(rows.map((r) => [r.period, { tickets: r.tickets, repeated: r.repeated }]));
}

/** A ticket as text grouping reads it (`deflect group`): row id, display key, text, labels (JSON array), created ms. */
export interface GroupableTicketRow {
  id: string;
  key: string;
  summary: string | null;
  description: string | null;
  labels: string;
  created: number | null;
}

/** Every ticket of every tracker, for text grouping (which orders them itself). */
export function listGroupableTickets(db: Db): GroupableTicketRow[] {
  return db.$client.prepare('SELECT id, key, summary, description, labels, created FROM tickets').all() as GroupableTicketRow[];
}
