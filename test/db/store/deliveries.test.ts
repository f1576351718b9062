/**
 * Conformance of the deliveries repository (src/db/deliveries.ts, src/db/postgres/repositories/deliveries.ts): the
 * same calls give the same answers on SQLite and PostgreSQL, and concurrent writers store one row per key and per
 * body window.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { NewDelivery } from '../../../src/db/deliveries.js';
import { bodySha256 } from '../../../src/db/deliveries.js';
import { closeStoreBackends, storeBackends } from '../../support/stores.js';

const delivery = (key: string, overrides: Partial<NewDelivery> = {}): NewDelivery => ({
  deliveryKey: key,
  webhookIdentifier: null,
  event: 'jira:issue_updated',
  issueKey: 'PLAT-1',
  headers: { 'x-atlassian-webhook-identifier': key },
  body: `{"key":"${key}"}`,
  eventTimestamp: null,
  receivedAt: 1_000,
  ...overrides,
});

afterAll(closeStoreBackends);

describe.each(storeBackends())('deliveries on %s', (backend) => {
  it.skipIf(backend.skip !== null)('inserts a batch in order, answers a stored key as a duplicate with its id, and reads rows back whole', async () => {
    const store = await backend.open();
    expect(await store.insertDeliveries([])).toEqual([]);
    const first = await store.insertDeliveries([
      delivery('a', { webhookIdentifier: 'wh-a', eventTimestamp: 900, timestampSource: 'event', source: 'github' }),
      delivery('b'),
      delivery('a'),
    ]);
    expect(first).toEqual([{ id: 1, duplicate: false }, { id: 2, duplicate: false }, { id: 1, duplicate: true }]);
    const again = await store.insertDeliveries([delivery('b'), delivery('c', { bodySha256: 'f'.repeat(64), replayOf: 1 })]);
    // A key duplicate burns an id (SQLite's AUTOINCREMENT, PostgreSQL's identity): the next new row is 5 on both.
    expect(again).toEqual([{ id: 2, duplicate: true }, { id: 5, duplicate: false }]);

    expect(await store.findDelivery(1)).toEqual({
      id: 1,
      deliveryKey: 'a',
      webhookIdentifier: 'wh-a',
      source: 'github',
      event: 'jira:issue_updated',
      issueKey: 'PLAT-1',
      status: 'pending',
      reason: null,
      headers: '{"x-atlassian-webhook-identifier":"a"}',
      body: '{"key":"a"}',
      bodySha256: bodySha256('{"key":"a"}'),
      eventTimestamp: 900,
      timestampSource: 'event',
      replayOf: null,
      receivedAt: 1_000,
      routedAt: null,
      bodyPrunedAt: null,
    });
    const c = await store.findDelivery(5);
    expect([c?.source, c?.bodySha256, c?.replayOf, c?.timestampSource]).toEqual(['jira', 'f'.repeat(64), 1, null]);
    expect(await store.findDelivery(99)).toBeUndefined();
  });

  it.skipIf(backend.skip !== null)('a body stored within the window is a duplicate whatever its key; outside it or without a window it is new', async () => {
    const store = await backend.open();
    const body = '{"same":"body"}';
    const [original] = await store.insertDeliveries([delivery('k1', { body, receivedAt: 5_000 })]);
    const results = await store.insertDeliveries([
      delivery('k2', { body, receivedAt: 6_000, dedupeBodySince: 5_000 }),
      delivery('k3', { body, receivedAt: 6_000, dedupeBodySince: 5_001 }),
      delivery('k4', { body, receivedAt: 6_000 }),
      // k3 was just stored at 6 000: the window now finds k1 first (lowest id).
      delivery('k5', { body, receivedAt: 7_000, dedupeBodySince: 0 }),
      delivery('k6', { body, receivedAt: 7_000, dedupeBodySince: 5_500 }),
    ]);
    expect(original).toEqual({ id: 1, duplicate: false });
    expect(results).toEqual([
      { id: 1, duplicate: true },
      { id: 2, duplicate: false },
      { id: 3, duplicate: false },
      { id: 1, duplicate: true },
      { id: 2, duplicate: true },
    ]);
    expect([...(await store.storedDeliveryKeys(['k1', 'k2', 'k3', 'k4', 'k5', 'k6']))]).toEqual(['k1', 'k3', 'k4']);
    // The window is checked before the key: a stored key with a body in the window answers the body's row.
    const [k7] = await store.insertDeliveries([delivery('k7', { body: 'other', receivedAt: 8_000 })]);
    expect(await store.insertDeliveries([delivery('k7', { body, receivedAt: 9_000, dedupeBodySince: 0 })])).toEqual([{ id: 1, duplicate: true }]);
    expect(await store.insertDeliveries([delivery('k7', { body: 'new', receivedAt: 9_000, dedupeBodySince: 0 })])).toEqual([{ id: k7!.id, duplicate: true }]);
  });

  it.skipIf(backend.skip !== null)('pending deliveries: oldest first with a limit, counted, their oldest receipt time; routed ones leave the queue', async () => {
    const store = await backend.open();
    expect(await store.findPendingDeliveries(10)).toEqual([]);
    expect(await store.countPendingDeliveries()).toBe(0);
    expect(await store.oldestPendingDeliveryAt()).toBeNull();
    await store.insertDeliveries([delivery('p1', { receivedAt: 3_000 }), delivery('p2', { receivedAt: 1_000 }), delivery('p3', { receivedAt: 2_000 })]);
    expect((await store.findPendingDeliveries(2)).map((d) => d.deliveryKey)).toEqual(['p1', 'p2']);
    expect(await store.countPendingDeliveries()).toBe(3);
    expect(await store.oldestPendingDeliveryAt()).toBe(1_000);

    await store.markDeliveryRouted(2, 'routed', 'matched rule vpn', 4_000);
    await store.markDeliveryRouted(1, 'ignored', 'no rule');
    const routed = await store.findDelivery(2);
    expect([routed?.status, routed?.reason, routed?.routedAt]).toEqual(['routed', 'matched rule vpn', 4_000]);
    const ignored = await store.findDelivery(1);
    expect(ignored?.status).toBe('ignored');
    expect(ignored?.routedAt).toBeGreaterThan(1_700_000_000_000);
    expect((await store.findPendingDeliveries(10)).map((d) => d.id)).toEqual([3]);
    expect(await store.countPendingDeliveries()).toBe(1);
    expect(await store.oldestPendingDeliveryAt()).toBe(2_000);
    await store.markDeliveryRouted(3, 'failed', 'boom', 5_000);
    expect(await store.countPendingDeliveries()).toBe(0);
    expect(await store.oldestPendingDeliveryAt()).toBeNull();
    await store.markDeliveryRouted(42, 'routed', 'no such row', 5_000);
    expect(await store.findDelivery(42)).toBeUndefined();
  });

  it.skipIf(backend.skip !== null)('replay origins of the given deliveries that are replays', async () => {
    const store = await backend.open();
    expect(await store.replayOrigins([])).toEqual(new Map());
    await store.insertDeliveries([delivery('o1'), delivery('o2'), delivery('r1', { replayOf: 1 }), delivery('r2', { replayOf: 2 }), delivery('r3', { replayOf: 1 })]);
    const origins = await store.replayOrigins([5, 1, 3, 99, 3]);
    expect([...origins]).toEqual([[3, 1], [5, 1]]);
    expect(await store.replayOrigins([1, 2])).toEqual(new Map());
  });

  it.skipIf(backend.skip !== null)('stored keys come back in the order asked, once each', async () => {
    const store = await backend.open();
    expect(await store.storedDeliveryKeys([])).toEqual(new Set());
    await store.insertDeliveries([delivery('x'), delivery('y'), delivery('z')]);
    expect([...(await store.storedDeliveryKeys(['z', 'missing', 'x', 'z', 'X']))]).toEqual(['z', 'x']);
    expect(await store.storedDeliveryKeys(['nope'])).toEqual(new Set());
  });

  it.skipIf(backend.skip !== null)('newest delivery time per source, not counting reconcile deliveries (any case)', async () => {
    const store = await backend.open();
    expect(await store.newestDeliveryAt('github')).toBeNull();
    await store.insertDeliveries([
      delivery('github:1', { source: 'github', receivedAt: 1_000 }),
      delivery('github:2', { source: 'github', receivedAt: 2_000 }),
      delivery('reconcile:github:3', { source: 'github', receivedAt: 9_000 }),
      delivery('RECONCILE:github:4', { source: 'github', receivedAt: 8_000 }),
      delivery('jira:1', { receivedAt: 5_000 }),
    ]);
    expect(await store.newestDeliveryAt('github')).toBe(2_000);
    expect(await store.newestDeliveryAt('jira')).toBe(5_000);
    expect(await store.newestDeliveryAt('linear')).toBeNull();
  });

  it.skipIf(backend.skip !== null)('a writer waiting on an open transaction that stored the same body answers duplicate once it commits', async () => {
    const store = await backend.open();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let first: unknown = null;
    const writer = store.transaction(async () => {
      first = await store.insertDeliveries([delivery('held', { body: 'B', dedupeBodySince: 0 })]);
      await gate;
    });
    while (first === null) await new Promise((resolve) => setTimeout(resolve, 5));
    const second = store.insertDeliveries([delivery('other', { body: 'B', dedupeBodySince: 0 }), delivery('held')]);
    let answered = false;
    void second.then(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    // SQLite: the outside call waits for the transaction; PostgreSQL: it waits on the body hash's advisory lock.
    expect(answered).toBe(false);
    release();
    await writer;
    expect(first).toEqual([{ id: 1, duplicate: false }]);
    expect(await second).toEqual([{ id: 1, duplicate: true }, { id: 1, duplicate: true }]);
    expect(await store.countPendingDeliveries()).toBe(1);
  });

  it.skipIf(backend.skip !== null)('concurrent writers of one key, of one body, and of crossing batches store one row each', async () => {
    const store = await backend.open();
    const sameKey = await Promise.all(Array.from({ length: 8 }, (_, i) => store.insertDeliveries([delivery('k', { body: `b${i}` })])));
    expect(new Set(sameKey.map(([r]) => r!.id)).size).toBe(1);
    expect(sameKey.filter(([r]) => !r!.duplicate)).toHaveLength(1);

    const sameBody = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.insertDeliveries([delivery(`body-${i}`, { body: 'replayed', receivedAt: 2_000, dedupeBodySince: 1_000 })])),
    );
    expect(new Set(sameBody.map(([r]) => r!.id)).size).toBe(1);
    expect(sameBody.filter(([r]) => !r!.duplicate)).toHaveLength(1);

    // Batches holding the same keys in different orders (a deadlock if locks were taken in batch order).
    const keys = ['c1', 'c2', 'c3', 'c4'];
    const crossing = await Promise.all(
      Array.from({ length: 6 }, (_, i) => store.insertDeliveries([...keys.slice(i % 4), ...keys.slice(0, i % 4)].reverse().map((k) => delivery(k, { body: `${k}-${i}`, dedupeBodySince: 0 })))),
    );
    expect(crossing.flat().filter((r) => !r.duplicate)).toHaveLength(4);
    expect(new Set(crossing.flat().map((r) => r.id)).size).toBe(4);
    expect(await store.countPendingDeliveries()).toBe(1 + 1 + 4);
  });
});
