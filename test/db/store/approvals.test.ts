/**
 * Conformance of the `approvals` repository (src/db/approvals.ts and its PostgreSQL twin): the same assertions on
 * both backends. Runs are seeded with raw SQL (seed-runs.ts) while the runs module is ported elsewhere.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeStoreBackends, storeBackends } from '../../support/stores.js';
import { closeSeedable, openSeedable, readRun, seedRun } from './seed-runs.js';

afterAll(async () => {
  await closeSeedable();
  await closeStoreBackends();
});

const approval = { approvers: ['alice'], when: 'always' as const, expiresAfterMs: 3_600_000 };

describe.each(storeBackends())('approvals on %s', (backend) => {
  it.skipIf(backend.skip !== null)('stores a run\'s rule settings once and reads them back with booleans and JSON', async () => {
    const seed = await openSeedable(backend);
    const { store } = seed;
    const a = await seedRun(seed);
    const b = await seedRun(seed);
    await store.recordRunRuleSettings(a, { ruleName: 'repo-access', options: { org: 'acme', n: 2 }, approval, feedback: true });
    await store.recordRunRuleSettings(a, { ruleName: 'second call', options: {}, approval: null });
    await store.recordRunRuleSettings(b, { ruleName: 'plain', options: {}, approval: null });
    expect(await store.findRunRuleSettings(a)).toEqual({ ruleName: 'repo-access', options: { org: 'acme', n: 2 }, approval, feedback: true });
    expect(await store.findRunRuleSettings(b)).toEqual({ ruleName: 'plain', options: {}, approval: null, feedback: false });
    expect(await store.findRunRuleSettings(999)).toBeNull();
  });

  it.skipIf(backend.skip !== null)('records steps, finds the latest, lists them oldest first and knows recorded comments', async () => {
    const seed = await openSeedable(backend);
    const { store } = seed;
    const a = await seedRun(seed);
    const b = await seedRun(seed);
    const c = await seedRun(seed);
    expect(await store.findLatestApprovalStep(a)).toBeNull();
    expect(await store.listApprovalSteps([])).toEqual([]);
    await store.recordApprovalStep({ runId: a, decision: 'requested', reason: 'always', expiresAt: 5_000 }, 1_000);
    await store.recordApprovalStep({ runId: b, decision: 'requested' }, 1_100);
    await store.recordApprovalStep({ runId: a, decision: 'approved', by: 'alice', commentId: '10001', deliveryId: 7 }, 2_000);
    const latest = await store.findLatestApprovalStep(a);
    expect(latest).toEqual({ id: expect.any(Number), runId: a, decision: 'approved', by: 'alice', at: 2_000, commentId: '10001', deliveryId: 7, reason: null, expiresAt: null });
    const steps = await store.listApprovalSteps([a, b, c, a]);
    expect(steps.map((s) => [s.runId, s.decision, s.at, s.expiresAt])).toEqual([
      [a, 'requested', 1_000, 5_000],
      [b, 'requested', 1_100, null],
      [a, 'approved', 2_000, null],
    ]);
    expect(steps[1]).toEqual({ id: expect.any(Number), runId: b, decision: 'requested', by: null, at: 1_100, commentId: null, deliveryId: null, reason: null, expiresAt: null });
    expect(await store.listApprovalSteps([c])).toEqual([]);
    expect(await store.isApprovalCommentRecorded('10001')).toBe(true);
    expect(await store.isApprovalCommentRecorded('10002')).toBe(false);
  });

  it.skipIf(backend.skip !== null)('parks a running run only for its owner, then decides it once', async () => {
    const seed = await openSeedable(backend);
    const { store } = seed;
    const run = await seedRun(seed, { status: 'running', owner: 'host:1:aa', attempts: 2 });
    expect(await store.parkRunForApproval(run, 'host:2:bb', 'needs a lead', 9_000, 12, 3_000)).toBe(false);
    expect(await store.findLatestApprovalStep(run)).toBeNull();
    expect(await store.parkRunForApproval(run, 'host:1:aa', 'needs a lead', 9_000, 12, 3_000)).toBe(true);
    expect(await readRun(seed, run)).toEqual({
      status: 'awaiting-approval', summary: 'awaiting approval: needs a lead', duration_ms: 12, finished_at: null, locked_at: null, owner: null,
      lease_expires_at: null, run_after: 1_000, attempts: 2,
    });
    expect(await store.findLatestApprovalStep(run)).toMatchObject({ decision: 'requested', reason: 'needs a lead', expiresAt: 9_000, at: 3_000, by: null });
    // Parked already: a second park changes nothing.
    expect(await store.parkRunForApproval(run, 'host:1:aa', 'again', 9_000, 12, 3_500)).toBe(false);

    expect(await store.decideAwaitingRun({ runId: run, decision: 'approved', by: 'alice', commentId: 'c1' }, 4_000)).toBe(true);
    expect(await readRun(seed, run)).toMatchObject({ status: 'queued', run_after: 4_000, attempts: 0, finished_at: null });
    expect(await store.decideAwaitingRun({ runId: run, decision: 'denied', by: 'bob' }, 4_500)).toBe(false);
    expect((await store.listApprovalSteps([run])).map((s) => s.decision)).toEqual(['requested', 'approved']);
  });

  it.skipIf(backend.skip !== null)('cuts a long reason to 500 characters in the summary, keeping it whole in the step', async () => {
    const seed = await openSeedable(backend);
    const run = await seedRun(seed, { status: 'running', owner: 'o' });
    const reason = 'x'.repeat(600);
    expect(await seed.store.parkRunForApproval(run, 'o', reason, 9_000, 1, 3_000)).toBe(true);
    expect(((await readRun(seed, run)).summary as string).length).toBe(500);
    expect((await seed.store.findLatestApprovalStep(run))!.reason).toBe(reason);
  });

  it.skipIf(backend.skip !== null)('finds the runs of a ticket awaiting approval, with the snapshot\'s reporter, skipping bad snapshots', async () => {
    const seed = await openSeedable(backend);
    const { store } = seed;
    const snapshot = JSON.stringify({ key: 'PLAT-7', reporterId: '5b10ac', reporter: 'Rita Reporter' });
    const a = await seedRun(seed, { ticketKey: 'PLAT-7', status: 'awaiting-approval', ticketSnapshot: snapshot });
    const b = await seedRun(seed, { ticketKey: 'PLAT-7', status: 'awaiting-approval', ticketSnapshot: null, handler: 'reset-mfa' });
    await seedRun(seed, { ticketKey: 'PLAT-7', status: 'awaiting-approval', ticketSnapshot: '{not json', handler: 'h3' });
    const d = await seedRun(seed, { ticketKey: 'PLAT-7', status: 'awaiting-approval', ticketSnapshot: JSON.stringify({ reporterId: 42, reporter: { name: 'n' } }), handler: 'h4' });
    const e = await seedRun(seed, { ticketKey: 'PLAT-7', status: 'awaiting-approval', ticketSnapshot: '[1,2]', handler: 'h5' });
    await seedRun(seed, { ticketKey: 'PLAT-7', status: 'queued', ticketSnapshot: snapshot, handler: 'h6' });
    await seedRun(seed, { ticketKey: 'PLAT-8', status: 'awaiting-approval', ticketSnapshot: snapshot, handler: 'h7' });
    await store.recordRunRuleSettings(a, { ruleName: 'r', options: {}, approval });
    expect(await store.findRunsAwaitingApproval('PLAT-7')).toEqual([
      { runId: a, handler: 'grant-repo-access', reporterId: '5b10ac', reporter: 'Rita Reporter', approval },
      { runId: b, handler: 'reset-mfa', reporterId: null, reporter: null, approval: null },
      { runId: d, handler: 'h4', reporterId: 42, reporter: '{"name":"n"}', approval: null },
      { runId: e, handler: 'h5', reporterId: null, reporter: null, approval: null },
    ]);
    expect(await store.findRunsAwaitingApproval('NONE-1')).toEqual([]);
  });

  it.skipIf(backend.skip !== null)('finds awaiting runs whose latest request expired at or before now', async () => {
    const seed = await openSeedable(backend);
    const { store } = seed;
    const expired = await seedRun(seed, { status: 'awaiting-approval' });
    const atNow = await seedRun(seed, { status: 'awaiting-approval' });
    const renewed = await seedRun(seed, { status: 'awaiting-approval' });
    const noRequest = await seedRun(seed, { status: 'awaiting-approval' });
    const decided = await seedRun(seed, { status: 'queued' });
    await store.recordApprovalStep({ runId: expired, decision: 'requested', expiresAt: 4_000 }, 1_000);
    await store.recordApprovalStep({ runId: atNow, decision: 'requested', expiresAt: 5_000 }, 1_000);
    await store.recordApprovalStep({ runId: renewed, decision: 'requested', expiresAt: 4_000 }, 1_000);
    await store.recordApprovalStep({ runId: renewed, decision: 'requested', expiresAt: 8_000 }, 2_000);
    await store.recordApprovalStep({ runId: decided, decision: 'requested', expiresAt: 1_000 }, 1_000);
    expect(noRequest).toBeGreaterThan(0);
    expect((await store.findExpiredApprovalRuns(5_000)).sort((x, y) => x - y)).toEqual([expired, atNow]);
    expect(await store.findExpiredApprovalRuns(3_999)).toEqual([]);
  });

  it.skipIf(backend.skip !== null)('two concurrent decisions on one run: one wins, one step written', async () => {
    const seed = await openSeedable(backend);
    const { store } = seed;
    const run = await seedRun(seed, { status: 'awaiting-approval' });
    const results = await Promise.all([
      store.decideAwaitingRun({ runId: run, decision: 'approved', by: 'alice' }, 5_000),
      store.decideAwaitingRun({ runId: run, decision: 'denied', by: 'bob' }, 5_000),
      store.decideAwaitingRun({ runId: run, decision: 'expired' }, 5_000),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.listApprovalSteps([run])).toHaveLength(1);
  });

  it.skipIf(backend.skip !== null)('two concurrent parks by the owner: one parks, one requested step', async () => {
    const seed = await openSeedable(backend);
    const run = await seedRun(seed, { status: 'running', owner: 'o' });
    const results = await Promise.all([1, 2].map(() => seed.store.parkRunForApproval(run, 'o', 'why', 9_000, 1, 3_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await seed.store.listApprovalSteps([run])).toHaveLength(1);
  });

  it.skipIf(backend.skip !== null)('inside a store transaction that fails, a decision is rolled back with it', async () => {
    const seed = await openSeedable(backend);
    const { store } = seed;
    const run = await seedRun(seed, { status: 'awaiting-approval' });
    await expect(
      store.transaction(async () => {
        expect(await store.decideAwaitingRun({ runId: run, decision: 'approved', by: 'alice' }, 5_000)).toBe(true);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await readRun(seed, run)).status).toBe('awaiting-approval');
    expect(await store.findLatestApprovalStep(run)).toBeNull();
  });
});
