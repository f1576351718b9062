/**
 * Conformance of the handler repositories — handler health (src/db/handler-states.ts) and mode changes
 * (src/db/handler-modes.ts) — with their PostgreSQL twins: same streaks, pauses and mode history on both backends,
 * and concurrent failures of one handler count every failure and pause once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeStoreBackends, storeBackends } from '../../support/stores.js';

afterAll(closeStoreBackends);

describe.each(storeBackends())('handler states on %s', (backend) => {
  it.skipIf(backend.skip !== null)('counts a failure streak, pauses at the threshold once, and a success ends the streak', async () => {
    const store = await backend.open();
    expect(await store.listHandlerStates()).toEqual([]);
    expect(await store.listPausedHandlers()).toEqual(new Set());
    const options = { pauseAfter: 3, error: 'x'.repeat(600) };
    expect(await store.recordHandlerOutcome('comment', 'failure', options, 1_000)).toEqual({ consecutiveFailures: 1, pausedNow: false });
    expect(await store.recordHandlerOutcome('comment', 'failure', options, 2_000)).toEqual({ consecutiveFailures: 2, pausedNow: false });
    expect(await store.recordHandlerOutcome('comment', 'failure', options, 3_000)).toEqual({ consecutiveFailures: 3, pausedNow: true });
    expect(await store.recordHandlerOutcome('comment', 'failure', options, 4_000)).toEqual({ consecutiveFailures: 4, pausedNow: false });
    expect(await store.recordHandlerOutcome('assign', 'success', options, 5_000)).toEqual({ consecutiveFailures: 0, pausedNow: false });
    expect(await store.recordHandlerOutcome('never', 'failure', { pauseAfter: 0 }, 6_000)).toEqual({ consecutiveFailures: 1, pausedNow: false });
    expect(await store.listHandlerStates()).toEqual([
      { handler: 'assign', consecutiveFailures: 0, pausedAt: null, pausedReason: null, updatedAt: 5_000 },
      { handler: 'comment', consecutiveFailures: 4, pausedAt: 3_000, pausedReason: `3 runs in a row failed; last error: ${'x'.repeat(500)}`, updatedAt: 4_000 },
      { handler: 'never', consecutiveFailures: 1, pausedAt: null, pausedReason: null, updatedAt: 6_000 },
    ]);
    expect([...(await store.listPausedHandlers())]).toEqual(['comment']);
    // A success ends the streak but does not un-pause; no error given → "unknown".
    await store.recordHandlerOutcome('comment', 'success', options, 7_000);
    expect((await store.listHandlerStates())[1]).toMatchObject({ consecutiveFailures: 0, pausedAt: 3_000, updatedAt: 7_000 });
    await store.recordHandlerOutcome('solo', 'failure', { pauseAfter: 1 });
    const solo = (await store.listHandlerStates()).find((s) => s.handler === 'solo');
    expect(solo?.pausedReason).toBe('1 runs in a row failed; last error: unknown');
    expect(solo?.updatedAt).toBeGreaterThan(1_700_000_000_000);
  });

  it.skipIf(backend.skip !== null)('pauses and resumes by hand, answering whether anything changed', async () => {
    const store = await backend.open();
    expect(await store.resumeHandler('comment', 1_000)).toBe(false);
    expect(await store.pauseHandler('comment', 'incident 42', 2_000)).toBe(true);
    expect(await store.pauseHandler('comment', 'again', 3_000)).toBe(false);
    expect(await store.listHandlerStates()).toEqual([{ handler: 'comment', consecutiveFailures: 0, pausedAt: 2_000, pausedReason: 'incident 42', updatedAt: 2_000 }]);
    await store.recordHandlerOutcome('assign', 'failure', { pauseAfter: 5 }, 3_500);
    expect(await store.pauseHandler('assign', 'by hand', 4_000)).toBe(true);
    expect([...(await store.listPausedHandlers())].sort()).toEqual(['assign', 'comment']);
    expect((await store.listHandlerStates())[0]).toEqual({ handler: 'assign', consecutiveFailures: 1, pausedAt: 4_000, pausedReason: 'by hand', updatedAt: 4_000 });

    expect(await store.resumeHandler('assign', 5_000)).toBe(true);
    expect(await store.resumeHandler('assign', 6_000)).toBe(false);
    expect((await store.listHandlerStates())[0]).toEqual({ handler: 'assign', consecutiveFailures: 0, pausedAt: null, pausedReason: null, updatedAt: 5_000 });
    expect([...(await store.listPausedHandlers())]).toEqual(['comment']);
    expect(await store.resumeHandler('comment')).toBe(true);
    expect(await store.listPausedHandlers()).toEqual(new Set());
  });

  it.skipIf(backend.skip !== null)('concurrent failures of one handler: every failure counted, one of them pauses', async () => {
    const store = await backend.open();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.recordHandlerOutcome('flaky', 'failure', { pauseAfter: 4, error: `e${i}` }, 1_000 + i)));
    expect(results.map((r) => r.consecutiveFailures).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(results.filter((r) => r.pausedNow)).toHaveLength(1);
    expect(results.find((r) => r.pausedNow)?.consecutiveFailures).toBe(4);
    const [state] = await store.listHandlerStates();
    expect(state?.consecutiveFailures).toBe(10);
    expect(state?.pausedReason).toMatch(/^4 runs in a row failed; last error: e\d$/);
  });
});

describe.each(storeBackends())('handler modes on %s', (backend) => {
  it.skipIf(backend.skip !== null)('appends mode changes; the latest per handler is in force; lists newest first', async () => {
    const store = await backend.open();
    expect(await store.currentHandlerModes()).toEqual(new Map());
    expect(await store.listHandlerModeChanges()).toEqual([]);
    expect(await store.recordHandlerModeChange({ handler: 'comment', mode: 'shadow', by: 'deflect', reason: 'r'.repeat(1_200) }, 1_000)).toBe(1);
    expect(await store.recordHandlerModeChange({ handler: 'assign', mode: 'shadow', by: 'deflect', reason: 'precision 0.4' }, 2_000)).toBe(2);
    expect(await store.recordHandlerModeChange({ handler: 'comment', mode: 'live', by: 'jane', reason: 'fixed' }, 3_000)).toBe(3);
    const id = await store.recordHandlerModeChange({ handler: 'label', mode: 'live', by: 'ops', reason: '' });

    const current = await store.currentHandlerModes();
    expect([...current.keys()]).toEqual(['assign', 'comment', 'label']);
    expect(current.get('comment')).toEqual({ id: 3, handler: 'comment', mode: 'live', at: 3_000, by: 'jane', reason: 'fixed' });
    expect(current.get('label')?.at).toBeGreaterThan(1_700_000_000_000);
    expect(id).toBe(4);

    expect((await store.listHandlerModeChanges()).map((c) => c.id)).toEqual([4, 3, 2, 1]);
    expect((await store.listHandlerModeChanges({ limit: 2 })).map((c) => c.id)).toEqual([4, 3]);
    const comment = await store.listHandlerModeChanges({ handler: 'comment' });
    expect(comment.map((c) => [c.id, c.mode])).toEqual([[3, 'live'], [1, 'shadow']]);
    expect(comment[1]?.reason).toBe('r'.repeat(1_000));
    expect((await store.listHandlerModeChanges({ handler: 'comment', limit: 1 })).map((c) => c.id)).toEqual([3]);
    expect(await store.listHandlerModeChanges({ handler: 'missing' })).toEqual([]);
    expect((await store.listHandlerModeChanges({ handler: '' })).length).toBe(4);
  });
});
