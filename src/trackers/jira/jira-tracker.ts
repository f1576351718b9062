/**
 * The Jira Cloud adapter (also reads Jira Data Center admin webhooks and Jira Automation bodies): the
 * {@link Tracker} the receiver, import, reconcile and runs use for Jira. Each method delegates to the module that
 * holds the Jira facts: `verify-delivery.ts` (X-Hub-Signature HMAC, X-Deflect-Token), `jira-event.ts` (webhook
 * envelope and Automation body), `jira-issue.ts` (REST issue → ticket), `jira-ticket-ops.ts` (REST calls on one
 * issue, recorded as actions by `trackers/recorded-actions.ts`).
 */
import type { JiraApi } from '../../jira/jira-actions.js';
import { recordTicketActions, type RecordedActions } from '../recorded-actions.js';
import type { TicketActionsOptions, Tracker } from '../tracker.js';
import { parseJiraEvent } from './jira-event.js';
import { restIssueToTicket } from './jira-issue.js';
import { jiraTicketOps } from './jira-ticket-ops.js';
import { createBodyVerifier } from './verify-delivery.js';

/** Jira's delivery id header; not signed, so the body hash deduplicates too (decision 005). */
export const WEBHOOK_IDENTIFIER_HEADER = 'x-atlassian-webhook-identifier';

/** The Jira adapter. `createActions` returns the run's {@link RecordedActions} (Jira calls plus `act`, `whenIdle`). */
export const jiraTracker: Tracker<JiraApi, RecordedActions> = {
  name: 'jira',
  title: 'Jira',
  keptHeaders: ['content-type', 'user-agent', WEBHOOK_IDENTIFIER_HEADER, 'x-atlassian-webhook-retry', 'x-atlassian-webhook-flow', 'x-atlassian-webhook-trace'],
  secretSetting: 'DEFLECT_WEBHOOK_SECRET or DEFLECT_WEBHOOK_TOKEN',
  createVerifier: createBodyVerifier,
  parseEvent: (body) => parseJiraEvent(body),
  deliveryKey(event, headers, hash) {
    const raw = headers[WEBHOOK_IDENTIFIER_HEADER];
    const identifier = (Array.isArray(raw) ? raw[0] : raw) ?? null;
    // Jira identifiers are unique per site only, so the site host scopes them.
    return { key: identifier ? `${event.siteHost ?? 'unknown-site'}:${identifier}` : `sha256:${hash}`, identifier };
  },
  issueToTicket: restIssueToTicket,
  createActions: createRecordedActions,
};

/** The recorded actions of one Jira run (Jira's {@link jiraTicketOps}; none without a client: dry run). */
export function createRecordedActions(options: TicketActionsOptions<JiraApi>): RecordedActions {
  const { client, ...rest } = options;
  return recordTicketActions({ ...rest, ops: client ? jiraTicketOps(client, options.ticketKey) : null });
}
