/**
 * `/healthz` and `/readyz` through `app.inject` on real SQLite files: readiness fails (503, with the reason) on
 * pending migrations, on a queue lag over DEFLECT_MAX_QUEUE_LAG, when free disk space is under DEFLECT_MIN_FREE_BYTES,
 * and when webhooks are not authenticated (unless DEFLECT_INSECURE_NO_AUTH=true, which the body reports); each probe
 * commits a real write; runs of a paused handler wait on purpose and do not count as lag; the paused handler is listed.
 * A real full disk is in disk-full.test.ts.
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
import { sqliteStore } from '../../src/db/sqlite-store.js';

const opened: Db[] = [];
type AppConfig = Parameters<typeof buildApp>[0]['config'];
async function appOn(db: Db, maxQueueLag: number, config: Partial<AppConfig> = {}) {
  opened.push(db);
  return buildApp({
    config: { webhookSecrets: ['s3cret'], webhookTokens: [], bodyLimitBytes: 1024, maxQueueLag, ...config },
    db: sqliteStore(db),
    logger: createLogger('silent'),
  });
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

  it('commits a real write on each probe', async () => {
    const db = openDatabase(join(freshDir(), 'probe.db'));
    const app = await appOn(db, 5);
    const before = Date.now();
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    const row = db.$client.prepare('SELECT checked_at AS checkedAt FROM health_probe WHERE id = 1').get() as { checkedAt: number };
    expect(row.checkedAt).toBeGreaterThanOrEqual(before);
  });

  it('is not ready when the database file is read-only for this connection', async () => {
    const path = join(freshDir(), 'readonly.db');
    openDatabase(path).$client.close();
    const db = openDatabase(path, { readonly: true });
    const app = await appOn(db, 5);
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(503);
    expect(ready.json().problems).toContain('database not writable: attempt to write a readonly database');
  });

  it('is not ready when free space under the database is below DEFLECT_MIN_FREE_BYTES', async () => {
    const db = openDatabase(join(freshDir(), 'space.db'));
    const app = await appOn(db, 5, { minFreeBytes: Number.MAX_SAFE_INTEGER });
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(503);
    expect(ready.json().freeBytes).toBeGreaterThan(0);
    expect(ready.json().problems).toEqual([
      `disk nearly full: ${ready.json().freeBytes} bytes free where the database lives, under ${Number.MAX_SAFE_INTEGER} (DEFLECT_MIN_FREE_BYTES)`,
    ]);
    const enough = await (await appOn(openDatabase(join(freshDir(), 'space2.db')), 5, { minFreeBytes: 1024 })).inject('/readyz');
    expect(enough.statusCode).toBe(200);
  });

  it('is not ready without webhook authentication, unless DEFLECT_INSECURE_NO_AUTH=true, which it reports', async () => {
    const db = openDatabase(join(freshDir(), 'auth.db'));
    const open = await appOn(db, 5, { webhookSecrets: [], webhookTokens: [] });
    const refused = await open.inject('/readyz');
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toMatchObject({
      insecureNoAuth: false,
      problems: ['webhooks are not authenticated: set DEFLECT_WEBHOOK_SECRET or DEFLECT_WEBHOOK_TOKEN (Jira), DEFLECT_GITHUB_WEBHOOK_SECRET, DEFLECT_LINEAR_WEBHOOK_SECRET, TRELLO_WEBHOOK_SECRET or SLACK_SIGNING_SECRET (or DEFLECT_INSECURE_NO_AUTH=true on purpose)'],
    });

    const onPurpose = await appOn(openDatabase(join(freshDir(), 'auth2.db')), 5, { webhookSecrets: [], webhookTokens: [], insecureNoAuth: true });
    const ready = await onPurpose.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', insecureNoAuth: true, problems: [] });
    expect(ready.json().warnings[0]).toMatch(/^webhooks are NOT authenticated: DEFLECT_INSECURE_NO_AUTH=true/);

    const token = await (await appOn(openDatabase(join(freshDir(), 'auth3.db')), 5, { webhookSecrets: [], webhookTokens: ['t0ken'] })).inject('/readyz');
    expect(token.json()).toMatchObject({ status: 'ready', insecureNoAuth: false, warnings: [] });
  });
});
