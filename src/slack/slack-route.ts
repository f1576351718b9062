/**
 * (Slack, issue 15) `POST /slack/events`: the one Request URL of the Slack app for slash commands, interactivity
 * (shortcuts, `block_actions`, `view_submission`) and the Events API. Access `webhook`: every request is verified here
 * with the app's signing secret before anything is parsed or done.
 *
 * Verification (https://api.slack.com/authentication/verifying-requests-from-slack): `X-Slack-Signature` is
 * `v0=` + HMAC-SHA256 of `v0:<X-Slack-Request-Timestamp>:<raw body>` with `SLACK_SIGNING_SECRET`, checked by
 * `@slack/bolt`'s `verifySlackRequest` (constant-time compare); a timestamp more than 5 minutes old is refused
 * (replay), and so is one more than 5 minutes ahead. Any failure → 401 with the reason; no secret configured → 401
 * naming `SLACK_SIGNING_SECRET`.
 *
 * Bodies: `application/x-www-form-urlencoded` (slash commands: `command`, `user_id`, `trigger_id`, ...; interactivity:
 * one `payload` field holding JSON, https://api.slack.com/interactivity/handling#payloads) and `application/json`
 * (Events API: `url_verification` answered with its `challenge`; `event_callback` deduplicated by `event_id`, so a
 * retry carrying `X-Slack-Retry-Num` runs nothing twice, https://api.slack.com/apis/events-api#retries). At most
 * 1 MiB (or `DEFLECT_BODY_LIMIT` if lower), JSON nested at most 64 levels.
 *
 * Acknowledgement: every request is answered from what is at hand (no Slack or Jira call before the reply), and slow
 * work starts once the answer is written, so Slack's 3-second deadline is always met.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
// bolt's own exported verifier (re-exported by `@slack/bolt`'s index), imported from its module: the index loads all of
// bolt (express, receivers: ~0.8 s), this module only node:crypto and tsscmp.
import { verifySlackRequest } from '@slack/bolt/dist/receivers/verify-request.js';
import { parseUntrustedJson } from '../webhooks/safe-json.js';
import type { SlackAnswer, SlackFrontDoor } from './slack-front-door.js';
import { plainMessage } from './slack-messages.js';
import { z } from 'zod';
import { errorResponses } from '../routes/route-schemas.js';

export interface SlackRouteOptions {
  /** `SLACK_SIGNING_SECRET`, or null: every request is refused (401). */
  signingSecret: string | null;
  /** Null when the front door is not built (no signing secret). */
  frontDoor: SlackFrontDoor | null;
  bodyLimitBytes: number;
  /** The slash command the app declares (`DEFLECT_SLACK_COMMAND`), for hints. */
  command: string;
}

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_DEPTH = 64;
const WINDOW_S = 5 * 60;

/** Thrown for a body deflect refuses (400). */
class BadSlackBody extends Error {
  readonly statusCode = 400;
}

