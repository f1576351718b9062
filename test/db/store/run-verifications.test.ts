/**
 * Conformance of the `runVerifications` repository (src/db/run-verifications.ts and its PostgreSQL twin): the same
 * assertions on both backends. Runs, tickets and their grouping are seeded with raw SQL (seed-runs.ts) while their
 * modules are ported elsewhere.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { NewResolution } from '../../../src/db/run-verifications.js';
import { closeStoreBackends, storeBackends } from '../../support/stores.js';
import { closeSeedable, openSeedable, seedRun, type Seedable } from './seed-runs.js';

afterAll(async () => {
  await closeSeedable();
  await closeStoreBackends();
});

const resolution = (runId: number, over: Partial<NewResolution> = {}): NewResolution => ({
  runId, handler: 'grant-repo-access', ticketKey: 'PLAT-1', ticketRowId: 'jira:x:1', reporter: '5b10ac', resolvedStatus: 'Done',
  labelsAdded: ['deflect-resolved'], feedbackInvited: false, ...over,
});

async function seedTicket(seed: Seedable, id: string, fields: Record<string, unknown> = {}): Promise<void> {
  await seed.insert('tickets', { id, key: id.split(':').pop()!, recorded_at: 1, ...fields });
}

async function seedGroup(seed: Seedable, ticketId: string, typeId: string | null, created: number | null = null): Promise<void> {
  await seed.insert('ticket_groups', { ticket_id: ticketId, type_id: typeId, algorithm: 'text-v2', reason: 'seeded', created, computed_at: 1 });
}

describe.each(storeBackends())('runVerifications on %s', (backend) => {
  it.skipIf(backend.skip !== null)('records a resolution once and finds those still watched, oldest first', async () => {
    const seed = await openSeedable(backend);
    const { store } = seed;
    const a = await seedRun(seed);
    const b = await seedRun(seed);
    const c = await seedRun(seed);
    await store.recordResolution(resolution(b, { feedbackInvited: true, labelsAdded: [] }), 10_000, 2_000);
    await store.recordResolution(resolution(a, { reporter: null, ticketRowId: null }), 5_000, 1_000);
    await store.recordResolution(resolution(a, { handler: 'second call' }), 99_000, 1_000);
    await store.recordResolution(resolution(c, { ticketKey: 'PLAT-2' }), 10_000, 1_000);
    const watched = await store.findWatchedResolutions('PLAT-1', 5_999);
    expect(watched).toEqual([
      {
        runId: a, handler: 'grant-repo-access', ticketKey: 'PLAT-1', ticketRowId: null, reporter: null, resolvedStatus: 'Done',
        labelsAdded: ['deflect-resolved'], resolvedAt: 1_000, windowEndsAt: 6_000, state: 'pending', decidedAt: null, evidence: null,
        signalDeliveryId: null, feedbackInvited: false, feedback: null, feedbackAt: null,
      },
      expect.objectContaining({ runId: b, labelsAdded: [], feedbackInvited: true, windowEndsAt: 12_000 }),
    ]);
    expect((await store.findWatchedResolutions('PLAT-1', 6_000)).map((v) => v.runId)).toEqual([b]);
    expect(await store.findWatchedResolutions('PLAT-9', 0)).toEqual([]);
  });

  it.skipIf(backend.skip !== null)('decides once (the first signal wins), cuts evidence to 1000 characters, keeps the latest feedback', async () => {
    const seed = await openSeedable(backend);
    const { store } = seed;
    const run = await seedRun(seed);
    await store.recordResolution(resolution(run), 10_000, 1_000);
    expect(await store.decideVerification(run, 'reopened', 'e'.repeat(1_200), 77, 2_000)).toBe(true);
    expect(await store.decideVerification(run, 'overridden', 'later', null, 2_500)).toBe(false);
    expect(await store.decideVerification(999, 'overridden', 'none', null, 2_500)).toBe(false);
    await store.recordFeedback(run, 'thanks', 3_000);
    await store.recordFeedback(run, 'reopen', 3_500);
    const [v] = await store.findWatchedResolutions('PLAT-1', 0);
    expect(v).toMatchObject({ state: 'reopened', decidedAt: 2_000, signalDeliveryId: 77, feedback: 'reopen', feedbackAt: 3_500 });
    expect(v.evidence).toBe('e'.repeat(1_000));
  });

  it.skipIf(backend.skip !== null)('finds the reporter\'s pending resolutions of the same request on other tickets', async () => {
    const seed = await openSeedable(backend);
    const { store } = seed;
    await seedTicket(seed, 'jira:x:1', { summary: '  Add ME to the REPO ', description: null });
    await seedTicket(seed, 'jira:x:2', { summary: 'other', description: 'Please reset my MFA' });
    await seedTicket(seed, 'jira:x:3', { summary: 'ÉCOLE access' });
    const bySummary = await seedRun(seed);
    const byDescription = await seedRun(seed);
    const otherHandler = await seedRun(seed);
    const decided = await seedRun(seed);
    const nonAscii = await seedRun(seed);
    const noTicketRow = await seedRun(seed);
    await store.recordResolution(resolution(bySummary, { ticketKey: 'PLAT-1', ticketRowId: 'jira:x:1' }), 10_000, 1_000);
    await store.recordResolution(resolution(byDescription, { ticketKey: 'PLAT-2', ticketRowId: 'jira:x:2' }), 10_000, 1_000);
    await store.recordResolution(resolution(otherHandler, { ticketKey: 'PLAT-1', ticketRowId: 'jira:x:1', handler: 'reset-mfa' }), 10_000, 1_000);
    await store.recordResolution(resolution(decided, { ticketKey: 'PLAT-1', ticketRowId: 'jira:x:1' }), 10_000, 1_000);
    await store.recordResolution(resolution(nonAscii, { ticketKey: 'PLAT-3', ticketRowId: 'jira:x:3' }), 10_000, 1_000);
    await store.recordResolution(resolution(noTicketRow, { ticketKey: 'PLAT-4', ticketRowId: 'jira:x:404' }), 10_000, 1_000);
    await store.decideVerification(decided, 'reopened', 'x', null, 1_500);

    const find = (over: { reporter?: string; handlers?: string[]; ticketKey?: string; at?: number; summary?: string | null; description?: string | null }) =>
      store.findPendingOfReporter(over.reporter ?? '5b10ac', over.handlers ?? ['grant-repo-access'], over.ticketKey ?? 'PLAT-9', over.at ?? 2_000, {
        summary: over.summary ?? null, description: over.description ?? null,
      }).then((rows) => rows.map((r) => r.runId));

    expect(await find({ summary: 'add me   to the repo' })).toEqual([bySummary]);
    expect(await find({ summary: 'add me to the repo', handlers: ['grant-repo-access', 'reset-mfa'] })).toEqual([bySummary, otherHandler]);
    expect(await find({ description: ' please RESET my mfa' })).toEqual([byDescription]);
    expect(await find({ summary: 'please reset my mfa' })).toEqual([]);
    expect(await find({ summary: 'add me to the repo', ticketKey: 'PLAT-1' })).toEqual([]);
    expect(await find({ summary: 'add me to the repo', reporter: 'someone-else' })).toEqual([]);
    expect(await find({ summary: 'add me to the repo', at: 1_000 })).toEqual([]);
    expect(await find({ summary: 'add me to the repo', at: 11_000 })).toEqual([]);
    expect(await find({ summary: 'add me to the repo', handlers: [] })).toEqual([]);
    expect(await find({ summary: '   ', description: null })).toEqual([]);
    expect(await store.findPendingOfReporter('5b10ac', ['grant-repo-access'], 'PLAT-9', 2_000)).toEqual([]);
    // SQLite's lower() folds ASCII only: "ÉCOLE access" never matches "école access"; the twin compares the same way.
    expect(await find({ summary: 'École access' })).toEqual([]);
    expect(await find({ summary: 'Écolé access' })).toEqual([]);
    const [row] = await store.findPendingOfReporter('5b10ac', ['grant-repo-access'], 'PLAT-9', 2_000, { summary: 'add me to the repo', description: null });
    expect(row).toMatchObject({ runId: bySummary, labelsAdded: ['deflect-resolved'], feedbackInvited: false, state: 'pending' });
  });

  it.skipIf(backend.skip !== null)('settles: refiled by the same reporter within the window, verified once the window ends', async () => {
    const seed = await openSeedable(backend);
    const { store } = seed;
    await seedTicket(seed, 'jira:x:1', { reporter_id: '5B10AC', created: 500 });
    await seedTicket(seed, 'jira:x:2', { reporter_id: '5b10ac', created: 3_000 });
    await seedTicket(seed, 'jira:x:3', { reporter_id: null, reporter: 'Rita', created: 4_000 });
    await seedTicket(seed, 'jira:x:4', { reporter_id: 'other', created: 3_500 });
    await seedTicket(seed, 'jira:x:5', { reporter: 'rita', created: 500 });
    await seedTicket(seed, 'jira:x:6', { reporter_id: '5b10ac', created: 2_500 });
    await seedGroup(seed, 'jira:x:1', 'type:a', 500);
    await seedGroup(seed, 'jira:x:2', 'type:a', 3_000);
    await seedGroup(seed, 'jira:x:4', 'type:a', 3_500);
    await seedGroup(seed, 'jira:x:5', 'type:b', 500);
    await seedGroup(seed, 'jira:x:3', 'type:b', 4_000);
    await seedGroup(seed, 'jira:x:6', 'type:a', 2_500);
    const refiled = await seedRun(seed, { handler: 'grant-repo-access' });
    const refiledByName = await seedRun(seed, { handler: 'reset-mfa' });
    const windowOver = await seedRun(seed, { handler: 'h3' });
    const stillOpen = await seedRun(seed, { handler: 'h4' });
    await store.recordResolution(resolution(refiled, { ticketRowId: 'jira:x:1', reporter: '5b10ac' }), 10_000, 1_000);
    await store.recordResolution(resolution(refiledByName, { handler: 'reset-mfa', ticketRowId: 'jira:x:5', reporter: 'rita' }), 10_000, 1_000);
    await store.recordResolution(resolution(windowOver, { handler: 'h3', ticketRowId: null }), 1_000, 1_000);
    await store.recordResolution(resolution(stillOpen, { handler: 'h4', ticketRowId: null }), 100_000, 1_000);

    // At 3 000 the 2 500 re-filing counts (the earlier of two), the 4 000 one not yet; 1 000 + 1 000 = window over.
    expect(await store.settleVerifications(3_000)).toEqual({ changed: 2, refiledHandlers: ['grant-repo-access'] });
    const states = await store.findRunVerificationStates([refiled, refiledByName, windowOver, stillOpen, 999], 3_000);
    expect([...states.keys()].sort((x, y) => x - y)).toEqual([refiled, refiledByName, windowOver, stillOpen]);
    expect(states.get(refiled)).toEqual({
      state: 'refiled', decidedAt: 2_500, windowEndsAt: 11_000, feedback: null,
      evidence: 're-filed as 6 by the same reporter (same request type type:a, by the grouping)',
    });
    expect(states.get(windowOver)).toEqual({ state: 'verified', decidedAt: 2_000, evidence: null, windowEndsAt: 2_000, feedback: null });
    expect(states.get(refiledByName)!.state).toBe('pending');
    // findRunVerificationStates settles first: at 5 000 the 4 000 re-filing by name counts.
    expect((await store.findRunVerificationStates([refiledByName], 5_000)).get(refiledByName)).toMatchObject({ state: 'refiled', decidedAt: 4_000 });
    expect(await store.settleVerifications(5_000)).toEqual({ changed: 0, refiledHandlers: [] });
    expect(await store.findRunVerificationStates([], 5_000)).toEqual(new Map());
    expect((await store.findRunVerificationStates([stillOpen], 200_000)).get(stillOpen)).toMatchObject({ state: 'verified', decidedAt: 101_000 });
  });

  it.skipIf(backend.skip !== null)('counts each handler\'s live finished runs and how their resolutions fared, in byte order', async () => {
    const seed = await openSeedable(backend);
    const { store } = seed;
    const ok1 = await seedRun(seed, { handler: 'alpha', status: 'succeeded' });
    const ok2 = await seedRun(seed, { handler: 'alpha', status: 'succeeded' });
    const ok3 = await seedRun(seed, { handler: 'alpha', status: 'succeeded' });
    await seedRun(seed, { handler: 'alpha', status: 'failed' });
    await seedRun(seed, { handler: 'alpha', status: 'queued' });
    await seedRun(seed, { handler: 'alpha', status: 'succeeded', dryRun: true });
    await seedRun(seed, { handler: 'alpha', status: 'succeeded', shadow: true });
    const z = await seedRun(seed, { handler: 'Zeta', status: 'skipped' });
    await seedRun(seed, { handler: 'only-dry', status: 'succeeded', dryRun: true });
    await store.recordResolution(resolution(ok1, { handler: 'alpha', feedbackInvited: true }), 10_000, 1_000);
    await store.recordResolution(resolution(ok2, { handler: 'alpha' }), 10_000, 1_000);
    await store.recordResolution(resolution(ok3, { handler: 'alpha' }), 100_000, 1_000);
    await store.recordResolution(resolution(z, { handler: 'Zeta', feedbackInvited: true }), 10_000, 1_000);
    await store.decideVerification(ok2, 'reopened', 'x', null, 2_000);
    await store.recordFeedback(ok1, 'thanks', 2_000);
    await store.recordFeedback(z, 'reopen', 2_000);
    const zero = { pending: 0, reopened: 0, refiled: 0, overridden: 0, thanks: 0, reopenAnswers: 0, feedbackInvited: 0, verifiedResolved: 0 };
    expect(await store.countHandlerVerifications(20_000)).toEqual([
      { ...zero, handler: 'Zeta', runs: 1, resolved: 1, verifiedResolved: 1, reopenAnswers: 1, feedbackInvited: 1 },
      { ...zero, handler: 'alpha', runs: 4, resolved: 3, verifiedResolved: 1, pending: 1, reopened: 1, thanks: 1, feedbackInvited: 1 },
    ]);
  });

  it.skipIf(backend.skip !== null)('lists a handler\'s last resolution states after a time, newest first, limited', async () => {
    const seed = await openSeedable(backend);
    const { store } = seed;
    const ids: number[] = [];
    for (let i = 0; i < 5; i += 1) ids.push(await seedRun(seed));
    await store.recordResolution(resolution(ids[0]), 10_000, 1_000);
    await store.recordResolution(resolution(ids[1]), 10_000, 2_000);
    await store.recordResolution(resolution(ids[2]), 10_000, 2_000);
    await store.recordResolution(resolution(ids[3]), 10_000, 3_000);
    await store.recordResolution(resolution(ids[4], { handler: 'other' }), 10_000, 4_000);
    await store.decideVerification(ids[2], 'reopened', 'x', null, 2_500);
    await store.decideVerification(ids[0], 'overridden', 'x', null, 2_500);
    expect(await store.lastResolutionStates('grant-repo-access', 10, 0)).toEqual(['pending', 'reopened', 'pending', 'overridden']);
    expect(await store.lastResolutionStates('grant-repo-access', 2, 0)).toEqual(['pending', 'reopened']);
    expect(await store.lastResolutionStates('grant-repo-access', 10, 2_000)).toEqual(['pending']);
    expect(await store.lastResolutionStates('grant-repo-access', 0, 0)).toEqual([]);
    expect(await store.lastResolutionStates('grant-repo-access', -1, 0)).toHaveLength(4);
    expect(await store.lastResolutionStates('nobody', 10, 0)).toEqual([]);
  });

  it.skipIf(backend.skip !== null)('a failed store transaction rolls back what settling wrote in it', async () => {
    const seed = await openSeedable(backend);
    const { store } = seed;
    const run = await seedRun(seed);
    await store.recordResolution(resolution(run, { ticketRowId: null }), 1_000, 1_000);
    await expect(
      store.transaction(async () => {
        expect((await store.settleVerifications(5_000)).changed).toBe(1);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await store.findWatchedResolutions('PLAT-1', 0))[0].state).toBe('pending');
  });

  it.skipIf(backend.skip !== null || backend.name !== 'postgres')('PostgreSQL: a read-only snapshot settles nothing; concurrent settles decide each row once', async () => {
    const seed = await openSeedable(backend);
    const { store } = seed;
    const runs: number[] = [];
    for (let i = 0; i < 8; i += 1) runs.push(await seedRun(seed));
    for (const run of runs) await store.recordResolution(resolution(run, { ticketRowId: null }), 1_000, 1_000);
    expect(await store.snapshot(() => store.settleVerifications(5_000))).toEqual({ changed: 0, refiledHandlers: [] });
    const states = await store.snapshot(() => store.findRunVerificationStates(runs, 5_000));
    expect([...states.values()].every((s) => s.state === 'pending')).toBe(true);
    const results = await Promise.all([1, 2, 3].map(() => store.settleVerifications(5_000)));
    expect(results.reduce((sum, r) => sum + r.changed, 0)).toBe(8);
    expect([...(await store.findRunVerificationStates(runs, 5_000)).values()].every((s) => s.state === 'verified')).toBe(true);
  });
});
