/**
 * Record-and-route: the one step the receiver calls after a delivery passed its checks. It owns the write
 * transaction and the group commit (decision 001: committed with `synchronous=FULL` before the 2xx):
 *
 * 1. deliveries recorded in the same event-loop turn are written in ONE `BEGIN IMMEDIATE` transaction, so many
 *    concurrent requests share one fsync; inside it, each delivery is inserted by `insertDeliveries` (SQL only: the
 *    idempotency-key UNIQUE index and the body-hash replay window of decision 005 decide duplicates);
 * 2. in the same transaction each new delivery is routed by `routeEvent` (ticket snapshot, rules, queued runs with
 *    their ticket), as a savepoint of its own: a failure there rolls back that delivery's routing only, and the
 *    delivery stays stored `pending` for the worker to route (never lost, never half-routed);
 * 3. only after the COMMIT returned does each caller's promise resolve, so a 2xx is never sent for a delivery that is
 *    not durable; a failed COMMIT rejects every caller of the batch (nothing of it is stored; Jira retries the 5xx).
 *
 * Without routing options (tests, or no worker in the process) deliveries are only recorded and stay `pending`.
 */
import type { Store } from '../db/store.js';
import { insertDeliveries, type NewDelivery, type RecordedDelivery } from '../db/deliveries.js';
import type { TrackerEvent } from '../trackers/tracker.js';
import { routeEvent, type RoutingOptions } from './route-event.js';

export interface RecordAndRouteOptions {
  /** How to route at receipt; null/absent: record only (the worker routes `pending` deliveries later). */
  routing?: RoutingOptions | null;
  /** Called after each commit that stored at least one new delivery (wakes the worker). */
  onCommitted?: () => void;
}

interface Pending {
  delivery: NewDelivery;
  event: TrackerEvent;
  resolve: (recorded: RecordedDelivery) => void;
  reject: (error: unknown) => void;
}

export class RecordAndRoute {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly db: Store,
    private readonly options: RecordAndRouteOptions = {},
  ) {}

  /**
   * Queues one delivery and its parsed event for the next group commit.
   * @returns the delivery's row id and whether it was a duplicate, once committed.
   * @throws (rejects) the database error when the transaction fails; nothing of the batch is then stored.
   */
  record(delivery: NewDelivery, event: TrackerEvent): Promise<RecordedDelivery> {
    return new Promise((resolve, reject) => {
      this.queue.push({ delivery, event, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(async () => void await this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    try {
      const results = await this.db.transaction(async () => {
        const recorded = await this.db.insertDeliveries(batch.map((b) => b.delivery));
        for (const i of byTicket(batch.map((b) => b.delivery))) if (!recorded[i].duplicate) await this.route(recorded[i].id, batch[i]);
        return recorded;
      });
      batch.forEach((b, i) => b.resolve(results[i]));
      if (results.some((r) => !r.duplicate)) this.options.onCommitted?.();
    } catch (error) {
      for (const b of batch) b.reject(error);
    }
  }

  /** Routes one new delivery (its own savepoint); a failure leaves it `pending` for the worker, which records it. */
  private async route(id: number, { delivery, event }: Pending): Promise<void> {
    const routing = this.options.routing;
    if (!routing) return;
    try {
      await routeEvent(this.db, { id, deliveryKey: delivery.deliveryKey, issueKey: delivery.issueKey, eventTimestamp: delivery.eventTimestamp, receivedAt: delivery.receivedAt }, event, routing);
    } catch (error) {
      routing.logger.warn({ err: error, deliveryId: id }, 'routing at receipt failed; the delivery stays pending and the worker routes it');
    }
  }
}

/**
 * The order to route a batch in: by issue key, and in arrival order within one key (so one ticket's events keep their
 * order). Every process then locks tickets in the same order, so two replicas routing batches that share tickets on
 * PostgreSQL cannot deadlock on the per-ticket locks (on SQLite one writer at a time makes the order irrelevant).
 * @returns indexes into `deliveries`.
 */
export function byTicket(deliveries: ReadonlyArray<Pick<NewDelivery, 'issueKey'>>): number[] {
  return deliveries
    .map((_, i) => i)
    .sort((a, b) => {
      const x = deliveries[a].issueKey ?? '';
      const y = deliveries[b].issueKey ?? '';
      return x < y ? -1 : x > y ? 1 : a - b;
    });
}
