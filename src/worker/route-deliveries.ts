/**
 * Routing deliveries that are still `pending`: normally a delivery is routed at receipt, inside record-and-route's
 * group commit (`pipeline/record-and-route.ts`). Deliveries stored any other way (reconcile, replay, one whose routing
 * failed at receipt, or written by a process that died mid-way) stay `pending`, and the worker routes them here
 * through the same `routeEvent`. Either way a delivery is routed in one transaction: untouched (`pending`) or fully
 * routed. Handlers never run here.
 */
import type { Store } from '../db/store.js';
import type { DeliveryRow } from '../db/schema.js';
import { routeEvent, type RouteOutcome, type RoutingOptions } from '../pipeline/route-event.js';
import { trackerNamed } from '../trackers/index.js';
import { byTicket } from '../pipeline/record-and-route.js';

/** Deliveries routed per worker turn. */
export const ROUTE_BATCH = 25;

/**
 * Routes up to `limit` pending deliveries, oldest first, in ONE outer transaction (one fsync for the batch; each
 * delivery's own transaction nests as a savepoint, so a delivery that fails rolls back alone). Small batches keep
 * each turn short, so the receiver sharing the event loop is not held up. A delivery waiting for a group membership
 * lookup (rule `groups`, decision 008) stays `pending` and is not counted: the cache wakes the worker when the answer
 * is in. Returns how many were handled (so a batch of waiting deliveries does not make the worker spin).
 */
export async function routePendingDeliveries(db: Store, options: RoutingOptions, limit = ROUTE_BATCH): Promise<number> {
  if ((await db.findPendingDeliveries(1)).length === 0) return 0;
  let deferred = 0;
  // Read again inside the transaction: on PostgreSQL the rows are locked there (`FOR UPDATE SKIP LOCKED`), so two
  // replicas never route the same delivery; on SQLite the write transaction already excludes every other writer.
  const pending = await db.transaction(async () => {
    const batch = await db.findPendingDeliveries(limit);
    for (const delivery of byTicket(batch).map((i) => batch[i])) {
      try {
        if (await routeDelivery(db, delivery, options) === 'deferred') deferred++;
      } catch (error) {
        // One bad delivery must not block the others: keep it, marked failed with the error, for replay.
        await db.markDeliveryRouted(delivery.id, 'failed', `routing failed: ${(error as Error).message}`);
        options.logger.error({ err: error, deliveryId: delivery.id }, 'routing a delivery failed; marked failed (deflect replay --delivery re-runs it)');
      }
    }
    return batch;
  });
  return pending.length - deferred;
}

/**
 * Routes one stored delivery, parsing its body (and its stored headers: GitHub's event name) with the adapter of the
 * tracker it came from (`deliveries.source`). A body that no longer parses (it did at receipt) is marked ignored with
 * the reason.
 */
export async function routeDelivery(db: Store, delivery: DeliveryRow, options: RoutingOptions, now = Date.now()): Promise<RouteOutcome> {
  let event;
  try {
    event = trackerNamed(delivery.source).parseEvent(JSON.parse(delivery.body), JSON.parse(delivery.headers || '{}') as Record<string, string>);
  } catch (error) {
    await db.markDeliveryRouted(delivery.id, 'ignored', `ignored: stored body does not parse: ${(error as Error).message}`, now);
    options.logger.warn({ err: error, deliveryId: delivery.id }, 'stored delivery does not parse; marked ignored');
    return 'routed';
  }
  return await routeEvent(db, delivery, event, options, now);
}
