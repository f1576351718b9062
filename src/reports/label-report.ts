/**
 * The top-tickets report by label: which labelled requests repeat most in a window, how that changed against the
 * previous window of the same length, how many were automated, and the median time to resolution.
 * The same JSON backs `deflect report --format json` and `GET /api/reports/top-tickets`.
 */
import type { Db } from '../db/client.js';

export interface ReportWindow {
  /** Window start, epoch ms (inclusive); null = all time. */
  from: number | null;
  /** Window end, epoch ms (exclusive). */
  to: number;
}

export interface LabelGroup {
  /** The group key: the label, lower-cased. */
  key: string;
  kind: 'label';
  /** Tickets created in the window carrying the label. */
  count: number;
  /** count / tickets created in the window, 0..1. */
  share: number;
  /** Same count in the previous window of equal length (null for an all-time window). */
  previousCount: number | null;
  /** Relative change against the previous window, e.g. 0.5 = +50% (null when there is no previous count). */
  change: number | null;
  /** Tickets of the group with at least one succeeded run. */
  automated: number;
  /** Median of resolved − created over resolved tickets, hours (null when none resolved). */
  medianTimeToResolutionHours: number | null;
  /** Every member ticket key, sorted. */
  keys: string[];
}

export interface TopTicketsReport {
  generatedAt: string;
  window: { from: string | null; to: string };
  /** Tickets created in the window (labelled or not). */
  totalTickets: number;
  groups: LabelGroup[];
}

export interface TopTicketsOptions {
  window: ReportWindow;
  /** Number of groups, default 10. */
  top?: number;
  /** Only this project key. */
  project?: string | null;
}

/**
 * Parses `--since` values: `30d`, `12h`, `2w`, or `all`. Returns the window ending at `now`.
 * @throws Error `invalid --since "x": use a number of days/hours/weeks like 30d, 12h, 2w, or all`.
 */
export function parseSince(since: string, now = Date.now()): ReportWindow {
  if (since === 'all') return { from: null, to: now };
  const match = /^(\d+)\s*([hdw])$/i.exec(since.trim());
  if (!match) throw new Error(`invalid --since "${since}": use a number of days/hours/weeks like 30d, 12h, 2w, or all`);
  const unitMs = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 }[match[2].toLowerCase() as 'h' | 'd' | 'w'];
  return { from: now - Number(match[1]) * unitMs, to: now };
}

/** Builds the label report. Reads only; safe to run next to a live server (WAL). */
export function topTicketsByLabel(db: Db, options: TopTicketsOptions): TopTicketsReport {
  const sqlite = db.$client;
  const { from, to } = options.window;
  const top = options.top ?? 10;
  const project = options.project ?? null;
  const inWindow = (alias: string) =>
    `${alias}.created < @to ${from === null ? '' : `AND ${alias}.created >= @from`} ${project ? `AND t.project = @project` : ''}`;
  const params = { from, to, project };

  const totalTickets = (sqlite.prepare(`SELECT count(*) AS n FROM tickets t WHERE ${inWindow('t')}`).get(params) as { n: number }).n;
  const groups = sqlite
    .prepare(
      `SELECT l.label AS key, count(*) AS count
       FROM ticket_labels l ${project ? 'JOIN tickets t ON t.id = l.ticket_id' : ''}
       WHERE ${inWindow('l')}
       GROUP BY l.label ORDER BY count DESC, l.label LIMIT @top`,
    )
    .all({ ...params, top }) as Array<{ key: string; count: number }>;

  const previous =
    from === null
      ? null
      : sqlite.prepare(
          `SELECT count(*) AS n FROM ticket_labels l ${project ? 'JOIN tickets t ON t.id = l.ticket_id' : ''}
           WHERE l.label = @label AND l.created >= @prevFrom AND l.created < @from ${project ? 'AND t.project = @project' : ''}`,
        );
  const members = sqlite.prepare(
    `SELECT t.key, t.created, t.resolved,
            EXISTS (SELECT 1 FROM runs r WHERE r.ticket_key = t.key AND r.status = 'succeeded') AS automated
     FROM ticket_labels l JOIN tickets t ON t.id = l.ticket_id
     WHERE l.label = @label AND ${inWindow('l')}`,
  );

  return {
    generatedAt: new Date().toISOString(),
    window: { from: from === null ? null : new Date(from).toISOString(), to: new Date(to).toISOString() },
    totalTickets,
    groups: groups.map((g): LabelGroup => {
      const rows = members.all({ ...params, label: g.key }) as Array<{ key: string; created: number; resolved: number | null; automated: number }>;
      const previousCount = previous ? (previous.get({ ...params, label: g.key, prevFrom: from! - (to - from!) }) as { n: number }).n : null;
      const resolutionHours = rows.filter((r) => r.resolved !== null && r.created !== null).map((r) => (r.resolved! - r.created) / 3_600_000);
      return {
        key: g.key,
        kind: 'label',
        count: g.count,
        share: totalTickets === 0 ? 0 : g.count / totalTickets,
        previousCount,
        change: previousCount ? (g.count - previousCount) / previousCount : null,
        automated: rows.filter((r) => r.automated).length,
        medianTimeToResolutionHours: median(resolutionHours),
        keys: rows.map((r) => r.key).sort(compareIssueKeys),
      };
    }),
  };
}

/** Median of a list of numbers, or null for an empty list. */
export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Orders issue keys by project, then number (`PLAT-9` before `PLAT-10`). */
export function compareIssueKeys(a: string, b: string): number {
  const [pa, na] = splitKey(a);
  const [pb, nb] = splitKey(b);
  return pa === pb ? na - nb : pa < pb ? -1 : 1;
}

function splitKey(key: string): [string, number] {
  const dash = key.lastIndexOf('-');
  return dash > 0 ? [key.slice(0, dash), Number(key.slice(dash + 1)) || 0] : [key, 0];
}
