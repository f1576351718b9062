import type { Command } from 'commander';
import { commandDescription } from '../command-manifest.js';
import { cliConfig, openReadDatabase, openWriteDatabase } from '../cli-database.js';
import { asUsage, UsageError } from '../cli-errors.js';
import { remoteJson, remoteOf, urlOption } from '../remote.js';
import { assertInstalledHandler } from '../../automation/handler-health.js';
import { pauseAllHandlers, resumeAllHandlers } from '../../automation/kill-switch.js';
import { parseFormat, percent, renderTable } from '../output.js';
import { userInfo } from 'node:os';
import { handlers } from '../../../handlers/index.js';
import { restoreHandlerLive } from '../../automation/demotion.js';
import { listHandlerVerification } from '../../automation/handler-verification.js';
import { loadRulesFile, type Rule } from '../../rules/rules-file.js';

/**
 * `deflect handlers` (list with health and verified resolutions: runs, resolved, verified, reopened, re-filed,
 * overridden, rates, satisfaction, mode; `--format json` is an array of those rows), `deflect handlers live <name>`
 * (put a demoted handler back live), `deflect handlers resume <name> | --all`, `deflect handlers pause <name> | --all`
 * (`--all` is the kill switch: every installed handler, src/automation/kill-switch.ts).
 * A handler whose runs fail `DEFLECT_PAUSE_AFTER_FAILURES` times in a row is paused automatically; its runs wait in
 * the queue and a running deflect picks them up within a second of `resume`.
 */
export function registerHandlersCommand(program: Command): void {
  const command = program
    .command('handlers')
    .description(commandDescription('handlers'))
    .option('--format <format>', 'table or json', 'table')
    .addOption(urlOption())
    .action(async (options: { format: string; url?: string }) => {
      const format = parseFormat(options.format, ['table', 'json']);
      const remote = remoteOf(options.url);
      let rows: Awaited<ReturnType<typeof listHandlerVerification>>;
      if (remote) {
        rows = (await remoteJson<{ handlers: Awaited<ReturnType<typeof listHandlerVerification>> }>(remote, 'GET', '/api/handlers')).handlers;
      } else {
        const config = cliConfig();
        const rules = rulesInForce(config.rulesPath);
        const db = await openReadDatabase(config);
        rows = await listHandlerVerification(db, rules);
        await db.close();
      }
      // The interface other tools read: an array of { name, runs, resolved, verifiedResolved, reopened, refiled, overridden, verifiedRate, mode, ... }.
      if (format === 'json') return void console.log(JSON.stringify(rows, null, 2));
      console.log(
        renderTable(
          ['handler', 'state', 'mode', 'runs', 'resolved', 'verified', 'pending', 'reopened', 're-filed', 'overridden', 'resolved rate', 'verified rate', 'satisfaction', 'failures in a row', 'paused / demoted'],
          rows.map((r) => [
            r.name,
            r.state,
            r.demoted ? `${r.mode} (demoted)` : r.mode,
            r.runs,
            r.resolved,
            r.verifiedResolved,
            r.pending,
            r.reopened,
            r.refiled,
            r.overridden,
            percent(r.resolvedRate),
            percent(r.verifiedRate),
            r.feedback.thanks + r.feedback.reopen > 0 ? `${percent(r.feedback.satisfaction)} (${r.feedback.thanks} thanks, ${r.feedback.reopen} reopen)` : '—',
            r.consecutiveFailures,
            [r.pausedAt ? `paused ${r.pausedAt}: ${r.pausedReason ?? ''}` : '', r.demoted ? `demoted ${r.demoted.at}: ${r.demoted.reason}` : ''].filter(Boolean).join('\n'),
          ]),
        ),
      );
    });

  command
    .command('live')
    .argument('<name>', 'the handler name')
    .description('put a handler deflect demoted to shadow back live (its rules act again as the rules file says)')
    .action(async (name: string) => {
      asUsage(() => assertInstalledHandler(name));
      const config = cliConfig();
      const db = await openWriteDatabase(config);
      const changed = await restoreHandlerLive(db, name, `${osUser()} (deflect handlers live)`);
      await db.close();
      console.log(changed ? `${name} is live again; resolutions from now on count towards the next demotion.` : `${name} was not demoted.`);
    });

  command
    .command('resume')
    .argument('[name]', 'the handler name (its file name in handlers/)')
    .option('--all', 'resume every paused handler (also those paused after failures)')
    .description('resume a paused handler (or --all): its queued runs run again')
    .action(async (name: string | undefined, options: { all?: boolean }) => {
      checkTarget(name, options.all);
      const config = cliConfig();
      const db = await openWriteDatabase(config);
      if (options.all) {
        const result = await resumeAllHandlers(db);
        await db.close();
        console.log(result.changed.length ? `Resumed ${result.changed.join(', ')}; their queued runs will run again.` : 'No handler was paused.');
        return;
      }
      const resumed = await db.resumeHandler(name!);
      await db.close();
      console.log(resumed ? `Resumed ${name}; its queued runs will run again.` : `${name} was not paused.`);
    });

  command
    .command('pause')
    .argument('[name]', 'the handler name')
    .option('--all', 'the kill switch: pause every installed handler')
    .option('--reason <text>', 'why (shown in deflect handlers and deflect audit)')
    .description('pause a handler (or --all) by hand: its runs wait in the queue until resumed')
    .action(async (name: string | undefined, options: { all?: boolean; reason?: string }) => {
      checkTarget(name, options.all);
      const config = cliConfig();
      const db = await openWriteDatabase(config);
      if (options.all) {
        const result = await pauseAllHandlers(db, options.reason ?? 'kill switch: every handler paused by an operator (deflect handlers pause --all)');
        await db.close();
        console.log(
          `Paused every handler (${result.changed.length} now${result.unchanged.length ? `, ${result.unchanged.length} already paused` : ''}); their runs wait in the queue until deflect handlers resume --all.`,
        );
        return;
      }
      const paused = await db.pauseHandler(name!, options.reason ?? 'paused by an operator');
      await db.close();
      console.log(paused ? `Paused ${name}.` : `${name} was already paused.`);
    });
}

/** The operating-system user running the command, for the audit entry. */
function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'a person';
  }
}

/** The rules of the rules file (for each handler's `mode`); none when there is no file or it does not load (said on stderr). */
function rulesInForce(path: string | null): Rule[] {
  if (!path) return [];
  try {
    return loadRulesFile(path, handlers);
  } catch (error) {
    console.error(`warning: rules file not loaded, mode shows "none": ${(error as Error).message.split('\n')[0]}`);
    return [];
  }
}

/**
 * One handler name or `--all`, not both, not neither.
 * @throws Error (printed by the CLI, exit 1) for a bad combination; UnknownHandlerError for a name not installed.
 */
function checkTarget(name: string | undefined, all: boolean | undefined): void {
  if (all && name) throw new UsageError(`give a handler name or --all, not both (got "${name.slice(0, 100)}" and --all)`);
  if (!all && !name) throw new UsageError('give a handler name, or --all for every handler');
  if (name) asUsage(() => assertInstalledHandler(name));
}
