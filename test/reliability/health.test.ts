/**
 * `/healthz` and `/readyz` through `app.inject` on real SQLite files: readiness fails (503, with the reason) on
 * pending migrations and on a queue lag over DEFLECT_MAX_QUEUE_LAG; runs of a paused handler wait on purpose and do
 * not count as lag; the paused handler is listed.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { openDatabase, type Db } from '../../src/db/client.js';
import { insertDeliveries } from '../../src/db/deliveries.js';
import { pauseHandler } from '../../src/db/handler-states.js';
import { enqueueRun } from '../../src/db/runs.js';
import { createLogger } from '../../src/logger.js';
import { freshDir } from '../support/deflect-under-test.js';

const opened: Db[] = [];
async function appOn(db: Db, maxQueueLag: number) {
  opened.push(db);
  return buildApp({ config: { webhookSecrets: [], webhookTokens: [], bodyLimitBytes: 1024, maxQueueLag }, db, logger: createLogger('silent') });
}
function queue(db: Db, n: number, handler: string | null): void {
  const stored = insertDeliveries(
    db,
    Array.from({ length: n }, (_, i) => ({
      deliveryKey: `health:${handler}:${i}:${Math.random()}`, webhookIdentifier: null, event: 'jira:issue_created', issueKey: `H-${i}`,
      headers: {}, body: '{}', eventTimestamp: null, receivedAt: Date.now() - 5_000,
    })),
  );
  if (handler) {
    stored.forEach((d, i) =>
      enqueueRun(db, { deliveryId: d.id, ticketKey: `H-${i}`, handler, reason: 'test', dryRun: false, idempotencyKey: `H-${i}:${handler}:${d.id}`, maxAttempts: 3 }),
    );
    db.$client.prepare("UPDATE deliveries SET status = 'routed'").run();
  }
}

afterEach(() => {
  for (const db of opened.splice(0)) db.$client.close();
});

describe('/healthz and /readyz', () => {
  it('is ready on a migrated, writable database with a short queue', async () => {
    const db = openDatabase(join(freshDir(), 'ready.db'));
    const app = await appOn(db, 5);
    queue(db, 2, null);
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', queueLag: 2, pausedHandlers: [], problems: [] });
    expect(ready.json().oldestPendingMs).toBeGreaterThanOrEqual(5_000);
  });

  it('is not ready while migrations are pending', async () => {
    const db = openDatabase(join(freshDir(), 'unmigrated.db'), { migrate: false });
    const app = await appOn(db, 5);
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(503);
    expect(ready.json().problems.join('\n')).toMatch(/migrations pending: 0 of \d+ applied \(run deflect migrate\)/);
    expect((await app.inject('/healthz')).statusCode).toBe(200);
  });

  it('is not ready when the queue lag exceeds the threshold; runs of a paused handler do not count', async () => {
    const db = openDatabase(join(freshDir(), 'lag.db'));
    const app = await appOn(db, 3);
    queue(db, 4, 'reset-ci-token');
    const lagging = await app.inject('/readyz');
    expect(lagging.statusCode).toBe(503);
    expect(lagging.json()).toMatchObject({ status: 'unavailable', queueLag: 4, problems: ['queue lag 4 is over 3 (DEFLECT_MAX_QUEUE_LAG)'] });

    pauseHandler(db, 'reset-ci-token', 'test');
    const paused = await app.inject('/readyz');
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toMatchObject({ queueLag: 0, pausedHandlers: ['reset-ci-token'] });
  });
});
