/**
 * Routing one event: the ticket snapshot, the classification and the queued runs of one stored delivery, written
 * through plain repository calls (`db/tickets.ts`, `db/runs.ts`, `db/deliveries.ts`) and the pure rules
 * (`rules/classify.ts`). Called by record-and-route at receipt (inside its group commit) and by the worker for
 * deliveries still `pending` (`worker/route-deliveries.ts`). Handlers never run here.
 */
import type { Logger } from 'pino';
import type { Store } from '../db/store.js';
import type { DeliveryRow } from '../db/schema.js';
import { siteHostOf } from '../db/tickets.js';
import { classify, type Classification } from '../rules/classify.js';
import type { LiveRules } from '../rules/live-rules.js';
import type { Ticket } from '../ticket.js';
import { applyApprovalDecision, recordRunRule } from './approval-decisions.js';
import type { Rule } from '../rules/rules-file.js';
import type { MembershipCache } from '../scope/membership-cache.js';
import { scopeMessageKey, SCOPE_MESSAGE_HANDLER } from '../scope/scope-message-handler.js';
import type { TrackerEvent, TrackerName } from '../trackers/tracker.js';
import type { VerifySettings } from '../config.js';
import { applyVerificationSignals } from './verification-signals.js';

export interface RoutingOptions {
  /** The rules when they never change (tests, tools); ignored when `liveRules` is set. */
  rules: readonly Rule[];
  /**
   * The process's reloadable rules (src/rules/live-rules.ts): read once per event, so a reloaded file applies from
   * the next event on, and each queued run records the version that routed it (`runs.rules_version`).
   */
  liveRules?: Pick<LiveRules, 'current'>;
  /** Every run is queued as a dry run. */
  dryRun: boolean;
  /**
   * The trackers deflect can act on (credentials configured); a run on a ticket of another tracker is queued as a dry
   * run (its actions recorded as planned, nothing sent). Absent = every tracker (tests).
   */
  liveTrackers?: ReadonlySet<TrackerName>;
  maxAttempts: number;
  /** deflect's own Jira account (accountId, or name on Data Center): its events are ignored. */
  selfAccountId: string | null;
  /** deflect's own account on the other trackers (GitHub login, Linear user id): their events are ignored too. */
  selfActors?: Partial<Record<TrackerName, string>>;
  logger: Logger;
  /**
   * The Jira site deflect acts on (`JIRA_SITE_URL`, else `JIRA_BASE_URL`). A Jira event whose `self` URLs name another
   * site is recorded as `ignored` with the reason (events of other trackers are not checked against it), and neither updates a ticket snapshot nor queues a run. Null or
   * absent: any site (dry run without a configured site).
   */
  siteUrl?: string | null;
  /**
   * Other URLs that name the same site (the `JIRA_BASE_URL` deflect reads through, e.g. a gateway): their `self`
   * URLs (reconcile reads issues through it) count as the site's own, and their tickets are keyed by `siteUrl`.
   */
  siteAliases?: readonly string[];
  /**
   * Group membership answers for rules with `groups` (issue 11). When an answer is missing, routing leaves the
   * delivery `pending` (nothing written), asks the cache to look it up outside the transaction, and routes it on a
   * later worker turn (decision 008). Absent: such rules see no membership (out of scope, with the reason).
   */
  membership?: MembershipCache | null;
  /**
   * (verified resolution) Demotion settings: a signal that a resolution did not hold re-evaluates its handler's
   * verified rate (`automation/demotion.ts`). Absent: signals are recorded, no handler is demoted.
   */
  verify?: Pick<VerifySettings, 'minResolutions' | 'demoteBelow'>;
}

/** What {@link routeEvent} did: `routed` (status and reason written) or `deferred` (left `pending`: a group lookup is running). */
export type RouteOutcome = 'routed' | 'deferred';

/** What routing needs of a stored delivery. */
export type RoutableDelivery = Pick<DeliveryRow, 'id' | 'deliveryKey' | 'issueKey' | 'eventTimestamp' | 'receivedAt'>;

