/**
 * The top-tickets report: which requests repeat most in a window — as request types found by text (each with its
 * wordings, the variants) and as label groups — ranked by *unmet automatable demand* (count × minutes per ticket ×
 * (1 − automated share)), with the change against the previous window, a series per week (windows up to ~6 months)
 * or per month, time to resolution, hours spent and saved, bursts flagged, and the repeat ratio per period.
 * Shape: {@link TopTicketsReport} in `report-types.ts`.
 *
 * Tickets of every tracker count together (a request filed in Jira and again in GitHub is one request type); each row
 * says how many of its tickets came from each tracker, and `trackers` narrows the report to some of them.
 * A ticket counts once per row, and a label group and the request types that cover mostly the same tickets are one
 * row (see {@link mergeOverlaps}): the type saying the label, or the label listing its types.
 * Labels are only ever Map keys or array items (a label named `constructor` or `__proto__` is just a label).
 *
 * Reads only (aggregates in SQL, members fetched for the rows shown), so it is safe next to a live server.
 */
import type { Db } from '../db/client.js';
import {
  countMembers,
  countTickets,
  countTicketsByTracker,
  firstCreated,
  labelAggregates,
  labelTypeOverlaps,
  memberRows,
  newestCreated,
  repeatedPerPeriod,
  typeAggregates,
  weekIndex,
  weekIndexStart,
  weeklyCounts,
  type MemberRow,
  type MemberSource,
  type ReportScope,
} from '../db/report-queries.js';
import { groupingMeta, variantTemplates } from '../db/text-groups.js';
import { GROUPING_VERSION } from '../grouping/group-tickets.js';
import type { Estimates, Rule } from '../rules/rules-file.js';
import type { TrackerName } from '../trackers/tracker.js';
import type { ReportGroup, ReportVariant, TopTicketsReport } from './report-types.js';
import { countByTracker, ticketUrl, trackerCounts } from './tracker-filter.js';
import { compareIssueKeys, granularityFor, isoDay, monthsOf, periodStart, previousWindow, quantile, weeksOf, type ReportWindow } from './report-window.js';

export interface ReportContext {
  rules: readonly Rule[];
  estimates: Estimates;
  /** Site URL for ticket links (`<url>/browse/KEY`). */
  jiraBaseUrl: string | null;
}

export interface ReportOptions {
  window: ReportWindow;
  /** Rows to show, default 10. */
  top?: number;
  project?: string | null;
  /** Only tickets of these trackers (see `parseTrackerFilter`); null or absent = every tracker. */
  trackers?: readonly TrackerName[] | null;
}

/** A row is a burst when it has ≥ 5 tickets over ≥ 3 weeks and one week holds at least half of them. */
export const BURST_MIN_TICKETS = 5;
export const BURST_WEEK_SHARE = 0.5;
/** A type joins a label's row when more than this share of its tickets carry the label, and the label's types must hold more than this share of it. */
export const MERGE_MIN_SHARE = 0.5;
/** Template shown for the members of a row whose wording no request type holds. */
export const UNREPEATED_WORDING = '(wording not repeated)';

/** A row before its members are read: counts from the aggregates (a merged row's are estimates until then). */
interface Candidate {
  id: string;
  kind: 'type' | 'label';
  name: string;
  source: MemberSource;
  count: number;
  /** Automated members: exact for a single label or type; for a merged row an estimate used only to rank. */
  automated: number;
  /** What the aggregates counted exactly: a single source's automated, or a merged row's label's. */
  automatedBase: number;
  shared: number | null;
  weeks: ReadonlyMap<number, number>;
}

