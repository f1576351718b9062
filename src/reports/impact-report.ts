/**
 * The impact report: for each request type of the report's grouping (its rows: request types found by text, label
 * groups, or both as one row — see `top-tickets-report.ts`) that has automated runs, what changed when automation
 * started. Shape: {@link ImpactReport} in `impact-types.ts`; definitions: docs/decisions/014-impact.md.
 *
 * - **Automation start** of a type: when the first automated run (the report's definition: a live run that
 *   `succeeded` and applied its actions — never a dry run or a shadow run) on one of its tickets in the window finished.
 * - **After** = its tickets created at or after the start, plus every ticket the automation carried out (a ticket that
 *   was waiting when the rule went live is handled by the automation: it belongs to the after side). **Before** = the
 *   rest (created earlier, handled by people).
 * - **Time to resolution** = created → resolved, hours; after the start a ticket deflect resolved counts as resolved
 *   when its transition was applied, if the tracker's resolution has not come back yet. A ticket that was already
 *   waiting when the automation started (filed before the start, carried out by it — at least the very first one) is
 *   left out of both sides' times: its wait was neither people's nor the automation's (`waitingAtStart` counts them).
 * - **Hours returned** = automated tickets × the before side's median human time to resolution; when no ticket was
 *   resolved before the start, × the report's fixed minutes-per-ticket estimate (`hoursReturnedBasis` says which).
 * - **Adoption**: distinct reporters and teams (`tickets.project`: Jira project, GitHub repository, Linear team) whose
 *   request an automated run carried out, per week of the run, with the running total and its share of everyone who
 *   filed the type after the start.
 * - **Repeat share of the team's resolutions**: the report's repeat definition (`repeatedPerPeriod`), over the tickets
 *   people resolved, per week of resolution.
 *
 * Reads only; safe next to a live server.
 */
import type { Store } from '../db/store.js';
import { type ImpactTicketRow } from '../db/impact-queries.js';
import { repeatedPerPeriod, type ReportScope } from '../db/report-queries.js';
import { GROUPING_VERSION } from '../grouping/group-tickets.js';
import type { TrackerName } from '../trackers/tracker.js';
import type { AdoptionWeek, ImpactPeriod, ImpactReport, ImpactType, ImpactWeek } from './impact-types.js';
import type { ReportGroup } from './report-types.js';
import { isoDay, quantile, weekStart, weeksOf, type ReportWindow } from './report-window.js';
import { buildTopTicketsReport, type ReportContext } from './top-tickets-report.js';

export interface ImpactOptions {
  window: ReportWindow;
  project?: string | null;
  trackers?: readonly TrackerName[] | null;
  /** Only this report row (`type:<hash>` or `label:<label>`); null = every row with automated runs. */
  typeId?: string | null;
}

/** A report row id, as `--type` / `?type=` take it: `type:<12 hex>` or `label:<label>` (at most 200 characters of label). */
export const REPORT_ROW_ID = /^(type:[0-9a-f]{12}|label:\S.{0,199})$/;

/** Rows of the report the impact report looks at (every repeated request type and label of the window, in practice). */
export const MAX_IMPACT_ROWS = 1000;
const HOUR_MS = 3_600_000;
const WEEK_MS = 7 * 24 * HOUR_MS;
const round1 = (value: number) => Math.round(value * 10) / 10;
const roundOrNull = (value: number | null) => (value === null ? null : round1(value));

