/**
 * The top-tickets report: which requests repeat most in a window — by label, and by text for tickets nobody
 * labelled — ranked by *unmet automatable demand* (count × minutes per ticket × (1 − automated share)), with
 * the change against the previous window, a weekly series, time to resolution, hours spent and saved, bursts
 * flagged, and the weekly repeat ratio. Shape: {@link TopTicketsReport} in `report-types.ts`.
 *
 * Reads only (aggregates in SQL, members fetched for the groups shown), so it is safe next to a live server.
 */
import type { Db } from '../db/client.js';
import { groupingMeta } from '../db/text-groups.js';
import { GROUPING_VERSION } from '../grouping/group-tickets.js';
import type { Estimates, Rule } from '../rules/rules-file.js';
import type { ReportGroup, TopTicketsReport } from './report-types.js';
import { compareIssueKeys, isoDay, previousWindow, quantile, weekStart, weeksOf, type ReportWindow } from './report-window.js';

export interface ReportContext {
  rules: readonly Rule[];
  estimates: Estimates;
  /** Site URL for ticket links (`<url>/browse/KEY`). */
  jiraBaseUrl: string | null;
}

export interface ReportOptions {
  window: ReportWindow;
  /** Groups to show, default 10. */
  top?: number;
  project?: string | null;
}

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** SQL for the ISO week index of `created` (Monday-based; 1970-01-01 was a Thursday, hence the 3-day shift). */
const WEEK_SQL = (column: string) => `((${column} + ${3 * DAY_MS}) / ${WEEK_MS})`;
const weekIndexStart = (index: number) => index * WEEK_MS - 3 * DAY_MS;

/** 1 when the ticket `t` has a succeeded run that carried the request out (an index lookup on runs.ticket_key per row). */
const AUTOMATED_SQL = `EXISTS (SELECT 1 FROM runs r WHERE r.ticket_key = t.key AND r.status = 'succeeded' AND r.applied = 1)`;

/** A group is a burst when it has ≥ 5 tickets over ≥ 3 weeks and one week holds at least half of them. */
export const BURST_MIN_TICKETS = 5;
export const BURST_WEEK_SHARE = 0.5;

interface Aggregate {
  id: string;
  key: string;
  kind: 'label' | 'text';
  count: number;
  automated: number;
}