/** Builds the report. @throws nothing for empty data: an empty database gives zero rows. */
export function buildTopTicketsReport(db: Db, options: ReportOptions, context: ReportContext): TopTicketsReport {
  const top = options.top ?? 10;
  const project = options.project ?? null;
  const trackers = options.trackers?.length ? [...options.trackers] : null;
  const { from, to } = options.window;
  const scope: ReportScope = { from, to, project, trackers };
  const totalTickets = countTickets(db, scope);
  const labels = labelAggregates(db, scope);
  const meta = groupingMeta(db);
  // Types of another algorithm's grouping are not shown (the notice below asks for `deflect group`).
  const types = meta.algorithm === GROUPING_VERSION ? typeAggregates(db, scope) : [];
  const weekly = weeklyCounts(db, scope);
  const estimate = estimator(context);

  const rank = (xs: Array<{ c: Candidate; burst: boolean; unmet: number }>) =>
    xs.sort((x, y) => byDemand({ ...x, id: x.c.id, count: x.c.count }, { ...y, id: y.c.id, count: y.c.count }));
  const score = (c: Candidate) => {
    const minutes = estimate.minutes(c.kind === 'type' ? [c.name] : [], c.source.label);
    return { c, burst: detectBurst(c.weeks, c.count).burst, unmet: c.count * minutes * (1 - c.automated / c.count) };
  };
  const single: Candidate[] = [
    ...labels.map((l) => ({ id: `label:${l.label}`, kind: 'label' as const, name: l.label, source: { label: l.label, typeIds: [] }, count: l.count, automated: l.automated, automatedBase: l.automated, shared: null, weeks: weekly.get(`label:${l.label}`) ?? new Map() })),
    ...types.map((t) => ({ id: t.typeId, kind: 'type' as const, name: t.name, source: { label: null, typeIds: [t.typeId] }, count: t.count, automated: t.automated, automatedBase: t.automated, shared: null, weeks: weekly.get(t.typeId) ?? new Map() })),
  ];
  // Only labels that could be shown are checked for overlap (it reads their members' types).
  const labelPool = rank(single.filter((c) => c.kind === 'label').map(score)).slice(0, top * 3).map((x) => x.c.source.label!);
  const candidates = mergeOverlaps(single, labelTypeOverlaps(db, scope, labelPool));
  const ranked = rank(candidates.map(score)).slice(0, top);

  const windowStart = from ?? firstCreated(db, scope) ?? to;
  const granularity = granularityFor(windowStart, to);
  const periods = (granularity === 'week' ? weeksOf(windowStart, to) : monthsOf(windowStart, to)).map(isoDay);
  const previous = previousWindow(options.window);
  const members = ranked.map(({ c }) => memberRows(db, scope, c.source));
  const templates = variantTemplates(db, [...new Set(members.flat().flatMap((m) => (m.variantId ? [m.variantId] : [])))]);

  const rows = ranked.map(({ c }, i) => {
    const previousCount = previous ? countMembers(db, { ...previous, project, trackers }, c.source) : null;
    return buildRow(c, members[i], { totalTickets, previousCount, granularity, periods, templates, estimate, jiraBaseUrl: context.jiraBaseUrl });
  });
  // Merged rows now have exact counts: rank the rows shown again.
  const groups = rows.sort((x, y) => byDemand({ id: x.id, burst: x.burst, unmet: x.unmetDemandMinutes, count: x.count }, { id: y.id, burst: y.burst, unmet: y.unmetDemandMinutes, count: y.count }));

  const byPeriod = repeatedPerPeriod(db, scope, granularity, labels.map((l) => l.label), types.map((t) => t.typeId));
  const newest = newestCreated(db, scope);
  const scopeWords = [project, trackers?.join(' or ')].filter(Boolean).join(' ');
  const notice =
    meta.algorithm === null
      ? 'No text grouping stored yet: run `deflect group` (imports run it) to find request types among the tickets.'
      : meta.algorithm !== GROUPING_VERSION
        ? `The stored text grouping was made by ${meta.algorithm}; this deflect uses ${GROUPING_VERSION}, so request types are not shown. Run \`deflect group\` to regroup.`
        : meta.ticketsSince > 0
          ? `${meta.ticketsSince} tickets arrived after the last text grouping; run \`deflect group\` to include them.`
          : null;
  return {
    generatedAt: new Date().toISOString(),
    window: { from: from === null ? null : new Date(from).toISOString(), to: new Date(to).toISOString() },
    project,
    trackers,
    totalTickets,
    ticketsByTracker: trackerCounts(countTicketsByTracker(db, scope).map((r) => [r.tracker, r.count])),
    granularity,
    newestTicket: newest === null ? null : new Date(newest).toISOString(),
    emptyWindowHint:
      totalTickets === 0 && newest !== null && from !== null
        ? `No ticket was created in this window; the newest${scopeWords ? ` ${scopeWords}` : ''} ticket was created on ${isoDay(newest)}. Use --since all to see every ticket.`
        : null,
    groups,
    repeatRatio: periods.map((period) => {
      const p = byPeriod.get(period);
      return { period, tickets: p?.tickets ?? 0, repeated: p?.repeated ?? 0, ratio: p && p.tickets ? p.repeated / p.tickets : null };
    }),
    grouping: {
      algorithm: meta.algorithm,
      currentAlgorithm: GROUPING_VERSION,
      computedAt: meta.computedAt === null ? null : new Date(meta.computedAt).toISOString(),
      ticketsSinceGrouping: meta.ticketsSince,
      notice,
    },
    jiraBaseUrl: context.jiraBaseUrl,
  };
}

