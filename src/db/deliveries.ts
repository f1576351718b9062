/**
 * Deliveries: every webhook POST that passed authentication and parsing, stored before it is acknowledged.
 * SQL only: the group commit and routing at receipt live in `pipeline/record-and-route.ts`, which calls
 * {@link insertDeliveries} inside its transaction.
 */
import { createHash } from 'node:crypto';
import type { Db } from './client.js';
import { statement } from './statements.js';
import type { DeliveryRow } from './schema.js';
import type { TimestampSource } from '../trackers/tracker.js';

export interface NewDelivery {
  /** The tracker it came from (`deliveries.source`); absent = `jira`. */
  source?: string;
  /** Idempotency key: `<site host>:<X-Atlassian-Webhook-Identifier>`, `github:<X-GitHub-Delivery>`, … or `sha256:<hex of raw body>`. */
  deliveryKey: string;
  webhookIdentifier: string | null;
  event: string;
  issueKey: string | null;
  /** Headers worth keeping (lower-case names); never signature, token, authorization or cookie headers. */
  headers: Record<string, string>;
  /** Raw body as received (UTF-8 text). */
  body: string;
  /** The event's `timestamp`, ms. */
  eventTimestamp: number | null;
  /** How `eventTimestamp` was obtained (`event` | `parsed` | `receipt`); null/absent = not from a webhook body's field. */
  timestampSource?: TimestampSource | null;
  /** Set only by deflect's own replay path (`replayStoredDelivery`): the delivery id this one replays. */
  replayOf?: number | null;
  /** sha256 hex of the raw body; computed from `body` when absent. */
  bodySha256?: string;
  /**
   * When set (ms), a delivery whose body hash was already stored with `received_at >= dedupeBodySince` is a
   * duplicate whatever its key: the receiver sets it to `receivedAt - (DEFLECT_MAX_EVENT_AGE + 5 min)`, because the
   * unsigned identifier header cannot tell a replayed body from Jira's own retry.
   */
  dedupeBodySince?: number | null;
  /** ms */
  receivedAt: number;
}

/** The outcome of recording one delivery: its row id, and whether the key was already stored. */
export interface RecordedDelivery {
  id: number;
  duplicate: boolean;
}

/** sha256 (hex) of a body as stored (UTF-8 text, byte for byte what was received). */
export const bodySha256 = (body: string | Buffer) => createHash('sha256').update(body).digest('hex');

/**
 * Inserts deliveries in ONE write transaction (one fsync; `BEGIN IMMEDIATE`, so a second process writing at the same
 * time waits on the busy timeout instead of racing). A delivery whose key is already stored is not inserted
 * (`ON CONFLICT DO NOTHING` on the UNIQUE index) and is reported as a duplicate with the stored row's id; so is one
 * with `dedupeBodySince` whose body hash was stored since then (an indexed lookup inside the same write transaction:
 * writers are serialised, so 1,000 concurrent copies still store one row).
 */
export function insertDeliveries(db: Db, batch: readonly NewDelivery[]): RecordedDelivery[] {
  const sqlite = db.$client;
  const insert = statement(db, `
    INSERT INTO deliveries (delivery_key, webhook_identifier, source, event, issue_key, status, headers, body, body_sha256, event_timestamp, timestamp_source, replay_of, received_at)
    VALUES (@deliveryKey, @webhookIdentifier, @source, @event, @issueKey, 'pending', @headers, @body, @bodySha256, @eventTimestamp, @timestampSource, @replayOf, @receivedAt)
    ON CONFLICT(delivery_key) DO NOTHING
    RETURNING id`);
  const existing = statement(db, 'SELECT id FROM deliveries WHERE delivery_key = ?');
  const sameBody = statement(db, 'SELECT id FROM deliveries WHERE body_sha256 = ? AND received_at >= ? ORDER BY id LIMIT 1');
  const run = () =>
    batch.map((d) => {
      const hash = d.bodySha256 ?? bodySha256(d.body);
      if (d.dedupeBodySince != null) {
        const earlier = sameBody.get(hash, d.dedupeBodySince) as { id: number } | undefined;
        if (earlier) return { id: earlier.id, duplicate: true };
      }
      const { dedupeBodySince: _window, ...row } = d;
      const inserted = insert.get({ ...row, source: d.source ?? 'jira', headers: JSON.stringify(d.headers), bodySha256: hash, replayOf: d.replayOf ?? null, timestampSource: d.timestampSource ?? null }) as { id: number } | undefined;
      if (inserted) return { id: inserted.id, duplicate: false };
      return { id: (existing.get(d.deliveryKey) as { id: number }).id, duplicate: true };
    });
  // Inside an outer transaction (record-and-route's group commit), run as its savepoint; alone, take the write lock up front.
  return sqlite.inTransaction ? sqlite.transaction(run)() : sqlite.transaction(run).immediate();
}