/**
 * Routes a delivery whose event is parsed: ticket snapshot, classification, queued runs (each with the ticket it will
 * act on, so the run never reads the delivery body again) and the delivery's status with its reason, in one
 * transaction (a savepoint when called inside another transaction, as record-and-route's group commit does).
 * @throws whatever the database throws; nothing of this delivery's routing is then kept.
 */
export async function routeEvent(db: Store, delivery: RoutableDelivery, event: TrackerEvent, options: RoutingOptions, now = Date.now()): Promise<RouteOutcome> {
  const log = options.logger.child({ deliveryId: delivery.id, issueKey: delivery.issueKey ?? undefined });
  const tracker: TrackerName = event.ticket?.tracker ?? 'jira';
  const membership = options.membership ?? null;
  // The rules in force now (live reload), read once for this event.
  const current = options.liveRules?.current ?? { rules: options.rules, version: null };
  const self = tracker === 'jira' ? options.selfAccountId : (options.selfActors?.[tracker] ?? null);
  const classifyOptions = { selfAccountId: self, selfTracker: tracker, membershipOf: membership?.membershipOf };
  // The configured site is Jira's: GitHub and Linear events are authenticated by their own secrets. An event from a
  // foreign site is ignored without classifying or looking anything up.
  const accepted = tracker === 'jira' ? acceptedHosts(options) : null;
  const foreign = foreignSite(event.selfHosts, accepted);
  // Classification is pure (no database state): computed once, used inside the transaction below.
  const decision = foreign ? null : classify(event, current.rules, classifyOptions);
  // Group lookups never happen here (this may run inside the receipt transaction): start them for later and defer.
  const unresolved = membership && decision ? decision.unresolved : [];
  if (unresolved.length > 0) {
    setImmediate(() => void membership!.prefetch(unresolved));
    log.debug({ groups: unresolved.map((q) => q.group) }, 'delivery waits for group membership lookups');
    return 'deferred';
  }
  await db.transaction(async () => {
    if (foreign || decision === null) {
      const reason = `ignored: event from https://${foreign}, deflect acts on ${options.siteUrl} (JIRA_SITE_URL or JIRA_BASE_URL)`;
      await db.markDeliveryRouted(delivery.id, 'ignored', reason, now);
      log.warn({ event: event.event, site: foreign }, reason);
      return;
    }
    let stale = false;
    let eventAt = delivery.receivedAt;
    // A `self` through an alias of the configured site is the same site: one row per issue.
    const ticket =
      event.ticket && accepted && options.siteUrl && foreignSite(hostsOfSite(event.ticket.siteUrl), accepted) === null
        ? { ...event.ticket, siteUrl: options.siteUrl }
        : event.ticket;
    if (ticket) {
      // The event's time orders snapshots, but never beyond the time it was received: a body stamped in the future
      // would otherwise make every later event look older and freeze the snapshot. No timestamp (Automation) →
      // receipt time.
      eventAt = Math.min(event.timestamp ?? delivery.eventTimestamp ?? delivery.receivedAt, delivery.receivedAt);
      stale = (await db.upsertTickets([{ ticket, eventAt }], 'webhook', now, { defaultSiteUrl: tracker === 'jira' ? (options.siteUrl ?? null) : null })).stale > 0;
    }
    const dryRun = options.dryRun || (options.liveTrackers !== undefined && !options.liveTrackers.has(tracker));
    let queued = 0;
    // (verified resolution) a handler demoted for resolutions that did not hold runs in shadow, whatever its rule says.
    const modes = decision.matches.length > 0 ? await db.currentHandlerModes() : new Map();
    for (const found of decision.matches) {
      const demoted = modes.get(found.handler)?.mode === 'shadow' && found.rule.mode !== 'shadow';
      const match = demoted ? { ...found, reason: `${found.reason} (handler demoted)`, rule: { ...found.rule, mode: 'shadow' as const } } : found;
      // classify matches only events that carry a ticket with its labels, so `ticket` is the event's full issue.
      const id = await db.enqueueRun(
        {
          deliveryId: delivery.id,
          ticketKey: ticket!.key,
          handler: match.handler,
          reason: match.rule.mode === 'shadow' ? `${match.reason} in shadow mode` : match.reason,
          dryRun,
          // A shadow rule's run is a dry run that ends `shadow` (nothing sent, not even a comment).
          shadow: match.rule.mode === 'shadow',
          rulesVersion: current.version,
          idempotencyKey: `${ticket!.key}:${match.handler}:${delivery.deliveryKey}`,
          maxAttempts: options.maxAttempts,
          ticket: ticket!,
        },
        now,
      );
      if (id !== null) queued++;
      if (id !== null) await recordRunRule(db, id, match.rule); // (approvals)
    }
    const notices = ticket && decision.matches.length === 0 ? await queueScopeMessages(db, delivery, ticket, decision.outOfScope, dryRun, options.maxAttempts, now) : 0;
    const withNotices = notices > 0 ? `${decision.reason}; early-access comment queued (scopeMessage)` : decision.reason;
    // (approvals) an `/approve` or `/deny` comment decides the ticket's runs awaiting approval.
    const approval = await applyApprovalDecision(db, delivery.id, event, { selfAccountId: self }, now);
    const signals = await applyVerificationSignals(
      db,
      event,
      { deliveryId: delivery.id, eventAt, ticket, stale, matchedHandlers: decision.matches.map((m) => m.handler), selfAccountId: self, settings: options.verify, logger: log },
      now,
    );
    const withSignals = signals ? `${withNotices}; ${signals}` : withNotices;
    const classified = approval ? `${approval.reason}; ${withSignals}` : withSignals;
    const reason = stale ? `${classified} (older than the stored snapshot; ticket state not overwritten)` : classified;
    await db.markDeliveryRouted(delivery.id, decision.matches.length > 0 || approval?.decided || signals ? 'routed' : 'ignored', reason, now);
    log.info({ event: event.event, queued, reason }, decision.matches.length > 0 ? 'delivery routed' : 'delivery ignored');
  });
  return 'routed';
}

