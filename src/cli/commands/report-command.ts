import type { Command } from 'commander';
import { commandDescription } from '../command-manifest.js';
import { cliConfig, openReadDatabase } from '../cli-database.js';
import { asUsage, UsageError } from '../cli-errors.js';
import { remoteJson, remoteOf, urlOption, type Remote } from '../remote.js';
import { reportContextFor } from '../../reports/report-context.js';
import type { ReportGroup, TopTicketsReport } from '../../reports/report-types.js';
import { durationOption } from '../../duration.js';
import { keyFields, listAllKeys, MAX_KEYS_PAGE, membersOf, type KeysMode } from '../../reports/report-keys.js';
import type { ReportKeysPage } from '../../reports/report-keys-page.js';
import { resolveWindow } from '../../reports/report-window.js';
import { buildTopTicketsReport } from '../../reports/top-tickets-report.js';
import { parseFormat, percent, renderCsv, renderTable } from '../output.js';
import { addTrackerOption, parseTrackerOption } from './tracker-option.js';

const FORMATS = ['table', 'json', 'csv', 'markdown'] as const;
const KEYS = ['all', 'first'] as const;
const HEAD = ['#', 'request type / label', 'kind', 'count', 'trackers', 'share', 'change', 'automated', 'median TTR h', 'p90 TTR h', 'hours spent', 'unmet demand h', 'label', 'keys'];
/** Variants shown under each type in the table and markdown formats. */
const SHOWN_VARIANTS = 3;

const change = (g: ReportGroup) => (g.change === null ? '—' : `${g.change >= 0 ? '+' : ''}${Math.round(g.change * 100)}%`);
const hours = (value: number | null) => (value === null ? '—' : value.toFixed(1));
/** `jira 3` / `github 2`, one tracker a line (the table stays narrow). */
const trackersOf = (g: ReportGroup) => Object.entries(g.trackers).map(([t, n]) => `${t} ${n}`);
const keysOf = (g: ReportGroup, n = 4) => {
  const total = g.keyCount ?? g.keys.length;
  return total > n ? `${g.keys.slice(0, n).join(' ')} … (${total})` : g.keys.join(' ');
};
/** `type`, `label`, or `type+label` for a type and a label shown as one row. */
const kindOf = (g: ReportGroup) => (g.merged ? 'type+label' : g.kind);
/** The row's title: the type's name (with the label folded into it) or the label, and `[burst]`. */
const titleOf = (g: ReportGroup) => `${g.name}${g.merged ? ` (= label ${g.merged.label}, ${g.merged.shared} shared)` : ''}${g.burst ? ' [burst]' : ''}`;
/** The top variants, `Add <*> to <*> maintainers ×12`, and how many more. */
function variantLines(g: ReportGroup): string[] {
  if (g.kind === 'label' && !g.merged) return [];
  const lines = g.variants.slice(0, SHOWN_VARIANTS).map((v) => `${v.template} ×${v.count}`);
  if (g.variants.length > SHOWN_VARIANTS) lines.push(`+${g.variants.length - SHOWN_VARIANTS} more variants`);
  return lines;
}

function rowsOf(report: TopTicketsReport): Array<Array<string | number>> {
  return report.groups.map((g, i) => [
    i + 1,
    [titleOf(g), ...variantLines(g).map((line) => `  · ${line}`)].join('\n'),
    kindOf(g),
    g.count,
    trackersOf(g).join('\n'),
    percent(g.share),
    change(g),
    percent(g.automatedShare),
    hours(g.medianTimeToResolutionHours),
    hours(g.p90TimeToResolutionHours),
    g.hoursSpent.toFixed(1),
    (g.unmetDemandMinutes / 60).toFixed(1),
    g.dominantLabel ?? (g.labels[0] ? `(${g.labels[0].label}?)` : '—'),
    keysOf(g),
  ]);
}

function windowLine(report: TopTicketsReport): string {
  const trackers = Object.entries(report.ticketsByTracker).map(([t, n]) => `${t} ${n}`).join(', ');
  return (
    `${report.window.from ?? 'all time'} → ${report.window.to}${report.project ? `, project ${report.project}` : ''}` +
    `${report.trackers ? `, ${report.trackers.join(' + ')} only` : ''}: ${report.totalTickets} tickets${trackers ? ` (${trackers})` : ''}`
  );
}

