/**
 * Parsing a Linear webhook body into a {@link TrackerEvent}. Envelope (https://linear.app/developers/webhooks, "Data
 * change events payload"): `{ action: 'create'|'update'|'remove', type: 'Issue'|'Comment'|'IssueLabel'|…, data,
 * updatedFrom?, url?, createdAt, organizationId, webhookTimestamp (epoch ms), webhookId, actor? }`. `updatedFrom` holds
 * the previous values of the fields an `update` changed (so `labelIds` there means the labels changed).
 *
 * - `event` = `<type>.<action>` (`Issue.update`); kind: `Issue.create` → created, `Issue.update` → updated, every
 *   other type and `remove` → other (recorded, never routed).
 * - `timestamp` = `webhookTimestamp`, required: the receiver refuses it older than 60 s (Linear's replay guidance;
 *   `linearTracker.maxEventAgeMs`), so a body without one cannot be checked and is refused (422).
 * - labels added/removed: `Issue.update` with `updatedFrom.labelIds`: ids in `data.labelIds` and not before are added,
 *   the reverse removed, named through `data.labels` (lower-cased; an id whose name the payload lacks is skipped).
 * - ticket: `Issue` events with a workspace URL (`url`; a `remove` carries none, so it has no ticket); `Comment` events:
 *   the commented issue (`data.issue` + the identifier in `url`), labels unknown (null). Other types: none.
 * - actor: `actor.id`, else the creator (`data.creatorId` on Issue create, `data.userId` on Comment).
 */
import { z } from 'zod';
import { EVENT_COMMENT_MAX_CHARS, InvalidEventError, type EventComment, type EventKind, type TrackerEvent } from '../tracker.js';
import { identifierInUrl, linearIssueSchema, linearIssueToTicket, workspaceUrlOf } from './linear-issue.js';
import type { Ticket } from '../../ticket.js';

/** The webhook envelope; `data` is checked per `type` below. */
export const linearEnvelopeSchema = z.looseObject({
  action: z.string().min(1),
  type: z.string().min(1),
  data: z.looseObject({}),
  updatedFrom: z.looseObject({ labelIds: z.array(z.string()).nullish() }).nullish(),
  url: z.string().nullish(),
  createdAt: z.string().nullish(),
  organizationId: z.string().nullish(),
  webhookTimestamp: z.number().finite(),
  webhookId: z.string().nullish(),
  actor: z.looseObject({ id: z.string().nullish(), name: z.string().nullish() }).nullish(),
});

const commentDataSchema = z.looseObject({
  id: z.string().nullish(),
  body: z.string().nullish(),
  issueId: z.string().nullish(),
  userId: z.string().nullish(),
  issue: z.looseObject({ id: z.string().min(1), title: z.string().nullish() }).nullish(),
});

/** A body that is JSON but not a Linear event; `message` names the first offending field path (answered 422). */
export class NotALinearEventError extends InvalidEventError {
  override name = 'NotALinearEventError';
}

/** The {@link EventKind} of a Linear `type` + `action`. */
export function linearEventKind(type: string, action: string): EventKind {
  if (type !== 'Issue') return 'other';
  if (action === 'create') return 'created';
  if (action === 'update') return 'updated';
  return 'other';
}

/**
 * Turns a parsed JSON body into a {@link TrackerEvent}.
 * @throws NotALinearEventError naming the first offending field path (`webhookTimestamp: expected number`).
 */
export function parseLinearEvent(body: unknown): TrackerEvent {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new NotALinearEventError('the body must be a JSON object (a Linear webhook event)');
  }
  const envelope = parseWith(linearEnvelopeSchema, body, '');
  const { type, action } = envelope;
  const url = envelope.url ?? null;
  const siteUrl = workspaceUrlOf(url);
  let ticket: Ticket | null = null;
  let labelsAdded: string[] = [];
  let labelsRemoved: string[] = [];
  let creator: string | null = null;
  let eventComment: EventComment | undefined;
  if (type === 'Issue') {
    const issue = parseWith(linearIssueSchema, envelope.data, 'data.');
    if (siteUrl) ticket = toTicket(() => linearIssueToTicket(issue, siteUrl, url));
    creator = action === 'create' ? (issue.creator?.id ?? issue.creatorId ?? null) : null;
    const before = envelope.updatedFrom?.labelIds;
    if (action === 'update' && before) {
      const names = new Map((issue.labels ?? []).filter((l) => l.id).map((l) => [l.id!, l.name.toLowerCase()]));
      const now = issue.labelIds ?? (issue.labels ?? []).map((l) => l.id).filter((id): id is string => !!id);
      const named = (ids: string[]) => [...new Set(ids.map((id) => names.get(id)).filter((n): n is string => n !== undefined))];
      labelsAdded = named(now.filter((id) => !before.includes(id)));
      labelsRemoved = named(before.filter((id) => !now.includes(id)));
    }
  } else if (type === 'Comment') {
    const comment = parseWith(commentDataSchema, envelope.data, 'data.');
    const key = identifierInUrl(url);
    const issueId = comment.issue?.id ?? comment.issueId ?? null;
    if (key && issueId && siteUrl) ticket = commentTicket(issueId, key, comment.issue?.title ?? null, siteUrl);
    creator = comment.userId ?? null;
    // (approvals) a new comment may carry an approval decision; edits never do.
    if (action === 'create') eventComment = { id: comment.id ?? null, authorId: comment.userId ?? null, body: (comment.body ?? '').slice(0, EVENT_COMMENT_MAX_CHARS) };
  }
  const host = hostOf(url);
  return {
    event: `${type}.${action}`,
    kind: linearEventKind(type, action),
    eventType: null,
    timestamp: envelope.webhookTimestamp,
    actor: envelope.actor?.id ?? creator,
    ticket,
    labelsAdded,
    labelsRemoved,
    siteHost: host,
    selfHosts: host ? [host] : [],
    ...(eventComment ? { comment: eventComment } : {}),
  };
}

/** The commented issue as a comment event names it: no labels, status or description (null: keep what is stored). */
function commentTicket(id: string, key: string, title: string | null, siteUrl: string): Ticket {
  return {
    tracker: 'linear',
    id,
    key,
    project: key.split('-')[0] ?? null,
    issueType: null,
    status: null,
    labels: null,
    summary: title,
    description: null,
    reporter: null,
    reporterId: null,
    created: null,
    updated: null,
    resolved: null,
    siteUrl,
  };
}

function toTicket(make: () => Ticket): Ticket {
  try {
    return make();
  } catch (error) {
    throw new NotALinearEventError((error as Error).message.replace('invalid Linear issue: ', 'invalid Linear event: data.'));
  }
}

function parseWith<S extends z.ZodType>(schema: S, value: unknown, prefix: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  const path = `${prefix}${first.path.join('.')}`.replace(/\.$/, '');
  throw new NotALinearEventError(`invalid Linear event: ${path || '(body)'}: ${first.message}`);
}

function hostOf(url: string | null): string | null {
  if (!url) return null;
  try {
    return new URL(url).host.toLowerCase() || null;
  } catch {
    return null;
  }
}