const SELECT_DELIVERY = `SELECT id, delivery_key AS deliveryKey, webhook_identifier AS webhookIdentifier, source, event,
  issue_key AS issueKey, status, reason, headers, body, body_sha256 AS bodySha256, event_timestamp AS eventTimestamp, timestamp_source AS timestampSource, replay_of AS replayOf,
  received_at AS receivedAt, routed_at AS routedAt, body_pruned_at AS bodyPrunedAt FROM deliveries`;

/** Oldest deliveries still `pending` (stored, not yet routed), at most `limit`. */
export function findPendingDeliveries(db: Db, limit: number): DeliveryRow[] {
  return statement(db,
      `${SELECT_DELIVERY} WHERE status = 'pending' ORDER BY id LIMIT ?`,
    )
    .all(limit) as DeliveryRow[];
}

/** Marks a delivery `routed` or `ignored` with the reason (inside the caller's transaction when there is one). */
export function markDeliveryRouted(db: Db, id: number, status: 'routed' | 'ignored' | 'failed', reason: string, now = Date.now()): void {
  statement(db, 'UPDATE deliveries SET status = ?, reason = ?, routed_at = ? WHERE id = ?').run(status, reason, now, id);
}

/** One delivery by id, or undefined. */
export function findDelivery(db: Db, id: number): DeliveryRow | undefined {
  return statement(db,
      `${SELECT_DELIVERY} WHERE id = ?`,
    )
    .get(id) as DeliveryRow | undefined;
}

/** Number of deliveries still `pending` (queue lag for /readyz). */
export function countPendingDeliveries(db: Db): number {
  return (statement(db, "SELECT count(*) AS n FROM deliveries WHERE status = 'pending'").get() as { n: number }).n;
}

/** `replay_of` of each given delivery that is a replay (`deflect replay --delivery`), by delivery id. */
export function replayOrigins(db: Db, deliveryIds: readonly number[]): Map<number, number> {
  if (deliveryIds.length === 0) return new Map();
  const rows = statement(db, 'SELECT id, replay_of AS replayOf FROM deliveries WHERE replay_of IS NOT NULL AND id IN (SELECT value FROM json_each(?))')
    .all(JSON.stringify(deliveryIds)) as Array<{ id: number; replayOf: number }>;
  return new Map(rows.map((r) => [r.id, r.replayOf]));
}

/** Receipt time (ms) of the oldest `pending` delivery, or null when none waits (queue age for /readyz). */
export function oldestPendingDeliveryAt(db: Db): number | null {
  return (statement(db, "SELECT min(received_at) AS at FROM deliveries WHERE status = 'pending'").get() as { at: number | null }).at;
}

/** Which of `keys` (idempotency keys) are already stored, as a set (reconcile checks what was missed). */
export function storedDeliveryKeys(db: Db, keys: readonly string[]): Set<string> {
  const found = new Set<string>();
  const select = statement(db, 'SELECT 1 AS hit FROM deliveries WHERE delivery_key = ?');
  for (const key of keys) if (select.get(key)) found.add(key);
  return found;
}

/** Receipt time (ms) of the newest delivery from tracker `source` (`github`, ...), or null when none is stored. */
export function newestDeliveryAt(db: Db, source: string): number | null {
  return (statement(db, "SELECT max(received_at) AS at FROM deliveries WHERE source = ? AND delivery_key NOT LIKE 'reconcile:%'").get(source) as { at: number | null }).at;
}
