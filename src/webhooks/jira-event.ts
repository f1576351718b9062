/**
 * Parsing a Jira webhook body into a {@link JiraEvent}. The zod schemas cover only what routing uses and
 * pass every other field through (Cloud and Server/DC payloads differ; facts in ../shared/docs/jira-webhooks.md §1):
 * - `issue_event_type_name` may be missing (old Server payloads);
 * - `issue.fields.labels` may be absent; `comment_*` events carry a trimmed issue with no labels, and
 *   Server `comment_*` events may carry no issue at all;
 * - descriptions are wiki-markup strings on webhooks (ADF only on REST v3 reads, flattened here);
 * - `issue.id` is a string on webhooks, a number in Automation-format bodies.
 *
 * Two shapes are accepted: the admin-webhook envelope (`{ webhookEvent, timestamp, user?, issue?, changelog?, comment? }`,
 * https://developer.atlassian.com/cloud/jira/platform/webhooks/) and the Automation "Send web request" body with
 * "Issue data" (`{ id, key, fields, ... }`, https://support.atlassian.com/cloud-automation/docs/issue-data-automation-format-payload-for-send-web-request).
 */
import { z } from 'zod';
import { adfToText } from '../jira/adf-to-text.js';
import { parseJiraDate, type Ticket } from '../ticket.js';

const named = z.looseObject({ name: z.string().nullish() }).nullish();
const person = z
  .looseObject({
    accountId: z.string().nullish(),
    name: z.string().nullish(),
    key: z.string().nullish(),
    displayName: z.string().nullish(),
  })
  .nullish();

/** The issue fields deflect reads; everything else passes through untouched. */
export const issueFieldsSchema = z.looseObject({
  summary: z.string().nullish(),
  description: z.union([z.string(), z.looseObject({ type: z.string() })]).nullish(),
  labels: z.array(z.string()).nullish(),
  issuetype: named,
  status: named,
  project: z.looseObject({ key: z.string().nullish() }).nullish(),
  reporter: person,
  created: z.union([z.string(), z.number()]).nullish(),
  updated: z.union([z.string(), z.number()]).nullish(),
  resolutiondate: z.union([z.string(), z.number()]).nullish(),
});

/** An issue in REST shape (`{ id, key, self?, fields }`), as webhooks, Automation and the search API send it. */
export const restIssueSchema = z.looseObject({
  id: z.union([z.string().min(1), z.number()]).transform(String),
  key: z.string().min(1),
  self: z.string().nullish(),
  fields: issueFieldsSchema.default({}),
});

const changelogItem = z.looseObject({
  field: z.string().nullish(),
  fieldtype: z.string().nullish(),
  fieldId: z.string().nullish(),
  fromString: z.string().nullish(),
  toString: z.string().nullish(),
});

/** The admin-webhook envelope. */
export const webhookEnvelopeSchema = z.looseObject({
  webhookEvent: z.string().min(1),
  timestamp: z.number().nullish(),
  issue_event_type_name: z.string().nullish(),
  user: person,
  issue: restIssueSchema.nullish(),
  comment: z.looseObject({ author: person, updateAuthor: person }).nullish(),
  changelog: z.looseObject({ items: z.array(changelogItem).nullish() }).nullish(),
});

/** What deflect takes from one delivery. */
export interface JiraEvent {
  /** `webhookEvent` (`jira:issue_created`, `comment_created`, ...) or `automation:issue` for an Automation body. */
  event: string;
  /** `issue_event_type_name` when sent (`issue_created`, `issue_commented`, ...). */
  eventType: string | null;
  /** Event time, epoch ms (the envelope's `timestamp`), or null. */
  timestamp: number | null;
  /** accountId (Cloud) or name (Server) of who caused the event: `user`, else the comment's author. */
  actor: string | null;
  /** The ticket, or null when the payload carries no issue (Server `comment_*`, project events...). */
  ticket: Ticket | null;
  /** Labels the changelog adds / removes (from Jira's own `labels` field only), lower-cased. */
  labelsAdded: string[];
  labelsRemoved: string[];
  /** Host of the Jira site (from `issue.self` / `user.self`), part of the idempotency key. */
  siteHost: string | null;
  /**
   * Every distinct host (lower case) named by the event's `self` URLs (`issue.self`, `user.self`, `comment.self`,
   * the comment authors' `self`; `self` of an Automation body): routing refuses an event naming another site than
   * the configured one.
   */
  selfHosts: string[];
}

/** A body that is JSON but not a Jira event; `message` says what is wrong (answered with 422). */
export class NotAJiraEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotAJiraEventError';
  }
}

/**
 * Turns a parsed JSON body into a {@link JiraEvent}.
 * @throws NotAJiraEventError naming the first offending field path (e.g. `issue.fields.labels: expected array`).
 */
