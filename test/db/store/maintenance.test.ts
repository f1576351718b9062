/**
 * Conformance of the small upkeep repositories with their PostgreSQL twins: delivery body retention
 * (src/db/retention.ts), import checkpoints (src/db/import-checkpoints.ts), the readiness write probe
 * (src/db/health-probe.ts) and the backtest's scratch clearing (src/db/scratch-runs.ts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { NewDelivery } from '../../../src/db/deliveries.js';
import { closeStoreBackends, storeBackends } from '../../support/stores.js';
import { closeRawStores, openWithSql } from './raw-sql.js';

const delivery = (key: string, receivedAt: number, body = `{"key":"${key}"}`): NewDelivery => ({
  deliveryKey: key, webhookIdentifier: null, event: 'jira:issue_updated', issueKey: 'PLAT-1', headers: { 'x-k': key }, body, eventTimestamp: null, receivedAt,
});
const bytes = (d: NewDelivery) => Buffer.byteLength(d.body) + Buffer.byteLength(JSON.stringify(d.headers));

/** A run row (the runs repository is not part of this file's modules). */
const runRow = 'INSERT INTO runs (delivery_id, ticket_key, handler, reason, status, idempotency_key, max_attempts, run_after, created_at) VALUES (?, ?, ?, ?, ?, ?, 3, 0, 0)';

afterAll(async () => {
  await closeRawStores();
  await closeStoreBackends();
});

describe.each(storeBackends())('retention on %s', (backend) => {
  it.skipIf(backend.skip !== null)('prunes routed deliveries older than the cut-off in batches, oldest first, keeping pending ones and those with work in progress', async () => {
    const { store, sql } = await openWithSql(backend);
    const none = { deliveries: 0, bytes: 0, oldestReceivedAt: null, newestReceivedAt: null };
    expect(await store.countPrunableDeliveries(10_000)).toEqual(none);
    const ds = [
      delivery('d1', 1_000),
      delivery('d2', 1_500),
      delivery('d3', 2_000),
      delivery('d4', 2_500),
      delivery('d5', 3_000, '{"summary":"é ü 🚀"}'),
      delivery('d6', 5_000),
      delivery('d7', 2_500),
    ];
    await store.insertDeliveries(ds);
    for (const id of [1, 3, 4, 6, 7]) await store.markDeliveryRouted(id, 'routed', 'ok', 9_000);
    await store.markDeliveryRouted(5, 'ignored', 'no rule', 9_000);
    await sql(runRow, [3, 'PLAT-1', 'comment', 'r', 'queued', 'k3']);
    await sql(runRow, [4, 'PLAT-1', 'comment', 'r', 'success', 'k4']);
    await sql(runRow, [7, 'PLAT-1', 'comment', 'r', 'running', 'k7']);
    // Prunable before 4 000: d1, d4, d5 (d2 pending, d3 and d7 have work in progress, d6 is newer).
    const [d1, , , d4, d5] = ds;
    expect(await store.countPrunableDeliveries(4_000)).toEqual({ deliveries: 3, bytes: bytes(d1!) + bytes(d4!) + bytes(d5!), oldestReceivedAt: 1_000, newestReceivedAt: 3_000 });

    expect(await store.pruneDeliveryBodies(4_000, 2, 20_000)).toEqual({ deliveries: 2, bytes: bytes(d1!) + bytes(d4!), oldestReceivedAt: 1_000, newestReceivedAt: 2_500 });
    const pruned = await store.findDelivery(1);
    expect([pruned?.body, pruned?.headers, pruned?.bodyPrunedAt, pruned?.status, pruned?.deliveryKey]).toEqual(['', '{}', 20_000, 'routed', 'd1']);
    expect((await store.findDelivery(2))?.body).toBe(ds[1]!.body);
    expect(await store.pruneDeliveryBodies(4_000, 2, 21_000)).toEqual({ deliveries: 1, bytes: bytes(d5!), oldestReceivedAt: 3_000, newestReceivedAt: 3_000 });
    expect(await store.pruneDeliveryBodies(4_000, 2, 22_000)).toEqual(none);
    expect(await store.countPrunableDeliveries(4_000)).toEqual(none);
    expect((await store.findDelivery(5))?.bodyPrunedAt).toBe(21_000);

    // Defaults: the whole batch, now = the clock.
    const all = await store.pruneDeliveryBodies(10_000);
    expect(all).toEqual({ deliveries: 1, bytes: bytes(ds[5]!), oldestReceivedAt: 5_000, newestReceivedAt: 5_000 });
    expect((await store.findDelivery(6))?.bodyPrunedAt).toBeGreaterThan(1_700_000_000_000);
  });

  it.skipIf(backend.skip !== null)('two prunes at once prune every delivery once', async () => {
    const { store } = await openWithSql(backend);
    const ds = Array.from({ length: 6 }, (_, i) => delivery(`c${i}`, 1_000 + i));
    await store.insertDeliveries(ds);
    for (let id = 1; id <= 6; id++) await store.markDeliveryRouted(id, 'routed', 'ok', 9_000);
    const total = ds.reduce((sum, d) => sum + bytes(d), 0);
    const results = await Promise.all([store.pruneDeliveryBodies(5_000, 3, 9_500), store.pruneDeliveryBodies(5_000, 3, 9_500), store.pruneDeliveryBodies(5_000, 3, 9_500)]);
    expect(results.reduce((sum, r) => sum + r.deliveries, 0)).toBe(6);
    expect(results.reduce((sum, r) => sum + r.bytes, 0)).toBe(total);
    expect(await store.countPrunableDeliveries(5_000)).toEqual({ deliveries: 0, bytes: 0, oldestReceivedAt: null, newestReceivedAt: null });
  });
});

