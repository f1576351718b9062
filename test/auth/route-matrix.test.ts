/**
 * Every route × every caller: no credential, a bad token, a revoked token, and a token of each role — over the API
 * (`Authorization: Bearer`) and over a sign-in session cookie (how the pages call). Public routes answer everyone;
 * the webhook ignores API credentials and wants its signature; protected routes answer 401 without a valid
 * credential, 403 below their role, 2xx at or above it; pages without a session redirect to /signin.
 * Also: the table and the registered routes are the same set, and a route without a row stops the app from starting.
 * On a database of the pass's backend (test-backend.ts).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { requiredRole, ROUTE_ACCESS, type RouteAccess } from '../../src/auth/route-access.js';
import { roleAllows, ROLES, type Role } from '../../src/auth/roles.js';
import { loadConfig } from '../../src/config.js';
import type { Store } from '../../src/db/store.js';
import { createLogger } from '../../src/logger.js';
import { encodeKeysCursor } from '../../src/reports/report-keys.js';
import { signBody } from '../../src/trackers/jira/verify-delivery.js';
import { createTestToken } from '../support/api-token.js';
import { freshDatabase } from '../support/test-backend.js';

const SECRET = 'matrix-secret';
type Caller = 'none' | 'bad' | 'revoked' | Role;
const CALLERS: Caller[] = ['none', 'bad', 'revoked', ...ROLES];

let app: FastifyInstance;
let db: Store;
const tokens = new Map<Caller, string>();
const cookies = new Map<Caller, string>();

/** A failed run to retry (each successful retry consumes one). */
async function failedRun(): Promise<number> {
  const key = randomUUID();
  const [delivery] = await db.insertDeliveries([
    { deliveryKey: key, webhookIdentifier: null, event: 'jira:issue_created', issueKey: 'MX-1', headers: {}, body: '{}', eventTimestamp: null, receivedAt: Date.now() },
  ]);
  const id = (await db.enqueueRun({ deliveryId: delivery.id, ticketKey: 'MX-1', handler: 'grant-repo-access', reason: 'matrix', dryRun: false, idempotencyKey: key, maxAttempts: 3 }))!;
  await db.finishRun(id, { status: 'failed', error: 'boom', durationMs: 1 });
  return id;
}

/** A concrete request for a table row (placeholders filled, a body where the route needs one). */
async function requestFor(route: string): Promise<InjectOptions> {
  const [method, url] = route.split(' ') as [InjectOptions['method'], string];
  const webhookBody = JSON.stringify({ timestamp: Date.now(), webhookEvent: 'jira:issue_created', issue: { id: '9', key: 'MX-9', fields: { summary: 'x', labels: [] } } });
  switch (route) {
    case 'POST /webhooks/jira':
      return { method, url, payload: webhookBody, headers: { 'content-type': 'application/json', 'x-atlassian-webhook-identifier': randomUUID() } };
    case 'POST /api/runs/:id/retry':
    case 'GET /api/runs/:id':
      return { method, url: url.replace(':id', String(await failedRun())) };
    case 'POST /api/deliveries/:id/replay': {
      const [delivery] = await db.insertDeliveries([
        { deliveryKey: randomUUID(), webhookIdentifier: null, event: 'jira:issue_created', issueKey: 'MX-2', headers: {}, body: '{}', eventTimestamp: null, receivedAt: Date.now() },
      ]);
      return { method, url: url.replace(':id', String(delivery.id)) };
    }
    case 'POST /api/tokens':
      return { method, url, payload: { name: `made-${randomUUID().slice(0, 8)}`, role: 'auditor' } };
    case 'DELETE /api/tokens/:name': {
      const name = `victim-${randomUUID().slice(0, 8)}`;
      await createTestToken(db, 'auditor', name);
      return { method, url: url.replace(':name', name) };
    }
    case 'POST /signin':
      return { method, url, payload: { token: 'not-a-token' } };
    case 'GET /api/reports/top-tickets/groups/:id/keys': {
      // A row's next page continues from its cursor (this database has no tickets: an empty page).
      const cursor = encodeKeysCursor({ group: 'label:mx', scope: { from: null, to: Date.now(), project: null, trackers: null }, source: { label: 'mx', typeIds: [] }, keyCount: 0, after: { created: 1, key: 'MX-1', id: 'jira:MX-1' } });
      return { method, url: `${url.replace(':id', 'label%3Amx')}?cursor=${cursor}` };
    }
    default:
      return { method, url: url.replace(':name', 'grant-repo-access') };
  }
}

function withCredential(request: InjectOptions, caller: Caller, mode: 'bearer' | 'cookie'): InjectOptions {
  const headers = { ...(request.headers ?? {}) } as Record<string, string>;
  if (mode === 'bearer' && caller !== 'none') headers.authorization = `Bearer ${tokens.get(caller)}`;
  if (mode === 'cookie' && caller !== 'none') headers.cookie = `deflect_session=${cookies.get(caller)}`;
  return { ...request, headers };
}

