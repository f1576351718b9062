/**
 * The top-tickets report's figures, aggregated in JavaScript from the scope's tickets read once as columns
 * (`scanScopeTickets`, src/db/report-scan.ts): per label and per request type their tickets, automated tickets and
 * tickets per ISO week; the overlap of labels with types; the repeat ratio per period; and, for the rows shown, every
 * per-row figure (trackers, labels, variants, series, time to resolution) over the row's members. Members are ticket
 * indexes into those columns; nothing here reads the database.
 */
import { weekIndex, type MemberSource } from '../db/report-queries.js';
import type { ScopeTickets } from '../db/report-scan.js';
import { isoDay, periodStart } from './report-window.js';

/** A label's or a request type's tickets in the scope. */
export interface SourceTotals {
  count: number;
  automated: number;
  /** ISO week index (see `weekIndex`) → tickets, over tickets with a known `created`. */
  weeks: Map<number, number>;
}

/** Per label and per request type (every stored type, by id), their tickets in the scope. */
export interface ScopeAggregates {
  tickets: ScopeTickets;
  /** `created` of the oldest ticket of the scope, or null. */
  firstCreated: number | null;
  /** Tickets per tracker name. */
  byTracker: Array<[string, number]>;
  labels: Map<string, SourceTotals>;
  types: Map<string, SourceTotals>;
  /** Ticket indexes per label and per type (by their index in `tickets.labels` / `tickets.types`), ascending. */
  labelMembers: Int32Array[];
  typeMembers: Int32Array[];
}

/** Tickets, automated tickets and weekly counts per label and per type, in one pass over the columns. */
export function aggregateScope(tickets: ScopeTickets): ScopeAggregates {
  const labelTotals = tickets.labels.map(emptyTotals);
  const typeTotals = tickets.types.map(emptyTotals);
  const perTracker = new Array<number>(tickets.trackers.length).fill(0);
  let firstCreated = Infinity;
  for (let i = 0; i < tickets.size; i++) {
    const created = tickets.created[i];
    const week = Number.isNaN(created) ? null : weekIndex(created);
    if (created < firstCreated) firstCreated = created;
    const automated = tickets.automated[i];
    perTracker[tickets.tracker[i]]++;
    for (const label of tickets.labelSets[tickets.labelSet[i]]) add(labelTotals[label], automated, week);
    if (tickets.type[i] >= 0) add(typeTotals[tickets.type[i]], automated, week);
  }
  // Member lists sized by the counts just made (typed arrays: one buffer each, outside the JavaScript heap).
  const labelMembers = labelTotals.map((t) => new Int32Array(t.count));
  const typeMembers = typeTotals.map((t) => new Int32Array(t.count));
  const labelFill = new Int32Array(labelTotals.length);
  const typeFill = new Int32Array(typeTotals.length);
  for (let i = 0; i < tickets.size; i++) {
    for (const label of tickets.labelSets[tickets.labelSet[i]]) labelMembers[label][labelFill[label]++] = i;
    const type = tickets.type[i];
    if (type >= 0) typeMembers[type][typeFill[type]++] = i;
  }
  return {
    tickets,
    firstCreated: firstCreated === Infinity ? null : firstCreated,
    byTracker: tickets.trackers.map((name, i) => [name, perTracker[i]]),
    labels: new Map(tickets.labels.map((label, i) => [label, labelTotals[i]])),
    types: new Map(tickets.types.map((type, i) => [type, typeTotals[i]])),
    labelMembers,
    typeMembers,
  };
}

const emptyTotals = (): SourceTotals => ({ count: 0, automated: 0, weeks: new Map() });

function add(totals: SourceTotals, automated: number, week: number | null): void {
  totals.count++;
  totals.automated += automated;
  if (week !== null) totals.weeks.set(week, (totals.weeks.get(week) ?? 0) + 1);
}

/** For each of `labels`: its tickets per request type (any stored type), the overlap of a label group with a type. */
export function labelTypeOverlaps(tickets: ScopeTickets, labels: readonly string[]): Array<{ label: string; typeId: string; count: number }> {
  const wanted = new Map(labels.map((label) => [tickets.labels.indexOf(label), new Map<number, number>()]));
  wanted.delete(-1);
  if (wanted.size === 0) return [];
  for (let i = 0; i < tickets.size; i++) {
    const type = tickets.type[i];
    if (type < 0) continue;
    for (const label of tickets.labelSets[tickets.labelSet[i]]) {
      const counts = wanted.get(label);
      if (counts) counts.set(type, (counts.get(type) ?? 0) + 1);
    }
  }
  return [...wanted].flatMap(([label, counts]) => [...counts].map(([type, count]) => ({ label: tickets.labels[label], typeId: tickets.types[type], count })));
}

/**
 * Tickets per period (`YYYY-MM-DD` of its start) with a known `created`, and how many of them repeat: carry one of
 * `labels` or belong to one of `typeIds`. Periods without tickets are absent.
 */
