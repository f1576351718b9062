/**
 * The shape of the top-tickets report: the JSON of `deflect report --format json`, `GET /api/reports/top-tickets`
 * and what the HTML page at `/reports/top-tickets` renders. Times are ISO 8601 strings (UTC); durations in hours;
 * shares are fractions 0..1. Tickets of every tracker (Jira, GitHub Issues, Linear) are counted together; keys are
 * display keys (`PLAT-12`, `acme/api#12`, `ENG-12`).
 */
import type { TrackerName } from '../trackers/tracker.js';

/** Tickets per tracker, trackers without tickets left out: `{ jira: 3, github: 2 }`. */
export type TrackerCounts = Partial<Record<TrackerName, number>>;

/** A member ticket and where to open it: its page on its tracker, or null when its site is unknown. */
export interface TicketLink {
  key: string;
  tracker: TrackerName;
  url: string | null;
}

/** How a report's series are bucketed: ISO weeks (Monday 00:00 UTC) for windows up to ~6 months, else months. */
export type Granularity = 'week' | 'month';

/** One period of a series: a week (starting Monday) or a calendar month, UTC. Every period of the window is present. */
export interface SeriesPoint {
  /** Period start, `YYYY-MM-DD` (a Monday for weeks, the 1st for months). */
  period: string;
  count: number;
}

/** One wording of a row's tickets: a variant of a request type (or, for tickets no type holds, "other wordings"). */
export interface ReportVariant {
  /** `variant:<hash>`, or null for the tickets whose wording repeats nothing. */
  id: string | null;
  /** e.g. `Add <*> to <*> maintainers`; `(wording not repeated)` when `id` is null. */
  template: string;
  /** Its tickets in the window. */
  count: number;
  /** Its members among the row's `keys` (all of them when the row lists every key), in that order. */
  keys: string[];
}

/**
 * One row of the report: a request type found by text (`kind: 'type'`) or a label group (`kind: 'label'`). When a
 * label group and request types cover mostly the same tickets they are one row, so a ticket counts once: with one
 * type it is the type (`kind: 'type'`, `label` set), with several it is the label; `merged` names both sides and how
 * many tickets they share. Every count, share and rate is over `keys` (the union).
 */
export interface ReportGroup {
  /** Stable id: `type:<hash>` or `label:<label>`. */
  id: string;
  /** The type's name (e.g. `Add … to team`) or the label. */
  key: string;
  kind: 'type' | 'label';
  /** What to show: the type's name, or the label. */
  name: string;
  /** The label group this row stands for (a label row's label, or the label folded into a type row), else null. */
  label: string | null;
  /** For a label and its request types shown as one row: the label, the types and the tickets they share; else null. */
  merged: { label: string; typeIds: string[]; shared: number } | null;
  /** Tickets created in the window in this row (= keyCount). */
  count: number;
  /**
   * How many of them came from each tracker, e.g. `{ jira: 3, github: 2 }`: one request filed in several trackers is
   * one row. Adds up to `count`.
   */
  trackers: TrackerCounts;
  /** count / all tickets created in the window. */
  share: number;
  /** Same count in the previous window of equal length (null for an open window). */
  previousCount: number | null;
  /** (count − previousCount) / previousCount; null when previousCount is null or 0. */
  change: number | null;
  /** Tickets per period over the window (granularity: the report's `granularity`), zero-filled. */
  series: SeriesPoint[];
  /** Over resolved members: median and 90th percentile of resolved − created, hours; null when none resolved. */
  medianTimeToResolutionHours: number | null;
  p90TimeToResolutionHours: number | null;
  /** Members with at least one succeeded run that carried the request out. */
  automated: number;
  /** automated / count. */
  automatedShare: number;
  /** Minutes of manual work one ticket of this row costs (from the estimates config). */
  minutesPerTicket: number;
  /** count × minutesPerTicket / 60 */
  hoursSpent: number;
  /** automated × minutesPerTicket / 60 */
  hoursSaved: number;
  /** count × minutesPerTicket × (1 − automatedShare), minutes: what ranks the rows. */
  unmetDemandMinutes: number;
  /** True when one week holds most of the row (a spike, not steady demand); bursts are listed but not ranked. */
  burst: boolean;
  /** Why it is a burst, e.g. `9 of 11 tickets in the week of 2024-03-04`. */
  burstReason: string | null;
  /** Labels the members carry (lower-case), most common first (for types: what to label next). */
  labels: Array<{ label: string; count: number }>;
  /** The row's label, else the label at least half of the members carry, else null. */
  dominantLabel: string | null;
  /** How many member keys the row has: `count`. */
  keyCount: number;
  /**
   * The member keys listed: every one, sorted by key (`deflect report --format json|csv`, the default), or the newest
   * 1,000 (`KEYS_PER_PAGE`, report-keys.ts) — `created` descending, then key — (`GET /api/reports/top-tickets`, `deflect report --keys
   * first`), the rest paged from `keysNext`.
   */
  keys: string[];
  /**
   * Where the rest of the keys are: the path `/api/reports/top-tickets/groups/<id>/keys?cursor=…` of the next page
   * (newest first, as `keys`), or null when `keys` lists them all.
   */
  keysNext: string | null;
  /** Each listed member with its tracker and web address, in the order of `keys`. */
  links: TicketLink[];
  /** Up to 5 keys to look at first (newest first). */
  exampleKeys: string[];
  /** The wordings of the members, largest first (counts over all members); their keys partition `keys`. */
  variants: ReportVariant[];
  /** Handler that automates this row, when a rule routes its label. */
  handler: string | null;
}

