/**
 * Conformance of the `slackRequests` repository (src/db/slack-requests.ts and its PostgreSQL twin): the same
 * assertions on both backends, and once-only event claims and request records under concurrent calls.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeStoreBackends, storeBackends } from '../../support/stores.js';

afterAll(closeStoreBackends);

const request = (viewId: string) => ({ viewId, teamId: 'T1', userId: 'U1', ruleName: 'repo-access', handler: 'grant-repo-access' });

describe.each(storeBackends())('slackRequests on %s', (backend) => {
  it.skipIf(backend.skip !== null)('records a request once per view, marks its outcome and finds it by ticket', async () => {
    const store = await backend.open();
    const id = await store.recordSlackRequest(request('V1'), 1_000);
    expect(id).toEqual(expect.any(Number));
    expect(await store.recordSlackRequest({ ...request('V1'), userId: 'U2' }, 1_500)).toBeNull();
    const other = await store.recordSlackRequest({ ...request('V2'), teamId: null }, 1_600);
    expect(other).toBeGreaterThan(id!);
    expect(await store.findSlackRequestByTicket('PLAT-1')).toBeUndefined();

    await store.markSlackRequest(id!, { status: 'filed', ticketKey: 'PLAT-1', ticketUrl: 'https://x/browse/PLAT-1', channelId: 'D1' }, 2_000);
    expect(await store.findSlackRequestByTicket('PLAT-1')).toEqual({
      id, viewId: 'V1', teamId: 'T1', userId: 'U1', channelId: 'D1', ruleName: 'repo-access', handler: 'grant-repo-access',
      ticketKey: 'PLAT-1', ticketUrl: 'https://x/browse/PLAT-1', status: 'filed', error: null, createdAt: 1_000, updatedAt: 2_000,
    });
    // A later outcome without a channel keeps the one known; error and ticket are replaced.
    await store.markSlackRequest(id!, { status: 'failed', error: 'Jira said 400' }, 3_000);
    expect(await store.findSlackRequestByTicket('PLAT-1')).toBeUndefined();
    await store.markSlackRequest(id!, { status: 'filed', ticketKey: 'PLAT-9' }, 3_500);
    expect(await store.findSlackRequestByTicket('PLAT-9')).toMatchObject({ channelId: 'D1', error: null, ticketUrl: null, updatedAt: 3_500 });
    // Two requests filed the same ticket: the newest wins.
    await store.markSlackRequest(other!, { status: 'dry-run', ticketKey: 'PLAT-9' }, 4_000);
    expect(await store.findSlackRequestByTicket('PLAT-9')).toMatchObject({ id: other, status: 'dry-run', teamId: null, channelId: null });
  });

  it.skipIf(backend.skip !== null)('claims an event id once', async () => {
    const store = await backend.open();
    expect(await store.claimSlackEvent('Ev1', 1_000)).toBe(true);
    expect(await store.claimSlackEvent('Ev1', 2_000)).toBe(false);
    expect(await store.claimSlackEvent('Ev2', 2_000)).toBe(true);
  });

  it.skipIf(backend.skip !== null)('concurrent claims of one event and records of one view: exactly one wins', async () => {
    const store = await backend.open();
    const claims = await Promise.all(Array.from({ length: 6 }, () => store.claimSlackEvent('EvSame', 1_000)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    const records = await Promise.all(Array.from({ length: 6 }, () => store.recordSlackRequest(request('VSame'), 1_000)));
    expect(records.filter((r) => r !== null)).toHaveLength(1);
  });

  it.skipIf(backend.skip !== null)('claims inside concurrent transactions: the second waits for the first and claims nothing', async () => {
    const store = await backend.open();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let claimedFirst!: () => void;
    const firstClaimed = new Promise<void>((resolve) => (claimedFirst = resolve));
    const first = store.transaction(async () => {
      const claimed = await store.claimSlackEvent('EvTx', 1_000);
      claimedFirst();
      await gate;
      return claimed;
    });
    await firstClaimed;
    const second = store.claimSlackEvent('EvTx', 1_100);
    release();
    expect(await Promise.all([first, second])).toEqual([true, false]);
  });
});
