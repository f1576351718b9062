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
 * How it reads: the scope's tickets once, as columns (`scanScopeTickets`, src/db/report-scan.ts), aggregated in
 * JavaScript (report-aggregates.ts); then per row shown its previous-window count and its keys — every key sorted by
 * key (`keys: 'all'`, the default and the CLI's) or the newest {@link KEYS_PER_PAGE} with a link to the rest (`keys:
 * 'first'`, the API's; report-keys.ts). Reads only, in one read transaction (a consistent snapshot), so it is safe
 * next to a live server.
 */
import type { Store } from '../db/store.js';
import { type MemberSource, type ReportScope } from '../db/report-queries.js';
import { scanScopeTickets } from '../db/report-scan.js';
import { groupingMeta } from '../db/text-groups.js';
import { GROUPING_VERSION } from '../grouping/group-tickets.js';
import type { TrackerName } from '../trackers/tracker.js';
import { aggregateScope, labelTypeOverlaps, memberStats, repeatedPerPeriod, sourceMembers, type ScopeAggregates } from './report-aggregates.js';
import { encodeKeysCursor, exampleKeysOf, keysPagePath, KEYS_PER_PAGE, listAllKeys, listMembers, type KeysMode } from './report-keys.js';
import { buildRow, detectBurst, estimator, type Candidate, type Estimator, type ReportContext, type RowKeys } from './report-row.js';
import type { TopTicketsReport } from './report-types.js';
import { trackerCounts } from './tracker-filter.js';
import { granularityFor, isoDay, monthsOf, previousWindow, weeksOf, type ReportWindow } from './report-window.js';

export type { ReportContext } from './report-row.js';

export interface ReportOptions {
  window: ReportWindow;
  /** Rows to show, default 10. */
  top?: number;
  project?: string | null;
  /** Only tickets of these trackers (see `parseTrackerFilter`); null or absent = every tracker. */
  trackers?: readonly TrackerName[] | null;
  /** `all` (default): every key of every row, sorted by key; `first`: the newest {@link KEYS_PER_PAGE}, with `keysNext`. */
  keys?: KeysMode;
}

/** A type joins a label's row when more than this share of its tickets carry the label, and the label's types must hold more than this share of it. */
export const MERGE_MIN_SHARE = 0.5;

/** The rows a report could show, ranked, and what they were computed from (see {@link rankCandidates}). */
interface Ranking {
  scope: ReportScope;
  aggregates: ScopeAggregates;
  meta: ReturnType<typeof groupingMeta>;
  /** Labels with ≥ 2 tickets and the current grouping's types with ≥ 2, the rows before merging. */
  labels: string[];
  typeIds: string[];
  /** Every row after merging, ranked by the aggregates (a merged row's automated count is an estimate until read). */
  ranked: Candidate[];
  estimate: Estimator;
}

/** Builds the report. @throws nothing for empty data: an empty database gives zero rows. */
export async function buildTopTicketsReport(db: Store, options: ReportOptions, context: ReportContext): Promise<TopTicketsReport> {
  return await db.snapshot(async () => await reportOf(db, options, context));
}

/**
 * The members of row `id` of the report `options` asks for (the same window, filters and `top`): its label and types,
 * and how many tickets it has; null when no row of that report has this id (not even beyond `top`).
 */
export async function findReportRow(db: Store, options: ReportOptions, context: ReportContext, id: string): Promise<{ source: MemberSource; count: number; scope: ReportScope } | null> {
  return await db.snapshot(async () => {
    const ranking = await rankCandidates(db, options, context);
    const row = ranking.ranked.find((c) => c.id === id);
    return row ? { source: row.source, count: row.count, scope: ranking.scope } : null;
  });
}

async function rankCandidates(db: Store, options: ReportOptions, context: ReportContext): Promise<Ranking> {
  const top = options.top ?? 10;
  const trackers = options.trackers?.length ? [...options.trackers] : null;
  const scope: ReportScope = { from: options.window.from, to: options.window.to, project: options.project ?? null, trackers };
  const aggregates = aggregateScope(await db.scanScopeTickets(scope));
  const meta = await db.groupingMeta();
  const estimate = estimator(context);
  const labels = [...aggregates.labels].filter(([, l]) => l.count >= 2).map(([label]) => label);
  // Types of another algorithm's grouping are not shown (the notice asks for `deflect group`); a type no longer
  // stored (no name) is not a row.
  const names = meta.algorithm === GROUPING_VERSION ? await db.requestTypeNames([...aggregates.types].filter(([, t]) => t.count >= 2).map(([id]) => id)) : new Map<string, string>();
  const typeIds = [...names.keys()];

  const rank = (xs: Array<{ c: Candidate; burst: boolean; unmet: number }>) =>
    xs.sort((x, y) => byDemand({ ...x, id: x.c.id, count: x.c.count }, { ...y, id: y.c.id, count: y.c.count }));
  const score = (c: Candidate) => {
    const minutes = estimate.minutes(c.kind === 'type' ? [c.name] : [], c.source.label);
    return { c, burst: detectBurst(c.weeks, c.count).burst, unmet: c.count * minutes * (1 - c.automated / c.count) };
  };
  const single: Candidate[] = [
    ...labels.map((label) => {
      const l = aggregates.labels.get(label)!;
      return { id: `label:${label}`, kind: 'label' as const, name: label, source: { label, typeIds: [] }, count: l.count, automated: l.automated, shared: null, weeks: l.weeks };
    }),
    ...typeIds.map((typeId) => {
      const t = aggregates.types.get(typeId)!;
      return { id: typeId, kind: 'type' as const, name: names.get(typeId)!, source: { label: null, typeIds: [typeId] }, count: t.count, automated: t.automated, shared: null, weeks: t.weeks };
    }),
  ];
  // Only labels that could be shown are checked for overlap with the types.
  const labelPool = rank(single.filter((c) => c.kind === 'label').map(score)).slice(0, top * 3).map((x) => x.c.source.label!);
  const candidates = mergeOverlaps(single, labelTypeOverlaps(aggregates.tickets, labelPool));
  return { scope, aggregates, meta, labels, typeIds, ranked: rank(candidates.map(score)).map((x) => x.c), estimate };
}

async function reportOf(db: Store, options: ReportOptions, context: ReportContext): Promise<TopTicketsReport> {
  const top = options.top ?? 10;
  const { scope, aggregates, meta, labels, typeIds, ranked, estimate } = await rankCandidates(db, options, context);
  const { from, to, project, trackers } = scope;
  const { tickets } = aggregates;
  const totalTickets = tickets.size;
  const shown = ranked.slice(0, top);

  const windowStart = from ?? aggregates.firstCreated ?? to;
  const granularity = granularityFor(windowStart, to);
  const periods = (granularity === 'week' ? weeksOf(windowStart, to) : monthsOf(windowStart, to)).map(isoDay);
  const previous = previousWindow(options.window);
  const stats = shown.map((c) => memberStats(tickets, sourceMembers(aggregates, c.source), granularity));
  const variantIds = new Set(stats.flatMap((s) => [...s.variants.keys()].filter((v): v is string => v !== null)));
  const templates = await db.variantTemplates([...variantIds]);

  const rows = await Promise.all(shown.map(async (c, i) => {
    const previousCount = previous ? await db.countMembers({ ...previous, project, trackers }, c.source) : null;
    const keys = await rowKeys(db, scope, c, stats[i].count, options.keys ?? 'all', templates, context.jiraBaseUrl);
    return buildRow(c, stats[i], keys, { totalTickets, previousCount, periods, templates, estimate });
  }));
  // Merged rows now have exact counts: rank the rows shown again.
  const groups = rows.sort((x, y) => byDemand({ id: x.id, burst: x.burst, unmet: x.unmetDemandMinutes, count: x.count }, { id: y.id, burst: y.burst, unmet: y.unmetDemandMinutes, count: y.count }));

  const byPeriod = repeatedPerPeriod(tickets, granularity, labels, typeIds);
  const newest = await db.newestCreated(scope);
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
    trackers: trackers as TrackerName[] | null,
    totalTickets,
    ticketsByTracker: trackerCounts(aggregates.byTracker),
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

/** A row's keys: all of them sorted by key, or the newest page with the path of the next (null when none is left). */
async function rowKeys(db: Store, scope: ReportScope, c: Candidate, count: number, mode: KeysMode, templates: ReadonlyMap<string, string>, jiraBaseUrl: string | null): Promise<RowKeys> {
  const members = await db.memberKeys(scope, c.source, null, mode === 'all' ? null : KEYS_PER_PAGE);
  const listed = listMembers(members, templates, jiraBaseUrl);
  const exampleKeys = exampleKeysOf(members);
  if (mode === 'all') return { members: listAllKeys(listed), exampleKeys, next: null };
  const last = members.at(-1);
  const next = last && members.length < count ? keysPagePath(c.id, encodeKeysCursor({ group: c.id, scope, source: c.source, keyCount: count, after: last })) : null;
  return { members: listed, exampleKeys, next };
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
      shared,
      weeks,
    });
  }
  return [...single.filter((c) => !used.has(c.id)), ...merged];
}