/** What a caller must get on a route of `access`: a status, or '2xx'. */
function expected(route: string, access: RouteAccess, caller: Caller): number | '2xx' | 'not 401/403' {
  // The sign-in form is public, but the token in its body decides: a bad one is 401 whatever else is sent.
  if (route === 'POST /signin') return 401;
  if (access === 'public') return 'not 401/403';
  if (access === 'webhook') return 401; // unsigned: API credentials do not authenticate a delivery
  const needed = requiredRole(access)!;
  if (caller === 'none' || caller === 'bad' || caller === 'revoked') return needed.page ? 303 : 401;
  return roleAllows(caller, needed.role) ? '2xx' : 403;
}

async function signIn(token: string): Promise<string> {
  const answer = await app.inject({ method: 'POST', url: '/signin', payload: { token } });
  expect(answer.statusCode).toBe(200);
  return answer.cookies.find((c) => c.name === 'deflect_session')!.value;
}

beforeAll(async () => {
  db = await (await freshDatabase('matrix-')).open();
  const auth = { ...loadConfig({}).auth, failureLimit: 0 };
  app = await buildApp({ config: { webhookSecrets: [SECRET], webhookTokens: [], bodyLimitBytes: 64 * 1024, auth }, db, logger: createLogger('silent') });
  for (const role of ROLES) tokens.set(role, await createTestToken(db, role));
  tokens.set('bad', `dfl_${'x'.repeat(43)}`);
  tokens.set('revoked', await createTestToken(db, 'admin', 'soon-revoked'));
  // Sessions are opened through the real sign-in route; the revoked token's session is opened before the revoke.
  for (const caller of [...ROLES, 'revoked'] as const) cookies.set(caller, await signIn(tokens.get(caller)!));
  cookies.set('bad', 'no-such-session');
  expect(await db.revokeApiToken('soon-revoked')).toBe(true);
});
afterAll(async () => {
  await app?.close();
});

describe('route access table', () => {
  it('has a row for every registered route and a registered route for every row', () => {
    for (const route of Object.keys(ROUTE_ACCESS)) {
      const [method, url] = route.split(' ');
      expect(app.hasRoute({ method: method as 'GET', url }), `${route} is in ROUTE_ACCESS but not registered`).toBe(true);
    }
  });

  it('refuses to build an app with a route that has no row', async () => {
    const probe = await buildApp({ config: { webhookSecrets: [SECRET], webhookTokens: [], bodyLimitBytes: 1024 }, db, logger: createLogger('silent') });
    expect(() => probe.get('/api/secret-stuff', async () => ({}))).toThrow(/GET \/api\/secret-stuff has no auth decision: add a row for it to ROUTE_ACCESS/);
    await probe.close();
  });
});

describe.each(['bearer', 'cookie'] as const)('every route × every caller (%s)', (mode) => {
  for (const [route, access] of Object.entries(ROUTE_ACCESS)) {
    it.each(CALLERS)(`${route} (${access}) as %s`, async (caller) => {
      // Signing out ends the session it is sent with: give it a session of its own, not the shared one.
      const own = route === 'POST /signout' && mode === 'cookie' && (ROLES as readonly string[]).includes(caller) ? await signIn(tokens.get(caller)!) : null;
      const request = withCredential(await requestFor(route), caller, mode);
      if (own) request.headers = { ...request.headers, cookie: `deflect_session=${own}` };
      const answer = await app.inject(request);
      const want = expected(route, access, caller);
      const context = `${route} as ${caller} over ${mode}: ${answer.statusCode} ${answer.body.slice(0, 200)}`;
      if (want === '2xx') {
        expect(answer.statusCode, context).toBeGreaterThanOrEqual(200);
        expect(answer.statusCode, context).toBeLessThan(300);
      } else if (want === 'not 401/403') {
        expect([401, 403], context).not.toContain(answer.statusCode);
        expect(answer.statusCode, context).toBeLessThan(500);
      } else {
        expect(answer.statusCode, context).toBe(want);
        if (want === 303) expect(answer.headers.location).toBe(`/signin?next=${encodeURIComponent((await requestFor(route)).url as string)}`);
        else expect(answer.json().message, context).toEqual(expect.any(String));
      }
    });
  }
});

describe('HEAD routes fastify adds for GET routes', () => {
  it('are protected like their GET route', async () => {
    for (const [route, access] of Object.entries(ROUTE_ACCESS)) {
      const [method, template] = route.split(' ');
      const needed = requiredRole(access);
      if (method !== 'GET' || !needed) continue;
      const url = template.includes(':') ? (await requestFor(route)).url! as string : template;
      const answer = await app.inject({ method: 'HEAD', url });
      expect(answer.statusCode, `HEAD ${url}`).toBe(needed.page ? 303 : 401);
      const allowed = await app.inject({ method: 'HEAD', url, headers: { authorization: `Bearer ${tokens.get(needed.role)}` } });
      expect(allowed.statusCode, `HEAD ${url} as ${needed.role}`).toBe(200);
    }
  });
});

describe('the webhook', () => {
  it('accepts a signed delivery with no API credential, and refuses an unsigned one even from an admin', async () => {
    const request = await requestFor('POST /webhooks/jira');
    const signed = await app.inject({ ...request, headers: { ...request.headers, 'x-hub-signature': signBody(request.payload as string, SECRET) } });
    expect(signed.statusCode).toBe(200);
    const admin = await app.inject(withCredential(await requestFor('POST /webhooks/jira'), 'admin', 'bearer'));
    expect(admin.statusCode).toBe(401);
  });
});
