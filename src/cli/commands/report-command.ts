import type { Command } from 'commander';
import { loadProcessConfig } from '../../config.js';
import { openDatabase } from '../../db/client.js';
import { parseSince, topTicketsByLabel, type TopTicketsReport } from '../../reports/label-report.js';
import { parseFormat, percent, renderCsv, renderTable } from '../output.js';

const COLUMNS = ['group', 'count', 'share', 'previous', 'change', 'automated', 'median TTR (h)', 'keys'];

function rowsOf(report: TopTicketsReport) {
  return report.groups.map((g) => [
    g.key,
    g.count,
    percent(g.share),
    g.previousCount ?? '—',
    g.change === null ? '—' : `${g.change >= 0 ? '+' : ''}${Math.round(g.change * 100)}%`,
    g.automated,
    g.medianTimeToResolutionHours === null ? '—' : g.medianTimeToResolutionHours.toFixed(1),
    g.keys.length > 6 ? `${g.keys.slice(0, 6).join(' ')} …` : g.keys.join(' '),
  ]);
}

/** `deflect report`: the most repeated tickets by label. */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('most repeated tickets by label: count, share, change, automated, median time to resolution')
    .option('--since <window>', 'window: 30d, 12h, 2w or all', '30d')
    .option('--top <n>', 'number of groups', '10')
    .option('--project <key>', 'only this project')
    .option('--format <format>', 'table, json or csv', 'table')
    .action((options: { since: string; top: string; project?: string; format: string }) => {
      const format = parseFormat(options.format);
      const top = Number(options.top);
      if (!Number.isInteger(top) || top < 1) throw new Error(`invalid --top "${options.top}": use a whole number ≥ 1`);
      const window = parseSince(options.since);
      const config = loadProcessConfig();
      const db = openDatabase(config.dbPath);
      const report = topTicketsByLabel(db, { window, top, project: options.project });
      db.$client.close();
      if (format === 'json') return void console.log(JSON.stringify(report, null, 2));
      if (format === 'csv') {
        const rows = report.groups.map((g) => [g.key, g.count, g.share, g.previousCount, g.change, g.automated, g.medianTimeToResolutionHours, g.keys.join(' ')]);
        return void process.stdout.write(renderCsv(['group', 'count', 'share', 'previous', 'change', 'automated', 'median_ttr_hours', 'keys'], rows));
      }
      console.log(`Top ${top} repeated tickets by label, ${report.window.from ?? 'all time'} → ${report.window.to} (${report.totalTickets} tickets)`);
      console.log(report.groups.length ? renderTable(COLUMNS, rowsOf(report)) : 'No labelled tickets in this window.');
    });
}
