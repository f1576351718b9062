/**
 * The OpenAPI document against the app itself:
 * - every route registered on the app (collected with an `onRoute` hook while the app is built) is an operation of
 *   `/docs/json`, except the routes deliberately hidden, listed below with the reason;
 * - real answers match their declared schemas: a small database is seeded through the real paths (signed Jira
 *   deliveries routed by a rule, one worker pass that runs them, a token issued through the API), then every
 *   documented operation is called with a token of the role its ROUTE_ACCESS row needs, and each answer's body is
 *   validated with ajv (JSON Schema 2020-12, the dialect of OpenAPI 3.1) against the schema the document declares
 *   for that status code and content type. Some error answers (400, 401, 404, 409) are validated the same way.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse, RouteOptions } from 'fastify';
import type { OpenAPIV3_1 } from 'openapi-types';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlers } from '../../handlers/index.js';
import { buildApp } from '../../src/app.js';
import { requiredRole, routeAccess } from '../../src/auth/route-access.js';
import type { Role } from '../../src/auth/roles.js';
import { openDatabase, type Db } from '../../src/db/client.js';
import type { Rule } from '../../src/rules/rules-file.js';
import { signBody } from '../../src/trackers/jira/verify-delivery.js';
import { Worker } from '../../src/worker/worker.js';
import { createTestToken } from '../support/api-token.js';
import { freshDir } from '../support/deflect-under-test.js';
import { SITE, tokenResetEvent } from '../reliability/helpers.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';

const SECRET = 'openapi-secret';
const logger = pino({ level: 'silent' });
const rule: Rule = { name: 'tokens', index: 1, labels: ['ci-token'], handler: 'reset-ci-token', trackers: null, projects: null, issueTypes: null, on: ['created'], continue: false };

/** Routes left out of the document on purpose, each with the reason (a new hidden route must be added here). */
const HIDDEN: Record<string, string> = {
  'GET /docs': 'the Swagger UI page itself',
  'GET /docs/json': 'the document itself',
  'GET /docs/yaml': 'the document itself, as YAML',
  'GET /docs/static/index.html': "Swagger UI's redirect to /docs",
  'GET /docs/static/swagger-initializer.js': "Swagger UI's own script",
  'GET /docs/static/*': "Swagger UI's static files",
  'GET /assets/signin.css': 'static style of the sign-in page (no API)',
  'GET /assets/report-page.css': 'static style of the report page (no API)',
  'GET /assets/chart.umd.js': 'Chart.js for the report page (no API)',
  'GET /assets/report-page.js': 'report page script (no API)',
  'GET /assets/report-format.js': 'report page script (no API)',
  'GET /assets/report-charts.js': 'report page script (no API)',
  'GET /assets/report-table.js': 'report page script (no API)',
  'GET /assets/kill-switch.js': 'report page script (no API)',
  'GET /assets/impact-page.js': 'impact page script (no API)',
  'GET /assets/impact-charts.js': 'impact page script (no API)',
  'GET /assets/audit-page.js': 'audit page script (no API)',
  'GET /assets/audit-trace.js': 'audit page script (no API)',
  'GET /assets/audit-page.css': 'static style of the audit page (no API)',
};

let app: FastifyInstance;
let db: Db;
let doc: OpenAPIV3_1.Document;
const registered: Array<{ route: string; hidden: boolean }> = [];
const tokens = new Map<Role, string>();
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);

/** `/api/runs/:id/retry` → `/api/runs/{id}/retry` (how @fastify/swagger writes path parameters). */
const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

function signedJira(key: string, id: string): InjectOptions {
  const payload = JSON.stringify(tokenResetEvent(key, id));
  return { method: 'POST', url: '/webhooks/jira', payload, headers: { 'content-type': 'application/json', 'x-hub-signature': signBody(payload, SECRET), 'x-atlassian-webhook-identifier': randomUUID() } };
}