/**
 * `deflect report --format json` and `GET /api/reports/top-tickets`:
 * `{ generatedAt, window: { from, to }, project, trackers, totalTickets, ticketsByTracker, granularity, newestTicket, emptyWindowHint,
 *    groups: [{ id, key, kind: 'type' | 'label', name, label, merged, count, trackers: { jira: 3, github: 2 }, keyCount, keys, keysNext, links,
 *               variants: [{ id, template, count, keys }],
 *               share, previousCount, change, series: [{ period, count }], … }],
 *    repeatRatio: [{ period, tickets, repeated, ratio }], grouping: { algorithm, currentAlgorithm, … }, jiraBaseUrl }`.
 */
export interface TopTicketsReport {
  generatedAt: string;
  window: { from: string | null; to: string };
  project: string | null;
  /** The tracker filter (`--tracker`, `?tracker=`), in `TRACKER_NAMES` order; null = every tracker. */
  trackers: TrackerName[] | null;
  /** Tickets created in the window. */
  totalTickets: number;
  /** The same tickets per tracker: `{ jira: 40, github: 12 }`. */
  ticketsByTracker: TrackerCounts;
  /** Bucketing of every series in this report (`series`, `repeatRatio`): weeks up to ~6 months, months beyond. */
  granularity: Granularity;
  /** `created` of the newest ticket of the project and trackers (any time), ISO; null when there are no tickets at all. */
  newestTicket: string | null;
  /** When the window holds no ticket but older ones exist: what to do instead (e.g. `--since all`); else null. */
  emptyWindowHint: string | null;
  /** Rows ranked by unmet automatable demand (bursts after steady rows), at most `top`. */
  groups: ReportGroup[];
  /**
   * Share of each period's tickets in a repeated row (a label or a request type with ≥ 2 tickets in the window); it
   * should fall as automation lands. `ratio` is null for a period without tickets (nothing to draw).
   */
  repeatRatio: Array<{ period: string; tickets: number; repeated: number; ratio: number | null }>;
  /** The stored text grouping the report used; `notice` says when it is stale (another algorithm, or newer tickets). */
  grouping: { algorithm: string | null; currentAlgorithm: string; computedAt: string | null; ticketsSinceGrouping: number; notice: string | null };
  /** The configured Jira site (`<siteUrl>/browse/<KEY>`), when known; each row's `links` give every ticket's own address. */
  jiraBaseUrl: string | null;
}