export function repeatedPerPeriod(
  tickets: ScopeTickets,
  granularity: 'week' | 'month',
  labels: readonly string[],
  typeIds: readonly string[],
): Map<string, { tickets: number; repeated: number }> {
  const repeatedLabels = new Set(labels);
  const repeatedTypes = new Set(typeIds);
  const setRepeats = tickets.labelSets.map((set) => set.some((label) => repeatedLabels.has(tickets.labels[label])));
  const typeRepeats = tickets.types.map((type) => repeatedTypes.has(type));
  const byStart = new Map<number, { tickets: number; repeated: number }>();
  for (let i = 0; i < tickets.size; i++) {
    const created = tickets.created[i];
    if (Number.isNaN(created)) continue;
    const start = periodStart(created, granularity);
    let period = byStart.get(start);
    if (!period) byStart.set(start, (period = { tickets: 0, repeated: 0 }));
    period.tickets++;
    if (setRepeats[tickets.labelSet[i]] || (tickets.type[i] >= 0 && typeRepeats[tickets.type[i]])) period.repeated++;
  }
  return new Map([...byStart].map(([start, counts]) => [isoDay(start), counts]));
}

/**
 * The members of a source (ticket indexes): the label's tickets, then the types' tickets that do not carry the label
 * (a ticket counts once in a row that stands for a label and its types).
 */
export function sourceMembers(aggregates: ScopeAggregates, source: MemberSource): Int32Array {
  const { tickets } = aggregates;
  const label = source.label === null ? -1 : tickets.labels.indexOf(source.label);
  const types = source.typeIds.map((id) => tickets.types.indexOf(id)).filter((type) => type >= 0);
  const fromLabel = label < 0 ? new Int32Array(0) : aggregates.labelMembers[label];
  const members = new Int32Array(fromLabel.length + types.reduce((n, type) => n + aggregates.typeMembers[type].length, 0));
  members.set(fromLabel);
  let size = fromLabel.length;
  const hasLabel = tickets.labelSets.map((set) => set.includes(label));
  for (const type of types) for (const i of aggregates.typeMembers[type]) if (!hasLabel[tickets.labelSet[i]]) members[size++] = i;
  return members.subarray(0, size);
}

/** What a row shows about its members, computed over all of them. */
export interface MemberStats {
  count: number;
  automated: number;
  /** Tickets per tracker name. */
  trackers: Array<[string, number]>;
  /** Label → members carrying it. */
  labels: Map<string, number>;
  /** Stored variant id (or null without one) → members. */
  variants: Map<string | null, number>;
  /** Period start (`YYYY-MM-DD`) → members, over members with a known `created`. */
  periods: Map<string, number>;
  /** ISO week index → members. */
  weeks: Map<number, number>;
  /** resolved − created of the resolved members, hours, ascending. */
  hoursToResolve: Float64Array;
}

/** Every per-row figure over `members` (ticket indexes into `tickets`). */
export function memberStats(tickets: ScopeTickets, members: ArrayLike<number> & Iterable<number>, granularity: 'week' | 'month'): MemberStats {
  const perTracker = new Int32Array(tickets.trackers.length);
  const perLabel = new Int32Array(tickets.labels.length);
  // Slot 0: no variant; slot v + 1: variant v.
  const perVariant = new Int32Array(tickets.variants.length + 1);
  // Members per UTC day: a ticket's period and ISO week depend on its day only, so each is worked out once per day.
  const perDay = new Map<number, number>();
  const hours = new Float64Array(members.length);
  let resolvedCount = 0;
  let automated = 0;
  for (const i of members) {
    automated += tickets.automated[i];
    perTracker[tickets.tracker[i]]++;
    for (const label of tickets.labelSets[tickets.labelSet[i]]) perLabel[label]++;
    perVariant[tickets.variant[i] + 1]++;
    const created = tickets.created[i];
    if (Number.isNaN(created)) continue;
    const day = Math.floor(created / DAY_MS);
    perDay.set(day, (perDay.get(day) ?? 0) + 1);
    if (!Number.isNaN(tickets.resolved[i])) hours[resolvedCount++] = (tickets.resolved[i] - created) / 3_600_000;
  }
  const periods = new Map<string, number>();
  const weeks = new Map<number, number>();
  for (const [day, n] of perDay) {
    const period = isoDay(periodStart(day * DAY_MS, granularity));
    periods.set(period, (periods.get(period) ?? 0) + n);
    const week = weekIndex(day * DAY_MS);
    weeks.set(week, (weeks.get(week) ?? 0) + n);
  }
  const variants = new Map<string | null, number>();
  perVariant.forEach((n, slot) => {
    if (n > 0) variants.set(slot === 0 ? null : tickets.variants[slot - 1], n);
  });
  return {
    count: members.length,
    automated,
    trackers: tickets.trackers.map((name, i): [string, number] => [name, perTracker[i]]).filter(([, n]) => n > 0),
    labels: new Map(tickets.labels.map((label, i): [string, number] => [label, perLabel[i]]).filter(([, n]) => n > 0)),
    variants,
    periods,
    weeks,
    hoursToResolve: hours.subarray(0, resolvedCount).sort(),
  };
}

const DAY_MS = 86_400_000;
