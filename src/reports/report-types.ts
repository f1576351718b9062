/**
 * The shape of the top-tickets report: the JSON of `deflect report --format json`, `GET /api/reports/top-tickets`
 * and what the HTML page at `/reports/top-tickets` renders. Times are ISO 8601 strings (UTC); durations in hours;
 * shares are fractions 0..1.
 */

/** One ISO week (Monday 00:00 UTC start) of a series. */
export interface WeeklyPoint {
  /** Week start, `YYYY-MM-DD` (a Monday, UTC). */
  week: string;
  count: number;
}

export interface ReportGroup {
  /** Stable id: `label:<label>` or `text:<hash>`. */
  id: string;
  /** The label (label groups) or the human-readable template (text groups), e.g. `Reset <*> feedstock token`. */
  key: string;
  kind: 'label' | 'text';
  /** Tickets created in the window in this group. */
  count: number;
  /** count / all tickets created in the window. */
  share: number;
  /** Same count in the previous window of equal length (null for an open window). */
  previousCount: number | null;
  /** (count − previousCount) / previousCount; null when previousCount is null or 0. */
  change: number | null;
  /** Ticket counts per week over the window, zero-filled. */
  weekly: WeeklyPoint[];
  /** Over resolved members: median and 90th percentile of resolved − created, hours; null when none resolved. */
  medianTimeToResolutionHours: number | null;
  p90TimeToResolutionHours: number | null;
  /** Members with at least one succeeded run. */
  automated: number;
  /** automated / count. */
  automatedShare: number;
  /** Minutes of manual work one ticket of this group costs (from the estimates config). */
  minutesPerTicket: number;
  /** count × minutesPerTicket / 60 */
  hoursSpent: number;
  /** automated × minutesPerTicket / 60 */
  hoursSaved: number;
  /** count × minutesPerTicket × (1 − automatedShare), minutes: what ranks the groups. */
  unmetDemandMinutes: number;
  /** True when one week holds most of the group (a spike, not steady demand); bursts are listed but not ranked. */
  burst: boolean;
  /** Why it is (or is not) a burst, e.g. `9 of 11 tickets in the week of 2024-03-04`. */
  burstReason: string | null;
  /** Labels the members carry, most common first (for text groups: what to label next). */
  labels: Array<{ label: string; count: number }>;
  /** The most common label among members, or null. */
  dominantLabel: string | null;
  /** Every member ticket key in the window, sorted. */
  keys: string[];
  /** Up to 5 keys to look at first. */
  exampleKeys: string[];
  /** Handler that automates this group, when a rule routes its label. */
  handler: string | null;
}

export interface TopTicketsReport {
  generatedAt: string;
  window: { from: string | null; to: string };
  project: string | null;
  /** Tickets created in the window. */
  totalTickets: number;
  /** Groups ranked by unmet automatable demand (bursts after steady groups), at most `top`. */
  groups: ReportGroup[];
  /** Share of tickets in repeated groups (label or text, count ≥ 2), per week: it should fall as automation lands. */
  repeatRatio: Array<{ week: string; tickets: number; repeated: number; ratio: number }>;
  /** The stored text grouping the report used. */
  grouping: { algorithm: string | null; currentAlgorithm: string; computedAt: string | null; ticketsSinceGrouping: number; notice: string | null };
  /** Base URL for ticket links (`<siteUrl>/browse/<KEY>`), when known. */
  jiraBaseUrl: string | null;
}
