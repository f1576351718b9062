/**
 * The deliveries repository on a real SQLite file: idempotency by key, the body-hash replay window, nesting inside a
 * caller's transaction, and the pending queue the worker reads.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/client.js';
import {
  bodySha256,
  countPendingDeliveries,
  findDelivery,
  findPendingDeliveries,
  insertDeliveries,
  markDeliveryRouted,
  oldestPendingDeliveryAt,
  type NewDelivery,
} from '../../src/db/deliveries.js';
import { freshDir } from '../support/deflect-under-test.js';

let db: Db;
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

beforeAll(() => {
  db = openDatabase(join(freshDir('deflect-db-deliveries-'), 'deliveries.db'));
});
afterAll(() => db.$client.close());

describe('insertDeliveries', () => {
  it('stores each new key once, and answers a repeated key with the stored id as a duplicate', () => {
    const a = delivery();
    const [first] = insertDeliveries(db, [a]);
    const [again] = insertDeliveries(db, [{ ...a, body: '{"other":"body"}' }]);
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ id: first.id, duplicate: true });
    const stored = findDelivery(db, first.id)!;
    expect(stored).toMatchObject({ deliveryKey: a.deliveryKey, status: 'pending', body: a.body, bodySha256: bodySha256(a.body), replayOf: null });
    expect(JSON.parse(stored.headers)).toEqual(a.headers);
  });

  it('treats the same body under a new key as a duplicate only inside the dedupe window', () => {
    const body = JSON.stringify({ replayed: seq });
    const [original] = insertDeliveries(db, [delivery({ body, receivedAt: NOW - 10_000 })]);
    const [inside] = insertDeliveries(db, [delivery({ body, dedupeBodySince: NOW - 60_000 })]);
    const [outside] = insertDeliveries(db, [delivery({ body, dedupeBodySince: NOW - 5_000 })]);
    const [noWindow] = insertDeliveries(db, [delivery({ body })]);
    expect(inside).toEqual({ id: original.id, duplicate: true });
    expect(outside.duplicate).toBe(false);
    expect(noWindow.duplicate).toBe(false);
  });

  it('deduplicates copies inside one batch, and nests in a caller transaction that can roll it back', () => {
    const body = JSON.stringify({ storm: seq });
    const copies = [1, 2, 3].map((i) => delivery({ body, deliveryKey: `storm:${seq}:${i}`, dedupeBodySince: NOW - 60_000 }));
    const results = insertDeliveries(db, copies);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(new Set(results.map((r) => r.id)).size).toBe(1);

    const before = countPendingDeliveries(db);
    expect(() =>
      db.$client.transaction(() => {
        insertDeliveries(db, [delivery()]);
        throw new Error('caller fails after the insert');
      })(),
    ).toThrow('caller fails after the insert');
    expect(countPendingDeliveries(db)).toBe(before);
  });
});

describe('the pending queue', () => {
  it('lists pending deliveries oldest first and drops them once routed, with status, reason and time', () => {
    const fresh = openDatabase(join(freshDir('deflect-db-pending-'), 'pending.db'));
    try {
      const stored = insertDeliveries(fresh, [delivery({ receivedAt: NOW - 3_000 }), delivery({ receivedAt: NOW - 2_000 }), delivery({ receivedAt: NOW - 1_000 })]);
      expect(findPendingDeliveries(fresh, 2).map((d) => d.id)).toEqual(stored.slice(0, 2).map((s) => s.id));
      expect(oldestPendingDeliveryAt(fresh)).toBe(NOW - 3_000);
      markDeliveryRouted(fresh, stored[0].id, 'ignored', 'no rule matches labels []', NOW);
      expect(findDelivery(fresh, stored[0].id)).toMatchObject({ status: 'ignored', reason: 'no rule matches labels []', routedAt: NOW });
      expect(countPendingDeliveries(fresh)).toBe(2);
      expect(oldestPendingDeliveryAt(fresh)).toBe(NOW - 2_000);
    } finally {
      fresh.$client.close();
    }
  });
});
