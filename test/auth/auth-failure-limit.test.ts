/**
 * Failed authentications are rate-limited per client address (@fastify/rate-limit): API 401s and webhook 401s both
 * count; past DEFLECT_AUTH_FAILURE_LIMIT in a minute the address gets 429 with Retry-After and a JSON message, even
 * with a valid credential, while /healthz keeps answering. Successful requests do not count. On the pass's backend
 * (startDeflect: test-backend.ts).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader } from '../support/api-token.js';
import { postWebhook, startDeflect, type DeflectUnderTest } from '../support/deflect-under-test.js';

const LIMIT = 5;
const body = () => ({ timestamp: Date.now(), webhookEvent: 'jira:issue_created', issue: { id: '5', key: 'RL-5', fields: { summary: 'x', labels: [] } } });

describe('rate limit on authentication failures', () => {
  let api: DeflectUnderTest;
  let hooks: DeflectUnderTest;
  beforeAll(async () => {
    api = await startDeflect({ env: { DEFLECT_AUTH_FAILURE_LIMIT: String(LIMIT) } });
    hooks = await startDeflect({ env: { DEFLECT_AUTH_FAILURE_LIMIT: String(LIMIT) } });
  });
  afterAll(async () => {
    await Promise.all([api?.close(), hooks?.close()]);
  });

  it('does not count successful requests', async () => {
    const headers = await authHeader(api.db, 'auditor');
    for (let i = 0; i < LIMIT * 3; i++) expect((await fetch(`${api.url}/api/runs`, { headers })).status).toBe(200);
  });

  it('answers 429 with Retry-After after the limit of API 401s, even to a valid token; probes stay open', async () => {
    const good = await authHeader(api.db, 'auditor');
    for (let i = 0; i < LIMIT; i++) {
      expect((await fetch(`${api.url}/api/runs`, { headers: { authorization: `Bearer dfl_guess${i}` } })).status).toBe(401);
    }
    const limited = await fetch(`${api.url}/api/runs`, { headers: { authorization: 'Bearer dfl_guess-again' } });
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await limited.json()).message).toMatch(new RegExp(`too many failed authentication attempts from this address \\(${LIMIT} a minute\\): retry in \\d+ s`));
    expect((await fetch(`${api.url}/api/runs`, { headers: good })).status).toBe(429);
    expect((await fetch(`${api.url}/signin`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'x' }) })).status).toBe(429);
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
  });

  it('counts webhook 401s (bad signatures) the same way', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await postWebhook(hooks.url, body(), { secret: 'forged' })).status).toBe(401);
    const limited = await postWebhook(hooks.url, body(), { secret: 'forged' });
    expect(limited.status).toBe(429);
    expect(limited.json.message).toMatch(/too many failed authentication attempts/);
    // Nothing was stored from the refused deliveries.
    expect(await hooks.database.get('SELECT count(*) AS n FROM deliveries')).toEqual({ n: 0 });
    expect((await postWebhook(hooks.url, body(), { identifier: randomUUID() })).status).toBe(429);
  });
});
