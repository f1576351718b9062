import type { Command } from 'commander';
import { cliConfig, openReadDatabase } from '../cli-database.js';
import { asUsage, UsageError } from '../cli-errors.js';
import { remoteJson, remoteOf, urlOption } from '../remote.js';
import { openDatabase } from '../../db/client.js';
import { assertInstalledHandler, listHandlerHealth } from '../../automation/handler-health.js';
import { pauseAllHandlers, resumeAllHandlers } from '../../automation/kill-switch.js';
import { pauseHandler, resumeHandler } from '../../db/handler-states.js';
import { parseFormat, renderTable } from '../output.js';

/**
 * `deflect handlers` (list with health), `deflect handlers resume <name> | --all`, `deflect handlers pause <name> | --all`
 * (`--all` is the kill switch: every installed handler, src/automation/kill-switch.ts).
 * A handler whose runs fail `DEFLECT_PAUSE_AFTER_FAILURES` times in a row is paused automatically; its runs wait in
 * the queue and a running deflect picks them up within a second of `resume`.
 */
export function registerHandlersCommand(program: Command): void {
  const command = program
    .command('handlers')
    .description('list handlers with their health; pause or resume one')
    .option('--format <format>', 'table or json', 'table')
    .addOption(urlOption())
    .action(async (options: { format: string; url?: string }) => {
      const format = parseFormat(options.format, ['table', 'json']);
      const remote = remoteOf(options.url);
      let rows: ReturnType<typeof listHandlerHealth>;
      if (remote) {
        rows = (await remoteJson<{ handlers: ReturnType<typeof listHandlerHealth> }>(remote, 'GET', '/api/handlers')).handlers;
      } else {
        const config = cliConfig();
        const db = openReadDatabase(config.dbPath);
        rows = listHandlerHealth(db);
        db.$client.close();
      }
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
    .argument('[name]', 'the handler name (its file name in handlers/)')
    .option('--all', 'resume every paused handler (also those paused after failures)')
    .description('resume a paused handler (or --all): its queued runs run again')
    .action((name: string | undefined, options: { all?: boolean }) => {
      checkTarget(name, options.all);
      const config = cliConfig();
      const db = openDatabase(config.dbPath);
      if (options.all) {
        const result = resumeAllHandlers(db);
        db.$client.close();
        console.log(result.changed.length ? `Resumed ${result.changed.join(', ')}; their queued runs will run again.` : 'No handler was paused.');
        return;
      }
      const resumed = resumeHandler(db, name!);
      db.$client.close();
      console.log(resumed ? `Resumed ${name}; its queued runs will run again.` : `${name} was not paused.`);
    });

  command
    .command('pause')
    .argument('[name]', 'the handler name')
    .option('--all', 'the kill switch: pause every installed handler')
    .option('--reason <text>', 'why (shown in deflect handlers and deflect audit)')
    .description('pause a handler (or --all) by hand: its runs wait in the queue until resumed')
    .action((name: string | undefined, options: { all?: boolean; reason?: string }) => {
      checkTarget(name, options.all);
      const config = cliConfig();
      const db = openDatabase(config.dbPath);
      if (options.all) {
        const result = pauseAllHandlers(db, options.reason ?? 'kill switch: every handler paused by an operator (deflect handlers pause --all)');
        db.$client.close();
        console.log(
          `Paused every handler (${result.changed.length} now${result.unchanged.length ? `, ${result.unchanged.length} already paused` : ''}); their runs wait in the queue until deflect handlers resume --all.`,
        );
        return;
      }
      const paused = pauseHandler(db, name!, options.reason ?? 'paused by an operator');
      db.$client.close();
      console.log(paused ? `Paused ${name}.` : `${name} was already paused.`);
    });
}

/**
 * One handler name or `--all`, not both, not neither.
 * @throws UsageError (exit 2) for a bad combination or a name that is not an installed handler (the message lists them).
 */
function checkTarget(name: string | undefined, all: boolean | undefined): void {
  if (all && name) throw new UsageError(`give a handler name or --all, not both (got "${name.slice(0, 100)}" and --all)`);
  if (!all && !name) throw new UsageError('give a handler name, or --all for every handler');
  if (name) asUsage(() => assertInstalledHandler(name));
}