/** The ranking: steady rows before bursts, then by unmet demand, count, id. */
function byDemand(x: { id: string; burst: boolean; unmet: number; count: number }, y: typeof x): number {
  return Number(x.burst) - Number(y.burst) || y.unmet - x.unmet || y.count - x.count || (x.id < y.id ? -1 : 1);
}

/**
 * Folds request types into the label group that holds most of their tickets, when together they cover most of the
 * label: a type joins label L when more than {@link MERGE_MIN_SHARE} of its tickets carry L, and L becomes one row with
 * its types when those types hold more than {@link MERGE_MIN_SHARE} of L's tickets. One type → the row is the type,
 * saying the label; several → the row is the label, listing the types. Larger labels choose first; a type is folded
 * once. A row's count is the union (an estimate from the aggregates until its members are read, like its automated
 * count and weeks).
 */
function mergeOverlaps(single: Candidate[], overlaps: Array<{ label: string; typeId: string; count: number }>): Candidate[] {
  const typeById = new Map(single.filter((c) => c.kind === 'type').map((c) => [c.id, c]));
  const labels = single.filter((c) => c.kind === 'label').sort((a, b) => b.count - a.count || (a.id < b.id ? -1 : 1));
  const byLabel = new Map<string, Array<{ typeId: string; count: number }>>();
  for (const o of overlaps) {
    const list = byLabel.get(o.label);
    if (list) list.push(o);
    else byLabel.set(o.label, [o]);
  }
  const used = new Set<string>();
  const merged: Candidate[] = [];
  for (const l of labels) {
    const inside = (byLabel.get(l.source.label!) ?? [])
      .filter((o) => !used.has(o.typeId) && typeById.has(o.typeId) && o.count > MERGE_MIN_SHARE * typeById.get(o.typeId)!.count)
      .sort((a, b) => b.count - a.count || (a.typeId < b.typeId ? -1 : 1));
    const shared = inside.reduce((n, o) => n + o.count, 0);
    if (inside.length === 0 || shared <= MERGE_MIN_SHARE * l.count) continue;
    const types = inside.map((o) => typeById.get(o.typeId)!);
    used.add(l.id);
    for (const t of types) used.add(t.id);
    const weeks = new Map(l.weeks);
    for (const t of types) for (const [w, n] of t.weeks) weeks.set(w, Math.max(n, weeks.get(w) ?? 0));
    const one = types.length === 1 ? types[0] : null;
    merged.push({
      id: one ? one.id : l.id,
      kind: one ? 'type' : 'label',
      name: one ? one.name : l.name,
      source: { label: l.source.label, typeIds: types.map((t) => t.id) },
      count: l.count + types.reduce((n, t) => n + t.count, 0) - shared,
      automated: Math.max(l.automated, ...types.map((t) => t.automated)),
      automatedBase: l.automated,
      shared,
      weeks,
    });
  }
  return [...single.filter((c) => !used.has(c.id)), ...merged];
}

interface RowContext {
  totalTickets: number;
  previousCount: number | null;
  granularity: 'week' | 'month';
  /** Period starts of the window, `YYYY-MM-DD`. */
  periods: string[];
  templates: ReadonlyMap<string, string>;
  estimate: ReturnType<typeof estimator>;
  /** The configured Jira site, for links to Jira tickets of that site. */
  jiraBaseUrl: string | null;
}

