/**
 * Every refused delivery logs exactly one warn line (tracker, status, reason) and counts once in
 * `deflect_deliveries_total{tracker,result}`; no line carries the body (a marker in each body, some of which the
 * answers do echo) or a secret. pino's real output is captured from its destination stream. On a database of the
 * pass's backend (test-backend.ts).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { deliveriesTotal } from '../../src/metrics/metrics.js';
import { signBody } from '../../src/trackers/jira/verify-delivery.js';
import { waitFor } from '../support/deflect-under-test.js';
import { freshDatabase } from '../support/test-backend.js';

const SECRET = 'refusal-log-secret';
const MARKER = 'BODYMARKER7';
const event = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    timestamp: Date.now(),
    webhookEvent: 'jira:issue_created',
    issue: { id: '1', key: 'LOG-1', self: 'https://acme.atlassian.net/rest/api/2/issue/1', fields: { summary: MARKER, labels: ['x'] } },
    ...extra,
  });

async function counted(result: string): Promise<number> {
  const { values } = await deliveriesTotal.get();
  return values.find((v) => v.labels.tracker === 'jira' && v.labels.result === result)?.value ?? 0;
}

describe('refused deliveries are logged once each, without the body', () => {
  let app: FastifyInstance;
  const lines: string[] = [];
  const refusalLines = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => /webhook refused/.test(String(l.msg)));
  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/webhooks/jira', payload: body, headers: { 'content-type': 'application/json', ...headers } });
  const signed = (body: string | Buffer) => ({ 'x-hub-signature': signBody(body, SECRET) });

  beforeAll(async () => {
    app = await buildApp({
      config: { webhookSecrets: [SECRET], webhookTokens: [], bodyLimitBytes: 16 * 1024 },
      db: await (await freshDatabase()).open(),
      logger: createLogger('info', { write: (line: string) => void lines.push(line) }),
    });
  });
  afterAll(async () => {
    await app.close();
  });

  const notJson = `${MARKER} is not json`;
  const tooDeep = `{"a":${'['.repeat(200)}"${MARKER}"${']'.repeat(200)}}`;
  const cases: Array<[string, () => Promise<{ statusCode: number }>, number, string, RegExp]> = [
    ['no signature', () => post(event()), 401, 'unauthorized', /missing authentication/],
    ['a wrong signature', () => post(event(), { 'x-hub-signature': signBody('other', SECRET) }), 401, 'unauthorized', /does not match/],
    ['malformed JSON (the answer quotes the body)', () => post(notJson, signed(notJson)), 400, 'bad_request', /^malformed JSON/],
    ['JSON nested too deep', () => post(tooDeep, signed(tooDeep)), 400, 'bad_request', /deep/],
    ['a form content type', () => post(event(), { 'content-type': 'application/x-www-form-urlencoded', ...signed(event()) }), 415, 'unsupported_media_type', /./],
    ['a JSON object that is not a Jira event', () => { const b = JSON.stringify({ note: MARKER }); return post(b, signed(b)); }, 422, 'unprocessable', /not a Jira event/],
    ['an event too old', () => { const b = event({ timestamp: Date.now() - 3 * 86_400_000 }); return post(b, signed(b)); }, 422, 'unprocessable', /older than DEFLECT_MAX_EVENT_AGE/],
    ['a declared body over the limit', () => { const b = event({ pad: 'x'.repeat(20_000) }); return post(b, signed(b)); }, 413, 'too_large', /too large/],
  ];

  it.each(cases)('%s: one warn line with status and reason, counted once', async (_name, send, status, result, reason) => {
    const before = refusalLines().length;
    const countBefore = await counted(result);
    const answer = await send();
    expect(answer.statusCode).toBe(status);
    // onResponse runs once the answer is sent, so the line may follow inject's resolution by a tick.
    await waitFor('the refusal line', () => refusalLines().length > before);
    await new Promise((r) => setTimeout(r, 20));
    const logged = refusalLines().slice(before);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 40, tracker: 'jira', statusCode: status, ip: '127.0.0.1' });
    expect(String(logged[0].reason)).toMatch(reason);
    expect(await counted(result)).toBe(countBefore + 1);
  });

  it('no line anywhere in the log carries a body or a secret', () => {
    expect(refusalLines().length).toBeGreaterThanOrEqual(cases.length);
    const all = lines.join('\n');
    expect(all).not.toContain(MARKER);
    expect(all).not.toContain(SECRET);
    expect(all).not.toMatch(/sha256=[0-9a-f]{64}/);
  });

  it('an accepted delivery logs no refusal and counts as accepted', async () => {
    const before = refusalLines().length;
    const accepted = await counted('accepted');
    const body = event();
    expect((await post(body, signed(body))).statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, 20));
    expect(refusalLines()).toHaveLength(before);
    expect(await counted('accepted')).toBe(accepted + 1);
  });
});

describe('behind a trusted proxy (DEFLECT_TRUSTED_PROXIES is fastify trustProxy)', () => {
  it("logs the sender's address from X-Forwarded-For only when the proxy is trusted", async () => {
    const db = await (await freshDatabase()).open();
    const lines: Array<Record<string, unknown>> = [];
    const app = await buildApp({
      config: { webhookSecrets: [SECRET], webhookTokens: [], bodyLimitBytes: 16 * 1024, auth: loadConfig({ DEFLECT_TRUSTED_PROXIES: '127.0.0.1' }).auth },
      db,
      logger: createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) }),
    });
    try {
      const send = (remoteAddress: string) =>
        app.inject({ method: 'POST', url: '/webhooks/jira', remoteAddress, payload: event(), headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.9' } });
      expect((await send('127.0.0.1')).statusCode).toBe(401);
      expect((await send('10.9.9.9')).statusCode).toBe(401);
      await waitFor('two refusal lines', () => lines.filter((l) => /webhook refused/.test(String(l.msg))).length === 2);
      expect(lines.filter((l) => /webhook refused/.test(String(l.msg))).map((l) => l.ip)).toEqual(['203.0.113.9', '10.9.9.9']);
    } finally {
      await app.close();
      await db.close();
    }
  });
});
