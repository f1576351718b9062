/**
 * `POST /webhooks/<tracker>` (`jira`, `github`, `linear`, `trello`; plus `HEAD` for a tracker that checks its callback
 * URL that way: Trello): the receiver, one registration per tracker adapter
 * (`trackers/index.ts`), each with its own secrets and the adapter's verifier and parser. Order of checks, each failing with a 4xx JSON error and storing nothing:
 * - before the body is read (`onRequest`): the declared size (413); an authentication header is present when
 *   secrets/tokens are configured, and a token is right (401; the connection is closed when the unread body is large
 *   or of unknown size, so an unauthenticated sender cannot make the server read or buffer it); the body bytes being
 *   received at once stay within `DEFLECT_BODY_BYTES_IN_FLIGHT` (else 503 + `Retry-After`, which Jira retries);
 * - while the body streams in (read-body.ts): body size (413), JSON nesting depth by a byte scan (400 at once, at most
 *   {@link MAX_JSON_DEPTH} levels), authentication over the raw bytes (HMAC updated per chunk);
 * - content type (415), authentication result (401), UTF-8 (400), JSON syntax and prototype-poisoning keys (400), the
 *   tracker's event shape and sanity bounds (422: at most {@link MAX_LABELS} labels of at most {@link MAX_LABEL_LENGTH}
 *   characters), event age (422: `timestamp` older than `DEFLECT_MAX_EVENT_AGE` — or the tracker's own limit, Linear's
 *   60 s — or more than {@link MAX_CLOCK_SKEW_MS} ahead).
 * A tracker whose webhook secret is not configured refuses every delivery (401 naming the setting), unless the
 * service runs open (`DEFLECT_INSECURE_NO_AUTH`, or a test app with no webhook authentication at all).
 * Then record-and-route stores it (group commit: delivery, ticket snapshot and queued runs in one transaction) and only
 * then is it acknowledged: `200 {"status":"accepted"}`, or
 * `200 {"status":"duplicate"}` for a redelivery: same idempotency key, or the same body bytes already received within
 * the event-age window (the identifier header is not signed, so a replayed body with a fresh identifier is still a
 * duplicate). Jira retries 408/409/425/429/5xx, so a duplicate is never answered with 409
 * (../shared/docs/jira-webhooks.md §3). Handlers never run inside the request; the worker picks the delivery up.
 * Signature, token, authorization and cookie headers are never stored, and `replay_of` is never taken from a header:
 * only `replayStoredDelivery` (deflect's own replay path) sets it.
 *
 * Observability (issue 13): every answer counts once in `deflect_deliveries_total{tracker,result}` (metrics/metrics.ts),
 * and every refusal (4xx, and 503 busy) logs exactly one `warn` line from the route's `onResponse` hook:
 * `{ tracker, statusCode, reason, ip }` (`ip` is the sender's behind `DEFLECT_TRUSTED_PROXIES`, fastify's
 * `trustProxy`; an age refusal adds the event's timestamp and issue key). The reason is the answer's message, except
 * that a JSON syntax error keeps only its position (V8 quotes the body in its message); never the body, a header value
 * or a secret.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { bodySha256 } from '../db/deliveries.js';
import { deliveriesTotal, deliveryResultOf } from '../metrics/metrics.js';
import type { RecordAndRoute } from '../pipeline/record-and-route.js';
import { errorResponses } from '../routes/route-schemas.js';
import type { AnyTracker } from '../trackers/index.js';
import { InvalidEventError, type BodyVerifier, type TrackerEvent, type WebhookAuthConfig } from '../trackers/tracker.js';
import { receiveBodyParser, type ReceivedBody } from './read-body.js';
import { MAX_JSON_DEPTH, parseUntrustedJson, PoisonedJsonError } from './safe-json.js';

/**
 * How far ahead of this server's clock an event `timestamp` may be (clock skew between Jira and us). Further ahead
 * is refused: such an event would otherwise look newer than every later one.
 */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** A body refused before it is read is left for Node to discard (keep-alive) up to this size; larger → connection closed. */
const SMALL_BODY_BYTES = 64 * 1024;

/** Jira refuses labels longer than 255 characters, so a longer one is not from Jira. */
export const MAX_LABEL_LENGTH = 255;
/**
 * Most labels accepted on one issue. Jira documents no per-issue cap; 1,000 is far above any real ticket and keeps a
 * hostile body from turning into a million `ticket_labels` rows.
 */
export const MAX_LABELS = 1_000;

