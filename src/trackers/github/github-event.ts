/**
 * Parsing a GitHub webhook delivery (`issues`, `issue_comment`, `ping`, anything else) into a {@link TrackerEvent}.
 * The event name is in the `X-GitHub-Event` header, the action in the body's `action`
 * (https://docs.github.com/en/webhooks/webhook-events-and-payloads#issues,
 * https://docs.github.com/en/webhooks/webhook-events-and-payloads#issue_comment). The zod schemas cover only the
 * fields used and pass every other field through.
 *
 * - `event` = `<X-GitHub-Event>.<action>` (`issues.labeled`), or the bare name when there is no action (`ping`).
 * - `kind`: `issues.opened` → created; other `issues.*` actions (labeled, unlabeled, edited, reopened, closed,
 *   assigned, unassigned, milestoned, locked, pinned, ...) → updated, except `deleted` and `transferred` → other;
 *   `issue_comment.*`, `ping` and every other event → other (recorded, never routed); so is reconcile's own
 *   `issues.deflect_reconciled` (a snapshot refresh).
 * - `labelsAdded` / `labelsRemoved`: `[label.name]` (lower-cased) on `labeled` / `unlabeled`.
 * - A pull request (`issue.pull_request` present: GitHub sends `issue_comment` for pull requests too) is not a
 *   ticket: kind other, no ticket.
 * - `timestamp: null`: GitHub's body carries no event time, only the issue's `updated_at`, which a replay of an old
 *   signed body would carry as well; using it would also refuse every redelivery older than `DEFLECT_MAX_EVENT_AGE`.
 *   GitHub signs no timestamp, so deduplication rests on `X-GitHub-Delivery` (a GUID per delivery, kept on
 *   redelivery) and on the body hash within the event-age window (the receiver's duplicate check).
 * - `actor` = `sender.login`; `siteHost` / `selfHosts` from `repository.html_url` and `issue.html_url`.
 */
import { z } from 'zod';
import { EVENT_COMMENT_MAX_CHARS, InvalidEventError, type EventKind, type TrackerEvent } from '../tracker.js';
import { githubIssueSchema, githubIssueToTicket, githubRepositorySchema, isPullRequest } from './github-issue.js';

/** The header naming the event (`issues`, `issue_comment`, `ping`, ...). */
export const GITHUB_EVENT_HEADER = 'x-github-event';

/** The payload of an `issues` or `issue_comment` event: the fields deflect reads. */
export const issueEventSchema = z.looseObject({
  action: z.string().min(1),
  issue: githubIssueSchema,
  repository: githubRepositorySchema,
  sender: z.looseObject({ login: z.string() }).nullish(),
  label: z.looseObject({ name: z.string() }).nullish(),
  comment: z.looseObject({ id: z.union([z.number(), z.string()]).nullish(), body: z.string().nullish(), user: z.looseObject({ login: z.string() }).nullish() }).nullish(),
});

/**
 * The action of deflect's own `issues` deliveries stored by reconcile (`github-reconcile.ts`) to refresh a ticket
 * snapshot without routing it; GitHub never sends it.
 */
export const RECONCILED_ACTION = 'deflect_reconciled';

/** The {@link EventKind} of a GitHub event name and action. */
export function githubEventKind(name: string, action: string | null): EventKind {
  if (name !== 'issues') return 'other';
  if (action === 'opened') return 'created';
  if (action === 'deleted' || action === 'transferred' || action === RECONCILED_ACTION) return 'other';
  return 'updated';
}

/**
 * Turns a parsed JSON body and its headers (lower-case names) into a {@link TrackerEvent}.
 * @throws InvalidEventError (answered 422) when `X-GitHub-Event` is missing, the body is not an object, or an
 *   `issues` / `issue_comment` body lacks a field deflect needs (the message names the first bad field path).
 */
export function parseGitHubEvent(body: unknown, headers: Record<string, string | string[] | undefined> = {}): TrackerEvent {
  const rawName = headers[GITHUB_EVENT_HEADER];
  const name = (Array.isArray(rawName) ? rawName[0] : rawName)?.trim().toLowerCase();
  if (!name) throw new InvalidEventError('missing X-GitHub-Event header: GitHub names the event (issues, issue_comment, ...) in it');
  if (!/^[a-z_]{1,64}$/.test(name)) throw new InvalidEventError('invalid X-GitHub-Event header: expected an event name such as "issues"');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidEventError('the body must be a JSON object (a GitHub webhook payload)');
  }
  const action = typeof (body as { action?: unknown }).action === 'string' ? ((body as { action: string }).action.slice(0, 64)) : null;
  const event = action ? `${name}.${action}` : name;
  if (name !== 'issues' && name !== 'issue_comment') return otherEvent(event);

  const parsed = issueEventSchema.safeParse(body);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new InvalidEventError(`invalid GitHub ${name} event: ${first.path.join('.') || '(body)'}: ${first.message}`);
  }
  const payload = parsed.data;
  const hosts = hostsOf([payload.repository.html_url, payload.issue.html_url]);
  if (isPullRequest(payload.issue)) return { ...otherEvent(event), actor: payload.sender?.login ?? null, siteHost: hosts[0] ?? null, selfHosts: hosts };
  const label = payload.label?.name.toLowerCase();
  return {
    event,
    kind: githubEventKind(name, payload.action),
    eventType: null,
    timestamp: null,
    actor: payload.sender?.login ?? null,
    ticket: githubIssueToTicket(payload.issue, payload.repository),
    labelsAdded: name === 'issues' && payload.action === 'labeled' && label ? [label] : [],
    labelsRemoved: name === 'issues' && payload.action === 'unlabeled' && label ? [label] : [],
    siteHost: hosts[0] ?? null,
    selfHosts: hosts,
    // (approvals) a new comment, which may carry an approval decision; edits and deletions never do.
    ...(name === 'issue_comment' && payload.action === 'created' && payload.comment
      ? {
          comment: {
            id: payload.comment.id == null ? null : String(payload.comment.id),
            authorId: payload.comment.user?.login ?? payload.sender?.login ?? null,
            body: (payload.comment.body ?? '').slice(0, EVENT_COMMENT_MAX_CHARS),
          },
        }
      : {}),
  };
}

function otherEvent(event: string): TrackerEvent {
  return { event, kind: 'other', eventType: null, timestamp: null, actor: null, ticket: null, labelsAdded: [], labelsRemoved: [], siteHost: null, selfHosts: [] };
}

function hostsOf(urls: ReadonlyArray<string | null | undefined>): string[] {
  const hosts = new Set<string>();
  for (const url of urls) {
    try {
      if (url) hosts.add(new URL(url).host.toLowerCase());
    } catch {
      // not a URL: names no host
    }
  }
  return [...hosts];
}
