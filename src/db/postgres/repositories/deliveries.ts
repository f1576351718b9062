/**
 * PostgreSQL twin of `../../deliveries.ts` (the reference: same results, same order, same duplicates).
 *
 * Where the SQL differs, and why:
 * - {@link deliveries}' `insertDeliveries`: SQLite serialises every writer (`BEGIN IMMEDIATE`), so "look up the body
 *   hash, then insert" cannot race there. Several replicas share one PostgreSQL, so the batch runs in
 *   `pg.transaction` (a savepoint inside record-and-route's transaction) and first takes **transaction advisory
 *   locks** (`pg_advisory_xact_lock(bigint)`, held until the outer transaction ends): one per delivery key, and one
 *   per body hash of each delivery that has a `dedupeBodySince` window. A second replica inserting the same body
 *   waits for the first one's commit, and its window lookup (a new statement under READ COMMITTED, so a new
 *   snapshot) then sees the stored row: one row, the other call answers `duplicate` with its id. The key itself is
 *   made unique by the UNIQUE index and `ON CONFLICT (delivery_key) DO NOTHING`, as on SQLite; its lock only keeps
 *   two batches holding the same keys in different orders from deadlocking on each other's uncommitted index
 *   entries. All locks of a batch are taken in one statement, in ascending key order, so two batches never wait on
 *   each other in a cycle. Lock keys are the first 64 bits of SHA-256 over a namespaced text (`deflect:delivery-key:`,
 *   `deflect:delivery-body:`); a collision with another lock only makes one call wait, never changes a result.
 *   https://www.postgresql.org/docs/15/explicit-locking.html#ADVISORY-LOCKS,
 *   https://www.postgresql.org/docs/15/transaction-iso.html#XACT-READ-COMMITTED,
 *   https://www.postgresql.org/docs/15/sql-insert.html#SQL-ON-CONFLICT.
 * - Each delivery is one statement (CTEs: window lookup, `INSERT … SELECT … ON CONFLICT DO NOTHING`, key lookup)
 *   instead of SQLite's two or three prepared statements, to spend one round trip per delivery.
 * - The lock statement evaluates `pg_advisory_xact_lock` per row of `unnest(…) WITH ORDINALITY ORDER BY ordinality`:
 *   PostgreSQL evaluates output expressions after sorting when they are not themselves sorted on, so the locks are
 *   taken in the order given. https://www.postgresql.org/docs/15/sql-select.html#SQL-SELECT-LIST
 * - `replayOrigins`: `id IN (SELECT value FROM json_each(?))` → `id = ANY($1::bigint[])`, ordered by id (SQLite walks
 *   the IN list's sorted ephemeral index, so ascending id there too).
 * - `storedDeliveryKeys`: one `= ANY($1::text[])` query instead of a lookup per key; the set is built in the order of
 *   `keys`, as SQLite's loop builds it.
 * - `newestDeliveryAt`: SQLite's `NOT LIKE 'reconcile:%'` is case-insensitive for ASCII → `NOT ILIKE`.
 * - Column aliases are quoted (`AS "deliveryKey"`): PostgreSQL folds unquoted names to lower case.
 */
import { createHash } from 'node:crypto';
import { bodySha256 } from '../../deliveries.js';
import type { DeliveryRow } from '../../schema.js';
import type { Repositories } from '../../store.js';
import type { PgSession } from '../pg-session.js';

const SELECT_DELIVERY = `SELECT id, delivery_key AS "deliveryKey", webhook_identifier AS "webhookIdentifier", source, event,
  issue_key AS "issueKey", status, reason, headers, body, body_sha256 AS "bodySha256", event_timestamp AS "eventTimestamp",
  timestamp_source AS "timestampSource", replay_of AS "replayOf", received_at AS "receivedAt", routed_at AS "routedAt",
  body_pruned_at AS "bodyPrunedAt" FROM deliveries`;

/**
 * Records one delivery in one statement (one round trip): the earlier delivery of the same body within the window
 * (`$13` null = no window), else the new row, else (the key conflicts) the stored row of the same key. All parts see
 * one snapshot, so `existing` finds the conflicting row (committed before this batch took the key's lock, or written
 * earlier in this transaction) and not the one `inserted` adds. A conflicting insert draws an id from the identity
 * sequence, as SQLite's AUTOINCREMENT burns a rowid on a conflicting insert: ids stay the same on both backends. The
 * casts are needed because `INSERT … SELECT` does not type parameters from the target columns as `VALUES` does.
 */
const RECORD = `WITH earlier AS (
    SELECT id FROM deliveries WHERE $13::bigint IS NOT NULL AND body_sha256 = $8 AND received_at >= $13::bigint ORDER BY id LIMIT 1
  ), inserted AS (
    INSERT INTO deliveries (delivery_key, webhook_identifier, source, event, issue_key, status, headers, body, body_sha256,
      event_timestamp, timestamp_source, replay_of, received_at)
    SELECT $1::text, $2::text, $3::text, $4::text, $5::text, 'pending', $6::text, $7::text, $8::text, $9::bigint, $10::text, $11::bigint, $12::bigint
    WHERE NOT EXISTS (SELECT 1 FROM earlier)
    ON CONFLICT (delivery_key) DO NOTHING
    RETURNING id
  ), existing AS (
    SELECT id FROM deliveries WHERE delivery_key = $1 AND NOT EXISTS (SELECT 1 FROM earlier)
  )
  SELECT id, false AS duplicate FROM inserted
  UNION ALL SELECT id, true FROM earlier
  UNION ALL SELECT id, true FROM existing WHERE NOT EXISTS (SELECT 1 FROM inserted)`;

