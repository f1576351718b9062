/**
 * The shape of the impact report: the JSON of `deflect impact --format json`, `GET /api/reports/impact` and what the
 * page at `/reports/impact` renders. Times are ISO 8601 strings (UTC); weeks are ISO weeks named by their Monday
 * (`YYYY-MM-DD`, UTC); durations in hours; shares are fractions 0..1. Definitions: docs/decisions/014-impact.md.
 */
import type { TrackerName } from '../trackers/tracker.js';

/** Figures of one side (before or after the automation's start) of a request type. */
export interface ImpactPeriod {
  /** Start of the side, ISO: the window start (or the type's first ticket for an open window) before; the automation start after. */
  from: string;
  /** End of the side (exclusive), ISO: the automation start before; the window end after. */
  to: string;
  /** Length of the side in weeks (a side shorter than a week counts as one week, so a rate is never inflated). */
  weeks: number;
  /** The side is shorter than a week: `ticketsPerWeek` is its tickets over one week, a floor, not yet a rate. */
  shorterThanAWeek: boolean;
  /** Tickets of the type on this side. */
  tickets: number;
  /** tickets / weeks, one decimal. */
  ticketsPerWeek: number;
  /** Of them, resolved (before: by people; after: by people or deflect), without the tickets waiting at the start. */
  resolved: number;
  /** Median and 90th percentile of created → resolved, hours (one decimal); null when none is resolved. */
  ttrP50Hours: number | null;
  ttrP90Hours: number | null;
}

/** One week of a type's ticket series. */
export interface ImpactWeek {
  week: string;
  /** Tickets of the type created that week. */
  tickets: number;
  /** Of them, tickets with an automated run. */
  automated: number;
}

/** One week of a type's adoption: who had a request carried out by the automation that week (by the run's week). */
export interface AdoptionWeek {
  week: string;
  /** Distinct reporters / teams whose ticket an automated run carried out that week. */
  reporters: number;
  teams: number;
  /** Distinct reporters / teams that have used it so far (this week and before). */
  cumulativeReporters: number;
  cumulativeTeams: number;
  /** cumulativeReporters / reporters who filed this type after the start (the early adopters → majority curve); null when none did. */
  reporterShare: number | null;
}

/** A request type (or label group) of the report's grouping that has automated runs. */
export interface ImpactType {
  /** The report row's id (`type:<hash>` or `label:<label>`) and name; `deflect impact --type <id>` selects it. */
  id: string;
  name: string;
  kind: 'type' | 'label';
  label: string | null;
  /** Handler of the first automated run. */
  handler: string | null;
  /** When the first automated run of the type's tickets finished, ISO; and its week (Monday). */
  automationStart: string;
  automationStartWeek: string;
  before: ImpactPeriod;
  after: ImpactPeriod;
  /** Tickets with an automated run (all are on the after side). */
  automated: number;
  /** After-side tickets filed before the start (waiting when the automation started; at least its first ticket): not in either side's time to resolution. */
  waitingAtStart: number;
  /** Of them, tickets an automated run resolved (applied a transition). */
  resolvedByDeflect: number;
  /** resolvedByDeflect / after.tickets; null when there is no ticket after. */
  shareResolvedByDeflect: number | null;
  /** automated × hoursPerTicket, one decimal. */
  hoursReturned: number;
  /** The hours one automated ticket returns: the before side's median human time to resolution, or the estimate. */
  hoursPerTicket: number;
  /** `history`: the median TTR of the type's tickets people resolved before the start; `estimate`: none was resolved, the configured minutes per ticket. */
  hoursReturnedBasis: 'history' | 'estimate';
  /** Every week of the window (zero-filled), by creation. */
  weekly: ImpactWeek[];
  /** Every week from the automation start's week to the window end. */
  adoption: AdoptionWeek[];
  /** Distinct reporters and teams that filed this type after the start (the adoption curve's 100 %). */
  reportersAfter: number;
  teamsAfter: number;
}

/** `deflect impact --format json` and `GET /api/reports/impact`. */
export interface ImpactReport {
  generatedAt: string;
  window: { from: string | null; to: string };
  project: string | null;
  trackers: TrackerName[] | null;
  /** The `--type` / `?type=` filter, or null. */
  typeFilter: string | null;
  /** Types with automated runs, earliest automation start first. */
  types: ImpactType[];
  /** Report rows of the window without any automated run: left out of `types`, counted here (largest first, up to 10 named). */
  withoutAutomation: { count: number; examples: Array<{ id: string; name: string; tickets: number }> };
  /**
   * Per week of the window: tickets the team resolved by hand (not resolved by deflect) and how many of them repeat
   * (the report's repeat definition: in a label or request type with ≥ 2 tickets in the window); share null for a
   * week without any.
   */
  repeatShare: Array<{ week: string; resolvedByPeople: number; repeated: number; share: number | null }>;
  /** Totals over `types`. */
  totals: { automated: number; resolvedByDeflect: number; hoursReturned: number };
  /** When `types` is empty: why, and what to do (`no automated runs yet: …`); else null. */
  emptyHint: string | null;
  /** The report's grouping notice (stale or missing text grouping), else null. */
  groupingNotice: string | null;
}
