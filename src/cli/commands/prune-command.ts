import type { Command } from 'commander';
import { loadProcessConfig } from '../../config.js';
import { openDatabase } from '../../db/client.js';
import { countPrunableDeliveries, type PruneResult } from '../../db/retention.js';
import { pruneAllDeliveryBodies } from '../../worker/prune-deliveries.js';
import { durationOption } from '../../duration.js';

/**
 * `deflect prune [--older-than 30d] [--dry-run]`: empty the bodies and headers of deliveries older than the retention
 * window (default `DEFLECT_DELIVERY_RETENTION`), keeping the delivery rows, their runs and actions (the audit trail).
 * `deflect serve` does the same every hour; this runs it now, e.g. before a backup. Pending deliveries and deliveries
 * with a queued or running run are left alone. Prints one line saying what it did (or, with `--dry-run`, would do).
 */
export function registerPruneCommand(program: Command): void {
  program
    .command('prune')
    .description('prune delivery bodies older than DEFLECT_DELIVERY_RETENTION (rows, runs and actions are kept)')
    .addOption(durationOption('--older-than <window>', 'prune deliveries received before this long ago (default: DEFLECT_DELIVERY_RETENTION)'))
    .option('--dry-run', 'count what would be pruned; change nothing')
    .action(async (options: { olderThan?: number; dryRun?: boolean }) => {
      const config = loadProcessConfig();
      const retentionMs = options.olderThan ?? config.deliveryRetentionMs;
      if (retentionMs === null) {
        console.log('Retention is off (DEFLECT_DELIVERY_RETENTION=off): nothing pruned. Use --older-than to prune anyway.');
        return;
      }
      const now = Date.now();
      const before = new Date(now - retentionMs).toISOString();
      const db = openDatabase(config.dbPath);
      try {
        if (options.dryRun) {
          console.log(`Dry run: would prune ${describe(countPrunableDeliveries(db, now - retentionMs))} received before ${before}; nothing changed.`);
          return;
        }
        const result = await pruneAllDeliveryBodies(db, retentionMs, { now });
        console.log(`Pruned ${describe(result)} received before ${before}; delivery rows, runs and actions kept.`);
      } finally {
        db.$client.close();
      }
    });
}

function describe(result: PruneResult): string {
  if (result.deliveries === 0) return '0 delivery bodies';
  const range = `${new Date(result.oldestReceivedAt!).toISOString()} … ${new Date(result.newestReceivedAt!).toISOString()}`;
  return `${result.deliveries} delivery bodies (${result.bytes} bytes, ${range})`;
}