/**
 * The transaction advisory lock key (a signed 64-bit integer) of `name` in `namespace`: the first 8 bytes of
 * SHA-256 over `deflect:<namespace>:<name>` (also used by the tickets twin, namespace `ticket`).
 */
export const lockKey = (namespace: string, name: string): bigint =>
  createHash('sha256').update(`deflect:${namespace}:${name}`).digest().readBigInt64BE(0);

/**
 * Takes the transaction advisory lock of every key (deduplicated, in ascending order, one statement) until the
 * transaction ends; call it inside `pg.transaction`, once per transaction, so lock order is global.
 */
export async function lockAll(pg: PgSession, keys: bigint[]): Promise<void> {
  const sorted = [...new Set(keys)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (sorted.length === 0) return;
  await pg.query(
    'SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) WITH ORDINALITY AS l(k, n) ORDER BY n',
    [sorted.map(String)],
  );
}

export const deliveries = (pg: PgSession): Repositories['deliveries'] => ({
  insertDeliveries: (batch) =>
    pg.transaction(async () => {
      const hashes = batch.map((d) => d.bodySha256 ?? bodySha256(d.body));
      await lockAll(pg, [
        ...batch.map((d) => lockKey('delivery-key', d.deliveryKey)),
        ...batch.flatMap((d, i) => (d.dedupeBodySince != null ? [lockKey('delivery-body', hashes[i]!)] : [])),
      ]);
      const recorded: Array<{ id: number; duplicate: boolean }> = [];
      for (const [i, d] of batch.entries()) {
        const [row] = await pg.query<{ id: number; duplicate: boolean }>(RECORD, [
          d.deliveryKey, d.webhookIdentifier, d.source ?? 'jira', d.event, d.issueKey, JSON.stringify(d.headers), d.body, hashes[i],
          d.eventTimestamp, d.timestampSource ?? null, d.replayOf ?? null, d.receivedAt, d.dedupeBodySince ?? null,
        ]);
        // No row: the key was inserted by a writer that did not take its lock (none in deflect) after this statement's snapshot.
        recorded.push(row ?? { id: (await pg.query<{ id: number }>('SELECT id FROM deliveries WHERE delivery_key = $1', [d.deliveryKey]))[0]!.id, duplicate: true });
      }
      return recorded;
    }),

  // Inside a transaction (the worker's routing batch) the rows are locked and rows another replica holds are skipped,
  // so two replicas never route the same delivery (https://www.postgresql.org/docs/current/sql-select.html#SQL-FOR-UPDATE-SHARE).
  findPendingDeliveries: (limit) =>
    pg.query<DeliveryRow>(`${SELECT_DELIVERY} WHERE status = 'pending' ORDER BY id LIMIT $1${pg.inTransaction ? ' FOR UPDATE SKIP LOCKED' : ''}`, [limit]),

  markDeliveryRouted: async (id, status, reason, now = Date.now()) => {
    await pg.execute('UPDATE deliveries SET status = $1, reason = $2, routed_at = $3 WHERE id = $4', [status, reason, now, id]);
  },

  findDelivery: async (id) => (await pg.query<DeliveryRow>(`${SELECT_DELIVERY} WHERE id = $1`, [id]))[0],

  countPendingDeliveries: async () =>
    (await pg.query<{ n: number }>("SELECT count(*) AS n FROM deliveries WHERE status = 'pending'"))[0]!.n,

  replayOrigins: async (deliveryIds) => {
    if (deliveryIds.length === 0) return new Map();
    const rows = await pg.query<{ id: number; replayOf: number }>(
      'SELECT id, replay_of AS "replayOf" FROM deliveries WHERE replay_of IS NOT NULL AND id = ANY($1::bigint[]) ORDER BY id',
      [deliveryIds],
    );
    return new Map(rows.map((r) => [r.id, r.replayOf]));
  },

  oldestPendingDeliveryAt: async () =>
    (await pg.query<{ at: number | null }>("SELECT min(received_at) AS at FROM deliveries WHERE status = 'pending'"))[0]!.at,

  storedDeliveryKeys: async (keys) => {
    if (keys.length === 0) return new Set();
    const rows = await pg.query<{ key: string }>('SELECT delivery_key AS key FROM deliveries WHERE delivery_key = ANY($1::text[])', [keys]);
    const stored = new Set(rows.map((r) => r.key));
    return new Set(keys.filter((key) => stored.has(key)));
  },

  newestDeliveryAt: async (source) =>
    (await pg.query<{ at: number | null }>(
      "SELECT max(received_at) AS at FROM deliveries WHERE source = $1 AND delivery_key NOT ILIKE 'reconcile:%'",
      [source],
    ))[0]!.at,
});
