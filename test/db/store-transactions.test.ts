/**
 * The SQLite Store's ambient transactions (src/db/sqlite-store.ts): calls inside `transaction` join it, calls from
 * another async context wait for it to end, a nested transaction is a savepoint, and a failure rolls back.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeStoreBackends, storeBackends } from '../support/stores.js';

const delivery = (key: string) => ({ deliveryKey: key, webhookIdentifier: null, event: 'jira:issue_updated', issueKey: 'PLAT-1', headers: {}, body: `{"k":"${key}"}`, eventTimestamp: null, receivedAt: 1_000 });

afterAll(closeStoreBackends);

describe.each(storeBackends())('store transactions on %s', (backend) => {
  it.skipIf(backend.skip !== null)('commits what the work wrote, and rolls all of it back when the work throws', async () => {
    const store = await backend.open();
    await store.transaction(async () => {
      await store.insertDeliveries([delivery('a')]);
    });
    await expect(
      store.transaction(async () => {
        await store.insertDeliveries([delivery('b')]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const keys = await store.storedDeliveryKeys(['a', 'b']);
    expect([...keys]).toEqual(['a']);
  });

  it.skipIf(backend.skip !== null)('a nested transaction that fails rolls back only its own writes', async () => {
    const store = await backend.open();
    await store.transaction(async () => {
      await store.insertDeliveries([delivery('outer')]);
      await store.transaction(async () => {
        await store.insertDeliveries([delivery('inner')]);
        throw new Error('inner fails');
      }).catch(() => {});
    });
    expect([...(await store.storedDeliveryKeys(['outer', 'inner']))]).toEqual(['outer']);
  });

  it.skipIf(backend.skip !== null)('a call from outside an open transaction does not see its uncommitted rows', async () => {
    const store = await backend.open();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const insertedRow = new Promise<void>((resolve) => (inserted = resolve));
    const writer = store.transaction(async () => {
      await store.insertDeliveries([delivery('pending')]);
      inserted();
      await gate;
    });
    try {
      await insertedRow;
      const outside = store.storedDeliveryKeys(['pending']);
      if (backend.name === 'sqlite') {
        // SQLite: the outside call waits for the transaction to end, however long it stays open.
        let seen: Set<string> | null = null;
        void outside.then((keys) => (seen = keys));
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(seen).toBeNull();
        release();
        await writer;
        expect([...(await outside)]).toEqual(['pending']);
      } else {
        // PostgreSQL: it runs on another connection, answers while the transaction is still open, and sees nothing.
        expect([...(await outside)]).toEqual([]);
      }
    } finally {
      release();
      await writer;
    }
    expect([...(await store.storedDeliveryKeys(['pending']))]).toEqual(['pending']);
  });

  it.skipIf(backend.skip !== null)('nested transactions started together run one after the other; a failing one rolls back alone', async () => {
    const store = await backend.open();
    const outcomes = await store.transaction(async () =>
      Promise.allSettled(
        ['s1', 's2', 's3'].map((key) =>
          store.transaction(async () => {
            await store.insertDeliveries([delivery(key)]);
            await new Promise((resolve) => setTimeout(resolve, 5));
            if (key === 's2') throw new Error('s2 fails');
          }),
        ),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).toBe('s2 fails');
    expect([...(await store.storedDeliveryKeys(['s1', 's2', 's3']))].sort()).toEqual(['s1', 's3']);
  });
});
