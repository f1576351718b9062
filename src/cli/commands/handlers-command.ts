import type { Command } from 'commander';
import { loadProcessConfig } from '../../config.js';
import { openDatabase } from '../../db/client.js';
import { assertInstalledHandler, listHandlerHealth } from '../../automation/handler-health.js';
import { pauseHandler, resumeHandler } from '../../db/handler-states.js';
import { parseFormat, renderTable } from '../output.js';

/**
 * `deflect handlers` (list with health), `deflect handlers resume <name>`, `deflect handlers pause <name>`.
 * A handler whose runs fail `DEFLECT_PAUSE_AFTER_FAILURES` times in a row is paused automatically; its runs wait in
 * the queue and a running deflect picks them up within a second of `resume`.
 */
export function registerHandlersCommand(program: Command): void {
  const command = program
    .command('handlers')
    .description('list handlers with their health; pause or resume one')
    .option('--format <format>', 'table or json', 'table')
    .action((options: { format: string }) => {
      const format = parseFormat(options.format, ['table', 'json']);
      const config = loadProcessConfig();
      const db = openDatabase(config.dbPath);
      const rows = listHandlerHealth(db);
      db.$client.close();
      if (format === 'json') return void console.log(JSON.stringify({ handlers: rows }, null, 2));
      console.log(
        renderTable(
          ['handler', 'state', 'failures in a row', 'paused since', 'reason'],
          rows.map((r) => [r.name, r.state, r.consecutiveFailures, r.pausedAt ?? '', r.pausedReason ?? '']),
        ),
      );
    });

  command
    .command('resume')
    .argument('<name>', 'the handler name (its file name in handlers/)')
    .description('resume a paused handler: its queued runs run again')
    .action((name: string) => {
      assertInstalledHandler(name);
      const config = loadProcessConfig();
      const db = openDatabase(config.dbPath);
      const resumed = resumeHandler(db, name);
      db.$client.close();
      console.log(resumed ? `Resumed ${name}; its queued runs will run again.` : `${name} was not paused.`);
    });

  command
    .command('pause')
    .argument('<name>', 'the handler name')
    .option('--reason <text>', 'why (shown in deflect handlers and deflect audit)', 'paused by an operator')
    .description('pause a handler by hand: its runs wait in the queue until resumed')
    .action((name: string, options: { reason: string }) => {
      assertInstalledHandler(name);
      const config = loadProcessConfig();
      const db = openDatabase(config.dbPath);
      const paused = pauseHandler(db, name, options.reason);
      db.$client.close();
      console.log(paused ? `Paused ${name}.` : `${name} was already paused.`);
    });
}
