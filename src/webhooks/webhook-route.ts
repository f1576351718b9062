/**
 * `POST /webhooks/jira`: the receiver. Order of checks, each failing with a 4xx JSON error and storing nothing:
 * content type (415), body size (413), authentication over the raw bytes (401), UTF-8 (400), JSON syntax and
 * prototype-poisoning keys (400), Jira event shape and sanity bounds (422: at most {@link MAX_LABELS} labels of at most
 * {@link MAX_LABEL_LENGTH} characters). Then the delivery is committed to SQLite (group commit) and only then acknowledged:
 * `200 {"status":"accepted"}`, or `200 {"status":"duplicate"}` for a redelivery (same idempotency key). Jira retries
 * 408/409/425/429/5xx, so a duplicate is never answered with 409 (../shared/docs/jira-webhooks.md §3).
 * Handlers never run inside the request; the worker picks the delivery up.
 */
import { createHash } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { DeliveryRecorder } from '../db/deliveries.js';
import { authenticateDelivery, SIGNATURE_HEADER } from './authenticate.js';
import { NotAJiraEventError, parseJiraEvent, type JiraEvent } from './jira-event.js';
import { parseUntrustedJson, PoisonedJsonError } from './safe-json.js';

/** Jira refuses labels longer than 255 characters, so a longer one is not from Jira. */
export const MAX_LABEL_LENGTH = 255;
/**
 * Most labels accepted on one issue. Jira documents no per-issue cap; 1,000 is far above any real ticket and keeps a
 * hostile body from turning into a million `ticket_labels` rows.
 */
export const MAX_LABELS = 1_000;

export interface WebhookRouteOptions {
  recorder: DeliveryRecorder;
  webhookSecrets: readonly string[];
  webhookTokens: readonly string[];
  bodyLimitBytes: number;
}

/** Headers stored with each delivery so `deflect replay --delivery` can resend it as it came. */
const KEPT_HEADERS = [
  'content-type',
  'user-agent',
  'x-atlassian-webhook-identifier',
  'x-atlassian-webhook-retry',
  'x-atlassian-webhook-flow',
  'x-atlassian-webhook-trace',
  SIGNATURE_HEADER,
  'x-deflect-replay-of',
];

const utf8 = new TextDecoder('utf-8', { fatal: true });

const fail = (reply: FastifyReply, statusCode: number, message: string) =>
  reply.code(statusCode).send({ statusCode, error: STATUS_CODES[statusCode], message });

/** Registers the receiver on `app` (an encapsulated plugin: its raw-body JSON parser applies to this route only). */
export async function webhookRoute(app: FastifyInstance, options: WebhookRouteOptions): Promise<void> {
  // Keep the raw bytes: the signature is computed over them, not over re-serialised JSON.
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'buffer', bodyLimit: options.bodyLimitBytes }, (_req, body, done) =>
    done(null, body),
  );

  app.post('/webhooks/jira', { bodyLimit: options.bodyLimitBytes }, async (request, reply) => {
    const contentType = String(request.headers['content-type'] ?? '');
    if (!/^application\/json\b/i.test(contentType)) {
      return fail(reply, 415, `unsupported content type "${contentType}": Jira webhooks are sent as application/json`);
    }
    const raw = request.body as Buffer;
    const auth = authenticateDelivery(raw, request.headers, options.webhookSecrets, options.webhookTokens);
    if (!auth.ok) {
      request.log.warn({ reason: auth.message }, 'webhook refused: authentication failed');
      return fail(reply, 401, auth.message);
    }
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      return fail(reply, 400, 'the body is not valid UTF-8');
    }
    let json: unknown;
    try {
      json = parseUntrustedJson(text);
    } catch (error) {
      if (error instanceof PoisonedJsonError) return fail(reply, 400, error.message);
      return fail(reply, 400, `malformed JSON: ${(error as Error).message}`);
    }
    let event;
    try {
      event = parseJiraEvent(json);
    } catch (error) {
      if (error instanceof NotAJiraEventError) return fail(reply, 422, error.message);
      throw error;
    }
    const outOfBounds = boundsProblem(event);
    if (outOfBounds) return fail(reply, 422, outOfBounds);

    const identifier = headerValue(request.headers['x-atlassian-webhook-identifier']);
    const deliveryKey = identifier
      ? `${event.siteHost ?? 'unknown-site'}:${identifier}`
      : `sha256:${createHash('sha256').update(raw).digest('hex')}`;
    const headers: Record<string, string> = {};
    for (const name of KEPT_HEADERS) {
      const value = headerValue(request.headers[name]);
      if (value !== undefined) headers[name] = value;
    }
    const replayOf = Number(headers['x-deflect-replay-of']);
    const recorded = await options.recorder.record({
      deliveryKey,
      webhookIdentifier: identifier ?? null,
      event: event.event,
      issueKey: event.ticket?.key ?? null,
      headers,
      body: text,
      eventTimestamp: event.timestamp,
      replayOf: Number.isInteger(replayOf) && replayOf > 0 ? replayOf : null,
      receivedAt: Date.now(),
    }, event);
    request.log.info(
      { deliveryId: recorded.id, deliveryKey, event: event.event, issueKey: event.ticket?.key, duplicate: recorded.duplicate, auth: auth.method },
      recorded.duplicate ? 'duplicate delivery acknowledged' : 'delivery stored',
    );
    return reply.code(200).send({ status: recorded.duplicate ? 'duplicate' : 'accepted', deliveryId: recorded.id });
  });
}

/** Why the event is outside what a real Jira issue can carry, or null. */
function boundsProblem(event: JiraEvent): string | null {
  const labels = event.ticket?.labels ?? [];
  if (labels.length > MAX_LABELS) return `invalid Jira event: issue.fields.labels: ${labels.length} labels, more than ${MAX_LABELS}`;
  const long = labels.findIndex((label) => label.length > MAX_LABEL_LENGTH);
  if (long >= 0) return `invalid Jira event: issue.fields.labels.${long}: longer than ${MAX_LABEL_LENGTH} characters (Jira's limit)`;
  return null;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

