/**
 * PostgreSQL twin of `../../retention.ts` (the reference: same deliveries pruned, same byte counts, same times).
 *
 * Where the SQL differs, and why:
 * - `length(CAST(x AS BLOB))` (UTF-8 bytes) → `octet_length(x)`: the database is UTF8 (`deflect migrate --to
 *   postgres` refuses another encoding), so both count the same bytes.
 *   https://www.postgresql.org/docs/15/functions-string.html
 * - `pruneDeliveryBodies` runs in `pg.transaction` and picks its batch with `FOR UPDATE SKIP LOCKED` where SQLite
 *   takes the write lock up front (`.immediate()`): two replicas pruning at once take disjoint batches instead of one
 *   waiting for the other's rows, and the rows picked stay locked until the emptying UPDATE commits, so nobody else
 *   prunes (or counts) them twice. The emptying is one `UPDATE … WHERE id = ANY($1)` instead of one per row.
 *   https://www.postgresql.org/docs/15/sql-select.html#SQL-FOR-UPDATE-SHARE
 * - Ties on `received_at` are broken by id (SQLite walks its `received_at` index, whose ties are in rowid order).
 * - `sum(…)` of bigint is numeric on PostgreSQL; the session reads numeric as a JS number, as SQLite's integer sum.
 */
import { PRUNE_BATCH } from '../../retention.js';
import type { Repositories } from '../../store.js';
import type { PgSession } from '../pg-session.js';

const PRUNABLE = `body_pruned_at IS NULL AND received_at < $1 AND status <> 'pending'
  AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.delivery_id = deliveries.id AND runs.status IN ('queued', 'running'))`;

export const retention = (pg: PgSession): Repositories['retention'] => ({
  pruneDeliveryBodies: (before, batchSize = PRUNE_BATCH, now = Date.now()) =>
    pg.transaction(async () => {
      const rows = await pg.query<{ id: number; receivedAt: number; bytes: number }>(
        `SELECT id, received_at AS "receivedAt", octet_length(body) + octet_length(headers) AS bytes
         FROM deliveries WHERE ${PRUNABLE} ORDER BY received_at, id LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [before, batchSize],
      );
      const pruned = rows.length === 0
        ? new Set<number>()
        : new Set(
            (await pg.query<{ id: number }>(
              `UPDATE deliveries SET body = '', headers = '{}', body_pruned_at = $1 WHERE id = ANY($2::bigint[]) AND body_pruned_at IS NULL RETURNING id`,
              [now, rows.map((r) => r.id)],
            )).map((r) => r.id),
          );
      const done = rows.filter((r) => pruned.has(r.id));
      return {
        deliveries: done.length,
        bytes: done.reduce((sum, r) => sum + r.bytes, 0),
        oldestReceivedAt: rows[0]?.receivedAt ?? null,
        newestReceivedAt: rows.at(-1)?.receivedAt ?? null,
      };
    }),

  countPrunableDeliveries: async (before) =>
    (await pg.query<{ deliveries: number; bytes: number; oldestReceivedAt: number | null; newestReceivedAt: number | null }>(
      `SELECT count(*) AS deliveries, coalesce(sum(octet_length(body) + octet_length(headers)), 0) AS bytes,
         min(received_at) AS "oldestReceivedAt", max(received_at) AS "newestReceivedAt"
       FROM deliveries WHERE ${PRUNABLE}`,
      [before],
    ))[0]!,
});
