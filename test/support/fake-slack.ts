/**
 * A fake Slack Web API for tests: a real `node:http` server on 127.0.0.1 (random port) answering the methods deflect
 * calls, in Slack's shapes (`{ ok: true, ... }` / `{ ok: false, error }` with HTTP 200), and recording every call.
 * Point `SLACK_API_URL` at `url` (it ends with `/`).
 *
 * Mimicked (https://api.slack.com/methods): `auth.test`, `views.open` (a view id and hash; `expired_trigger_id` for a
 * trigger set with `expireTrigger`), `views.update`, `chat.postMessage` (a user id as channel → the DM `D<user>`),
 * `chat.update`, `users.info` (seeded users; `user_not_found`), `users.lookupByEmail` (`users_not_found`).
 * Arguments arrive form-encoded (WebClient JSON-encodes `view` and `blocks`) or as JSON; both are parsed. Requests without
 * `Authorization: Bearer <token>` get `not_authed`.
 *
 * Also here: {@link signSlackRequest} and {@link postSlack}, which sign a request to `/slack/events` as Slack does
 * (`v0=` + HMAC-SHA256 of `v0:<timestamp>:<body>`, https://api.slack.com/authentication/verifying-requests-from-slack).
 */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One recorded call: the method (`chat.postMessage`), its arguments (JSON fields parsed) and the bearer token. */
export interface SlackCall {
  method: string;
  args: Record<string, any>;
  token: string | null;
}

export interface FakeSlackUser {
  id: string;
  name: string;
  email?: string;
}

export interface FakeSlack {
  /** API root, e.g. `http://127.0.0.1:5555/api/`. */
  readonly url: string;
  readonly calls: SlackCall[];
  /** Calls of one method, in order. */
  callsTo(method: string): SlackCall[];
  addUser(user: FakeSlackUser): void;
  close(): Promise<void>;
}

const JSON_FIELDS = ['view', 'blocks', 'attachments'];

export async function startFakeSlack(options: { token?: string; users?: FakeSlackUser[] } = {}): Promise<FakeSlack> {
  const calls: SlackCall[] = [];
  const users = new Map((options.users ?? []).map((u) => [u.id, u]));
  let views = 0;
  let messages = 0;
  const answer = (method: string, args: Record<string, any>): Record<string, unknown> => {
    switch (method) {
      case 'auth.test':
        return { ok: true, user_id: 'UDEFLECTBOT', team_id: 'T0001', bot_id: 'B0001' };
      case 'views.open':
      case 'views.update': {
        if (!args.view || typeof args.view !== 'object') return { ok: false, error: 'invalid_arguments' };
        if (method === 'views.open' && !args.trigger_id) return { ok: false, error: 'invalid_trigger_id' };
        const id = method === 'views.open' ? `V${String(++views).padStart(4, '0')}` : String(args.view_id);
        return { ok: true, view: { ...args.view, id, hash: `hash-${id}-${views}` } };
      }
      case 'chat.postMessage': {
        const channel = String(args.channel ?? '');
        if (!channel) return { ok: false, error: 'channel_not_found' };
        return { ok: true, channel: /^[UW]/.test(channel) ? `D${channel}` : channel, ts: `1700000000.${String(++messages).padStart(6, '0')}` };
      }
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts };
      case 'users.info': {
        const user = users.get(String(args.user));
        return user ? { ok: true, user: { id: user.id, name: user.name.toLowerCase().replace(/\s+/g, '.'), profile: { real_name: user.name, email: user.email } } } : { ok: false, error: 'user_not_found' };
      }
      case 'users.lookupByEmail': {
        const user = [...users.values()].find((u) => u.email?.toLowerCase() === String(args.email).toLowerCase());
        return user ? { ok: true, user: { id: user.id, name: user.name } } : { ok: false, error: 'users_not_found' };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const method = (request.url ?? '').split('?')[0].replace(/^\/api\//, '');
      let args: Record<string, any> = {};
      if (String(request.headers['content-type']).includes('json')) args = raw ? JSON.parse(raw) : {};
      else args = Object.fromEntries(new URLSearchParams(raw));
      for (const field of JSON_FIELDS) if (typeof args[field] === 'string') args[field] = JSON.parse(args[field]);
      const auth = String(request.headers.authorization ?? '');
      const token = auth.startsWith('Bearer ') ? auth.slice(7) : null;
      calls.push({ method, args, token });
      const body = options.token && token !== options.token ? { ok: false, error: 'not_authed' } : answer(method, args);
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      response.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
  return {
    url,
    calls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    addUser: (user) => void users.set(user.id, user),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The `X-Slack-Signature` Slack would send for `body` at `timestamp` (seconds). */
export function signSlackRequest(body: string, secret: string, timestamp: number): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/**
 * POSTs to `<baseUrl>/slack/events` as Slack does: a form (`{ payload }` or command fields) urlencoded, or an object
 * as JSON; signed with `secret` at `timestamp` (default now) unless `secret` is null.
 */
export async function postSlack(
  baseUrl: string,
  body: Record<string, unknown> | URLSearchParams,
  options: { secret: string | null; timestamp?: number; headers?: Record<string, string>; signature?: string },
): Promise<{ status: number; json: any; text: string }> {
  const form = body instanceof URLSearchParams;
  const raw = form ? body.toString() : JSON.stringify(body);
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
    'x-slack-request-timestamp': String(timestamp),
    ...(options.secret ? { 'x-slack-signature': options.signature ?? signSlackRequest(raw, options.secret, timestamp) } : {}),
    ...options.headers,
  };
  const response = await fetch(`${baseUrl}/slack/events`, { method: 'POST', headers, body: raw });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: response.status, json, text };
}

/** An interactivity request body: `payload=<JSON>`. */
export const interactivity = (payload: Record<string, unknown>) => new URLSearchParams({ payload: JSON.stringify(payload) });
