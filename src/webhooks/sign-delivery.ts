/**
 * Building a delivery the way each tracker sends it: the headers that sign and identify it, and the body with its
 * event time refreshed. Used by `deflect replay` (stored example payloads posted to a running deflect), the demo and
 * `npm run dev`. The receiving side of each fact is in the tracker's adapter (`src/trackers/<name>/`).
 *
 * - Jira: `X-Hub-Signature: sha256=<hex HMAC-SHA256>` (or `X-Deflect-Token` for Automation),
 *   `X-Atlassian-Webhook-Identifier`; event time `timestamp` (ms). ../shared/docs/jira-webhooks.md §2.
 * - GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256>`, `X-GitHub-Event` (`issues`, `issue_comment`),
 *   `X-GitHub-Delivery` (a GUID); no event time in the body.
 *   https://docs.github.com/en/webhooks/webhook-events-and-payloads#delivery-headers
 * - Linear: `Linear-Signature: <hex HMAC-SHA256>` (no prefix), `Linear-Delivery`, `Linear-Event` (the `type`);
 *   event time `webhookTimestamp` (ms), refused by deflect when older than 60 s. https://linear.app/developers/webhooks
 * - Trello: `X-Trello-Webhook: <base64 HMAC-SHA1 of body + callback URL>` (the callback URL being
 *   `DEFLECT_PUBLIC_URL` + `/webhooks/trello`); no delivery header: the delivery id is `action.id` in the body; event
 *   time `action.date` (ISO). Trello's developer docs, "Webhooks" → "Webhook Signatures".
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { signGitHubBody } from '../trackers/github/verify-github-delivery.js';
import { signBody } from '../trackers/jira/verify-delivery.js';
import { signLinearBody } from '../trackers/linear/linear-verify.js';
import { signTrelloBody } from '../trackers/trello/trello-verify.js';
import type { TrackerName } from '../trackers/tracker.js';

/** The secrets and tokens a delivery may be signed with, per tracker (the first of each list is used). */
export interface SigningSecrets {
  webhookSecrets: readonly string[];
  webhookTokens: readonly string[];
  githubWebhookSecrets: readonly string[];
  linearWebhookSecrets: readonly string[];
  /** Trello's secrets and the callback URL it signs with them (absent: Trello deliveries are sent unsigned). */
  trelloWebhookSecrets?: readonly string[];
  trello?: { callbackUrl: string | null };
}

/** The top-level body field holding the event time (ms) that the receiver ages, per tracker; GitHub and Trello have none (see below). */
const TIME_FIELD: Record<TrackerName, string | null> = { jira: 'timestamp', github: null, linear: 'webhookTimestamp', trello: null };

/**
 * The body to send: the file's bytes, or with `refresh` the same JSON with its event time set to `now`, so a stored
 * payload is neither refused as too old nor a duplicate of an earlier replay of the same file: Jira `timestamp` and
 * Linear `webhookTimestamp` (ms), GitHub `issue.updated_at` (ISO; GitHub bodies carry no event time, and deflect
 * deduplicates their bytes with no time window), Trello `action.date` (ISO) and `action.id` (a new id carrying the
 * time, as Trello's ids do: the action id is Trello's idempotency key, so a refreshed body is a new action). A body
 * without that field or that is not a JSON object is sent unchanged.
 */
export function refreshedBody(tracker: TrackerName, bytes: Buffer, refresh: boolean, now = Date.now()): Buffer {
  if (!refresh) return bytes;
  const value = parseObject(bytes);
  if (!value) return bytes;
  if (tracker === 'trello') return refreshedTrelloAction(bytes, value, now);
  const field = TIME_FIELD[tracker];
  if (field !== null) {
    if (typeof value[field] !== 'number') return bytes;
    return Buffer.from(JSON.stringify({ ...value, [field]: now }), 'utf8');
  }
  const issue = value.issue;
  if (issue === null || typeof issue !== 'object' || Array.isArray(issue)) return bytes;
  return Buffer.from(JSON.stringify({ ...value, issue: { ...issue, updated_at: new Date(now).toISOString() } }), 'utf8');
}

/**
 * The headers `tracker` would send `body` with: content type, signature with the first configured secret (Jira: or
 * its first token), the event name GitHub and Linear put in a header (`event`, else taken from the body: GitHub
 * `issue_comment` when it has a `comment`, else `issues`; Linear the body's `type`), and with `freshId` a new delivery
 * id (without one the receiver deduplicates on the body's sha256).
 */
export function deliveryHeaders(
  tracker: TrackerName,
  body: Buffer,
  secrets: SigningSecrets,
  options: { freshId?: boolean; event?: string } = {},
): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'deflect-replay' };
  const parsed = parseObject(body);
  if (tracker === 'jira') {
    if (secrets.webhookSecrets[0]) headers['x-hub-signature'] = signBody(body, secrets.webhookSecrets[0]);
    else if (secrets.webhookTokens[0]) headers['x-deflect-token'] = secrets.webhookTokens[0];
    if (options.freshId) headers['x-atlassian-webhook-identifier'] = randomUUID();
  } else if (tracker === 'github') {
    if (secrets.githubWebhookSecrets[0]) headers['x-hub-signature-256'] = signGitHubBody(body, secrets.githubWebhookSecrets[0]);
    headers['x-github-event'] = options.event ?? (parsed && 'comment' in parsed ? 'issue_comment' : 'issues');
    if (options.freshId) headers['x-github-delivery'] = randomUUID();
  } else if (tracker === 'trello') {
    const callbackUrl = secrets.trello?.callbackUrl;
    if (secrets.trelloWebhookSecrets?.[0] && callbackUrl) headers['x-trello-webhook'] = signTrelloBody(body, secrets.trelloWebhookSecrets[0], callbackUrl);
  } else {
    if (secrets.linearWebhookSecrets[0]) headers['linear-signature'] = signLinearBody(body, secrets.linearWebhookSecrets[0]);
    const type = options.event ?? (typeof parsed?.type === 'string' ? parsed.type : null);
    if (type) headers['linear-event'] = type;
    if (options.freshId) headers['linear-delivery'] = randomUUID();
  }
  return headers;
}

/** A Trello body with `action.date` = `now` and a fresh `action.id` (8 hex digits of seconds, 16 random). */
function refreshedTrelloAction(bytes: Buffer, value: Record<string, unknown>, now: number): Buffer {
  const action = value.action;
  if (action === null || typeof action !== 'object' || Array.isArray(action)) return bytes;
  const id = `${Math.floor(now / 1000).toString(16).padStart(8, '0')}${randomBytes(8).toString('hex')}`;
  return Buffer.from(JSON.stringify({ ...value, action: { ...action, id, date: new Date(now).toISOString() } }), 'utf8');
}

function parseObject(body: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
