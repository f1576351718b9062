/**
 * `POST /webhooks/jira`: the receiver. Order of checks, each failing with a 4xx JSON error and storing nothing:
 * content type (415), body size (413), authentication over the raw bytes (401), UTF-8 (400), JSON syntax (400),
 * Jira event shape (422). Then the delivery is committed to SQLite (group commit) and only then acknowledged:
 * `200 {"status":"accepted"}`, or `200 {"status":"duplicate"}` for a redelivery (same idempotency key). Jira retries
 * 408/409/425/429/5xx, so a duplicate is never answered with 409 (../shared/docs/jira-webhooks.md §3).
 * Handlers never run inside the request; the worker picks the delivery up.
 */
import { createHash } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { DeliveryRecorder } from '../db/deliveries.js';
import { authenticateDelivery, SIGNATURE_HEADER } from './authenticate.js';
import { NotAJiraEventError, parseJiraEvent } from './jira-event.js';

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
      json = JSON.parse(text);
    } catch (error) {
      return fail(reply, 400, `malformed JSON: ${(error as Error).message}`);
    }
    let event;
    try {
      event = parseJiraEvent(json);
    } catch (error) {
      if (error instanceof NotAJiraEventError) return fail(reply, 422, error.message);
      throw error;
    }

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
    });
    request.log.info(
      { deliveryId: recorded.id, deliveryKey, event: event.event, issueKey: event.ticket?.key, duplicate: recorded.duplicate, auth: auth.method },
      recorded.duplicate ? 'duplicate delivery acknowledged' : 'delivery stored',
    );
    return reply.code(200).send({ status: recorded.duplicate ? 'duplicate' : 'accepted', deliveryId: recorded.id });
  });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

