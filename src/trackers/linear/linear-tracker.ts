/**
 * The Linear adapter: the {@link Tracker} the receiver, import and runs use for Linear. Each method delegates to the
 * module that holds the Linear facts: `linear-verify.ts` (`Linear-Signature`), `linear-event.ts` (webhook envelope),
 * `linear-issue.ts` (issue → ticket), `linear-ticket-ops.ts` (GraphQL calls on one issue, recorded as actions by
 * `trackers/recorded-actions.ts`), `linear-api.ts` (the `@linear/sdk` client and its errors).
 *
 * Delivery key: `linear:<Linear-Delivery>` — Linear's delivery id header (a uuid per delivery, unique across
 * workspaces, so it needs no site scope; https://linear.app/developers/webhooks "Webhook headers"); without it,
 * `sha256:<hex of the raw body>`. The header is not signed, so the receiver also deduplicates identical bodies.
 * Age: Linear recommends refusing a `webhookTimestamp` more than a minute old (replay protection, same page), hence
 * `maxEventAgeMs` 60 s (the receiver applies it when shorter than `DEFLECT_MAX_EVENT_AGE`).
 */
import { recordTicketActions, type RecordedActions } from '../recorded-actions.js';
import type { TicketActionsOptions, Tracker } from '../tracker.js';
import type { LinearApi } from './linear-api.js';
import { parseLinearEvent } from './linear-event.js';
import { restLinearIssueToTicket } from './linear-issue.js';
import { linearTicketOps } from './linear-ticket-ops.js';
import { createLinearVerifier } from './linear-verify.js';

/** Linear's delivery id header (lower case). */
export const LINEAR_DELIVERY_HEADER = 'linear-delivery';

/** Oldest `webhookTimestamp` accepted, ms: Linear's guidance is one minute. */
export const LINEAR_MAX_EVENT_AGE_MS = 60_000;

/** The Linear adapter. `createActions` returns the run's {@link RecordedActions} over {@link linearTicketOps}. */
export const linearTracker: Tracker<LinearApi, RecordedActions> = {
  name: 'linear',
  title: 'Linear',
  keptHeaders: ['content-type', 'user-agent', LINEAR_DELIVERY_HEADER, 'linear-event'],
  maxEventAgeMs: LINEAR_MAX_EVENT_AGE_MS,
  secretSetting: 'DEFLECT_LINEAR_WEBHOOK_SECRET',
  createVerifier: createLinearVerifier,
  parseEvent: (body) => parseLinearEvent(body),
  deliveryKey(_event, headers, hash) {
    const raw = headers[LINEAR_DELIVERY_HEADER];
    const identifier = ((Array.isArray(raw) ? raw[0] : raw) ?? '').trim() || null;
    return { key: identifier ? `linear:${identifier}` : `sha256:${hash}`, identifier };
  },
  issueToTicket: restLinearIssueToTicket,
  createActions: createLinearActions,
};

/** The recorded actions of one Linear run (none sent without a client: dry run). Acts on the ticket's uuid, else its key. */
export function createLinearActions(options: TicketActionsOptions<LinearApi>): RecordedActions {
  const { client, ...rest } = options;
  const issueId = options.ticket?.id ?? options.ticketKey;
  return recordTicketActions({ ...rest, ops: client ? linearTicketOps(client, issueId) : null });
}
