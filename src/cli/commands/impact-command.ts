/**
 * `deflect impact`: what automation changed per request type — before vs after the first automated run (tickets per
 * week, time to resolution p50/p90, share resolved by deflect, hours returned, adoption). Opens the database
 * read-only, so it is safe next to a running server. JSON shape: `ImpactReport` (src/reports/impact-types.ts).
 */
import type { Command } from 'commander';
import { commandDescription } from '../command-manifest.js';
import { cliConfig, openReadDatabase } from '../cli-database.js';
import { asUsage, UsageError } from '../cli-errors.js';
import type { ImpactReport, ImpactType } from '../../reports/impact-types.js';
import { buildImpactReport, REPORT_ROW_ID } from '../../reports/impact-report.js';
import { reportContextFor } from '../../reports/report-context.js';
import { resolveWindow } from '../../reports/report-window.js';
import { parseFormat, percent, renderTable } from '../output.js';
import { addTrackerOption, parseTrackerOption } from './tracker-option.js';

const FORMATS = ['table', 'json'] as const;
const HEAD = ['request type / label', 'automated since', 'tickets/week before → after', 'TTR p50 h before → after', 'TTR p90 h before → after', 'resolved by deflect', 'hours returned', 'adoption'];

/** Hours to one decimal; under 0.05 h (3 min, which the report rounds to 0) as `<0.1`. */
const h = (value: number | null) => (value === null ? '—' : value < 0.05 ? '<0.1' : value.toFixed(1));
const arrow = (before: number | null, after: number | null, format = h) => `${format(before)} → ${format(after)}`;
const rate = (value: number | null) => (value === null ? '—' : value.toFixed(1));

/** The table row of one type. */
function rowOf(t: ImpactType): string[] {
  const last = t.adoption[t.adoption.length - 1];
  return [
    `${t.name}\n  ${t.id}${t.handler ? `\n  handler ${t.handler}` : ''}`,
    `${t.automationStart.slice(0, 10)}\n  (week of ${t.automationStartWeek})`,
    `${arrow(t.before.ticketsPerWeek, t.after.ticketsPerWeek, rate)}\n  ${t.before.tickets} in ${t.before.weeks} wk → ${t.after.tickets} in ${t.after.shorterThanAWeek ? '< 1 wk (as 1)' : `${t.after.weeks} wk`}`,
    `${arrow(t.before.ttrP50Hours, t.after.ttrP50Hours)}${t.waitingAtStart ? `\n  (${t.waitingAtStart} waiting at\n  the start left out)` : ''}`,
    arrow(t.before.ttrP90Hours, t.after.ttrP90Hours),
    `${percent(t.shareResolvedByDeflect)}\n  ${t.resolvedByDeflect} of ${t.after.tickets} after`,
    `${t.hoursReturned.toFixed(1)}\n  ${t.automated} × ${t.hoursPerTicket.toFixed(1)} h\n  (${t.hoursReturnedBasis === 'history' ? 'median human TTR before' : 'fixed estimate: no history'})`,
    last ? `${last.cumulativeReporters} of ${t.reportersAfter} reporters\n  ${last.cumulativeTeams} of ${t.teamsAfter} teams` : '—',
  ];
}

/** The impact report as text: a line for the window, the table (or the empty state), the repeat share and notices. */
export function renderImpactText(report: ImpactReport): string {
  const lines = [
    `Impact of automation per request type, ${report.window.from ?? 'all time'} → ${report.window.to}${report.project ? `, project ${report.project}` : ''}` +
      `${report.trackers ? `, ${report.trackers.join(' + ')} only` : ''}${report.typeFilter ? `, ${report.typeFilter}` : ''}`,
  ];
  if (report.types.length) {
    lines.push(renderTable(HEAD, report.types.map(rowOf)));
    lines.push(`Total: ${report.totals.automated} automated tickets, ${report.totals.resolvedByDeflect} resolved by deflect, ${report.totals.hoursReturned.toFixed(1)} hours returned.`);
  } else {
    lines.push(report.emptyHint ?? 'no automated runs yet.');
  }
  if (report.withoutAutomation.count) {
    const names = report.withoutAutomation.examples.slice(0, 5).map((e) => `${e.name} (${e.tickets})`).join(', ');
    lines.push(`${report.withoutAutomation.count} request types or labels have no automated run yet: ${names}${report.withoutAutomation.count > 5 ? ', …' : ''}.`);
  }
  const weeks = report.repeatShare.filter((w) => w.share !== null);
  if (weeks.length) {
    const last = weeks.slice(-4).map((w) => `${w.week} ${percent(w.share)} (${w.repeated}/${w.resolvedByPeople})`).join(', ');
    lines.push(`Repeat share of the tickets people resolved, last weeks with resolutions: ${last}.`);
  }
  if (report.groupingNotice) lines.push(report.groupingNotice);
  return `${lines.join('\n')}\n`;
}

export function registerImpactCommand(program: Command): void {
  const command = program
    .command('impact')
    .description(commandDescription('impact'))
    .option('--since <window>', 'window: 90d, 12h, 2w or all', '90d')
    .option('--from <date>', 'window start, e.g. 2026-01-01 (with --to; wins over --since)')
    .option('--to <date>', 'window end (exclusive), default now')
    .option('--type <id>', 'only this request type or label (its id: type:<hash> or label:<label>, as the JSON shows)')
    .option('--project <key>', 'only this project (Jira project, GitHub owner/repo, Linear team)')
    .option('--format <format>', FORMATS.join(', '), 'table');
  addTrackerOption(command, 'tickets').action(
    async (options: { since: string; from?: string; to?: string; type?: string; project?: string; tracker?: string[]; format: string }) => {
      const format = parseFormat(options.format, FORMATS);
      const trackers = parseTrackerOption(options.tracker);
      if (options.type !== undefined && !REPORT_ROW_ID.test(options.type)) {
        throw new UsageError(`invalid --type "${options.type.slice(0, 60)}": use a report row id like type:1a2b3c4d5e6f or label:access-request`);
      }
      const window = asUsage(() => resolveWindow(options));
      const config = cliConfig();
      const context = reportContextFor(config);
      const db = await openReadDatabase(config);
      try {
        const report = await buildImpactReport(db, { window, typeId: options.type ?? null, project: options.project, trackers }, context);
        if (format === 'json') console.log(JSON.stringify(report, null, 2));
        else process.stdout.write(renderImpactText(report));
      } finally {
        await db.close();
      }
    },
  );
}
