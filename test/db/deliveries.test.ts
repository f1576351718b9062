/**
 * The deliveries repository on the pass's backend (a real SQLite file or PostgreSQL database: test-backend.ts):
 * idempotency by key, the body-hash replay window, nesting inside a caller's transaction, and the pending queue the
 * worker reads.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bodySha256, type NewDelivery } from '../../src/db/deliveries.js';
import type { Store } from '../../src/db/store.js';
import { freshDatabase } from '../support/test-backend.js';

let store: Store;
let seq = 0;
const NOW = Date.now();
const delivery = (overrides: Partial<NewDelivery> = {}): NewDelivery => {
  seq++;
  return {
    deliveryKey: `db-test:${seq}`, webhookIdentifier: null, event: 'jira:issue_created', issueKey: `DB-${seq}`,
    headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seq }), eventTimestamp: NOW, receivedAt: NOW,
    ...overrides,
  };
};

beforeAll(async () => {
  store = await (await freshDatabase('deflect-db-deliveries-')).open();
});

describe('insertDeliveries', () => {
  it('stores each new key once, and answers a repeated key with the stored id as a duplicate', async () => {
    const a = delivery();
    const [first] = await store.insertDeliveries([a]);
    const [again] = await store.insertDeliveries([{ ...a, body: '{"other":"body"}' }]);
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ id: first.id, duplicate: true });
    const stored = (await store.findDelivery(first.id))!;
    expect(stored).toMatchObject({ deliveryKey: a.deliveryKey, status: 'pending', body: a.body, bodySha256: bodySha256(a.body), replayOf: null });
    expect(JSON.parse(stored.headers)).toEqual(a.headers);
  });

  it('treats the same body under a new key as a duplicate only inside the dedupe window', async () => {
    const body = JSON.stringify({ replayed: seq });
    const [original] = await store.insertDeliveries([delivery({ body, receivedAt: NOW - 10_000 })]);
    const [inside] = await store.insertDeliveries([delivery({ body, dedupeBodySince: NOW - 60_000 })]);
    const [outside] = await store.insertDeliveries([delivery({ body, dedupeBodySince: NOW - 5_000 })]);
    const [noWindow] = await store.insertDeliveries([delivery({ body })]);
    expect(inside).toEqual({ id: original.id, duplicate: true });
    expect(outside.duplicate).toBe(false);
    expect(noWindow.duplicate).toBe(false);
  });

  it('deduplicates copies inside one batch, and nests in a caller transaction that can roll it back', async () => {
    const body = JSON.stringify({ storm: seq });
    const copies = [1, 2, 3].map((i) => delivery({ body, deliveryKey: `storm:${seq}:${i}`, dedupeBodySince: NOW - 60_000 }));
    const results = await store.insertDeliveries(copies);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(new Set(results.map((r) => r.id)).size).toBe(1);

    const before = await store.countPendingDeliveries();
    await expect(
      store.transaction(async () => {
        await store.insertDeliveries([delivery()]);
        throw new Error('caller fails after the insert');
      }),
    ).rejects.toThrow('caller fails after the insert');
    expect(await store.countPendingDeliveries()).toBe(before);
  });
});

describe('the pending queue', () => {
  it('lists pending deliveries oldest first and drops them once routed, with status, reason and time', async () => {
    const fresh = await (await freshDatabase('deflect-db-pending-')).open();
    try {
      const stored = await fresh.insertDeliveries([delivery({ receivedAt: NOW - 3_000 }), delivery({ receivedAt: NOW - 2_000 }), delivery({ receivedAt: NOW - 1_000 })]);
      expect((await fresh.findPendingDeliveries(2)).map((d) => d.id)).toEqual(stored.slice(0, 2).map((s) => s.id));
      expect(await fresh.oldestPendingDeliveryAt()).toBe(NOW - 3_000);
      await fresh.markDeliveryRouted(stored[0].id, 'ignored', 'no rule matches labels []', NOW);
      expect(await fresh.findDelivery(stored[0].id)).toMatchObject({ status: 'ignored', reason: 'no rule matches labels []', routedAt: NOW });
      expect(await fresh.countPendingDeliveries()).toBe(2);
      expect(await fresh.oldestPendingDeliveryAt()).toBe(NOW - 2_000);
    } finally {
      await fresh.close();
    }
  });
});
