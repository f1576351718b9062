/**
 * The periodic prune of `deflect serve`: delivery bodies (retention: `DEFLECT_DELIVERY_RETENTION`, SQL in
 * `db/retention.ts`) and, when `DEFLECT_AUDIT_RETENTION` is set, old runs behind an audit checkpoint
 * (`audit/audit-retention.ts`, decision 011). It prunes once shortly after start and then every `intervalMs` (default
 * hourly), in batches (of {@link PRUNE_BATCH} deliveries; of chain entries), one transaction each, yielding to the
 * event loop between batches so webhooks keep being received while it works.
 */
import type { Logger } from 'pino';
import type { Store } from '../db/store.js';
import { pruneAuditRecords, type AuditPruneResult } from '../audit/audit-retention.js';
import { PRUNE_BATCH, type PruneResult } from '../db/retention.js';

/** Default time between two prunes in `serve`, ms (one hour). */
export const PRUNE_INTERVAL_MS = 3_600_000;

/**
 * Prunes every delivery older than `retentionMs` (ms before `now`), batch after batch, yielding between batches, until
 * none is left or `keepGoing()` answers false.
 * @returns totals over all batches.
 * @throws the database error of a failing batch (earlier batches stay committed).
 */
export async function pruneAllDeliveryBodies(
  db: Store,
  retentionMs: number,
  options: { batchSize?: number; now?: number; keepGoing?: () => boolean } = {},
): Promise<PruneResult> {
  const { batchSize = PRUNE_BATCH, now = Date.now(), keepGoing = () => true } = options;
  const total: PruneResult = { deliveries: 0, bytes: 0, oldestReceivedAt: null, newestReceivedAt: null };
  for (;;) {
    const batch = await db.pruneDeliveryBodies(now - retentionMs, batchSize, now);
    total.deliveries += batch.deliveries;
    total.bytes += batch.bytes;
    total.oldestReceivedAt ??= batch.oldestReceivedAt;
    total.newestReceivedAt = batch.newestReceivedAt ?? total.newestReceivedAt;
    if (batch.deliveries < batchSize || !keepGoing()) return total;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export interface DeliveryPrunerOptions {
  db: Store;
  logger: Logger;
  /** Deliveries older than this are pruned, ms; null = delivery bodies are kept. */
  retentionMs: number | null;
  /** Runs older than this are pruned behind an audit checkpoint, ms (`DEFLECT_AUDIT_RETENTION`); null/absent = kept. */
  auditRetentionMs?: number | null;
  /** Folder of the audit archives (`DEFLECT_AUDIT_ARCHIVE_DIR`); null/absent = none. */
  auditArchiveDir?: string | null;
  /** Time between prunes, ms (default {@link PRUNE_INTERVAL_MS}). */
  intervalMs?: number;
  /** Deliveries per transaction (default {@link PRUNE_BATCH}). */
  batchSize?: number;
}

/** Runs {@link pruneAllDeliveryBodies} on a timer until stopped. A failing prune is logged and tried again next time. */
export class DeliveryPruner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = false;

  constructor(private readonly options: DeliveryPrunerOptions) {}

  /** Schedules the first prune (right after start-up work settles) and the following ones. */
  start(): void {
    this.stopped = false;
    this.schedule(1_000);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pruneOnce().finally(() => {
        this.running = null;
        this.schedule(this.options.intervalMs ?? PRUNE_INTERVAL_MS);
      });
    }, delayMs);
    this.timer.unref();
  }

  /** One full prune now (delivery bodies, then audit records); logs what it did. Never throws. */
  async pruneOnce(): Promise<{ deliveries: PruneResult | null; audit: AuditPruneResult | null }> {
    return { deliveries: await this.pruneDeliveries(), audit: await this.pruneAudit() };
  }

  private async pruneDeliveries(): Promise<PruneResult | null> {
    const { db, logger, retentionMs } = this.options;
    if (retentionMs === null) return null;
    try {
      const result = await pruneAllDeliveryBodies(db, retentionMs, { batchSize: this.options.batchSize, keepGoing: () => !this.stopped });
      if (result.deliveries > 0) {
        logger.info({ pruned: result.deliveries, bytes: result.bytes, retentionMs }, 'delivery bodies past retention pruned (DEFLECT_DELIVERY_RETENTION)');
      }
      return result;
    } catch (error) {
      logger.error({ err: error }, 'pruning delivery bodies failed; trying again at the next interval');
      return null;
    }
  }

  private async pruneAudit(): Promise<AuditPruneResult | null> {
    const { db, logger, auditRetentionMs, auditArchiveDir = null } = this.options;
    if (auditRetentionMs == null || this.stopped) return null;
    try {
      const result = await pruneAuditRecords(db, { retentionMs: auditRetentionMs, archiveDir: auditArchiveDir, keepGoing: () => !this.stopped });
      if (result.checkpoints > 0) {
        logger.info(
          { runs: result.runs, actions: result.actions, entries: result.entries, checkpoints: result.checkpoints, throughSeq: result.throughSeq, archives: result.archives },
          'audit records past retention pruned behind a checkpoint (DEFLECT_AUDIT_RETENTION)',
        );
      }
      return result;
    } catch (error) {
      logger.error({ err: error }, 'pruning audit records failed; nothing was deleted by the failing batch; trying again at the next interval');
      return null;
    }
  }

  /** Stops the timer and waits for a prune in progress to finish its current batch. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