export interface WebhookRouteOptions {
  /** The tracker whose deliveries this route receives (path `/webhooks/<tracker.name>`). */
  tracker: AnyTracker;
  /** The record-and-route step: stores (and routes) each accepted delivery, resolving once it is committed. */
  intake: RecordAndRoute;
  /**
   * The tracker's webhook authentication; `null` = not configured: every delivery is refused with 401. Empty lists
   * = open (no authentication: DEFLECT_INSECURE_NO_AUTH).
   */
  auth: WebhookAuthConfig | null;
  bodyLimitBytes: number;
  /** Oldest event `timestamp` accepted, and the window within which an identical body is a duplicate, ms. */
  maxEventAgeMs: number;
  /** Webhook body bytes (by `Content-Length`, else the body limit) being received at once; more → 503. */
  bodyBytesInFlight: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

const fail = (reply: FastifyReply, statusCode: number, message: string) =>
  reply.code(statusCode).send({ statusCode, error: STATUS_CODES[statusCode], message });

/** Longest refusal reason logged, characters (a message quoting a hostile field stays one short line). */
const MAX_LOGGED_REASON = 300;

/** Why a request was refused, for its one log line: set where the refusal is decided, read by `onResponse`. */
interface Refusal {
  reason: string;
  details?: Record<string, unknown>;
}

/** Registers the receiver on `app` (an encapsulated plugin: its raw-body JSON parser applies to this route only). */
export async function webhookRoute(app: FastifyInstance, options: WebhookRouteOptions): Promise<void> {
  // Authenticate and depth-scan the raw bytes as they arrive (the signature is computed over them, not over
  // re-serialised JSON); see read-body.ts.
  const { tracker } = options;
  const secrets = options.auth?.secrets ?? [];
  const tokens = options.auth?.tokens ?? [];
  const notConfigured = options.auth === null ? `${tracker.title} deliveries are refused: no webhook secret is configured (${tracker.secretSetting})` : null;
  const maxEventAgeMs = Math.min(options.maxEventAgeMs, tracker.maxEventAgeMs ?? Infinity);
  // Headers stored with each delivery (what an operator needs to trace it; `deflect replay --delivery` reuses them).
  // Never signature, token, authorization or cookie headers: credentials never reach the database, and a stored
  // signature would let anyone who reads the database resend the body.
  const keptHeaders = tracker.keptHeaders.filter((name) => !/signature|token|authorization|cookie/i.test(name));
  // One verifier per request: made from the headers before the body is read (beforeBody), then fed the body's bytes.
  const verifiers = new WeakMap<FastifyRequest, BodyVerifier>();
  const refusals = new WeakMap<FastifyRequest, Refusal>();
  /** Answers a refusal and keeps its reason for the log line (`logReason` when the answer's message quotes the body). */
  const refuseWith = (request: FastifyRequest, reply: FastifyReply, statusCode: number, message: string, logReason = message, details?: Record<string, unknown>) => {
    refusals.set(request, { reason: logReason, details });
    return fail(reply, statusCode, message);
  };
  // Counter children bound once per result: the hot path only increments.
  const counters = new Map<string, { inc(): void }>();
  const count = (result: string) => {
    let counter = counters.get(result);
    if (!counter) counters.set(result, (counter = deliveriesTotal.labels(tracker.name, result)));
    counter.inc();
  };
  const verifierFor = (request: FastifyRequest): BodyVerifier => {
    let verifier = verifiers.get(request);
    if (!verifier) {
      verifier = notConfigured
        ? { early: { ok: false, message: notConfigured }, update() {}, finish: () => ({ ok: false, message: notConfigured }) }
        : tracker.createVerifier(request.headers, secrets, tokens, { callbackUrl: options.auth?.callbackUrl ?? null });
      verifiers.set(request, verifier);
    }
    return verifier;
  };
  app.addContentTypeParser(['application/json', 'text/plain'], receiveBodyParser(options.bodyLimitBytes, verifierFor));

  const needsAuth = notConfigured !== null || secrets.length > 0 || tokens.length > 0;
  let bytesInFlight = 0;
  /** Runs before the body is read: refuse what can be refused without it, and bound the bytes buffered at once. */
  const beforeBody = async (request: FastifyRequest, reply: FastifyReply) => {
    const h = request.headers;
    const declared = Number(h['content-length']);
    const known = Number.isFinite(declared) && declared >= 0;
    // Refusing before the body is read: close the connection unless the unread rest is small enough for Node to
    // discard (closing with unread data makes the peer see a reset instead of the answer).
    const refuse = (statusCode: number, message: string) => {
      if (!known || declared > SMALL_BODY_BYTES) reply.header('connection', 'close');
      return refuseWith(request, reply, statusCode, message);
    };
    if (known && declared > options.bodyLimitBytes) {
      return refuse(413, `body too large: the limit is ${options.bodyLimitBytes} bytes (DEFLECT_BODY_LIMIT)`);
    }
    // Headers alone decide a missing signature/token, a malformed signature header and a token (right or wrong).
    const early = needsAuth ? verifierFor(request).early : null;
    if (early && !early.ok) return refuse(401, early.message);
    const bytes = known ? declared : options.bodyLimitBytes;
    if (bytesInFlight + bytes > options.bodyBytesInFlight && bytesInFlight > 0) {
      reply.header('retry-after', '5');
      return refuse(503, `busy: ${bytesInFlight} body bytes already being received (DEFLECT_BODY_BYTES_IN_FLIGHT ${options.bodyBytesInFlight}); retry later`);
    }
    bytesInFlight += bytes;
    reply.raw.once('close', () => (bytesInFlight -= bytes));
  };

  /** One count per answer, one warn line per refusal (errors thrown while reading the body included, via onError). */
  const afterResponse = async (request: FastifyRequest, reply: FastifyReply) => {
    const statusCode = reply.statusCode;
    if (statusCode < 400) return; // accepted / duplicate: counted by the handler, which knows which
    count(deliveryResultOf(statusCode));
    if (statusCode >= 500 && statusCode !== 503) return; // a failure of ours, logged as an error by the app's handler
    const refusal = refusals.get(request);
    const reason = (refusal?.reason ?? STATUS_CODES[statusCode] ?? 'refused').slice(0, MAX_LOGGED_REASON);
    request.log.warn({ tracker: tracker.name, statusCode, reason, ip: request.ip, ...refusal?.details }, `${tracker.title} webhook refused (${statusCode}): ${reason}`);
  };
  const onError = async (request: FastifyRequest, _reply: FastifyReply, error: Error) => {
    if (!refusals.has(request)) refusals.set(request, { reason: error.message });
  };

  // Only the answers are declared: the body is read raw, verified and parsed by the receiver itself (read-body.ts).
  const schema = {
    tags: ['webhooks'],
    summary: `${tracker.title} webhook receiver`,
    description:
      `A ${tracker.title} delivery (its own JSON payload, \`application/json\`), authenticated by ${tracker.secretSetting}. ` +
      'Acknowledged only once stored; a redelivery is answered `duplicate`. Not an API for people: configure the URL in the tracker.',
    consumes: ['application/json'],
    response: {
      200: z.object({
        status: z.enum(['accepted', 'duplicate']).describe('`duplicate`: the same idempotency key or body was already received.'),
        deliveryId: z.number().int().describe('The stored delivery (deflect audit, replay).'),
      }).describe('Stored (or already stored).'),
      ...errorResponses(400, 401, 413, 415, 422, 429, 500, 503),
    },
  };
  const route = { bodyLimit: options.bodyLimitBytes, onRequest: beforeBody, onResponse: afterResponse, onError, schema };
  // Trello checks a callback URL with a HEAD request when a webhook is created and creates it only on a 200: answered
  // without authentication (it carries no body and changes nothing).
  if (tracker.answersHeadCheck) app.head(`/webhooks/${tracker.name}`, async (_request, reply) => reply.code(200).send());
  app.post(`/webhooks/${tracker.name}`, route, async (request, reply) => {
    const receivedAt = Date.now();
    const contentType = String(request.headers['content-type'] ?? '');
    if (!/^application\/json\b/i.test(contentType)) {
      return refuseWith(request, reply, 415, `unsupported content type "${contentType.slice(0, 100)}": ${tracker.title} webhooks must be sent as application/json`);
    }
    const { raw, auth } = request.body as ReceivedBody;
    if (!auth.ok || raw === null) {
      return refuseWith(request, reply, 401, auth.ok ? 'authentication failed' : auth.message);
    }
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      return refuseWith(request, reply, 400, 'the body is not valid UTF-8');
    }
    let json: unknown;
    try {
      json = parseUntrustedJson(text);
    } catch (error) {
      if (error instanceof PoisonedJsonError) return refuseWith(request, reply, 400, error.message);
      // V8's message may quote the start of the body ("Unexpected token 'x', \"...\" is not valid JSON"): the sender
      // sees it, the log keeps only the position.
      const message = (error as Error).message;
      const position = /at position (\d+)/.exec(message)?.[1];
      return refuseWith(request, reply, 400, `malformed JSON: ${message}`, `malformed JSON${position ? ` at position ${position}` : ''}`);
    }
    let event;
    try {
      event = tracker.parseEvent(json, request.headers);
    } catch (error) {
      if (error instanceof InvalidEventError) return refuseWith(request, reply, 422, error.message);
      throw error;
    }
    const outOfBounds = boundsProblem(event, tracker.title);
    if (outOfBounds) return refuseWith(request, reply, 422, outOfBounds);
    const outOfTime = timeProblem(event.timestamp, receivedAt, maxEventAgeMs, maxEventAgeMs < options.maxEventAgeMs ? `${tracker.title}'s limit` : undefined);
    if (outOfTime) return refuseWith(request, reply, 422, outOfTime, outOfTime, { timestamp: event.timestamp, issueKey: event.ticket?.key });

    const hash = bodySha256(raw);
    const { key: deliveryKey, identifier } = tracker.deliveryKey(event, request.headers, hash);
    const headers: Record<string, string> = {};
    for (const name of keptHeaders) {
      const value = headerValue(request.headers[name]);
      if (value !== undefined) headers[name] = value;
    }
    const recorded = await options.intake.record({
      source: tracker.name,
      deliveryKey,
      webhookIdentifier: identifier ?? null,
      event: event.event,
      issueKey: event.ticket?.key ?? null,
      headers,
      body: text,
      bodySha256: hash,
      // A Jira `timestamp` that is not a time (timestampSource `receipt`) is replaced by the receipt time.
      eventTimestamp: event.timestamp ?? (event.timestampSource === 'receipt' ? receivedAt : null),
      timestampSource: event.timestampSource ?? (event.timestamp === null ? null : 'event'),
      receivedAt,
      // Every copy of a body accepted by the age check arrives within maxEventAge + skew of the first one. A body
      // with no signed time (GitHub's) cannot be aged, so the same bytes are a duplicate whenever they come again.
      dedupeBodySince: event.timestamp === null && tracker.name !== 'jira' ? 0 : receivedAt - maxEventAgeMs - MAX_CLOCK_SKEW_MS,
    }, event);
    request.log.info(
      { tracker: tracker.name, deliveryId: recorded.id, deliveryKey, event: event.event, issueKey: event.ticket?.key, duplicate: recorded.duplicate, auth: auth.method },
      recorded.duplicate ? 'duplicate delivery acknowledged' : 'delivery stored',
    );
    count(recorded.duplicate ? 'duplicate' : 'accepted');
    return reply.code(200).send({ status: recorded.duplicate ? 'duplicate' : 'accepted', deliveryId: recorded.id });
  });
}