export const slackRoute: FastifyPluginAsync<SlackRouteOptions> = async (app: FastifyInstance, options) => {
  const bodyLimit = Math.min(options.bodyLimitBytes, MAX_BODY_BYTES);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/x-www-form-urlencoded', 'application/json'], { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));

  const schema = {
    tags: ['webhooks'],
    summary: 'Slack app receiver (commands, interactivity, events)',
    description:
      "The Slack app's one Request URL, verified with SLACK_SIGNING_SECRET (X-Slack-Signature, 5-minute window). Not an API for people: configure it in the Slack app (README \"Slack\").",
    consumes: ['application/x-www-form-urlencoded', 'application/json'],
    response: {
      200: z.unknown().describe('What Slack expects: empty, `{ response_action: "errors", errors }` for a form mistake, `{ challenge }`, or a message.'),
      ...errorResponses(400, 401, 413, 415),
    },
  };
  app.post('/slack/events', { bodyLimit, schema }, async (request, reply) => {
    const raw = (request.body as Buffer | undefined)?.toString('utf8') ?? '';
    const refused = verify(options.signingSecret, raw, request.headers);
    if (refused) return reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: refused });
    const frontDoor = options.frontDoor!;
    const type = String(request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    let answer: SlackAnswer;
    if (type === 'application/json') {
      answer = await eventsApi(parseBody(raw), frontDoor, options.command);
    } else {
      const form = Object.fromEntries(new URLSearchParams(raw));
      if (form.payload !== undefined) {
        const payload = parseBody(form.payload);
        if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new BadSlackBody('payload must be a JSON object');
        answer = await frontDoor.interaction(payload as Record<string, unknown>);
      } else if (form.command) {
        answer = frontDoor.command(form);
      } else {
        throw new BadSlackBody('expected a slash command (command=...) or an interactivity payload (payload=...)');
      }
    }
    const later = answer.later;
    if (later) {
      let started = false;
      const start = () => {
        if (started) return;
        started = true;
        later().catch((error) => request.log.error({ err: error }, 'Slack: work after the acknowledgement failed'));
      };
      reply.raw.once('finish', start);
      reply.raw.once('close', start);
    }
    return answer.reply === null ? reply.code(200).send() : reply.code(200).send(answer.reply);
  });
};

/** Why the request is refused, or null when its signature and timestamp are good. */
function verify(secret: string | null, body: string, headers: Record<string, string | string[] | undefined>): string | null {
  if (!secret) return 'Slack requests are refused: SLACK_SIGNING_SECRET is not set (the Signing Secret under Basic Information of the Slack app)';
  const signature = headers['x-slack-signature'];
  const timestamp = Number(headers['x-slack-request-timestamp']);
  if (typeof signature !== 'string' || !Number.isInteger(timestamp)) return 'missing X-Slack-Signature or X-Slack-Request-Timestamp';
  const nowS = Math.floor(Date.now() / 1000);
  if (timestamp < nowS - WINDOW_S) return 'X-Slack-Request-Timestamp is more than 5 minutes old (a replayed request?); check the server clock';
  if (timestamp > nowS + WINDOW_S) return 'X-Slack-Request-Timestamp is more than 5 minutes in the future; check the server clock';
  try {
    verifySlackRequest({ signingSecret: secret, body, headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp } });
    return null;
  } catch {
    return 'X-Slack-Signature does not match the body: check SLACK_SIGNING_SECRET';
  }
}

/** JSON from Slack: no prototype-poisoning keys, at most {@link MAX_DEPTH} levels. @throws BadSlackBody */
function parseBody(text: string): unknown {
  let value: unknown;
  try {
    value = parseUntrustedJson(text);
  } catch (error) {
    throw new BadSlackBody(`the body is not valid JSON: ${(error as Error).message}`);
  }
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > MAX_DEPTH) throw new BadSlackBody(`the JSON is nested more than ${MAX_DEPTH} levels deep`);
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return value;
}

/** Events API bodies: the URL check, and `event_callback`s (once per `event_id`). */
async function eventsApi(body: unknown, frontDoor: SlackFrontDoor, command: string): Promise<SlackAnswer> {
  const envelope = (typeof body === 'object' && body !== null ? body : {}) as Record<string, any>;
  if (envelope.type === 'url_verification') return { reply: { challenge: String(envelope.challenge ?? '') } };
  if (envelope.type !== 'event_callback' || typeof envelope.event_id !== 'string') return { reply: null };
  if (!await frontDoor.options.db.claimSlackEvent(envelope.event_id)) return { reply: null }; // a retry or duplicate: done once
  const event = envelope.event ?? {};
  const slack = frontDoor.options.slack;
  if (event.type === 'app_mention' && slack && typeof event.channel === 'string') {
    const text = `To ask the platform team for something, use ${command} (or the "File a request" shortcut): it lists the request types open to you and opens their form.`;
    return { reply: null, later: () => slack.postMessage(event.channel, text, plainMessage(text)).then(() => undefined) };
  }
  return { reply: null };
}