function renderMarkdown(report: TopTicketsReport): string {
  const escape = (v: string | number) => String(v).replace(/\|/g, '\\|').replace(/\n/g, '<br>');
  const lines = [
    `# Top repeated requests`,
    '',
    `${windowLine(report)}.`,
    '',
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map(() => '---').join('|')}|`,
    ...rowsOf(report).map((r) => `| ${r.map(escape).join(' | ')} |`),
  ];
  const bursts = report.groups.filter((g) => g.burst);
  if (bursts.length) lines.push('', ...bursts.map((g) => `- **${g.name}** is a burst, not steady demand: ${g.burstReason}.`));
  if (report.emptyWindowHint) lines.push('', `> ${report.emptyWindowHint}`);
  if (report.grouping.notice) lines.push('', `> ${report.grouping.notice}`);
  return `${lines.join('\n')}\n`;
}

function renderCsvReport(report: TopTicketsReport): string {
  const rows = report.groups.map((g) => [
    g.id, g.name, g.kind, g.label, g.count, g.share, g.previousCount, g.change, g.automated, g.automatedShare, g.medianTimeToResolutionHours,
    g.p90TimeToResolutionHours, g.minutesPerTicket, g.hoursSpent, g.hoursSaved, g.unmetDemandMinutes, String(g.burst), g.dominantLabel,
    g.variants.map((v) => `${v.template} (${v.count})`).join('; '), g.keys.join(' '), trackersOf(g).join(' '),
  ]);
  const head = ['id', 'name', 'kind', 'label', 'count', 'share', 'previous', 'change', 'automated', 'automated_share', 'median_ttr_hours', 'p90_ttr_hours',
    'minutes_per_ticket', 'hours_spent', 'hours_saved', 'unmet_demand_minutes', 'burst', 'dominant_label', 'variants', 'keys', 'trackers'];
  return renderCsv(head, rows);
}

/**
 * Every key of every row of a report the API answered (its first pages): the rest fetched page by page from each
 * row's `keysNext` ({@link MAX_KEYS_PAGE} a request), then sorted by key as the local report lists them.
 */
async function completeRemoteKeys(remote: Remote, report: TopTicketsReport): Promise<TopTicketsReport> {
  const groups: ReportGroup[] = [];
  for (const g of report.groups) {
    if (!g.keysNext) {
      groups.push(g);
      continue;
    }
    const members = membersOf(g);
    for (let next: string | null = g.keysNext; next; ) {
      const page: ReportKeysPage = await remoteJson<ReportKeysPage>(remote, 'GET', next, { limit: MAX_KEYS_PAGE });
      members.push(...membersOf(page));
      next = page.next;
    }
    const all = listAllKeys(members);
    groups.push({ ...g, ...keyFields(all, g.variants), keysNext: null });
  }
  return { ...report, groups };
}

/** `deflect report`: the most repeated requests — request types (with their variants) and labels — ranked by unmet automatable demand. */
export function registerReportCommand(program: Command): void {
  const command = program
    .command('report')
    .description(commandDescription('report'))
    .addOption(durationOption('--since <window>', 'window', { allowAll: true }, '30d'))
    .option('--from <date>', 'window start, e.g. 2026-01-01 (with --to; wins over --since)')
    .option('--to <date>', 'window end (exclusive), default now')
    .option('--top <n>', 'number of rows (request types or labels)', '10')
    .option('--project <key>', 'only this project (Jira project, GitHub owner/repo, Linear team)')
    .option('--format <format>', FORMATS.join(', '), 'table')
    .option('--keys <which>', 'member keys per row in json and csv: all (sorted by key) or first (the newest 1,000, with keysNext, as the HTTP API)', 'all')
    .addOption(urlOption());
  addTrackerOption(command, 'tickets')
    .action(async (options: { since: number | 'all'; from?: string; to?: string; top: string; project?: string; tracker?: string[]; format: string; keys: string; url?: string }) => {
      const format = parseFormat(options.format, FORMATS);
      if (!(KEYS as readonly string[]).includes(options.keys)) throw new UsageError(`invalid --keys "${options.keys.slice(0, 40)}": use all or first`);
      // The table and markdown show four keys and the count: the first page has them.
      const keys: KeysMode = format === 'json' || format === 'csv' ? (options.keys as KeysMode) : 'first';
      const trackers = parseTrackerOption(options.tracker);
      const top = Number(options.top);
      if (!Number.isInteger(top) || top < 1) throw new UsageError(`invalid --top "${options.top}": use a whole number ≥ 1`);
      const window = asUsage(() => resolveWindow(options));
      const remote = remoteOf(options.url);
      let report: TopTicketsReport;
      if (remote) {
        report = await remoteJson<TopTicketsReport>(remote, 'GET', '/api/reports/top-tickets', {
          since: options.since === 'all' ? 'all' : `${Math.round(options.since / 1000)}s`, from: options.from, to: options.to, top, project: options.project, tracker: trackers ?? undefined,
        });
        if (keys === 'all') report = await completeRemoteKeys(remote, report);
      } else {
        const config = cliConfig();
        const db = await openReadDatabase(config);
        report = await buildTopTicketsReport(db, { window, top, project: options.project, trackers, keys }, reportContextFor(config));
        await db.close();
      }
      if (format === 'json') return void console.log(JSON.stringify(report, null, 2));
      if (format === 'markdown') return void process.stdout.write(renderMarkdown(report));
      if (format === 'csv') {
        process.stdout.write(renderCsvReport(report));
        if (report.emptyWindowHint) process.stderr.write(`${report.emptyWindowHint}\n`);
        return;
      }
      console.log(`Top ${top} repeated requests, ${windowLine(report)}, ranked by unmet automatable demand`);
      console.log(report.groups.length ? renderTable(HEAD, rowsOf(report)) : 'No request repeated in this window.');
      if (report.emptyWindowHint) console.log(report.emptyWindowHint);
      if (report.grouping.notice) console.log(report.grouping.notice);
    });
}