/** Why the event is outside what a real issue can carry, or null. */
function boundsProblem(event: TrackerEvent, title: string): string | null {
  const labels = event.ticket?.labels ?? [];
  const field = title === 'Jira' ? 'issue.fields.labels' : 'labels';
  if (labels.length > MAX_LABELS) return `invalid ${title} event: ${field}: ${labels.length} labels, more than ${MAX_LABELS}`;
  const long = labels.findIndex((label) => label.length > MAX_LABEL_LENGTH);
  if (long >= 0) return `invalid ${title} event: ${field}.${long}: longer than ${MAX_LABEL_LENGTH} characters${title === 'Jira' ? " (Jira's limit)" : ''}`;
  return null;
}

/**
 * Why an event `timestamp` (epoch ms, or null when the body has none, e.g. Automation) is refused, or null. Too old:
 * a stored body replayed later (the signature covers only the body, so an old signed body stays valid forever).
 * Too far ahead: it would order after every real event and freeze the ticket's snapshot.
 */
export function timeProblem(timestamp: number | null, now: number, maxAgeMs: number, limitName = 'DEFLECT_MAX_EVENT_AGE'): string | null {
  if (timestamp === null) return null;
  const at = Number.isFinite(timestamp) && Math.abs(timestamp) < 8.64e15 ? new Date(timestamp).toISOString() : String(timestamp);
  if (now - timestamp > maxAgeMs) {
    return `event timestamp ${at} is ${formatMs(now - timestamp)} old, older than ${limitName} (${formatMs(maxAgeMs)}): refused as a possible replay`;
  }
  if (timestamp - now > MAX_CLOCK_SKEW_MS) {
    return `event timestamp ${at} is ${formatMs(timestamp - now)} in the future, more than ${formatMs(MAX_CLOCK_SKEW_MS)} ahead of this server's clock: refused`;
  }
  return null;
}

/** `90000000` → `1d 1h`; `300000` → `5m`; below a minute → `<n>s`. */
function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const units: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]];
  const parts: string[] = [];
  let rest = Math.floor(ms);
  for (const [unit, size] of units) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.length > 0 ? parts.join(' ') : `${Math.round(ms / 1000)}s`;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

