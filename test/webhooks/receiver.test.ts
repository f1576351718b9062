/**
 * The receiver through `app.inject` with signed bodies: authentication (signature with rotation, token mode),
 * and a clear 4xx for every kind of bad input, with nothing stored; on a database of the pass's backend (test-backend.ts).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createLogger } from '../../src/logger.js';
import { signBody } from '../../src/trackers/jira/verify-delivery.js';
import { freshDatabase, type TestDatabase } from '../support/test-backend.js';

const SECRETS = ['old-secret', 'new-secret'];
const TOKENS = ['automation-token'];
const event = (labels: unknown = ['access-request']) =>
  JSON.stringify({
    timestamp: Date.now(),
    webhookEvent: 'jira:issue_created',
    issue: { id: '1', key: 'OPS-1', self: 'https://acme.atlassian.net/rest/api/2/issue/1', fields: { summary: 'x', labels } },
  });

describe('POST /webhooks/jira', () => {
  let app: FastifyInstance;
  let database: TestDatabase;
  const stored = async () => (await database.get<{ n: number }>('SELECT count(*) AS n FROM deliveries'))!.n;
  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/webhooks/jira', payload: body, headers: { 'content-type': 'application/json', ...headers } });

  beforeAll(async () => {
    database = await freshDatabase();
    app = await buildApp({
      config: { webhookSecrets: SECRETS, webhookTokens: TOKENS, bodyLimitBytes: 64 * 1024 },
      db: await database.open(),
      logger: createLogger('silent'),
    });
  });
  afterAll(async () => {
    await app.close();
  });

  it("matches Atlassian's published test vector", () => {
    expect(signBody('Hello World!', "It's a Secret to Everybody")).toBe(
      'sha256=a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9',
    );
  });

  it('accepts a body signed with either of two secrets (rotation) and stores it once', async () => {
    const body = event();
    const a = await post(body, { 'x-hub-signature': signBody(body, 'old-secret'), 'x-atlassian-webhook-identifier': 'rot-1' });
    expect(a.statusCode).toBe(200);
    expect(a.json()).toMatchObject({ status: 'accepted' });
    const b = await post(body, { 'x-hub-signature': signBody(body, 'new-secret'), 'x-atlassian-webhook-identifier': 'rot-1' });
    expect(b.statusCode).toBe(200);
    expect(b.json()).toMatchObject({ status: 'duplicate', deliveryId: a.json().deliveryId });
  });

  it('falls back to a hash of the body when there is no webhook identifier', async () => {
    const body = event(['hash-dedupe']);
    const headers = { 'x-hub-signature': signBody(body, 'new-secret') };
    expect((await post(body, headers)).json().status).toBe('accepted');
    expect((await post(body, headers)).json().status).toBe('duplicate');
    const row = (await database.get<{ k: string }>("SELECT delivery_key AS k FROM deliveries WHERE body LIKE '%hash-dedupe%'"))!;
    expect(row.k).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('accepts the Automation token header, and refuses a wrong one', async () => {
    const body = event(['token-mode']);
    expect((await post(body, { 'x-deflect-token': 'automation-token' })).statusCode).toBe(200);
    const wrong = await post(event(['token-wrong']), { 'x-deflect-token': 'guess' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().message).toMatch(/DEFLECT_WEBHOOK_TOKEN/);
  });

  it.each([
    ['a missing signature', {}, /missing authentication/],
    ['a wrong signature', { 'x-hub-signature': signBody('other body', 'new-secret') }, /does not match/],
    ['a sha1 signature', { 'x-hub-signature': 'sha1=0123abcd' }, /only sha256/],
    ['a malformed signature', { 'x-hub-signature': 'not-a-signature' }, /malformed/],
  ])('refuses %s with 401 and stores nothing', async (_name, headers, message) => {
    const before = await stored();
    const answer = await post(event(['auth-fail']), headers as Record<string, string>);
    expect(answer.statusCode).toBe(401);
    expect(answer.json().message).toMatch(message);
    expect(await stored()).toBe(before);
  });

  const signed = (body: string | Buffer) => ({ 'x-hub-signature': signBody(body, 'new-secret') });

  it.each([
    ['malformed JSON', '{"webhookEvent": "jira:issue_created",', 400, /malformed JSON/],
    ['a JSON array', '[1,2,3]', 422, /JSON object/],
    ['a JSON object that is not a Jira event', '{"action":"opened","issue":{"number":1}}', 422, /not a Jira event/],
    ['labels of the wrong type', event('access-request'), 422, /issue\.fields\.labels/],
    ['an issue without a key', JSON.stringify({ webhookEvent: 'jira:issue_created', issue: { id: '1', fields: {} } }), 422, /issue\.key/],
  ])('answers %s with a %i that says what is wrong', async (_name, body, status, message) => {
    const before = await stored();
    const answer = await post(body, signed(body));
    expect(answer.statusCode).toBe(status);
    expect(answer.json().message).toMatch(message);
    expect(await stored()).toBe(before);
  });

  it('answers invalid UTF-8 with 400', async () => {
    const body = Buffer.concat([Buffer.from('{"webhookEvent":"jira:issue_created","x":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const answer = await post(body, signed(body));
    expect(answer.statusCode).toBe(400);
    expect(answer.json().message).toMatch(/UTF-8/);
  });

  it('answers a wrong content type with 415', async () => {
    const body = event();
    const answer = await app.inject({ method: 'POST', url: '/webhooks/jira', payload: body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...signed(body) } });
    expect(answer.statusCode).toBe(415);
    expect(answer.json().message).toMatch(/application\/json/);
  });

  it('answers a body over the limit with 413 naming the limit', async () => {
    const body = event(Array.from({ length: 20_000 }, (_, i) => `label-${i}`));
    const answer = await post(body, signed(body));
    expect(answer.statusCode).toBe(413);
    expect(answer.json().message).toMatch(/65536 bytes.*DEFLECT_BODY_LIMIT/);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const answer = await app.inject({ method: 'GET', url: '/nope' });
    expect(answer.statusCode).toBe(404);
    expect(answer.json().message).toBe('no route GET /nope');
  });
});