export function parseJiraEvent(body: unknown): JiraEvent {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new NotAJiraEventError('the body must be a JSON object (a Jira webhook event)');
  }
  const record = body as Record<string, unknown>;
  if ('webhookEvent' in record) return fromEnvelope(parseWith(webhookEnvelopeSchema, record));
  if ('key' in record && 'fields' in record) {
    const issue = parseWith(restIssueSchema, record);
    return {
      event: 'automation:issue',
      eventType: null,
      timestamp: null,
      actor: null,
      ticket: issueToTicket(issue),
      labelsAdded: [],
      labelsRemoved: [],
      siteHost: hostOf(issue.self),
      selfHosts: hostsOf([issue.self]),
    };
  }
  throw new NotAJiraEventError(
    'not a Jira event: expected a "webhookEvent" field (Jira admin webhook) or an issue with "key" and "fields" (Jira Automation "Issue data")',
  );
}

function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new NotAJiraEventError(`invalid Jira event: ${issue.path.join('.') || '(body)'}: ${issue.message}`);
}

function fromEnvelope(envelope: z.output<typeof webhookEnvelopeSchema>): JiraEvent {
  const ticket = envelope.issue ? issueToTicket(envelope.issue) : null;
  const { added, removed } = labelChanges(envelope.changelog?.items ?? []);
  const actorOf = (p: z.output<typeof person>) => p?.accountId ?? p?.name ?? p?.key ?? null;
  return {
    event: envelope.webhookEvent,
    eventType: envelope.issue_event_type_name ?? null,
    timestamp: envelope.timestamp ?? null,
    actor: actorOf(envelope.user) ?? actorOf(envelope.comment?.updateAuthor) ?? actorOf(envelope.comment?.author),
    ticket,
    labelsAdded: added,
    labelsRemoved: removed,
    siteHost: hostOf(envelope.issue?.self) ?? hostOf(selfOf(envelope.user)),
    selfHosts: hostsOf([
      envelope.issue?.self,
      selfOf(envelope.user),
      selfOf(envelope.comment),
      selfOf(envelope.comment?.author),
      selfOf(envelope.comment?.updateAuthor),
    ]),
  };
}

function selfOf(value: unknown): string | null {
  const self = value !== null && typeof value === 'object' ? (value as { self?: unknown }).self : undefined;
  return typeof self === 'string' ? self : null;
}

function hostsOf(urls: ReadonlyArray<string | null | undefined>): string[] {
  return [...new Set(urls.map(hostOf).filter((h): h is string => h !== null).map((h) => h.toLowerCase()))];
}

/**
 * Labels added/removed by a changelog. Jira space-joins the old and new label sets in `fromString`/`toString`
 * (from/to are null), so diff the two token sets; only Jira's own labels field counts (`fieldtype: "jira"`
 * or `fieldId: "labels"`), not a custom labels-type field. Source: ../shared/docs/jira-webhooks.md §1 "Labels change".
 */
export function labelChanges(items: ReadonlyArray<z.output<typeof changelogItem>>): { added: string[]; removed: string[] } {
  const added = new Set<string>();
  const removed = new Set<string>();
  for (const item of items) {
    const isJiraLabels = item.fieldId === 'labels' || (item.field === 'labels' && item.fieldtype === 'jira');
    if (!isJiraLabels) continue;
    const before = new Set(splitLabels(item.fromString));
    const after = new Set(splitLabels(item.toString));
    for (const l of after) if (!before.has(l)) added.add(l);
    for (const l of before) if (!after.has(l)) removed.add(l);
  }
  return { added: [...added], removed: [...removed] };
}

const splitLabels = (value: string | null | undefined) => (value ?? '').split(/\s+/).filter(Boolean).map((l) => l.toLowerCase());

/** Converts a REST-shape issue (webhook, Automation, search result) to the normalised {@link Ticket}. */
export function issueToTicket(issue: z.output<typeof restIssueSchema>): Ticket {
  const f = issue.fields;
  const description = f.description == null ? null : typeof f.description === 'string' ? f.description : adfToText(f.description);
  return {
    id: issue.id,
    key: issue.key,
    project: f.project?.key ?? issue.key.split('-')[0] ?? null,
    issueType: f.issuetype?.name ?? null,
    status: f.status?.name ?? null,
    labels: f.labels ?? null,
    summary: f.summary ?? null,
    description,
    reporter: f.reporter?.displayName ?? f.reporter?.name ?? null,
    reporterId: f.reporter?.accountId ?? f.reporter?.name ?? null,
    created: parseJiraDate(f.created),
    updated: parseJiraDate(f.updated),
    resolved: parseJiraDate(f.resolutiondate),
    siteUrl: siteUrlOf(issue.self),
  };
}

function siteUrlOf(self: string | null | undefined): string | null {
  if (!self) return null;
  const at = self.indexOf('/rest/api/');
  return at > 0 ? self.slice(0, at) : null;
}

function hostOf(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}