describe.each(storeBackends())('import checkpoints on %s', (backend) => {
  it.skipIf(backend.skip !== null)('saves, reads back and overwrites a source checkpoint, keeping its start time', async () => {
    const { store, rows } = await openWithSql(backend);
    expect(await store.findImportCheckpoint('jsonl:/tmp/a.jsonl')).toBeUndefined();
    await store.saveImportCheckpoint('jsonl:/tmp/a.jsonl', { cursor: '120', imported: 100, skipped: 20, status: 'running', fingerprint: '10:20' }, 1_000);
    await store.saveImportCheckpoint('jql:project = PLAT', { cursor: null, imported: 0, skipped: 0, status: 'running', fingerprint: null });
    expect(await store.findImportCheckpoint('jsonl:/tmp/a.jsonl')).toEqual({ cursor: '120', imported: 100, skipped: 20, status: 'running', fingerprint: '10:20' });
    await store.saveImportCheckpoint('jsonl:/tmp/a.jsonl', { cursor: null, imported: 150, skipped: 21, status: 'done', fingerprint: null }, 2_000);
    expect(await store.findImportCheckpoint('jsonl:/tmp/a.jsonl')).toEqual({ cursor: null, imported: 150, skipped: 21, status: 'done', fingerprint: null });
    expect(await store.findImportCheckpoint('jql:project = PLAT')).toEqual({ cursor: null, imported: 0, skipped: 0, status: 'running', fingerprint: null });
    expect(await rows("SELECT CAST(started_at AS INTEGER) AS s, CAST(updated_at AS INTEGER) AS u FROM import_checkpoints WHERE source = 'jsonl:/tmp/a.jsonl'")).toEqual([{ s: 1_000, u: 2_000 }]);
  });
});

describe.each(storeBackends())('health probe and scratch runs on %s', (backend) => {
  it.skipIf(backend.skip !== null)('the probe commits one row with the time, and fails when the database cannot take the write', async () => {
    const { store, sql, rows } = await openWithSql(backend);
    await store.recordHealthProbe(1_234);
    await store.recordHealthProbe(5_678);
    expect(await rows('SELECT CAST(id AS INTEGER) AS id, CAST(checked_at AS INTEGER) AS at FROM health_probe')).toEqual([{ id: 1, at: 5_678 }]);
    await store.recordHealthProbe();
    const [row] = await rows<{ at: string | number }>('SELECT checked_at AS at FROM health_probe');
    expect(Number(row!.at)).toBeGreaterThan(1_700_000_000_000);
    await sql('DROP TABLE health_probe');
    await expect(store.recordHealthProbe(9_999)).rejects.toThrow(/health_probe/);
  });

  it.skipIf(backend.skip !== null)('clearing scratch runs refuses a stored database and deletes nothing', async () => {
    const { store } = await openWithSql(backend);
    await store.insertDeliveries([delivery('keep', 1_000)]);
    await expect(store.clearScratchRuns()).rejects.toThrow(/^refusing to clear runs of .*only a backtest's in-memory scratch database may be cleared$/);
    expect(await store.countPendingDeliveries()).toBe(1);
  });
});