/** Builds the impact report. @throws nothing for empty data: no automated run gives `types: []` and an `emptyHint`. */
export async function buildImpactReport(db: Store, options: ImpactOptions, context: ReportContext): Promise<ImpactReport> {
  const project = options.project ?? null;
  const trackers = options.trackers?.length ? [...options.trackers] : null;
  const typeFilter = options.typeId ?? null;
  const report = await buildTopTicketsReport(db, { window: options.window, top: MAX_IMPACT_ROWS, project, trackers }, context);
  const automatedRows = report.groups.filter((g) => g.automated > 0);
  const chosen = typeFilter === null ? automatedRows : automatedRows.filter((g) => g.id === typeFilter);
  const rows = await db.impactTicketRows(chosen.flatMap((g) => g.links));
  const byRef = new Map<string, ImpactTicketRow[]>();
  for (const row of rows) {
    const ref = `${row.tracker} ${row.key}`;
    const list = byRef.get(ref);
    if (list) list.push(row);
    else byRef.set(ref, [row]);
  }
  const { from, to } = options.window;
  const inWindow = (t: ImpactTicketRow) => t.created !== null && (from === null || t.created >= from) && t.created < to;
  const types = chosen
    .map((g) => impactOf(g, [...new Set(g.links.map((l) => `${l.tracker} ${l.key}`))].flatMap((ref) => byRef.get(ref) ?? []).filter(inWindow), options.window))
    .filter((t): t is ImpactType => t !== null)
    .sort((a, b) => (a.automationStart < b.automationStart ? -1 : a.automationStart > b.automationStart ? 1 : a.id < b.id ? -1 : 1));

  const scope: ReportScope = { from, to, project, trackers };
  const meta = await db.groupingMeta();
  const typeIds = meta.algorithm === GROUPING_VERSION ? (await db.typeAggregates(scope)).map((t) => t.typeId) : [];
  const byWeek = await db.repeatedPerPeriod(scope, 'week', (await db.labelAggregates(scope)).map((l) => l.label), typeIds, 'resolved-by-people');
  const start = from ?? (report.window.from === null ? firstWeekOf(byWeek, to) : Date.parse(report.window.from));
  const without = report.groups.filter((g) => g.automated === 0).sort((a, b) => b.count - a.count || (a.id < b.id ? -1 : 1));

  return {
    generatedAt: report.generatedAt,
    window: report.window,
    project,
    trackers,
    typeFilter,
    types,
    withoutAutomation: { count: without.length, examples: without.slice(0, 10).map((g) => ({ id: g.id, name: g.name, tickets: g.count })) },
    repeatShare: weeksOf(start, to).map((w) => {
      const p = byWeek.get(isoDay(w));
      return { week: isoDay(w), resolvedByPeople: p?.tickets ?? 0, repeated: p?.repeated ?? 0, share: p && p.tickets ? p.repeated / p.tickets : null };
    }),
    totals: {
      automated: types.reduce((n, t) => n + t.automated, 0),
      resolvedByDeflect: types.reduce((n, t) => n + t.resolvedByDeflect, 0),
      hoursReturned: round1(types.reduce((n, t) => n + t.hoursReturned, 0)),
    },
    emptyHint: types.length ? null : emptyHint(typeFilter, automatedRows.length, report.totalTickets),
    groupingNotice: report.grouping.notice,
  };
}

/** The earliest week with a resolution (an open window's repeat series starts there), else the window end's week. */
function firstWeekOf(byWeek: ReadonlyMap<string, unknown>, to: number): number {
  const first = [...byWeek.keys()].sort()[0];
  return first === undefined ? weekStart(to - 1) : Date.parse(`${first}T00:00:00Z`);
}

function emptyHint(typeFilter: string | null, automatedRows: number, totalTickets: number): string {
  if (typeFilter !== null) {
    return automatedRows
      ? `no automated runs yet for "${typeFilter}" in this window: it is not a request type or label with automated runs here (deflect impact lists them).`
      : `no automated runs yet: no request type or label in this window has one, so "${typeFilter}" has none either.`;
  }
  return totalTickets === 0
    ? 'no automated runs yet: no ticket was created in this window. Widen it (--since all) or import history (deflect import).'
    : 'no automated runs yet: no ticket of a repeated request type or label in this window has a run that succeeded and applied its actions. ' +
        'Shadow and dry runs do not count: put a rule in live mode (README "Rolling out"), or widen the window (--since all).';
}

/** Hours between two instants. */
const hoursBetween = (a: number, b: number) => (b - a) / HOUR_MS;

/** One side's figures over its tickets; `resolution` gives a ticket's resolution time or null. */
function period(tickets: readonly ImpactTicketRow[], from: number, to: number, resolution: (t: ImpactTicketRow) => number | null): ImpactPeriod {
  const observed = (to - from) / WEEK_MS;
  const weeks = Math.max(1, observed);
  const ttr = tickets.flatMap((t) => {
    const resolved = resolution(t);
    return resolved === null || t.created === null ? [] : [Math.max(0, hoursBetween(t.created, resolved))];
  });
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    weeks: round1(weeks),
    shorterThanAWeek: observed < 1,
    tickets: tickets.length,
    ticketsPerWeek: round1(tickets.length / weeks),
    resolved: ttr.length,
    ttrP50Hours: roundOrNull(quantile(ttr, 0.5)),
    ttrP90Hours: roundOrNull(quantile(ttr, 0.9)),
  };
}