/** Sends `request` with a token of the role the route needs (by its ROUTE_ACCESS row) unless `asRole` is null. */
async function call(route: string, request: Omit<InjectOptions, 'method'> & { url: string }, asRole?: Role | null): Promise<LightMyRequestResponse> {
  const [method, url] = route.split(' ');
  const needed = requiredRole(routeAccess(method, url));
  const role = asRole === undefined ? (needed?.role ?? null) : asRole;
  const headers = { ...(request.headers as Record<string, string> | undefined), ...(role ? { authorization: `Bearer ${tokens.get(role)}` } : {}) };
  return app.inject({ ...request, method: method as InjectOptions['method'], headers });
}

/** Every answer checked, `route status` → count (the last test asserts each documented operation got one). */
const checked = new Map<string, number>();

/** Validates `answer` against what the document declares for `route` and the answer's status code. */
function expectDeclared(route: string, answer: LightMyRequestResponse): void {
  const [method, url] = route.split(' ');
  const operation = doc.paths?.[openApiPath(url)]?.[method.toLowerCase() as 'get'] as OpenAPIV3_1.OperationObject | undefined;
  expect(operation, `${route} is in the document`).toBeDefined();
  const response = operation!.responses?.[String(answer.statusCode)] as OpenAPIV3_1.ResponseObject | undefined;
  expect(response, `${route} declares status ${answer.statusCode} (${answer.body.slice(0, 200)})`).toBeDefined();
  const contentType = String(answer.headers['content-type'] ?? '').split(';')[0];
  if (!response!.content || Object.keys(response!.content).length === 0) {
    expect(answer.body, `${route} ${answer.statusCode} has no body`).toBe('');
  } else {
    const media = response!.content[contentType];
    expect(media, `${route} ${answer.statusCode} declares ${contentType} (declared: ${Object.keys(response!.content).join(', ')})`).toBeDefined();
    const body = contentType === 'application/json' ? answer.json() : answer.body;
    const validate = ajv.compile(media!.schema as object);
    expect(validate(body), `${route} ${answer.statusCode}: ${ajv.errorsText(validate.errors)}`).toBe(true);
  }
  checked.set(route, (checked.get(route) ?? 0) + 1);
}

beforeAll(async () => {
  db = openDatabase(join(freshDir('openapi-'), 'openapi.db'));
  const routing = { rules: [rule], dryRun: true, maxAttempts: 1, selfAccountId: null, logger, siteUrl: SITE };
  const collect = (route: RouteOptions) => {
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') registered.push({ route: `${method} ${route.url}`, hidden: (route.schema as { hide?: boolean } | undefined)?.hide === true });
    }
  };
  app = await buildApp({ config: { webhookSecrets: [SECRET], webhookTokens: [], bodyLimitBytes: 64 * 1024 }, db: sqliteStore(db), logger, routing, onRoute: collect });
  await app.ready();
  for (const role of ['auditor', 'operator', 'admin'] as const) tokens.set(role, await createTestToken(db, role));
  doc = (await app.inject('/docs/json')).json();

  // Seed through the real paths: three signed deliveries (one ticket each, label ci-token → reset-ci-token, dry run),
  // each answer validated against the receiver's schema; then one worker pass runs the queued runs.
  for (const n of [1, 2, 3]) expectDeclared('POST /webhooks/jira', await app.inject(signedJira(`OAS-${n}`, String(81_000 + n))));
  const worker = new Worker({ db: sqliteStore(db), rules: [rule], handlers, api: null, logger, dryRun: true, maxAttempts: 1, handlerTimeoutMs: 5_000, concurrency: 1, selfAccountId: null, siteUrl: SITE, pollMs: 20 });
  await worker.start();
  const settled = () => (app.inject({ url: '/api/runs', headers: { authorization: `Bearer ${tokens.get('auditor')}` } }).then((r) => r.json().runs as Array<{ status: string }>));
  for (let i = 0; i < 250 && (await settled()).some((r) => r.status === 'queued' || r.status === 'running'); i++) await new Promise((r) => setTimeout(r, 20));
  await worker.stop();
});
afterAll(async () => {
  await app?.close();
  db?.$client.close();
});

