import type { Command } from 'commander';
import { loadProcessConfig } from '../../config.js';
import { openDatabase, type Db } from '../../db/client.js';
import { listPausedHandlers } from '../../db/handler-states.js';
import { findRetryableRuns, findRun, retryRun } from '../../db/runs.js';
import { durationOption, sinceStart } from '../../duration.js';

/**
 * `deflect runs retry <id>` and `deflect runs retry --failed [--since 1d]`: put failed or dead-lettered runs back in the
 * queue. A re-queued run keeps its idempotency key, so Jira actions it already applied are skipped (and actions whose
 * outcome was unknown are checked in Jira first); its attempts start again from 0. A running deflect picks the runs up
 * within a second (its poll interval); otherwise the next `deflect serve` does.
 */
export function registerRunsCommand(program: Command): void {
  const runs = program.command('runs').description('inspect and re-run automation runs');
  runs
    .command('retry')
    .argument('[id]', 'the run id (from deflect audit)')
    .description('re-queue a failed or dead-lettered run, or all of them with --failed')
    .option('--failed', 'every failed and dead run (with --since: created in that window)')
    .addOption(durationOption('--since <window>', 'with --failed: only runs created within this window', { allowAll: true }, 'all'))
    .action((id: string | undefined, options: { failed?: boolean; since: number | 'all' }) => {
      if ((id === undefined) === !options.failed) throw new Error('give either a run id or --failed (see deflect runs retry --help)');
      const config = loadProcessConfig();
      const db = openDatabase(config.dbPath);
      try {
        if (id !== undefined) return void console.log(retryOne(db, id));
        const since = sinceStart(options.since);
        const candidates = findRetryableRuns(db, since);
        const retried = candidates.filter((run) => retryRun(db, run.id));
        console.log(
          retried.length === 0
            ? `No failed or dead runs ${since === null ? '' : `since ${new Date(since).toISOString()} `}to retry.`
            : `Re-queued ${retried.length} run(s): ${retried.map((r) => `#${r.id} ${r.ticketKey} ${r.handler} (${r.status})`).join(', ')}`,
        );
        warnPaused(db, retried.map((r) => r.handler));
      } finally {
        db.$client.close();
      }
    });
}

function retryOne(db: Db, idText: string): string {
  const id = Number(idText);
  if (!Number.isInteger(id) || id < 1) throw new Error(`invalid run id "${idText}": use the number shown by deflect audit`);
  const run = findRun(db, id);
  if (!run) throw new Error(`no run #${id}`);
  if (!retryRun(db, id)) {
    throw new Error(`run #${id} is ${run.status}; only failed or dead runs can be retried (replay its delivery with deflect replay --delivery ${run.deliveryId})`);
  }
  warnPaused(db, [run.handler]);
  return `Re-queued run #${id} (${run.ticketKey}, ${run.handler}, was ${run.status}${run.error ? `: ${run.error}` : ''}).`;
}

function warnPaused(db: Db, handlers: string[]): void {
  const paused = listPausedHandlers(db);
  for (const name of new Set(handlers)) {
    if (paused.has(name)) console.warn(`note: handler ${name} is paused; its runs wait until deflect handlers resume ${name}`);
  }
}