/** The impact of one report row from its member tickets in the window; null when none has an automated run. */
function impactOf(group: ReportGroup, members: ImpactTicketRow[], window: ReportWindow): ImpactType | null {
  const automatedTickets = members.filter((t) => t.automatedAt !== null);
  if (automatedTickets.length === 0) return null;
  const first = automatedTickets.reduce((a, b) => (b.automatedAt! < a.automatedAt! ? b : a));
  const start = first.automatedAt!;
  const after = members.filter((t) => t.automatedAt !== null || t.created! >= start);
  const before = members.filter((t) => t.automatedAt === null && t.created! < start);
  const windowStart = window.from ?? Math.min(...members.map((t) => t.created!));
  const beforeSide = period(before, Math.min(windowStart, start), start, (t) => t.resolved);
  const afterSide = period(after, start, Math.max(window.to, start), (t) => (t.created! < start ? null : (t.resolved ?? t.deflectResolvedAt)));
  const resolvedByDeflect = after.filter((t) => t.deflectResolvedAt !== null).length;
  const history = beforeSide.ttrP50Hours;
  // The unrounded median, so hours returned is exactly automated × median.
  const medianBefore = quantile(before.flatMap((t) => (t.resolved === null ? [] : [Math.max(0, hoursBetween(t.created!, t.resolved))])), 0.5);
  const hoursPerTicket = history !== null && medianBefore !== null ? medianBefore : group.minutesPerTicket / 60;

  return {
    id: group.id,
    name: group.name,
    kind: group.kind,
    label: group.label,
    handler: first.automatedBy,
    automationStart: new Date(start).toISOString(),
    automationStartWeek: isoDay(weekStart(start)),
    before: beforeSide,
    after: afterSide,
    automated: automatedTickets.length,
    waitingAtStart: after.filter((t) => t.created! < start).length,
    resolvedByDeflect,
    shareResolvedByDeflect: after.length ? resolvedByDeflect / after.length : null,
    hoursReturned: round1(automatedTickets.length * hoursPerTicket),
    hoursPerTicket: round1(hoursPerTicket),
    hoursReturnedBasis: history !== null ? 'history' : 'estimate',
    weekly: weeklySeries(members, windowStart, window.to),
    adoption: adoptionSeries(automatedTickets, after, start, window.to),
    reportersAfter: distinct(after.map((t) => t.reporter)),
    teamsAfter: distinct(after.map((t) => t.team)),
  };
}

const distinct = (values: ReadonlyArray<string | null>) => new Set(values.filter((v): v is string => v !== null)).size;

/** Tickets and automated tickets per week of creation, every week of [from, to). */
function weeklySeries(members: readonly ImpactTicketRow[], from: number, to: number): ImpactWeek[] {
  const counts = new Map<number, { tickets: number; automated: number }>();
  for (const t of members) {
    const w = weekStart(t.created!);
    const c = counts.get(w) ?? { tickets: 0, automated: 0 };
    c.tickets++;
    if (t.automatedAt !== null) c.automated++;
    counts.set(w, c);
  }
  return weeksOf(from, to).map((w) => ({ week: isoDay(w), tickets: counts.get(w)?.tickets ?? 0, automated: counts.get(w)?.automated ?? 0 }));
}

/** Reporters and teams per week of their automated run, from the start's week to the window end (runs after the window end count in its last week). */
function adoptionSeries(automated: readonly ImpactTicketRow[], after: readonly ImpactTicketRow[], start: number, to: number): AdoptionWeek[] {
  const everyone = distinct(after.map((t) => t.reporter));
  const weeks = weeksOf(start, Math.max(to, start + 1));
  const last = weeks[weeks.length - 1];
  const seenReporters = new Set<string>();
  const seenTeams = new Set<string>();
  return weeks.map((w) => {
    const inWeek = automated.filter((t) => Math.min(weekStart(t.automatedAt!), last) === w);
    const reporters = new Set(inWeek.flatMap((t) => (t.reporter === null ? [] : [t.reporter])));
    const teams = new Set(inWeek.flatMap((t) => (t.team === null ? [] : [t.team])));
    for (const r of reporters) seenReporters.add(r);
    for (const team of teams) seenTeams.add(team);
    return {
      week: isoDay(w),
      reporters: reporters.size,
      teams: teams.size,
      cumulativeReporters: seenReporters.size,
      cumulativeTeams: seenTeams.size,
      reporterShare: everyone ? seenReporters.size / everyone : null,
    };
  });
}