describe('/docs/json', () => {
  it('is an OpenAPI 3.1 document with the bearer and session schemes', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components?.securitySchemes).toMatchObject({ bearerAuth: { type: 'http', scheme: 'bearer' }, sessionCookie: { type: 'apiKey', in: 'cookie', name: 'deflect_session' } });
  });

  it('lists every registered route except the ones hidden on purpose', () => {
    expect(registered.length).toBeGreaterThan(20);
    const hidden = registered.filter((r) => r.hidden).map((r) => r.route);
    expect(new Set(hidden), 'hidden routes are exactly the HIDDEN list (add a reason for a new one)').toEqual(new Set(Object.keys(HIDDEN)));
    for (const { route, hidden: isHidden } of registered) {
      if (isHidden) continue;
      const [method, url] = route.split(' ');
      const operation = doc.paths?.[openApiPath(url)]?.[method.toLowerCase() as 'get'] as OpenAPIV3_1.OperationObject | undefined;
      expect(operation, `${route} is in /docs/json`).toBeDefined();
      expect(operation!.summary, `${route} has a summary`).toEqual(expect.any(String));
      expect(Object.keys(operation!.responses ?? {}).length, `${route} declares its answers`).toBeGreaterThan(0);
      const needed = requiredRole(routeAccess(method, url));
      if (needed) expect(operation!.security, `${route} (${needed.role}) declares its security`).toEqual([{ bearerAuth: [] }, { sessionCookie: [] }]);
    }
  });

  it('marks the optional bodies optional and the others required', () => {
    const body = (path: string) => (doc.paths?.[path]?.post?.requestBody as OpenAPIV3_1.RequestBodyObject).required;
    expect(body('/api/handlers/pause-all')).toBe(false);
    expect(body('/api/handlers/{name}/pause')).toBe(false);
    expect(body('/api/tokens')).toBe(true);
  });

  it('never declares a token hash in any answer', () => {
    expect(JSON.stringify(doc)).not.toMatch(/tokenHash|token_hash|idHash/);
  });
});

