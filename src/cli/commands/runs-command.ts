import type { Command } from 'commander';
import { commandDescription } from '../command-manifest.js';
import { cliConfig, openWriteDatabase } from '../cli-database.js';
import type { Store } from '../../db/store.js';
import { durationOption, sinceStart } from '../../duration.js';
import { UsageError } from '../cli-errors.js';
import { remoteJson, remoteOf, urlOption } from '../remote.js';

/**
 * `deflect runs retry <id>` and `deflect runs retry --failed [--since 1d]`: put failed or dead-lettered runs back in the
 * queue. A re-queued run keeps its idempotency key, so Jira actions it already applied are skipped (and actions whose
 * outcome was unknown are checked in Jira first); its attempts start again from 0. A running deflect picks the runs up
 * within a second (its poll interval); otherwise the next `deflect serve` does.
 */
export function registerRunsCommand(program: Command): void {
  const runs = program.command('runs').description(commandDescription('runs'));
  runs
    .command('retry')
    .argument('[id]', 'the run id (from deflect audit)')
    .description('re-queue a failed or dead-lettered run, or all of them with --failed')
    .option('--failed', 'every failed and dead run (with --since: created in that window)')
    .addOption(durationOption('--since <window>', 'with --failed: only runs created within this window', { allowAll: true }, 'all'))
    .addOption(urlOption())
    .action(async (id: string | undefined, options: { failed?: boolean; since: number | 'all'; url?: string }) => {
      if ((id === undefined) === !options.failed) throw new UsageError('give either a run id or --failed (see deflect runs retry --help)');
      const remote = remoteOf(options.url);
      if (remote) {
        if (options.failed) throw new UsageError('--failed works on DEFLECT_DB only; with --url, retry runs one id at a time');
        const answer = await remoteJson<{ run: number; was: string; handlerPaused: boolean }>(remote, 'POST', `/api/runs/${runIdOf(id!)}/retry`);
        console.log(`Re-queued run #${answer.run} (was ${answer.was}) on ${remote.url}.`);
        if (answer.handlerPaused) console.warn('note: its handler is paused; the run waits until the handler is resumed');
        return;
      }
      const config = cliConfig();
      const db = await openWriteDatabase(config);
      try {
        if (id !== undefined) return void console.log(await retryOne(db, id));
        const since = sinceStart(options.since);
        const candidates = await db.findRetryableRuns(since);
        const retried: typeof candidates = [];
        for (const run of candidates) if (await db.retryRun(run.id)) retried.push(run);
        console.log(
          retried.length === 0
            ? `No failed or dead runs ${since === null ? '' : `since ${new Date(since).toISOString()} `}to retry.`
            : `Re-queued ${retried.length} run(s): ${retried.map((r) => `#${r.id} ${r.ticketKey} ${r.handler} (${r.status})`).join(', ')}`,
        );
        await warnPaused(db, retried.map((r) => r.handler));
      } finally {
        await db.close();
      }
    });
}

/** A run id from the command line. @throws UsageError for anything but a whole number ≥ 1. */
function runIdOf(idText: string): number {
  const id = Number(idText);
  if (!Number.isInteger(id) || id < 1) throw new UsageError(`invalid run id "${idText.slice(0, 100)}": use the number shown by deflect audit`);
  return id;
}

async function retryOne(db: Store, idText: string): Promise<string> {
  const id = runIdOf(idText);
  const run = await db.findRun(id);
  if (!run) throw new Error(`no run #${id}`);
  if (!await db.retryRun(id)) {
    throw new Error(`run #${id} is ${run.status}; only failed or dead runs can be retried (replay its delivery with deflect replay --delivery ${run.deliveryId})`);
  }
  await warnPaused(db, [run.handler]);
  return `Re-queued run #${id} (${run.ticketKey}, ${run.handler}, was ${run.status}${run.error ? `: ${run.error}` : ''}).`;
}

async function warnPaused(db: Store, handlers: string[]): Promise<void> {
  const paused = await db.listPausedHandlers();
  for (const name of new Set(handlers)) {
    if (paused.has(name)) console.warn(`note: handler ${name} is paused; its runs wait until deflect handlers resume ${name}`);
  }
}
