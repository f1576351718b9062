/**
 * One row of the top-tickets report from its members' figures (`memberStats`, report-aggregates.ts) and its listed
 * keys (report-keys.ts), plus what rows are ranked by: the minutes-per-ticket estimate and the burst test.
 * Shape: `ReportGroup` in report-types.ts.
 */
import type { MemberSource } from '../db/report-queries.js';
import { weekIndexStart } from '../db/report-queries.js';
import type { Estimates, Rule } from '../rules/rules-file.js';
import type { MemberStats } from './report-aggregates.js';
import { keyFields, type ListedMember } from './report-keys.js';
import type { ReportGroup, ReportVariant } from './report-types.js';
import { isoDay, sortedQuantile } from './report-window.js';
import { trackerCounts } from './tracker-filter.js';

export interface ReportContext {
  rules: readonly Rule[];
  estimates: Estimates;
  /** Site URL for ticket links (`<url>/browse/KEY`). */
  jiraBaseUrl: string | null;
}

/** A row is a burst when it has ≥ 5 tickets over ≥ 3 weeks and one week holds at least half of them. */
export const BURST_MIN_TICKETS = 5;
export const BURST_WEEK_SHARE = 0.5;
/** Template shown for the members of a row whose wording no request type holds. */
export const UNREPEATED_WORDING = '(wording not repeated)';

/** A row before its members are read: counts from the aggregates (a merged row's are estimates until then). */
export interface Candidate {
  id: string;
  kind: 'type' | 'label';
  name: string;
  source: MemberSource;
  count: number;
  /** Automated members: exact for a single label or type; for a merged row an estimate used only to rank. */
  automated: number;
  shared: number | null;
  weeks: ReadonlyMap<number, number>;
}

export interface RowContext {
  totalTickets: number;
  previousCount: number | null;
  /** Period starts of the window, `YYYY-MM-DD`. */
  periods: string[];
  templates: ReadonlyMap<string, string>;
  estimate: Estimator;
}

/** The row's keys as listed: all of them or the first page, `next` the path of the page after (null: all listed). */
export interface RowKeys {
  members: ListedMember[];
  exampleKeys: string[];
  next: string | null;
}

/** One row: every figure is computed over all members (`stats`), the key lists are `keys`. */
export function buildRow(c: Candidate, stats: MemberStats, keys: RowKeys, ctx: RowContext): ReportGroup {
  const count = stats.count;
  const automated = stats.automated;
  const labels = [...stats.labels].map(([label, n]) => ({ label, count: n })).sort((a, b) => b.count - a.count || (a.label < b.label ? -1 : 1)).slice(0, 10);
  const dominantLabel = c.source.label ?? (labels[0] && labels[0].count * 2 >= count ? labels[0].label : null);

  // A variant no stored template names counts with the wordings that repeat nothing.
  const byVariant = new Map<string | null, number>();
  for (const [id, n] of stats.variants) {
    const known = id !== null && ctx.templates.has(id) ? id : null;
    byVariant.set(known, (byVariant.get(known) ?? 0) + n);
  }
  const variants: ReportVariant[] = [...byVariant]
    .map(([id, n]) => ({ id, template: id === null ? UNREPEATED_WORDING : ctx.templates.get(id)!, count: n, keys: [] }))
    .sort((a, b) => Number(a.id === null) - Number(b.id === null) || b.count - a.count || (a.template < b.template ? -1 : 1));
  const listed = keyFields(keys.members, variants);

  const burst = detectBurst(stats.weeks, count);
  const minutes = ctx.estimate.minutes(c.kind === 'type' ? [c.name, ...variants.map((v) => v.template)] : [], dominantLabel);
  const share = count ? automated / count : 0;
  const hours = stats.hoursToResolve;
  return {
    id: c.id,
    key: c.name,
    kind: c.kind,
    name: c.name,
    label: c.source.label,
    merged: c.shared !== null && c.source.label !== null ? { label: c.source.label, typeIds: [...c.source.typeIds], shared: c.shared } : null,
    count,
    trackers: trackerCounts(stats.trackers),
    share: ctx.totalTickets ? count / ctx.totalTickets : 0,
    previousCount: ctx.previousCount,
    change: ctx.previousCount ? (count - ctx.previousCount) / ctx.previousCount : null,
    series: ctx.periods.map((period) => ({ period, count: stats.periods.get(period) ?? 0 })),
    medianTimeToResolutionHours: round(sortedQuantile(hours, 0.5)),
    p90TimeToResolutionHours: round(sortedQuantile(hours, 0.9)),
    automated,
    automatedShare: share,
    minutesPerTicket: minutes,
    hoursSpent: round((count * minutes) / 60)!,
    hoursSaved: round((automated * minutes) / 60)!,
    unmetDemandMinutes: Math.round(count * minutes * (1 - share)),
    burst: burst.burst,
    burstReason: burst.reason,
    labels,
    dominantLabel,
    keyCount: count,
    keys: listed.keys,
    keysNext: keys.next,
    links: listed.links,
    exampleKeys: keys.exampleKeys,
    variants: listed.variants,
    handler: ctx.estimate.handlerOf(dominantLabel),
  };
}

export type Estimator = ReturnType<typeof estimator>;

/**
 * Minutes per ticket: by the row's label, then the handler its label routes to, then (types) by the type's name or
 * one of its variant templates, else `defaultMinutes`. The config's records become Maps, so no label reads a
 * prototype property.
 */
export function estimator(context: ReportContext) {
  const labels = new Map(Object.entries(context.estimates.labels));
  const handlers = new Map(Object.entries(context.estimates.handlers));
  const templates = new Map(Object.entries(context.estimates.templates));
  const handlerOf = (label: string | null) => (label === null ? null : (context.rules.find((r) => r.labels.includes(label))?.handler ?? null));
  const minutes = (names: readonly string[], label: string | null): number => {
    const handler = handlerOf(label);
    return (
      (label !== null ? labels.get(label) : undefined) ??
      (handler !== null ? handlers.get(handler) : undefined) ??
      names.map((n) => templates.get(n)).find((m) => m !== undefined) ??
      context.estimates.defaultMinutes
    );
  };
  return { handlerOf, minutes };
}

/** Flags a spike: ≥ BURST_MIN_TICKETS tickets spread over ≥ 3 weeks, one week holding ≥ BURST_WEEK_SHARE of them. */
export function detectBurst(weeks: ReadonlyMap<number, number>, count: number): { burst: boolean; reason: string | null } {
  if (count < BURST_MIN_TICKETS || weeks.size === 0) return { burst: false, reason: null };
  let peakWeek = 0;
  let peak = 0;
  for (const [week, n] of weeks) if (n > peak || (n === peak && week < peakWeek)) [peakWeek, peak] = [week, n];
  const span = Math.max(...weeks.keys()) - Math.min(...weeks.keys()) + 1;
  const burst = peak / count >= BURST_WEEK_SHARE && (weeks.size === 1 || span >= 3);
  return burst ? { burst, reason: `${peak} of ${count} tickets in the week of ${isoDay(weekIndexStart(peakWeek))}` } : { burst, reason: null };
}

const round = (value: number | null) => (value === null ? null : Math.round(value * 10) / 10);