describe('real answers match their declared schemas', () => {
  it('probes, metrics and the pages', async () => {
    expectDeclared('GET /healthz', await call('GET /healthz', { url: '/healthz' }));
    expectDeclared('GET /readyz', await call('GET /readyz', { url: '/readyz' }));
    const metrics = await call('GET /metrics', { url: '/metrics' });
    expect(metrics.body).toMatch(/^deflect_deliveries_total\{tracker="jira",result="accepted"\} 3$/m);
    expectDeclared('GET /metrics', metrics);
    expectDeclared('GET /metrics', await call('GET /metrics', { url: '/metrics' }, null));
    expectDeclared('GET /reports/top-tickets', await call('GET /reports/top-tickets', { url: '/reports/top-tickets' }));
    expectDeclared('GET /reports/top-tickets', await call('GET /reports/top-tickets', { url: '/reports/top-tickets' }, null));
    expectDeclared('GET /signin', await call('GET /signin', { url: '/signin?next=/reports/top-tickets' }));
    for (const [route, url] of [['GET /reports/impact', '/reports/impact'], ['GET /audit', '/audit']]) {
      expectDeclared(route, await call(route, { url }));
      expectDeclared(route, await call(route, { url }, null));
    }
  });

  it('the report and the audit trail over the seeded database, and their 400s', async () => {
    const report = await call('GET /api/reports/top-tickets', { url: '/api/reports/top-tickets?since=all' });
    expect(report.json().totalTickets).toBe(3);
    expect(report.json().groups.length).toBeGreaterThan(0);
    expectDeclared('GET /api/reports/top-tickets', report);
    const keysRoute = 'GET /api/reports/top-tickets/groups/:id/keys';
    const rowKeys = await call(keysRoute, { url: `/api/reports/top-tickets/groups/${encodeURIComponent(report.json().groups[0].id)}/keys?since=all` });
    expect(rowKeys.json().keys).toEqual(report.json().groups[0].keys);
    expectDeclared(keysRoute, rowKeys);
    expectDeclared(keysRoute, await call(keysRoute, { url: '/api/reports/top-tickets/groups/label%3Anone/keys?since=all' }));
    expectDeclared(keysRoute, await call(keysRoute, { url: '/api/reports/top-tickets/groups/label%3Anone/keys?cursor=x&limit=0' }));
    const bad = await call('GET /api/reports/top-tickets', { url: '/api/reports/top-tickets?since=soon&top=0' });
    expect(bad.json().message).toMatch(/^invalid query: since: "soon" is not a duration: use .*30m, 12h, 30d, 2w, or all; top: /);
    expectDeclared('GET /api/reports/top-tickets', bad);
    const runs = await call('GET /api/runs', { url: '/api/runs?since=30d&tracker=jira' });
    expect(runs.json().runs).toHaveLength(3);
    expect(runs.json().runs.every((r: { status: string }) => r.status !== 'queued')).toBe(true);
    expectDeclared('GET /api/runs', runs);
    expectDeclared('GET /api/runs', await call('GET /api/runs', { url: '/api/runs?status=bogus' }));
    expectDeclared('GET /api/runs', await call('GET /api/runs', { url: '/api/runs' }, null));
    const impact = await call('GET /api/reports/impact', { url: '/api/reports/impact?since=all' });
    expect(impact.statusCode, impact.body).toBe(200);
    expectDeclared('GET /api/reports/impact', impact);
    expectDeclared('GET /api/reports/impact', await call('GET /api/reports/impact', { url: '/api/reports/impact?type=robots' }));
    const [first] = runs.json().runs as Array<{ id: number }>;
    const trace = await call('GET /api/runs/:id', { url: `/api/runs/${first.id}` });
    expect(trace.statusCode, trace.body).toBe(200);
    expectDeclared('GET /api/runs/:id', trace);
    expectDeclared('GET /api/runs/:id', await call('GET /api/runs/:id', { url: '/api/runs/999999' }));
    expectDeclared('GET /api/runs/:id', await call('GET /api/runs/:id', { url: '/api/runs/abc' }));
    const chain = await call('GET /api/audit/chain', { url: '/api/audit/chain' });
    expect(chain.json().state).toBe('intact');
    expectDeclared('GET /api/audit/chain', chain);
  });

  it('handlers: health, kill switch, pause and resume', async () => {
    expectDeclared('GET /api/handlers', await call('GET /api/handlers', { url: '/api/handlers' }));
    expectDeclared('GET /api/handlers/kill-switch', await call('GET /api/handlers/kill-switch', { url: '/api/handlers/kill-switch' }));
    expectDeclared('POST /api/handlers/:name/pause', await call('POST /api/handlers/:name/pause', { url: '/api/handlers/reset-ci-token/pause', payload: { reason: 'schema test' } }));
    expectDeclared('POST /api/handlers/:name/pause', await call('POST /api/handlers/:name/pause', { url: '/api/handlers/nope/pause' }));
    expectDeclared('POST /api/handlers/:name/resume', await call('POST /api/handlers/:name/resume', { url: '/api/handlers/reset-ci-token/resume' }));
    expectDeclared('POST /api/handlers/:name/live', await call('POST /api/handlers/:name/live', { url: '/api/handlers/reset-ci-token/live' }));
    expectDeclared('POST /api/handlers/:name/live', await call('POST /api/handlers/:name/live', { url: '/api/handlers/nope/live' }));
    expectDeclared('POST /api/handlers/pause-all', await call('POST /api/handlers/pause-all', { url: '/api/handlers/pause-all' }));
    expectDeclared('POST /api/handlers/resume-all', await call('POST /api/handlers/resume-all', { url: '/api/handlers/resume-all' }));
    expectDeclared('POST /api/handlers/pause-all', await call('POST /api/handlers/pause-all', { url: '/api/handlers/pause-all' }, 'auditor'));
  });

  it('runs and deliveries: retry and replay, with their 400/404/409', async () => {
    const [run] = (await call('GET /api/runs', { url: '/api/runs?limit=1' })).json().runs as Array<{ id: number; deliveryId: number; status: string }>;
    const retry = await call('POST /api/runs/:id/retry', { url: `/api/runs/${run.id}/retry` });
    expect([200, 409]).toContain(retry.statusCode);
    expectDeclared('POST /api/runs/:id/retry', retry);
    const bad = await call('POST /api/runs/:id/retry', { url: '/api/runs/abc/retry' });
    expect(bad.json().message).toBe('invalid run id "abc": use the number shown by deflect audit');
    expectDeclared('POST /api/runs/:id/retry', bad);
    expectDeclared('POST /api/runs/:id/retry', await call('POST /api/runs/:id/retry', { url: '/api/runs/999999/retry' }));
    expectDeclared('POST /api/deliveries/:id/replay', await call('POST /api/deliveries/:id/replay', { url: `/api/deliveries/${run.deliveryId}/replay` }));
    expectDeclared('POST /api/deliveries/:id/replay', await call('POST /api/deliveries/:id/replay', { url: '/api/deliveries/0/replay' }));
  });

  it('tokens: issue, list (no hashes), revoke', async () => {
    const created = await call('POST /api/tokens', { url: '/api/tokens', payload: { name: 'schema-bot', role: 'auditor' } });
    expect(created.statusCode).toBe(201);
    expectDeclared('POST /api/tokens', created);
    expectDeclared('POST /api/tokens', await call('POST /api/tokens', { url: '/api/tokens', payload: { name: 'schema-bot', role: 'auditor' } }));
    expectDeclared('POST /api/tokens', await call('POST /api/tokens', { url: '/api/tokens', payload: { name: '', role: 'king' } }));
    const list = await call('GET /api/tokens', { url: '/api/tokens' });
    expect(Object.keys(list.json().tokens[0]).sort()).toEqual(['createdAt', 'lastUsedAt', 'name', 'revokedAt', 'role']);
    expectDeclared('GET /api/tokens', list);
    expectDeclared('DELETE /api/tokens/:name', await call('DELETE /api/tokens/:name', { url: '/api/tokens/schema-bot' }));
    expectDeclared('DELETE /api/tokens/:name', await call('DELETE /api/tokens/:name', { url: '/api/tokens/schema-bot' }));
  });

  it('signing in and out, and the other receivers refusing unsigned deliveries', async () => {
    const signedIn = await call('POST /signin', { url: '/signin', payload: { token: tokens.get('auditor') } });
    expect(signedIn.statusCode).toBe(200);
    expectDeclared('POST /signin', signedIn);
    expectDeclared('POST /signin', await call('POST /signin', { url: '/signin', payload: { token: 'nope' } }));
    expectDeclared('POST /signin', await call('POST /signin', { url: '/signin', payload: 'token=', headers: { 'content-type': 'application/x-www-form-urlencoded' } }));
    const cookie = signedIn.cookies.find((c) => c.name === 'deflect_session')!.value;
    expectDeclared('POST /signout', await call('POST /signout', { url: '/signout', headers: { cookie: `deflect_session=${cookie}` } }));
    for (const tracker of ['github', 'linear', 'trello']) {
      const refused = await call(`POST /webhooks/${tracker}`, { url: `/webhooks/${tracker}`, payload: '{}', headers: { 'content-type': 'application/json' } });
      expect(refused.statusCode).toBe(401);
      expectDeclared(`POST /webhooks/${tracker}`, refused);
    }
    const slack = await call('POST /slack/events', { url: '/slack/events', payload: 'command=%2Fdeflect', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(slack.statusCode).toBe(401);
    expectDeclared('POST /slack/events', slack);
  });

  it('every documented operation was called and checked above', () => {
    const documented = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
      Object.keys(item ?? {}).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    expect(documented.filter((route) => !checked.has(route)), 'operations without a checked answer: add a request above').toEqual([]);
  });
});
