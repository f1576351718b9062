/**
 * The operator routes on a real database through `app.inject`: pause/resume show up in `GET /api/handlers` and in the
 * database the worker reads; retry re-queues only failed/dead runs; bad input gets a 4xx with a message.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { openDatabase, type Db } from '../../src/db/client.js';
import { findDelivery, insertDeliveries, markDeliveryRouted } from '../../src/db/deliveries.js';
import { pruneDeliveryBodies } from '../../src/db/retention.js';
import { listPausedHandlers } from '../../src/db/handler-states.js';
import { currentHandlerModes, recordHandlerModeChange } from '../../src/db/handler-modes.js';
import { enqueueRun, finishRun, findRun } from '../../src/db/runs.js';
import { createLogger } from '../../src/logger.js';
import { authHeader } from '../support/api-token.js';
import { freshDir } from '../support/deflect-under-test.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';

describe('operator routes', () => {
  let app: FastifyInstance;
  let db: Db;
  let headers: { authorization: string };
  let woken = 0;
  beforeAll(async () => {
    db = openDatabase(join(freshDir(), 'operator.db'));
    app = await buildApp({ config: { webhookSecrets: ['s'], webhookTokens: [], bodyLimitBytes: 4096 }, db: sqliteStore(db), logger: createLogger('silent'), onDeliveryStored: () => woken++ });
    headers = await authHeader(db, 'operator');
  });
  afterAll(async () => {
    await app?.close();
    db?.$client.close();
  });

  it('pauses and resumes a handler, with the reason and the state visible to auditors', async () => {
    const pause = await app.inject({ method: 'POST', url: '/api/handlers/create-repository/pause', headers, payload: { reason: 'GitHub outage' } });
    expect(pause.json()).toEqual({ handler: 'create-repository', state: 'paused', changed: true });
    expect(listPausedHandlers(db).has('create-repository')).toBe(true);
    const again = await app.inject({ method: 'POST', url: '/api/handlers/create-repository/pause', headers });
    expect(again.json().changed).toBe(false);
    const list = await app.inject({ url: '/api/handlers', headers: await authHeader(db, 'auditor') });
    expect(list.json().handlers.find((h: { name: string }) => h.name === 'create-repository')).toMatchObject({ state: 'paused', pausedReason: 'GitHub outage' });
    const before = woken;
    const resume = await app.inject({ method: 'POST', url: '/api/handlers/create-repository/resume', headers });
    expect(resume.json()).toEqual({ handler: 'create-repository', state: 'active', changed: true });
    expect(woken).toBe(before + 1);
    expect(listPausedHandlers(db).has('create-repository')).toBe(false);
  });

  it('puts a demoted handler back live (operator only), recorded with who did it; 404 for an unknown handler', async () => {
    recordHandlerModeChange(db, { handler: 'answer-with-runbook', mode: 'shadow', by: 'deflect', reason: 'demoted to shadow: test' });
    const listed = await app.inject({ url: '/api/handlers', headers: await authHeader(db, 'auditor') });
    expect(listed.json().handlers.find((h: { name: string }) => h.name === 'answer-with-runbook')).toMatchObject({
      runs: 0, resolved: 0, verifiedResolved: 0, reopened: 0, refiled: 0, overridden: 0, verifiedRate: null, demoted: { reason: 'demoted to shadow: test' },
    });
    const auditor = await app.inject({ method: 'POST', url: '/api/handlers/answer-with-runbook/live', headers: await authHeader(db, 'auditor') });
    expect(auditor.statusCode).toBe(403);
    const live = await app.inject({ method: 'POST', url: '/api/handlers/answer-with-runbook/live', headers });
    expect(live.json()).toEqual({ handler: 'answer-with-runbook', mode: 'live', changed: true });
    expect(currentHandlerModes(db).get('answer-with-runbook')).toMatchObject({ mode: 'live', by: expect.stringContaining('over the API') });
    const again = await app.inject({ method: 'POST', url: '/api/handlers/answer-with-runbook/live', headers });
    expect(again.json().changed).toBe(false);
    expect((await app.inject({ method: 'POST', url: '/api/handlers/nope/live', headers })).statusCode).toBe(404);
  });

  it('answers 404 for an unknown handler and 400 for a bad body', async () => {
    const unknown = await app.inject({ method: 'POST', url: '/api/handlers/nope/pause', headers });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().message).toMatch(/^no handler named "nope" \(installed: .*grant-repo-access/);
    const bad = await app.inject({ method: 'POST', url: '/api/handlers/grant-repo-access/pause', headers, payload: { reason: 'x'.repeat(501) } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/^invalid body: reason/);
  });

  it('re-queues a failed run once; refuses queued runs (409), unknown runs (404) and bad ids (400)', async () => {
    const [delivery] = insertDeliveries(db, [{ deliveryKey: 'op-1', webhookIdentifier: null, event: 'jira:issue_created', issueKey: 'OP-1', headers: {}, body: '{}', eventTimestamp: null, receivedAt: Date.now() }]);
    const id = enqueueRun(db, { deliveryId: delivery.id, ticketKey: 'OP-1', handler: 'grant-repo-access', reason: 't', dryRun: false, idempotencyKey: 'op-1', maxAttempts: 3 })!;
    const queued = await app.inject({ method: 'POST', url: `/api/runs/${id}/retry`, headers });
    expect(queued.statusCode).toBe(409);
    expect(queued.json().message).toMatch(/is queued; only failed or dead runs can be retried/);
    finishRun(db, id, { status: 'dead', error: 'gave up', durationMs: 5 });
    const retried = await app.inject({ method: 'POST', url: `/api/runs/${id}/retry`, headers });
    expect(retried.json()).toEqual({ run: id, status: 'queued', was: 'dead', handlerPaused: false });
    expect(findRun(db, id)).toMatchObject({ status: 'queued', attempts: 0, manualRetries: 1 });
    expect((await app.inject({ method: 'POST', url: '/api/runs/999999/retry', headers })).statusCode).toBe(404);
    const bad = await app.inject({ method: 'POST', url: '/api/runs/abc/retry', headers });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/invalid run id "abc"/);
  });

  it('replays a stored delivery as a new pending delivery marked as its replay; 404 unknown, 410 pruned, 403 for auditors', async () => {
    const receivedAt = Date.now() - 40 * 86_400_000;
    const [original] = insertDeliveries(db, [{ deliveryKey: 'op-replay-1', webhookIdentifier: null, event: 'jira:issue_created', issueKey: 'OP-2', headers: { 'content-type': 'application/json' }, body: '{"webhookEvent":"jira:issue_created"}', eventTimestamp: null, receivedAt }]);
    markDeliveryRouted(db, original.id, 'routed', 'test');
    expect((await app.inject({ method: 'POST', url: `/api/deliveries/${original.id}/replay`, headers: await authHeader(db, 'auditor') })).statusCode).toBe(403);
    const before = woken;
    const replay = await app.inject({ method: 'POST', url: `/api/deliveries/${original.id}/replay`, headers });
    expect(replay.statusCode).toBe(202);
    expect(replay.json().replayOf).toBe(original.id);
    const stored = findDelivery(db, replay.json().delivery)!;
    expect(stored).toMatchObject({ replayOf: original.id, status: 'pending', body: '{"webhookEvent":"jira:issue_created"}' });
    expect(woken).toBe(before + 1);
    expect((await app.inject({ method: 'POST', url: '/api/deliveries/999999/replay', headers })).statusCode).toBe(404);
    expect(pruneDeliveryBodies(db, Date.now() - 30 * 86_400_000).deliveries).toBeGreaterThanOrEqual(1);
    const pruned = await app.inject({ method: 'POST', url: `/api/deliveries/${original.id}/replay`, headers });
    expect(pruned.statusCode).toBe(410);
    expect(pruned.json().message).toMatch(/body was pruned/);
  });

  it('sends the security headers on API answers, not on the webhook (read by Jira, the hot path)', async () => {
    const api = await app.inject({ url: '/api/handlers', headers });
    expect(api.headers['content-security-policy']).toContain("default-src 'self'");
    const webhook = await app.inject({ method: 'POST', url: '/webhooks/jira', headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(webhook.statusCode).toBe(401);
    expect(webhook.headers['content-security-policy']).toBeUndefined();
  });
});
