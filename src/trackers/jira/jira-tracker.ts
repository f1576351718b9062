/**
 * The Jira Cloud adapter (also reads Jira Data Center admin webhooks and Jira Automation bodies): the
 * {@link Tracker} the receiver, import, reconcile and runs use for Jira. Each method delegates to the module that
 * holds the Jira facts: `verify-delivery.ts` (X-Hub-Signature HMAC, X-Deflect-Token), `jira-event.ts` (webhook
 * envelope and Automation body), `jira-issue.ts` (REST issue → ticket), `jira/recorded-actions.ts` (REST calls
 * recorded as actions).
 */
import type { JiraApi } from '../../jira/jira-actions.js';
import { createRecordedActions, type RecordedActions } from '../../jira/recorded-actions.js';
import type { Tracker } from '../tracker.js';
import { parseJiraEvent } from './jira-event.js';
import { restIssueToTicket } from './jira-issue.js';
import { createBodyVerifier } from './verify-delivery.js';

/** Jira's delivery id header; not signed, so the body hash deduplicates too (decision 005). */
export const WEBHOOK_IDENTIFIER_HEADER = 'x-atlassian-webhook-identifier';

/** The Jira adapter. `createActions` returns the run's {@link RecordedActions} (Jira calls plus `act`, `whenIdle`). */
export const jiraTracker: Tracker<JiraApi, RecordedActions> = {
  name: 'jira',
  createVerifier: createBodyVerifier,
  parseEvent: parseJiraEvent,
  deliveryKey(event, headers, hash) {
    const raw = headers[WEBHOOK_IDENTIFIER_HEADER];
    const identifier = (Array.isArray(raw) ? raw[0] : raw) ?? null;
    // Jira identifiers are unique per site only, so the site host scopes them.
    return { key: identifier ? `${event.siteHost ?? 'unknown-site'}:${identifier}` : `sha256:${hash}`, identifier };
  },
  issueToTicket: restIssueToTicket,
  createActions: createRecordedActions,
};