/** One row from its member tickets: every figure is computed over the members, so count = keys.length. */
function buildRow(c: Candidate, members: MemberRow[], ctx: RowContext): ReportGroup {
  const count = members.length;
  // The aggregates counted the label's (or the single source's) automated members; the rows add the rest.
  const automated = c.automatedBase + members.reduce((n, m) => n + (m.automated ? 1 : 0), 0);
  const keys = members.map((m) => m.key).sort(compareIssueKeys);
  const links = [...members]
    .sort((x, y) => compareIssueKeys(x.key, y.key))
    .map((m) => ({ key: m.key, tracker: m.tracker as TrackerName, url: ticketUrl(m, ctx.jiraBaseUrl) }));

  const labelCounts = new Map<string, number>();
  for (const m of members) for (const label of memberLabels(m)) labelCounts.set(label, (labelCounts.get(label) ?? 0) + 1);
  const labels = [...labelCounts].map(([label, n]) => ({ label, count: n })).sort((a, b) => b.count - a.count || (a.label < b.label ? -1 : 1)).slice(0, 10);
  const dominantLabel = c.source.label ?? (labels[0] && labels[0].count * 2 >= count ? labels[0].label : null);

  const byVariant = new Map<string | null, string[]>();
  for (const m of members) {
    const id = m.variantId !== null && ctx.templates.has(m.variantId) ? m.variantId : null;
    const keys = byVariant.get(id);
    if (keys) keys.push(m.key);
    else byVariant.set(id, [m.key]);
  }
  const variants: ReportVariant[] = [...byVariant]
    .map(([id, vk]) => ({ id, template: id === null ? UNREPEATED_WORDING : ctx.templates.get(id)!, count: vk.length, keys: vk.sort(compareIssueKeys) }))
    .sort((a, b) => Number(a.id === null) - Number(b.id === null) || b.count - a.count || (a.template < b.template ? -1 : 1));

  const perPeriod = new Map<string, number>();
  const perWeek = new Map<number, number>();
  for (const m of members) {
    if (m.created === null) continue;
    const period = isoDay(periodStart(m.created, ctx.granularity));
    perPeriod.set(period, (perPeriod.get(period) ?? 0) + 1);
    const week = weekIndex(m.created);
    perWeek.set(week, (perWeek.get(week) ?? 0) + 1);
  }
  const burst = detectBurst(perWeek, count);
  const hours = members.filter((m) => m.resolved !== null && m.created !== null).map((m) => (m.resolved! - m.created!) / 3_600_000);
  const minutes = ctx.estimate.minutes(c.kind === 'type' ? [c.name, ...variants.map((v) => v.template)] : [], dominantLabel);
  const share = count ? automated / count : 0;
  return {
    id: c.id,
    key: c.name,
    kind: c.kind,
    name: c.name,
    label: c.source.label,
    merged: c.shared !== null && c.source.label !== null ? { label: c.source.label, typeIds: [...c.source.typeIds], shared: c.shared } : null,
    count,
    trackers: countByTracker(members.map((m) => m.tracker)),
    share: ctx.totalTickets ? count / ctx.totalTickets : 0,
    previousCount: ctx.previousCount,
    change: ctx.previousCount ? (count - ctx.previousCount) / ctx.previousCount : null,
    series: ctx.periods.map((period) => ({ period, count: perPeriod.get(period) ?? 0 })),
    medianTimeToResolutionHours: round(quantile(hours, 0.5)),
    p90TimeToResolutionHours: round(quantile(hours, 0.9)),
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
    keys,
    links,
    exampleKeys: [...members].sort((x, y) => (y.created ?? 0) - (x.created ?? 0) || compareIssueKeys(x.key, y.key)).slice(0, 5).map((m) => m.key),
    variants,
    handler: ctx.estimate.handlerOf(dominantLabel),
  };
}

/** A member's labels, lower-cased and distinct (as `ticket_labels` keeps them). */
function memberLabels(m: MemberRow): string[] {
  try {
    const value: unknown = JSON.parse(m.labels);
    return Array.isArray(value) ? [...new Set(value.filter((l): l is string => typeof l === 'string').map((l) => l.toLowerCase()))] : [];
  } catch {
    return [];
  }
}

/**
 * Minutes per ticket: by the row's label, then the handler its label routes to, then (types) by the type's name or
 * one of its variant templates, else `defaultMinutes`. The config's records become Maps, so no label reads a
 * prototype property.
 */
function estimator(context: ReportContext) {
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