/**
 * Queues the built-in `scope-message` run for each out-of-scope rule with a `scopeMessage`: once per ticket and rule
 * ever (its idempotency key has no delivery part; a second one is dropped by the UNIQUE index), at most one per
 * delivery (UNIQUE delivery + handler: a second rule's message goes with the ticket's next delivery). Only when no rule
 * matched: a reporter some rule serves is not told they are out of another's scope. Returns how many were queued.
 */
async function queueScopeMessages(
  db: Store,
  delivery: RoutableDelivery,
  ticket: Ticket,
  outOfScope: Classification['outOfScope'],
  dryRun: boolean,
  maxAttempts: number,
  now: number,
): Promise<number> {
  let queued = 0;
  for (const { rule, reason } of outOfScope) {
    if (!rule.scopeMessage) continue;
    const id = await db.enqueueRun(
      { deliveryId: delivery.id, ticketKey: ticket.key, handler: SCOPE_MESSAGE_HANDLER, reason: `${reason}: early-access comment (scopeMessage)`, dryRun, idempotencyKey: scopeMessageKey(ticket.key, rule.name), maxAttempts, ticket },
      now,
    );
    if (id !== null) queued++;
  }
  return queued;
}

/** The hosts of the configured site and its aliases (computed once per routing options), or null when none is set. */
const acceptedHostsCache = new WeakMap<RoutingOptions, Set<string> | null>();
function acceptedHosts(options: RoutingOptions): Set<string> | null {
  if (!acceptedHostsCache.has(options)) {
    const ours = siteHostOf(options.siteUrl ?? null);
    const aliases = (options.siteAliases ?? []).map(siteHostOf).filter((h): h is string => h !== null);
    acceptedHostsCache.set(options, ours ? new Set([ours, ...aliases]) : null);
  }
  return acceptedHostsCache.get(options)!;
}

/**
 * The first of the event's `self` hosts that is not an accepted host, or null (also when no site is configured, or
 * the event names none: a Server `comment_*` event may carry no `self` at all).
 */
function foreignSite(selfHosts: readonly string[], accepted: Set<string> | null): string | null {
  return accepted ? (selfHosts.find((host) => !accepted.has(host)) ?? null) : null;
}

const hostsOfSite = (url: string | null) => {
  const host = siteHostOf(url);
  return host ? [host] : [];
};
