/**
 * Conformance of the `actions` repository (src/db/actions.ts, src/db/postgres/repositories/actions.ts): the action
 * ledger keyed by idempotency key, the same assertions on SQLite and PostgreSQL, and concurrent begins of one key.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeRunsBackends, queueRun, runsBackends } from './run-fixtures.js';

afterAll(closeRunsBackends);

const NOW = 1_700_000_000_000;
const action = (runId: number, seq: number, key: string, status: 'planned' | 'started' = 'started') => ({
  runId, seq, kind: 'comment', ticketKey: 'PLAT-1', idempotencyKey: key, request: { body: `hello ${seq}`, n: seq }, status,
});

describe.each(runsBackends())('actions on %s', (backend) => {
  it.skipIf(backend.skip !== null)('beginAction writes a row per key, resets it on a retry; finishAction records the result; findAction reads it', async () => {
    const o = await backend.open();
    const run = await queueRun(o, 'PLAT-1', NOW);
    expect(await o.store.findAction('k1')).toBeUndefined();
    const id = await o.store.beginAction(action(run, 1, 'k1'), NOW);
    expect(await o.store.findAction('k1')).toEqual({
      id, runId: run, seq: 1, kind: 'comment', ticketKey: 'PLAT-1', idempotencyKey: 'k1', request: '{"body":"hello 1","n":1}', status: 'started',
      response: null, error: null, createdAt: NOW, finishedAt: null,
    });
    expect(await o.store.findLatestEntry('actions', id)).toBeUndefined(); // `started` is not final
    await o.store.finishAction(id, { status: 'failed', error: 'timeout' }, NOW + 5);
    expect(await o.store.findAction('k1')).toMatchObject({ status: 'failed', error: 'timeout', response: null, finishedAt: NOW + 5 });
    expect(await o.store.findLatestEntry('actions', id)).toMatchObject({ seq: 1, kind: 'seal', rowTable: 'actions', rowId: id, runId: run });

    // The retry: same key, same row, error cleared, request replaced; the sealed row is reopened in the chain.
    expect(await o.store.beginAction({ ...action(run, 1, 'k1'), request: { body: 'again' } }, NOW + 10)).toBe(id);
    expect(await o.store.findAction('k1')).toMatchObject({ id, status: 'started', error: null, request: '{"body":"again"}', createdAt: NOW });
    expect(await o.store.findLatestEntry('actions', id)).toMatchObject({ seq: 2, kind: 'reopen' });
    await o.store.finishAction(id, { status: 'applied', response: { id: 'c-1' } }, NOW + 20);
    expect(await o.store.findAction('k1')).toMatchObject({ status: 'applied', response: '{"id":"c-1"}', error: null, finishedAt: NOW + 20 });
    expect(await o.store.findLatestEntry('actions', id)).toMatchObject({ seq: 3, kind: 'seal' });

    const planned = await o.store.beginAction(action(run, 2, 'k2', 'planned'), NOW);
    expect(planned).not.toBe(id);
    expect(await o.store.findLatestEntry('actions', planned)).toMatchObject({ seq: 4, kind: 'seal', prevHash: (await o.store.findLatestEntry('actions', id))!.hash });
  });

  it.skipIf(backend.skip !== null)('listActionsForRuns orders by run then seq; countRecentActions counts what went out on a ticket', async () => {
    const o = await backend.open();
    const r1 = await queueRun(o, 'PLAT-1', NOW);
    const r2 = await queueRun(o, 'PLAT-1', NOW);
    expect(await o.store.listActionsForRuns([])).toEqual([]);
    await o.store.beginAction(action(r2, 2, 'b2'), NOW);
    await o.store.beginAction(action(r1, 2, 'a2'), NOW + 1);
    await o.store.beginAction(action(r2, 1, 'b1', 'planned'), NOW + 2);
    await o.store.beginAction(action(r1, 1, 'a1'), NOW + 3);
    const a1 = (await o.store.findAction('a1'))!.id;
    await o.store.finishAction(a1, { status: 'applied' }, NOW + 4);
    const a2 = (await o.store.findAction('a2'))!.id;
    await o.store.finishAction(a2, { status: 'failed', error: 'x' }, NOW + 4);
    expect((await o.store.listActionsForRuns([r2, r1, 99])).map((a) => a.idempotencyKey)).toEqual(['a1', 'a2', 'b1', 'b2']);
    expect((await o.store.listActionsForRuns([r2])).map((a) => a.idempotencyKey)).toEqual(['b1', 'b2']);
    // started or applied, created since: a1 (applied), b2 (started); not a2 (failed) nor b1 (planned).
    expect(await o.store.countRecentActions('PLAT-1', NOW)).toBe(2);
    expect(await o.store.countRecentActions('PLAT-1', NOW + 1)).toBe(1);
    expect(await o.store.countRecentActions('PLAT-1', NOW, 'b2')).toBe(1);
    expect(await o.store.countRecentActions('PLAT-2', 0)).toBe(0);
  });

  it.skipIf(backend.skip !== null)('recordVerifiedAction marks an unknown outcome applied, writing the row when there was none', async () => {
    const o = await backend.open();
    const run = await queueRun(o, 'PLAT-1', NOW);
    const started = await o.store.beginAction(action(run, 1, 'k1'), NOW);
    await o.store.finishAction(started, { status: 'failed', error: 'timeout' }, NOW + 1);
    const verified = { runId: run, seq: 1, kind: 'comment', ticketKey: 'PLAT-1', idempotencyKey: 'k1', request: { body: 'x' }, response: { found: true } };
    expect(await o.store.recordVerifiedAction(verified, NOW + 10)).toBe(started);
    expect(await o.store.findAction('k1')).toMatchObject({
      id: started, status: 'applied', error: null, response: '{"found":true}', finishedAt: NOW + 10, createdAt: NOW, request: '{"body":"hello 1","n":1}',
    });
    const fresh = await o.store.recordVerifiedAction({ ...verified, idempotencyKey: 'k2', seq: 2 }, NOW + 20);
    expect(await o.store.findAction('k2')).toEqual({
      id: fresh, runId: run, seq: 2, kind: 'comment', ticketKey: 'PLAT-1', idempotencyKey: 'k2', request: '{"body":"x"}', status: 'applied',
      response: '{"found":true}', error: null, createdAt: NOW + 20, finishedAt: NOW + 20,
    });
    // failed (seal) → applied (seal of a new state) for k1, then k2 sealed.
    expect((await o.store.listChainEntries(0, 10)).map((e) => [e.seq, e.kind, e.rowId])).toEqual([[1, 'seal', started], [2, 'seal', started], [3, 'seal', fresh]]);
  });

  it.skipIf(backend.skip !== null)('concurrent begins of one key leave one row, and every writer gets its id', async () => {
    const o = await backend.open();
    const run = await queueRun(o, 'PLAT-1', NOW);
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => o.store.beginAction(action(run, 1, 'same', i % 2 ? 'planned' : 'started'), NOW + i)));
    expect(new Set(ids).size).toBe(1);
    expect(await o.store.listActionsForRuns([run])).toHaveLength(1);
    const entries = await o.store.listChainEntries(0, 100);
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
  });
});
