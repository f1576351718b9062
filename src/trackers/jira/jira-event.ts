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
import { adfToText } from '../../jira/adf-to-text.js';
import { EVENT_COMMENT_MAX_CHARS, InvalidEventError, type EventComment, type EventKind, type TimestampSource, type TrackerEvent } from '../tracker.js';
import { issueToTicket, person, restIssueSchema } from './jira-issue.js';

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
  // Lenient (issue 13): bridges and proxies re-serialise Jira's number as a date string; see eventTime.
  timestamp: z.unknown().optional(),
  issue_event_type_name: z.string().nullish(),
  user: person,
  issue: restIssueSchema.nullish(),
  comment: z.looseObject({ author: person, updateAuthor: person }).nullish(),
  changelog: z.looseObject({ items: z.array(changelogItem).nullish() }).nullish(),
});

/**
 * What deflect takes from one Jira delivery, as a {@link TrackerEvent}: `event` is `webhookEvent` (or
 * `automation:issue` for an Automation body), `eventType` is `issue_event_type_name`, `timestamp` the envelope's,
 * `actor` the `user` (else the comment's author; accountId on Cloud, name on Server), the label changes come from
 * Jira's own `labels` changelog field only, and `selfHosts` from `issue.self`, `user.self`, `comment.self` and the
 * comment authors' `self` (`self` of an Automation body).
 */
export type JiraEvent = TrackerEvent;

/** A body that is JSON but not a Jira event; `message` says what is wrong (answered with 422). */
export class NotAJiraEventError extends InvalidEventError {
  override name = 'NotAJiraEventError';
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
      kind: 'automation',
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

/**
 * The {@link EventKind} of a Jira event name: `jira:issue_created` → created, `jira:issue_updated` → updated,
 * `automation:issue` → automation; comments, deletions and the rest → other (recorded, never routed).
 */
export function jiraEventKind(event: string): EventKind {
  if (event === 'jira:issue_created') return 'created';
  if (event === 'jira:issue_updated') return 'updated';
  if (event === 'automation:issue') return 'automation';
  return 'other';
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
  const time = eventTime(envelope.timestamp);
  return {
    event: envelope.webhookEvent,
    kind: jiraEventKind(envelope.webhookEvent),
    eventType: envelope.issue_event_type_name ?? null,
    timestamp: time.timestamp,
    ...(time.source ? { timestampSource: time.source } : {}),
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
    ...commentOf(envelope),
  };
}

/**
 * (approvals) The comment a `comment_created` event, or a `jira:issue_updated` event carrying a comment, adds. The body
 * is a wiki-markup string on webhooks (ADF on some Cloud payloads: flattened). Edits (`comment_updated`) are not decisions.
 */
function commentOf(envelope: z.output<typeof webhookEnvelopeSchema>): { comment?: EventComment } {
  const comment = envelope.comment as (Record<string, unknown> & { author?: Record<string, unknown> | null }) | null | undefined;
  if (!comment || (envelope.webhookEvent !== 'comment_created' && envelope.webhookEvent !== 'jira:issue_updated')) return {};
  const raw = comment.body;
  const body = typeof raw === 'string' ? raw : raw && typeof raw === 'object' ? adfToText(raw) : '';
  const author = comment.author ?? null;
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  return {
    comment: {
      id: text(comment.id),
      authorId: text(author?.accountId) ?? text(author?.name) ?? text(author?.key),
      authorEmail: text(author?.emailAddress),
      body: body.slice(0, EVENT_COMMENT_MAX_CHARS),
    },
  };
}

/** ISO 8601 date-time, with Jira's `+0000` offset form too (`2026-11-29T19:36:50.123+0000`). */
const ISO_DATE_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?$/i;
/** RFC 7231 IMF-fixdate / RFC 2822 (`Sun, 29 Nov 2026 19:36:50 GMT`), what HTTP-minded bridges write. */
const HTTP_DATE = /^[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} (?:GMT|UTC|[+-]\d{4})$/;

/**
 * The envelope's `timestamp` as epoch ms and where it came from. Jira sends a number (epoch ms; source `event`).
 * Some bridges re-serialise it as a string: an ISO 8601 date-time (Jira's own `2026-11-29T19:36:50.123+0000` form; no
 * offset = UTC), an HTTP date, or the digits of epoch ms are read as a time (`parsed`). Anything else (another string,
 * a boolean, an object) is not a time: `timestamp` null and source `receipt` (the receiver stores the receipt time).
 * Absent or null → `{ timestamp: null }` (Automation bodies carry none). Deflect uses the time only for the age check
 * and to order events of one ticket, so refusing the delivery for it would cost more than it protects.
 */
export function eventTime(value: unknown): { timestamp: number | null; source?: TimestampSource } {
  if (value === undefined || value === null) return { timestamp: null };
  if (typeof value === 'number' && Number.isFinite(value)) return { timestamp: value, source: 'event' };
  if (typeof value === 'string') {
    const text = value.trim();
    if (/^\d{1,16}$/.test(text)) return { timestamp: Number(text), source: 'parsed' };
    const iso = ISO_DATE_TIME.exec(text);
    let ms = Number.NaN;
    if (iso) {
      const zone = iso[3] ? (iso[3].toUpperCase() === 'Z' ? 'Z' : `${iso[3].slice(0, 3)}:${iso[3].slice(-2)}`) : 'Z';
      ms = Date.parse(`${iso[1]}T${iso[2]}${zone}`);
    } else if (HTTP_DATE.test(text)) ms = Date.parse(text);
    if (Number.isFinite(ms)) return { timestamp: ms, source: 'parsed' };
  }
  return { timestamp: null, source: 'receipt' };
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

function hostOf(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}