/** Builds the report. @throws nothing for empty data: an empty database gives zero groups. */
export function buildTopTicketsReport(db: Db, options: ReportOptions, context: ReportContext): TopTicketsReport {
  const sqlite = db.$client;
  const top = options.top ?? 10;
  const project = options.project ?? null;
  const { from, to } = options.window;
  // Window filter on the `created` column of `dateAlias` (tickets, or the copy kept in ticket_labels/ticket_groups so
  // their (label|group, created) indexes serve it); the project filter always reads tickets `t`.
  const inWindow = (dateAlias: string) =>
    [
      from === null ? null : `${dateAlias}.created >= @from`,
      from === null && project === null ? null : `${dateAlias}.created < @to`,
      project ? 't.project = @project' : null,
    ]
      .filter(Boolean)
      .join(' AND ') || '1 = 1';
  const params = { from, to, project };

  const totalTickets = (sqlite.prepare(`SELECT count(*) AS n FROM tickets t WHERE ${inWindow('t')}`).get(params) as { n: number }).n;

  const labelAggregates = (
    sqlite
      .prepare(
        `SELECT l.label AS key, count(*) AS count, sum(${AUTOMATED_SQL}) AS automated
         FROM ticket_labels l JOIN tickets t ON t.id = l.ticket_id
         WHERE ${inWindow('l')}
         GROUP BY l.label HAVING count(*) >= 2`,
      )
      .all(params) as Array<Omit<Aggregate, 'id' | 'kind'>>
  ).map((a): Aggregate => ({ ...a, id: `label:${a.key}`, kind: 'label' }));
  const textAggregates = sqlite
    .prepare(
      `SELECT g.group_id AS id, tg.template AS key, count(*) AS count, sum(${AUTOMATED_SQL}) AS automated
       FROM ticket_groups g JOIN tickets t ON t.id = g.ticket_id JOIN text_groups tg ON tg.id = g.group_id
       WHERE ${inWindow('g')} GROUP BY g.group_id HAVING count(*) >= 2`,
    )
    .all(params)
    .map((a) => ({ ...(a as Aggregate), kind: 'text' as const }));

  const weekCounts = weeklyCounts(db, inWindow, params);
  const handlerOf = (label: string | null) => (label ? (context.rules.find((r) => r.labels.includes(label))?.handler ?? null) : null);
  const minutesOf = (a: { kind: string; key: string }, label: string | null) =>
    (label !== null ? context.estimates.labels[label] : undefined) ??
    (handlerOf(label) ? context.estimates.handlers[handlerOf(label)!] : undefined) ??
    (a.kind === 'text' ? context.estimates.templates[a.key] : undefined) ??
    context.estimates.defaultMinutes;

  const ranked = [...labelAggregates, ...textAggregates]
    .map((a) => {
      const burst = detectBurst(weekCounts.get(a.id) ?? new Map(), a.count);
      const minutes = minutesOf(a, a.kind === 'label' ? a.key : null);
      return { a, burst, unmet: a.count * minutes * (1 - a.automated / a.count) };
    })
    .sort((x, y) => Number(x.burst.burst) - Number(y.burst.burst) || y.unmet - x.unmet || y.a.count - x.a.count || (x.a.id < y.a.id ? -1 : 1))
    .slice(0, top);

  const windowStart = from ?? firstCreated(db, inWindow, params) ?? to;
  const weeks = weeksOf(windowStart, to);
  const previous = previousWindow(options.window);
  const groups = ranked.map(({ a, burst }) => {
    const members = memberRows(db, a, inWindow, params);
    const labels = memberLabels(db, a, inWindow, params);
    const dominantLabel = a.kind === 'label' ? a.key : labels[0] && labels[0].count * 2 >= a.count ? labels[0].label : null;
    const minutes = minutesOf(a, dominantLabel);
    const previousCount = previous ? countInWindow(db, a, previous, project) : null;
    const hours = members.filter((m) => m.resolved !== null && m.created !== null).map((m) => (m.resolved! - m.created!) / 3_600_000);
    const byWeek = new Map<string, number>();
    for (const m of members) {
      if (m.created === null) continue;
      const week = isoDay(weekStart(m.created));
      byWeek.set(week, (byWeek.get(week) ?? 0) + 1);
    }
    const keys = members.map((m) => m.key).sort(compareIssueKeys);
    const group: ReportGroup = {
      id: a.id,
      key: a.key,
      kind: a.kind,
      count: a.count,
      share: totalTickets ? a.count / totalTickets : 0,
      previousCount,
      change: previousCount ? (a.count - previousCount) / previousCount : null,
      weekly: weeks.map((w) => ({ week: isoDay(w), count: byWeek.get(isoDay(w)) ?? 0 })),
      medianTimeToResolutionHours: round(quantile(hours, 0.5)),
      p90TimeToResolutionHours: round(quantile(hours, 0.9)),
      automated: a.automated,
      automatedShare: a.automated / a.count,
      minutesPerTicket: minutes,
      hoursSpent: round((a.count * minutes) / 60)!,
      hoursSaved: round((a.automated * minutes) / 60)!,
      unmetDemandMinutes: Math.round(a.count * minutes * (1 - a.automated / a.count)),
      burst: burst.burst,
      burstReason: burst.reason,
      labels,
      dominantLabel,
      keys,
      exampleKeys: [...members].sort((x, y) => (y.created ?? 0) - (x.created ?? 0)).slice(0, 5).map((m) => m.key),
      handler: handlerOf(dominantLabel),
    };
    return group;
  });

  const meta = groupingMeta(db);
  const notice =
    meta.algorithm === null
      ? 'No text grouping stored yet: run `deflect group` (imports run it) to find repeats among unlabelled tickets.'
      : meta.algorithm !== GROUPING_VERSION
        ? `The stored text grouping was made by ${meta.algorithm}; this deflect uses ${GROUPING_VERSION}. Run \`deflect group\` to regroup.`
        : meta.ticketsSince > 0
          ? `${meta.ticketsSince} tickets arrived after the last text grouping; run \`deflect group\` to include them.`
          : null;
  return {
    generatedAt: new Date().toISOString(),
    window: { from: from === null ? null : new Date(from).toISOString(), to: new Date(to).toISOString() },
    project,
    totalTickets,
    groups,
    repeatRatio: repeatRatio(db, inWindow, params, labelAggregates.map((a) => a.key), weeks),
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

type WindowSql = (alias: string) => string;
type Params = { from: number | null; to: number; project: string | null };

/** Group id → (week index → tickets), for every label and text group in the window. */
function weeklyCounts(db: Db, inWindow: WindowSql, params: Params): Map<string, Map<number, number>> {
  const rows = [
    ...(db.$client
      .prepare(
        `SELECT 'label:' || l.label AS id, ${WEEK_SQL('l.created')} AS week, count(*) AS n FROM ticket_labels l
         ${params.project ? 'JOIN tickets t ON t.id = l.ticket_id' : ''}
         WHERE l.created IS NOT NULL AND ${inWindow('l')} GROUP BY l.label, week`,
      )
      .all(params) as Array<{ id: string; week: number; n: number }>),
    ...(db.$client
      .prepare(
        `SELECT g.group_id AS id, ${WEEK_SQL('g.created')} AS week, count(*) AS n FROM ticket_groups g ${params.project ? 'JOIN tickets t ON t.id = g.ticket_id' : ''}
         WHERE g.group_id IS NOT NULL AND g.created IS NOT NULL AND ${inWindow('g')} GROUP BY g.group_id, week`,
      )
      .all(params) as Array<{ id: string; week: number; n: number }>),
  ];
  const result = new Map<string, Map<number, number>>();
  for (const r of rows) {
    if (!result.has(r.id)) result.set(r.id, new Map());
    result.get(r.id)!.set(r.week, r.n);
  }
  return result;
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

function memberSource(a: Aggregate): { join: string; where: string; value: string } {
  return a.kind === 'label'
    ? { join: 'JOIN ticket_labels m ON m.ticket_id = t.id', where: 'm.label = @groupValue', value: a.key }
    : { join: 'JOIN ticket_groups m ON m.ticket_id = t.id', where: 'm.group_id = @groupValue', value: a.id };
}

function memberRows(db: Db, a: Aggregate, inWindow: WindowSql, params: Params) {
  const source = memberSource(a);
  return db.$client
    .prepare(`SELECT t.key, t.created, t.resolved FROM tickets t ${source.join} WHERE ${source.where} AND ${inWindow('m')}`)
    .all({ ...params, groupValue: source.value }) as Array<{ key: string; created: number | null; resolved: number | null }>;
}

function memberLabels(db: Db, a: Aggregate, inWindow: WindowSql, params: Params): Array<{ label: string; count: number }> {
  const source = memberSource(a);
  return db.$client
    .prepare(
      `SELECT l.label, count(*) AS count FROM tickets t ${source.join} JOIN ticket_labels l ON l.ticket_id = t.id
       WHERE ${source.where} AND ${inWindow('m')} GROUP BY l.label ORDER BY count DESC, l.label LIMIT 10`,
    )
    .all({ ...params, groupValue: source.value }) as Array<{ label: string; count: number }>;
}

function countInWindow(db: Db, a: Aggregate, window: ReportWindow, project: string | null): number {
  const source = memberSource(a);
  return (
    db.$client
      .prepare(
        `SELECT count(*) AS n FROM tickets t ${source.join} WHERE ${source.where} AND m.created >= @from AND m.created < @to ${project ? 'AND t.project = @project' : ''}`,
      )
      .get({ from: window.from, to: window.to, project, groupValue: source.value }) as { n: number }
  ).n;
}

function firstCreated(db: Db, inWindow: WindowSql, params: Params): number | null {
  return (db.$client.prepare(`SELECT min(t.created) AS m FROM tickets t WHERE ${inWindow('t')}`).get(params) as { m: number | null }).m;
}

/** Weekly share of tickets that fall into a repeated group (a label carried by ≥ 2 tickets, or a text group). */
function repeatRatio(db: Db, inWindow: WindowSql, params: Params, repeatedLabels: string[], weeks: number[]) {
  const rows = db.$client
    .prepare(
      `SELECT ${WEEK_SQL('t.created')} AS week, count(*) AS tickets,
              sum(EXISTS (SELECT 1 FROM ticket_groups g WHERE g.ticket_id = t.id AND g.group_id IS NOT NULL)
                  OR EXISTS (SELECT 1 FROM ticket_labels l WHERE l.ticket_id = t.id AND l.label IN (SELECT value FROM json_each(@labels)))) AS repeated
       FROM tickets t WHERE t.created IS NOT NULL AND ${inWindow('t')} GROUP BY week`,
    )
    .all({ ...params, labels: JSON.stringify(repeatedLabels) }) as Array<{ week: number; tickets: number; repeated: number }>;
  const byWeek = new Map(rows.map((r) => [isoDay(weekIndexStart(r.week)), r]));
  return weeks.map((w) => {
    const r = byWeek.get(isoDay(w));
    return { week: isoDay(w), tickets: r?.tickets ?? 0, repeated: r?.repeated ?? 0, ratio: r && r.tickets ? r.repeated / r.tickets : 0 };
  });
}

const round = (value: number | null) => (value === null ? null : Math.round(value * 10) / 10);
