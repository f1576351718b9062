/**
 * (Slack, issue 15) Turning a submitted request form into a Jira ticket that routes like any other.
 *
 * 1. {@link checkRequest} validates the form as the handler will read it: the description form is written
 *    (`writeDescriptionForm`), and `parseTicketInput` runs on a ticket carrying that description, the rule's label,
 *    project and issue type, and the requester as reporter. Problems go back to the modal; a form that passes here is
 *    the exact text the handler parses later, so the round trip cannot lose a field.
 * 2. {@link fileRequest} creates the issue (`POST /rest/api/3/issue`, description as ADF, one paragraph per line),
 *    reads it back (`GET /rest/api/3/issue/{key}`), and records it through record-and-route as a `jira:issue_created`
 *    delivery with key `slack:<view id>` and the requester as reporter: routing, the run, the report and the audit
 *    see it as any ticket. Jira's own `jira:issue_created` webhook for it names deflect's account as the user and is
 *    ignored as deflect's own event, so the handler runs once (decision 012). Without deflect's own account id the
 *    webhook could route it a second time, so filing is refused then.
 */
import { parseTicketInput, writeDescriptionForm, type InputProblem } from '../automation/ticket-input.js';
import type { Store } from '../db/store.js';
import type { AdfDocument, JiraApi } from '../jira/jira-actions.js';
import type { RecordAndRoute } from '../pipeline/record-and-route.js';
import { parseJiraEvent } from '../trackers/jira/jira-event.js';
import type { Ticket } from '../ticket.js';
import type { OfferedType } from './request-types.js';
import type { SlackUser } from './slack-api.js';
import { defaultSummary } from './slack-modal.js';

/** A request ready to file: where, with what text. */
export interface PreparedRequest {
  project: string;
  issueType: string;
  label: string;
  summary: string;
  /** The description, one line per element (form lines, a blank line, the "filed from Slack" note). */
  lines: string[];
}

/** The reporter deflect records for a Slack requester: their email, else `slack:<user id>`. */
export const reporterIdOf = (user: SlackUser) => user.email ?? `slack:${user.id}`;

/** Builds the ticket text of a request and validates it with the handler's schema. */
export function checkRequest(
  type: OfferedType,
  user: SlackUser,
  summary: string | null,
  values: Array<[string, string]>,
): { ok: true; request: PreparedRequest } | { ok: false; problems: InputProblem[] } {
  const { project, issueType } = type.ruleRef.slack;
  const label = type.ruleRef.labels[0];
  // The note has no `Label:` shape (it opens with a parenthesis), so the form reader never takes it for a field.
  const note = `(Filed from Slack by ${user.name}${user.email ? `, ${user.email}` : ''}, Slack user ${user.id}.)`;
  const request: PreparedRequest = { project, issueType, label, summary: summary ?? defaultSummary(type), lines: [...writeDescriptionForm(values), '', note] };
  const preview: Ticket = {
    tracker: 'jira',
    id: '',
    key: `${project}-0`,
    project,
    issueType,
    status: null,
    labels: [label],
    summary: request.summary,
    description: request.lines.join('\n'),
    reporter: user.name,
    reporterId: reporterIdOf(user),
    created: null,
    updated: null,
    resolved: null,
    siteUrl: null,
  };
  const parsed = parseTicketInput(preview, type.handlerRef.input);
  return parsed.ok ? { ok: true, request } : { ok: false, problems: parsed.problems };
}

/** The description as ADF: one paragraph per non-empty line, every line a plain text node (ticket text is data). */
export function descriptionAdf(lines: readonly string[]): AdfDocument {
  return { type: 'doc', version: 1, content: lines.filter((l) => l !== '').map((text) => ({ type: 'paragraph', content: [{ type: 'text', text }] })) };
}

export interface FileRequestOptions {
  db: Store;
  jira: JiraApi;
  intake: RecordAndRoute;
  /** Jira site URL for the ticket link (`JIRA_BASE_URL`). */
  jiraBaseUrl: string;
}

/**
 * Creates and routes the ticket of request row `requestId`, marking the row `filed` (with key and link) before the
 * delivery is recorded, so a run that finishes at once already finds who to tell.
 * @returns the ticket key and link.
 * @throws the Jira error (`JiraRequestError`) when creating or reading the issue fails; the row is then left to the caller.
 */
export async function fileRequest(options: FileRequestOptions, requestId: number, viewId: string, user: SlackUser, request: PreparedRequest, now = Date.now()): Promise<{ key: string; url: string }> {
  const created = await options.jira.createIssue({
    project: request.project,
    issueType: request.issueType,
    summary: request.summary,
    description: descriptionAdf(request.lines),
    labels: [request.label],
  });
  const issue = await options.jira.getIssue(created.key);
  const url = `${options.jiraBaseUrl}/browse/${encodeURIComponent(created.key)}`;
  await options.db.markSlackRequest(requestId, { status: 'filed', ticketKey: created.key, ticketUrl: url }, now);
  // The requester is the reporter deflect routes with (rule scope, "nobody approves their own request"); Jira's record
  // names deflect's account, which filed it.
  const reporter = { accountId: reporterIdOf(user), displayName: user.name, emailAddress: user.email };
  const body = {
    webhookEvent: 'jira:issue_created',
    issue_event_type_name: 'issue_created',
    timestamp: now,
    user: { accountId: `slack:${user.id}`, displayName: user.name },
    issue: { id: issue.id, key: issue.key, self: `${options.jiraBaseUrl}/rest/api/3/issue/${issue.id}`, fields: { ...issue.fields, reporter } },
  };
  const raw = JSON.stringify(body);
  await options.intake.record(
    {
      source: 'jira',
      deliveryKey: `slack:${viewId}`,
      webhookIdentifier: null,
      event: 'jira:issue_created',
      issueKey: issue.key,
      headers: { 'x-deflect-origin': 'slack' },
      body: raw,
      eventTimestamp: now,
      timestampSource: 'event',
      receivedAt: now,
    },
    parseJiraEvent(body),
  );
  return { key: created.key, url };
}
