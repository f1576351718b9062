/**
 * Replaying a stored delivery: deflect's own, trusted replay path. The replay is written straight into the database
 * as a new `pending` delivery (same body and kept headers, `replay_of` = the original's id, key
 * `replay:<id>:<uuid>`) and routed by the normal path (the worker routes pending deliveries within its poll
 * interval, 1 s). It skips the receiver's checks on purpose: the body was authenticated when it first arrived, the
 * event-age limit and body-duplicate window exist to stop *others* replaying it, and its runs get new idempotency
 * keys (the key includes the delivery key), so they act again. A snapshot older than the stored one is not
 * overwritten (routing compares event times as usual).
 *
 * `deflect replay --delivery <id>` calls it (a local CLI with the database file is trusted); an operator HTTP route
 * behind an authenticated role can call it too. Nothing a webhook sender puts in a header can mark a replay.
 */
import { randomUUID } from 'node:crypto';
import type { Store } from '../db/store.js';

/** No stored delivery has the requested id. */
export class DeliveryNotFoundError extends Error {
  override name = 'DeliveryNotFoundError';
}

/** The delivery's body was pruned by retention (`DEFLECT_DELIVERY_RETENTION`), so there is nothing to replay. */
export class DeliveryPrunedError extends Error {
  override name = 'DeliveryPrunedError';
}

/**
 * Stores a replay of delivery `deliveryId` as a new pending delivery.
 * @param now receipt time of the replay, ms.
 * @returns the new delivery's id and key.
 * @throws DeliveryNotFoundError when there is no such delivery.
 * @throws DeliveryPrunedError when its body was pruned by retention.
 */
export async function replayStoredDelivery(db: Store, deliveryId: number, now = Date.now()): Promise<{ id: number; deliveryKey: string }> {
  const original = await db.findDelivery(deliveryId);
  if (!original) throw new DeliveryNotFoundError(`no delivery #${deliveryId}`);
  if (original.bodyPrunedAt !== null) {
    throw new DeliveryPrunedError(
      `delivery #${deliveryId} cannot be replayed: its body was pruned on ${new Date(original.bodyPrunedAt).toISOString()} (DEFLECT_DELIVERY_RETENTION)`,
    );
  }
  const deliveryKey = `replay:${deliveryId}:${randomUUID()}`;
  const [stored] = await db.insertDeliveries([
    {
      deliveryKey,
      webhookIdentifier: null,
      event: original.event,
      issueKey: original.issueKey,
      headers: JSON.parse(original.headers) as Record<string, string>,
      body: original.body,
      eventTimestamp: original.eventTimestamp,
      timestampSource: original.timestampSource,
      replayOf: deliveryId,
      receivedAt: now,
    },
  ]);
  return { id: stored.id, deliveryKey };
}
