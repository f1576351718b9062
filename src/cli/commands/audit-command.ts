import type { Command } from 'commander';
import { loadProcessConfig } from '../../config.js';
import { openDatabase } from '../../db/client.js';
import { RUN_STATUSES, type RunStatus } from '../../db/runs.js';
import { listAudit } from '../../reports/audit.js';
import { durationOption, sinceStart } from '../../duration.js';
import { parseFormat, renderCsv, renderTable } from '../output.js';
import { addTrackerOption, parseTrackerOption } from './tracker-option.js';

/** `deflect audit`: automated runs with the actions each took, on tickets of every tracker (or of `--tracker`). */
export function registerAuditCommand(program: Command): void {
  const command = program
    .command('audit')
    .description('automated runs, newest first, with every action they took')
    .addOption(durationOption('--since <window>', 'window', { allowAll: true }, 'all'))
    .option('--status <status>', `only runs with this status (${RUN_STATUSES.join(', ')})`)
    .option('--handler <name>', 'only this handler')
    .option('--ticket <key>', 'only this ticket (display key: PLAT-12, acme/api#12, ENG-12)')
    .option('--limit <n>', 'at most this many runs', '50')
    .option('--format <format>', 'table, json or csv', 'table');
  addTrackerOption(command, 'runs on tickets')
    .action((options: { since: number | 'all'; status?: string; handler?: string; ticket?: string; tracker?: string[]; limit: string; format: string }) => {
      const format = parseFormat(options.format);
      const trackers = parseTrackerOption(options.tracker);
      if (options.status && !RUN_STATUSES.includes(options.status as RunStatus)) {
        throw new Error(`invalid --status "${options.status}": use one of ${RUN_STATUSES.join(', ')}`);
      }
      const config = loadProcessConfig();
      const db = openDatabase(config.dbPath);
      const audit = listAudit(db, {
        since: sinceStart(options.since) ?? undefined,
        status: options.status as RunStatus | undefined,
        handler: options.handler,
        ticketKey: options.ticket,
        trackers,
        limit: Number(options.limit),
      });
      db.$client.close();
      if (format === 'json') return void console.log(JSON.stringify(audit, null, 2));
      const rows = audit.runs.map((r) => [
        r.id,
        r.createdAt,
        r.ticketKey,
        r.tracker,
        r.handler,
        [r.status, r.shadow && r.status !== 'shadow' ? 'shadow run' : '', r.status === 'succeeded' && !r.applied ? 'not applied' : '', r.replayOf !== null ? `replay of delivery #${r.replayOf}` : '', r.manualRetries > 0 ? `retried ×${r.manualRetries}` : '', ...r.approvals.map((a) => `${a.decision}${a.by ? ` by ${a.by}` : ''} ${a.at}`)]
          .filter(Boolean)
          .join('\n'),
        r.attempts,
        r.durationMs ?? '',
        r.actions.map((a) => `${a.seq}. ${a.kind} ${a.status}${a.error ? ` (${a.error})` : ''}`).join('\n'),
        r.summary ?? r.error ?? '',
      ]);
      const head = ['run', 'created', 'ticket', 'tracker', 'handler', 'status', 'attempts', 'ms', 'actions', 'summary / error'];
      if (format === 'csv') return void process.stdout.write(renderCsv(head, rows));
      for (const p of audit.pausedHandlers) {
        console.log(`PAUSED handler ${p.handler} since ${p.pausedAt}: ${p.reason ?? ''} — resume with: deflect handlers resume ${p.handler}`);
      }
      console.log(audit.runs.length ? renderTable(head, rows) : 'No runs recorded yet.');
    });
}
