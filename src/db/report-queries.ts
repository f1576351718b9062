/**
 * The top-tickets report's reads (aggregates in SQL; member rows only for the groups shown). Times are epoch ms;
 * a scope's window is [from, to) on the ticket's `created` (the copies kept in `ticket_labels` / `ticket_groups`
 * let their (label | type, created) indexes serve it). Labels are lower-case, as `ticket_labels` stores them.
 * Nothing here uses a label as an object key: results are arrays and Maps.
 */
import type { Db } from './client.js';
import { runTrackerSql } from './runs.js';

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

export interface MemberRow {
  /** Display key: `PLAT-12`, `acme/api#12`, `ENG-12`. */
  key: string;
  /** `tickets.tracker`: `jira` | `github` | `linear`. */
  tracker: string;
  /** `tickets.site`: the Jira host, `github.com`, `linear.app/<workspace>`; `''` when unknown. */
  site: string;
  created: number | null;
  resolved: number | null;
  /** 1 when a succeeded run carried the request out, for members no aggregate counted (see {@link memberRows}); else 0. */
  automated: number;
  /** Stored variant (text grouping), or null. */
  variantId: string | null;
  /** JSON array of the ticket's labels as Jira gave them (`tickets.labels`). */
  labels: string;
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
 */
export const automatedRunSql = (run: string, ticket: string) =>
  `${run}.ticket_key = ${ticket}.key AND ${run}.status = 'succeeded' AND ${run}.applied = 1 AND ${run}.dry_run = 0 AND ${run}.shadow = 0 AND ${runTrackerSql(run)} = ${ticket}.tracker`;

/**
 * The one definition of *resolved by deflect*, as a condition on action alias `action` of an automated run `run`
 * (see {@link automatedRunSql}): the run applied a `transition` (the handler's `ctx.tracker.resolve()`).
 */
export const deflectResolutionSql = (action: string, run: string) => `${action}.run_id = ${run}.id AND ${action}.kind = 'transition' AND ${action}.status = 'applied'`;

/** 1 when the ticket `t` has an automated run (an index lookup on runs.ticket_key; see {@link automatedRunSql}). */
const AUTOMATED_SQL = `EXISTS (SELECT 1 FROM runs r WHERE ${automatedRunSql('r', 't')})`;

/** Whether the scope filters on columns only `tickets` has (so index-only reads must join it). */
const readsTickets = (scope: ReportScope) => scope.project !== null || (scope.trackers ?? null) !== null;

/** The window filter on the `created` column of `alias`; the project filter always reads tickets `t`. */
function inWindow(scope: ReportScope, alias: string): string {
  return (
    [
      scope.from === null ? null : `${alias}.created >= @from`,
      scope.from === null && scope.project === null ? null : `${alias}.created < @to`,
      scope.project ? 't.project = @project' : null,
      scope.trackers ? 't.tracker IN (SELECT value FROM json_each(@trackers))' : null,
    ]
      .filter(Boolean)
      .join(' AND ') || '1 = 1'
  );
}
const params = (scope: ReportScope) => ({ from: scope.from, to: scope.to, project: scope.project, trackers: scope.trackers ? JSON.stringify(scope.trackers) : null });

/** Tickets created in the scope. */
export function countTickets(db: Db, scope: ReportScope): number {
  return (db.$client.prepare(`SELECT count(*) AS n FROM tickets t WHERE ${inWindow(scope, 't')}`).get(params(scope)) as { n: number }).n;
}

/** `created` of the oldest ticket in the scope, or null. */
export function firstCreated(db: Db, scope: ReportScope): number | null {
  return (db.$client.prepare(`SELECT min(t.created) AS m FROM tickets t WHERE ${inWindow(scope, 't')}`).get(params(scope)) as { m: number | null }).m;
}

/** `created` of the newest ticket of the project and trackers of `scope` (any time: the window is ignored), or null when there is none. */
export function newestCreated(db: Db, scope: Pick<ReportScope, 'project' | 'trackers'>): number | null {
  const where = [scope.project ? 'project = @project' : null, scope.trackers ? 'tracker IN (SELECT value FROM json_each(@trackers))' : null].filter(Boolean);
  const sql = `SELECT max(created) AS m FROM tickets ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
  return (db.$client.prepare(sql).get({ project: scope.project, trackers: scope.trackers ? JSON.stringify(scope.trackers) : null }) as { m: number | null }).m;
}

/** Tickets created in the scope per tracker (`tickets.tracker`), trackers without tickets absent. */
export function countTicketsByTracker(db: Db, scope: ReportScope): Array<{ tracker: string; count: number }> {
  return db.$client
    .prepare(`SELECT t.tracker AS tracker, count(*) AS count FROM tickets t WHERE ${inWindow(scope, 't')} GROUP BY t.tracker ORDER BY t.tracker`)
    .all(params(scope)) as Array<{ tracker: string; count: number }>;
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

/**
 * For each of `labels`: its tickets in the scope per request type (the overlap of a label group with a type). Reads
 * the (label, created) index and each ticket's assignment; `tickets` only for a project filter.
 */
export function labelTypeOverlaps(db: Db, scope: ReportScope, labels: readonly string[]): Array<{ label: string; typeId: string; count: number }> {
  if (labels.length === 0) return [];
  return db.$client
    .prepare(
      `SELECT l.label AS label, g.type_id AS typeId, count(*) AS count
       FROM ticket_labels l JOIN ticket_groups g ON g.ticket_id = l.ticket_id ${readsTickets(scope) ? 'JOIN tickets t ON t.id = l.ticket_id' : ''}
       WHERE l.label IN (SELECT value FROM json_each(@labels)) AND g.type_id IS NOT NULL AND ${inWindow(scope, 'l')}
       GROUP BY l.label, g.type_id`,
    )
    .all({ ...params(scope), labels: JSON.stringify(labels) }) as Array<{ label: string; typeId: string; count: number }>;
}

/** Group id (`label:<label>` or the type id) → (week index → tickets), for every label and type in the scope. */
export function weeklyCounts(db: Db, scope: ReportScope): Map<string, Map<number, number>> {
  const join = (alias: string) => (readsTickets(scope) ? `JOIN tickets t ON t.id = ${alias}.ticket_id` : '');
  const rows = [
    ...(db.$client
      .prepare(
        `SELECT 'label:' || l.label AS id, ${WEEK_SQL('l.created')} AS week, count(*) AS n FROM ticket_labels l ${join('l')}
         WHERE l.created IS NOT NULL AND ${inWindow(scope, 'l')} GROUP BY l.label, week`,
      )
      .all(params(scope)) as Array<{ id: string; week: number; n: number }>),
    ...(db.$client
      .prepare(
        `SELECT g.type_id AS id, ${WEEK_SQL('g.created')} AS week, count(*) AS n FROM ticket_groups g ${join('g')}
         WHERE g.type_id IS NOT NULL AND g.created IS NOT NULL AND ${inWindow(scope, 'g')} GROUP BY g.type_id, week`,
      )
      .all(params(scope)) as Array<{ id: string; week: number; n: number }>),
  ];
  const result = new Map<string, Map<number, number>>();
  for (const r of rows) {
    let weeks = result.get(r.id);
    if (!weeks) result.set(r.id, (weeks = new Map()));
    weeks.set(r.week, r.n);
  }
  return result;
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

/**
 * The member tickets of a label group, request types, or their union, in the scope. `automated` is read only for the
 * members a label's aggregate has not counted (the types' members without the label, in a union); elsewhere it is 0,
 * as the label or type aggregate already counted them.
 */
export function memberRows(db: Db, scope: ReportScope, source: MemberSource): MemberRow[] {
  const select = (automated: boolean) => `SELECT t.key, t.tracker, t.site, t.created, t.resolved, ${automated ? AUTOMATED_SQL : '0'} AS automated,
                         (SELECT g.variant_id FROM ticket_groups g WHERE g.ticket_id = t.id) AS variantId, t.labels`;
  const union = source.label !== null && source.typeIds.length > 0;
  const sql = sourceParts(scope, source)
    .map((p) => `${select(union && p.table === 'ticket_groups')} FROM ${p.table} m JOIN tickets t ON t.id = m.ticket_id WHERE ${p.where}`)
    .join(' UNION ALL ');
  if (!sql) return [];
  return db.$client.prepare(sql).all({ ...params(scope), ...sourceParams(source) }) as MemberRow[];
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
