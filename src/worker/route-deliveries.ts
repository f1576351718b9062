/**
 * Routing: turns a stored delivery into a ticket snapshot and queued runs. Normally it happens at receipt, inside
 * the receiver's group-commit transaction (`routeEvent`, passed to `DeliveryRecorder`), so the delivery and its
 * routing share one fsync and the event is parsed once. Deliveries stored any other way (reconcile, or one whose
 * routing failed at receipt, or written by a process that died mid-way) stay `pending` and the worker routes them
 * (`routePendingDeliveries`). Either way a delivery is routed in one transaction: untouched (`pending`) or fully
 * routed. Handlers never run here.
 */
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { findPendingDeliveries, markDeliveryRouted } from '../db/deliveries.js';
import { enqueueRun } from '../db/runs.js';
import type { DeliveryRow } from '../db/schema.js';
import { siteHostOf, upsertTickets } from '../db/tickets.js';
import { classify } from '../rules/classify.js';
import type { Rule } from '../rules/rules-file.js';
import { parseJiraEvent, type JiraEvent } from '../webhooks/jira-event.js';

export interface RoutingOptions {
  rules: readonly Rule[];
  dryRun: boolean;
  maxAttempts: number;
  selfAccountId: string | null;
  logger: Logger;
  /**
   * The Jira site deflect acts on (`JIRA_SITE_URL`, else `JIRA_BASE_URL`). An event whose `self` URLs name another
   * site is recorded as `ignored` with the reason, and neither updates a ticket snapshot nor queues a run. Null or
   * absent: any site (dry run without a configured site).
   */
  siteUrl?: string | null;
  /**
   * Other URLs that name the same site (the `JIRA_BASE_URL` deflect reads through, e.g. a gateway): their `self`
   * URLs (reconcile reads issues through it) count as the site's own, and their tickets are keyed by `siteUrl`.
   */
  siteAliases?: readonly string[];
}

/** Deliveries routed per worker turn. */
export const ROUTE_BATCH = 25;

/**
 * Routes up to `limit` pending deliveries, oldest first, in ONE outer transaction (one fsync for the batch; each
 * delivery's own transaction nests as a savepoint, so a delivery that fails rolls back alone). Small batches keep
 * each turn short, so the receiver sharing the event loop is not held up. Returns how many were handled.
 */
export function routePendingDeliveries(db: Db, options: RoutingOptions, limit = ROUTE_BATCH): number {
  const pending = findPendingDeliveries(db, limit);
  if (pending.length === 0) return 0;
  db.$client.transaction(() => {
    for (const delivery of pending) {
      try {
        routeDelivery(db, delivery, options);
      } catch (error) {
        // One bad delivery must not block the others: keep it, marked failed with the error, for replay.
        markDeliveryRouted(db, delivery.id, 'failed', `routing failed: ${(error as Error).message}`);
        options.logger.error({ err: error, deliveryId: delivery.id }, 'routing a delivery failed; marked failed (deflect replay --delivery re-runs it)');
      }
    }
  })();
  return pending.length;
}

/** What routing needs of a stored delivery. */
export type RoutableDelivery = Pick<DeliveryRow, 'id' | 'deliveryKey' | 'issueKey' | 'eventTimestamp' | 'receivedAt'>;

/** Routes one stored delivery. A body that no longer parses (it did at receipt) is marked ignored with the reason. */
export function routeDelivery(db: Db, delivery: DeliveryRow, options: RoutingOptions, now = Date.now()): void {
  let event;
  try {
    event = parseJiraEvent(JSON.parse(delivery.body));
  } catch (error) {
    markDeliveryRouted(db, delivery.id, 'ignored', `ignored: stored body does not parse: ${(error as Error).message}`, now);
    options.logger.warn({ err: error, deliveryId: delivery.id }, 'stored delivery does not parse; marked ignored');
    return;
  }
  routeEvent(db, delivery, event, options, now);
}

/**
 * Routes a delivery whose event is already parsed: ticket snapshot, classification, queued runs and the delivery's
 * status with its reason, in one transaction (a savepoint when called inside another transaction, as the receiver's
 * group commit does).
 * @throws whatever the database throws; nothing of this delivery's routing is then kept.
 */
export function routeEvent(db: Db, delivery: RoutableDelivery, event: JiraEvent, options: RoutingOptions, now = Date.now()): void {
  const log = options.logger.child({ deliveryId: delivery.id, issueKey: delivery.issueKey ?? undefined });
  db.$client.transaction(() => {
    const foreign = foreignSite(event, options.siteUrl ?? null, options.siteAliases);
    if (foreign) {
      const reason = `ignored: event from https://${foreign}, deflect acts on ${options.siteUrl} (JIRA_SITE_URL or JIRA_BASE_URL)`;
      markDeliveryRouted(db, delivery.id, 'ignored', reason, now);
      log.warn({ event: event.event, site: foreign }, reason);
      return;
    }
    let stale = false;
    if (event.ticket) {
      // The event's time orders snapshots, but never beyond the time it was received: a body stamped in the future
      // would otherwise make every later event look older and freeze the snapshot. No timestamp (Automation) →
      // receipt time.
      const eventAt = Math.min(event.timestamp ?? delivery.eventTimestamp ?? delivery.receivedAt, delivery.receivedAt);
      // A `self` through an alias of the configured site is the same site: one row per issue.
      const ticket = options.siteUrl && foreignSite({ selfHosts: hostsOfSite(event.ticket.siteUrl) }, options.siteUrl, options.siteAliases) === null
        ? { ...event.ticket, siteUrl: options.siteUrl }
        : event.ticket;
      stale = upsertTickets(db, [{ ticket, eventAt }], 'webhook', now, { defaultSiteUrl: options.siteUrl ?? null }).stale > 0;
    }
    const decision = classify(event, options.rules, { selfAccountId: options.selfAccountId });
    let queued = 0;
    for (const match of decision.matches) {
      const id = enqueueRun(
        db,
        {
          deliveryId: delivery.id,
          ticketKey: event.ticket!.key,
          handler: match.handler,
          reason: match.reason,
          dryRun: options.dryRun,
          idempotencyKey: `${event.ticket!.key}:${match.handler}:${delivery.deliveryKey}`,
          maxAttempts: options.maxAttempts,
        },
        now,
      );
      if (id !== null) queued++;
    }
    const reason = stale ? `${decision.reason} (older than the stored snapshot; ticket state not overwritten)` : decision.reason;
    markDeliveryRouted(db, delivery.id, decision.matches.length > 0 ? 'routed' : 'ignored', reason, now);
    log.info({ event: event.event, queued, reason }, decision.matches.length > 0 ? 'delivery routed' : 'delivery ignored');
  })();
}

/**
 * The first host named by the event's `self` URLs that is neither `siteUrl`'s nor an alias's, or null (also when no
 * site is configured or the event names none: a Server `comment_*` event may carry no `self` at all).
 */
export function foreignSite(event: Pick<JiraEvent, 'selfHosts'>, siteUrl: string | null, aliases: readonly string[] = []): string | null {
  const ours = siteHostOf(siteUrl);
  if (!ours) return null;
  const accepted = new Set([ours, ...aliases.map(siteHostOf).filter((h): h is string => h !== null)]);
  return event.selfHosts.find((host) => !accepted.has(host)) ?? null;
}

const hostsOfSite = (url: string | null) => {
  const host = siteHostOf(url);
  return host ? [host] : [];
};
