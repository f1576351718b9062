import type { Command } from 'commander';
import { commandDescription } from '../command-manifest.js';
import { cliConfig, openWriteDatabase } from '../cli-database.js';
import { pruneAuditRecords } from '../../audit/audit-retention.js';
import type { Store } from '../../db/store.js';
import { type PruneResult } from '../../db/retention.js';
import { pruneAllDeliveryBodies } from '../../worker/prune-deliveries.js';
import { durationOption } from '../../duration.js';

/**
 * `deflect prune [--older-than 30d] [--audit-older-than 400d] [--dry-run]`: empty the bodies and headers of deliveries
 * older than the retention window (default `DEFLECT_DELIVERY_RETENTION`), keeping the delivery rows; and, when
 * `DEFLECT_AUDIT_RETENTION` (or `--audit-older-than`) is set, delete runs older than that with their actions and
 * approvals behind an audit checkpoint, archiving them first to `DEFLECT_AUDIT_ARCHIVE_DIR` when set (decision 011).
 * `deflect serve` does the same every hour; this runs it now, e.g. before a backup. Pending deliveries, deliveries with
 * a queued or running run, and runs not in a final status are left alone. Prints one line per kind saying what it did
 * (or, with `--dry-run`, would do).
 */
export function registerPruneCommand(program: Command): void {
  program
    .command('prune')
    .description(commandDescription('prune'))
    .addOption(durationOption('--older-than <window>', 'prune deliveries received before this long ago (default: DEFLECT_DELIVERY_RETENTION)'))
    .addOption(durationOption('--audit-older-than <window>', 'prune runs created before this long ago, e.g. 400d (default: DEFLECT_AUDIT_RETENTION)'))
    .option('--dry-run', 'count what would be pruned; change nothing')
    .action(async (options: { olderThan?: number; auditOlderThan?: number; dryRun?: boolean }) => {
      const config = cliConfig();
      const retentionMs = options.olderThan ?? config.deliveryRetentionMs;
      const auditRetentionMs = options.auditOlderThan ?? config.auditRetentionMs;
      const now = Date.now();
      const db = await openWriteDatabase(config);
      try {
        if (retentionMs === null) {
          console.log('Delivery retention is off (DEFLECT_DELIVERY_RETENTION=off): no delivery body pruned. Use --older-than to prune anyway.');
        } else {
          const before = new Date(now - retentionMs).toISOString();
          if (options.dryRun) {
            console.log(`Dry run: would prune ${describe(await db.countPrunableDeliveries(now - retentionMs))} received before ${before}; nothing changed.`);
          } else {
            const result = await pruneAllDeliveryBodies(db, retentionMs, { now });
            console.log(`Pruned ${describe(result)} received before ${before}; delivery rows, runs and actions kept.`);
          }
        }
        if (auditRetentionMs !== null) await pruneAudit(db, auditRetentionMs, config.auditArchiveDir, now, options.dryRun === true);
      } finally {
        await db.close();
      }
    });
}

async function pruneAudit(db: Store, retentionMs: number, archiveDir: string | null, now: number, dryRun: boolean): Promise<void> {
  const before = new Date(now - retentionMs).toISOString();
  if (dryRun) {
    console.log(`Dry run: would prune up to ${await db.countPrunableRuns(now - retentionMs)} finished runs created before ${before} (with their actions and approvals); nothing changed.`);
    return;
  }
  const result = await pruneAuditRecords(db, { retentionMs, archiveDir, now });
  const archived = result.archives.length ? `; archived to ${result.archives.join(', ')}` : archiveDir === null ? '; not archived (DEFLECT_AUDIT_ARCHIVE_DIR unset)' : '';
  console.log(
    `Pruned ${result.runs} runs and ${result.actions} actions created before ${before}, behind ${result.checkpoints} audit checkpoint${result.checkpoints === 1 ? '' : 's'}${archived}.`,
  );
}

function describe(result: PruneResult): string {
  if (result.deliveries === 0) return '0 delivery bodies';
  const range = `${new Date(result.oldestReceivedAt!).toISOString()} … ${new Date(result.newestReceivedAt!).toISOString()}`;
  return `${result.deliveries} delivery bodies (${result.bytes} bytes, ${range})`;
}
