/**
 * Retention of delivery bodies (`DEFLECT_DELIVERY_RETENTION`, `deflect prune`): a raw webhook body holds a copy of the
 * ticket (descriptions, names, e-mail addresses) and is only needed to route the delivery, to run it, and to replay it.
 * Once a delivery is older than the retention window, its `body` is replaced by an empty string, its `headers` by `{}`,
 * and `body_pruned_at` is set. The delivery row (key, event, issue key, status, reason, times), its runs and their
 * actions stay: the audit trail is never pruned. A pruned delivery cannot be replayed.
 *
 * Never pruned: deliveries still `pending` (not routed yet) and deliveries with a run still `queued` or `running` (kept
 * while their work is in progress; the run itself reads the ticket stored with it, decision 006).
 *
 * Pruning frees pages inside the SQLite file for new rows; the file itself does not shrink (SQLite's `VACUUM` would).
 */
import type { Db } from './client.js';
import { statement } from './statements.js';

/** Deliveries pruned by one call of {@link pruneDeliveryBodies}: small, so the server's event loop is never held long. */
export const PRUNE_BATCH = 500;

const PRUNABLE = `body_pruned_at IS NULL AND received_at < ? AND status != 'pending'
  AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.delivery_id = deliveries.id AND runs.status IN ('queued', 'running'))`;

/** What a prune did (or, for {@link countPrunableDeliveries}, would do). */
export interface PruneResult {
  /** Deliveries whose body and headers were emptied. */
  deliveries: number;
  /** Bytes of body and headers removed (UTF-8). */
  bytes: number;
  /** Receipt time (ms) of the oldest and newest delivery concerned, or null when none. */
  oldestReceivedAt: number | null;
  newestReceivedAt: number | null;
}

/**
 * Prunes at most `batchSize` deliveries received before `before` (ms), oldest first, in one transaction.
 * Call it again while it returns `deliveries === batchSize`.
 */
export function pruneDeliveryBodies(db: Db, before: number, batchSize = PRUNE_BATCH, now = Date.now()): PruneResult {
  const select = statement(db,
    `SELECT id, received_at AS receivedAt, length(CAST(body AS BLOB)) + length(CAST(headers AS BLOB)) AS bytes
     FROM deliveries WHERE ${PRUNABLE} ORDER BY received_at LIMIT ?`,
  );
  const prune = statement(db, `UPDATE deliveries SET body = '', headers = '{}', body_pruned_at = ? WHERE id = ? AND body_pruned_at IS NULL`);
  return db.$client.transaction((): PruneResult => {
    const rows = select.all(before, batchSize) as Array<{ id: number; receivedAt: number; bytes: number }>;
    let bytes = 0;
    let deliveries = 0;
    for (const row of rows) {
      if (prune.run(now, row.id).changes === 1) {
        deliveries++;
        bytes += row.bytes;
      }
    }
    return { deliveries, bytes, oldestReceivedAt: rows[0]?.receivedAt ?? null, newestReceivedAt: rows.at(-1)?.receivedAt ?? null };
  }).immediate();
}

/** What {@link pruneDeliveryBodies} would prune for `before` (ms), all batches together (for `deflect prune --dry-run`). */
export function countPrunableDeliveries(db: Db, before: number): PruneResult {
  const row = statement(db,
    `SELECT count(*) AS deliveries, coalesce(sum(length(CAST(body AS BLOB)) + length(CAST(headers AS BLOB))), 0) AS bytes,
       min(received_at) AS oldestReceivedAt, max(received_at) AS newestReceivedAt
     FROM deliveries WHERE ${PRUNABLE}`,
  ).get(before) as PruneResult;
  return row;
}
