/**
 * Conformance of the `auditChain` repository (src/db/audit-chain.ts, src/db/postgres/repositories/audit-chain.ts):
 * the same assertions on SQLite and PostgreSQL, and many writers sealing at once (seq gap-free, every link right).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, hashEntry, hashRow, type AuditEntryFields } from '../../../src/audit/audit-chain.js';
import type { AuditEntryRow } from '../../../src/db/audit-schema.js';
import { copySqliteToPostgres } from '../../../src/db/postgres/copy-from-sqlite.js';
import { ticketWith } from '../../support/ticket-fixture.js';
import { closeRunsBackends, queueRun, runsBackends, type Opened } from './run-fixtures.js';

afterAll(closeRunsBackends);

const NOW = 1_700_000_000_000;

/** Checks every entry: seq 1, 2, … after `fromSeq`, each linking to the one before and hashing to itself. */
function expectLinked(entries: AuditEntryRow[], from: { seq: number; hash: string }): void {
  let prev = from;
  for (const entry of entries) {
    expect(entry.seq).toBe(prev.seq + 1);
    expect(entry.prevHash).toBe(prev.hash);
    expect(hashEntry(entry as AuditEntryFields)).toBe(entry.hash);
    prev = entry;
  }
}

/** Marks run `id` final without deflect (no chain entry): raw SQL on each backend. */
async function finishBehindDeflect(o: Opened, table: 'runs' | 'actions', id: number, status: string): Promise<void> {
  if (o.backend === 'sqlite') await o.sql(`UPDATE ${table} SET status = ? WHERE id = ?`, [status, id]);
  else await o.sql(`UPDATE ${table} SET status = $1 WHERE id = $2`, [status, id]);
}

describe.each(runsBackends())('audit chain on %s', (backend) => {
  it.skipIf(backend.skip !== null)('an empty chain: genesis head, no entries, no checkpoints', async () => {
    const { store } = await backend.open();
    expect(await store.findChainHead()).toEqual({ seq: 0, hash: GENESIS_HASH });
    expect(await store.listChainEntries(0, 10)).toEqual([]);
    expect(await store.findLatestEntry('runs', 1)).toBeUndefined();
    expect(await store.findLatestEntrySeq('runs', 1)).toBeNull();
    expect(await store.findRecordedRow('runs', 1)).toBeUndefined();
    expect(await store.findRecordedRow('actions', 1)).toBeUndefined();
    expect(await store.listCheckpoints()).toEqual([]);
    expect(await store.findLatestCheckpoint()).toBeUndefined();
    expect(await store.findCheckpoint(1)).toBeUndefined();
    expect(await store.countChain()).toEqual({ entries: 0, checkpoints: 0 });
    expect(await store.countCheckpoints()).toBe(0);
    expect(await store.listUnchainedFinalRows('runs', 0, 10)).toEqual([]);
  });

  it.skipIf(backend.skip !== null)('seals, reads the recorded rows as SQLite stores them, lists and pages the entries', async () => {
    const o = await backend.open();
    const { store } = o;
    const r1 = await queueRun(o, 'PLAT-1', NOW, { dryRun: true });
    const r2 = await queueRun(o, 'PLAT-2', NOW);
    const a1 = await store.beginAction({ runId: r1, seq: 1, kind: 'comment', ticketKey: 'PLAT-1', idempotencyKey: 'k1', request: { b: 1 }, status: 'planned' }, NOW);
    await store.finishRun(r1, { status: 'planned', summary: 'would comment', durationMs: 3, applied: false }, NOW + 1);
    await store.finishRun(r2, { status: 'succeeded', durationMs: 4 }, NOW + 2);
    await store.finishRun(r2, { status: 'succeeded', durationMs: 4 }, NOW + 2); // same state again: no new entry

    expect(await store.findRecordedRow('runs', r1)).toEqual({
      id: r1, delivery_id: 1, ticket_key: 'PLAT-1', handler: 'grant-repo-access', reason: 'label access-request', status: 'planned', dry_run: 1, shadow: 0,
      idempotency_key: 'run:1:grant-repo-access', attempts: 0, max_attempts: 3, manual_retries: 0, started_at: null, finished_at: NOW + 1, duration_ms: 3,
      applied: 0, summary: 'would comment', error: null, ticket_snapshot: null, rules_version: null, created_at: NOW,
    });
    expect(await store.findRecordedRow('actions', a1)).toEqual({
      id: a1, run_id: r1, seq: 1, kind: 'comment', ticket_key: 'PLAT-1', idempotency_key: 'k1', request: '{"b":1}', status: 'planned', response: null,
      error: null, created_at: NOW, finished_at: null,
    });

    const entries = await store.listChainEntries(0, 10);
    expect(entries.map((e) => [e.seq, e.kind, e.rowTable, e.rowId, e.runId, e.sealedAt])).toEqual([
      [1, 'seal', 'actions', a1, r1, NOW],
      [2, 'seal', 'runs', r1, r1, NOW + 1],
      [3, 'seal', 'runs', r2, r2, NOW + 2],
    ]);
    expectLinked(entries, { seq: 0, hash: GENESIS_HASH });
    expect(entries[1].rowHash).toBe(hashRow('runs', (await store.findRecordedRow('runs', r1))!));
    expect(await store.listChainEntries(1, 1)).toEqual([entries[1]]);
    expect(await store.listChainEntries(3, 10)).toEqual([]);
    expect(await store.findChainHead()).toEqual({ seq: 3, hash: entries[2].hash });
    expect(await store.findLatestEntry('runs', r2)).toEqual(entries[2]);
    expect(await store.findLatestEntrySeq('actions', a1)).toBe(1);
    expect(await store.countChain()).toEqual({ entries: 3, checkpoints: 0 });

    // A reopen, then a new seal of a different state.
    expect(await store.retryRun(r2, NOW + 3)).toBe(false); // succeeded is not retryable
    await store.finishRun(r2, { status: 'failed', error: 'x', durationMs: 1 }, NOW + 4);
    expect(await store.retryRun(r2, NOW + 5)).toBe(true);
    expect((await store.listChainEntries(3, 10)).map((e) => [e.seq, e.kind, e.rowId])).toEqual([[4, 'seal', r2], [5, 'reopen', r2]]);
    expect(await store.findLatestEntrySeq('runs', r2)).toBe(5);
  });

  it.skipIf(backend.skip !== null)('listUnchainedFinalRows finds final rows no entry names, by id, after `afterId`, at most `limit`', async () => {
    const o = await backend.open();
    const ids: number[] = [];
    for (let i = 0; i < 5; i += 1) ids.push(await queueRun(o, `PLAT-${i}`, NOW));
    await o.store.finishRun(ids[0], { status: 'succeeded', durationMs: 1 }, NOW); // chained
    for (const id of [ids[1], ids[3], ids[4]]) await finishBehindDeflect(o, 'runs', id, 'failed');
    // ids[2] stays queued: not final.
    expect(await o.store.listUnchainedFinalRows('runs', 0, 10)).toEqual([{ id: ids[1], status: 'failed' }, { id: ids[3], status: 'failed' }, { id: ids[4], status: 'failed' }]);
    expect(await o.store.listUnchainedFinalRows('runs', ids[1], 1)).toEqual([{ id: ids[3], status: 'failed' }]);
    const action = await o.store.beginAction({ runId: ids[0], seq: 1, kind: 'comment', ticketKey: 'PLAT-0', idempotencyKey: 'k', request: {}, status: 'started' }, NOW);
    expect(await o.store.listUnchainedFinalRows('actions', 0, 10)).toEqual([]);
    await finishBehindDeflect(o, 'actions', action, 'applied');
    expect(await o.store.listUnchainedFinalRows('actions', 0, 10)).toEqual([{ id: action, status: 'applied' }]);
  });

  it.skipIf(backend.skip !== null)('checkpoints written by a prune: listed, found, counted; the head falls back to the newest one', async () => {
    const o = await backend.open();
    const { store } = o;
    const run = await queueRun(o, 'PLAT-1', NOW - 1_000);
    await store.finishRun(run, { status: 'succeeded', durationMs: 1 }, NOW - 900);
    const sealed = (await store.findChainHead()).hash;
    const checkpoint = await store.transaction(async () => {
      const plan = (await store.planAuditPrune(NOW, 100))!;
      const draft = await store.checkpointFor(plan, 'archive-1.jsonl', NOW);
      await store.applyAuditPrune(plan, draft);
      return draft;
    });
    expect(checkpoint).toMatchObject({ id: 1, firstSeq: 1, throughSeq: 1, fromHash: GENESIS_HASH, throughHash: sealed, runs: 1, actions: 0, entries: 1, archive: 'archive-1.jsonl' });
    expect(await store.listCheckpoints()).toEqual([checkpoint]);
    expect(await store.findLatestCheckpoint()).toEqual(checkpoint);
    expect(await store.findCheckpoint(1)).toEqual(checkpoint);
    expect(await store.findCheckpoint(2)).toBeUndefined();
    expect(await store.countChain()).toEqual({ entries: 0, checkpoints: 1 });
    expect(await store.countCheckpoints()).toBe(1);
    expect(await store.findChainHead()).toEqual({ seq: 1, hash: sealed });
    // The next seal continues the chain after the checkpoint.
    const next = await queueRun(o, 'PLAT-2', NOW);
    await store.finishRun(next, { status: 'succeeded', durationMs: 1 }, NOW + 1);
    expect(await store.findLatestEntry('runs', next)).toMatchObject({ seq: 2, prevHash: sealed });
  });

  it.skipIf(backend.skip !== null)('many writers sealing at once keep seq gap-free and every link right', async () => {
    const o = await backend.open();
    const ids: number[] = [];
    for (let i = 0; i < 16; i += 1) ids.push(await queueRun(o, `PLAT-${i}`, NOW));
    await Promise.all(
      ids.map((id, i) =>
        i % 2
          ? o.store.finishRun(id, { status: 'succeeded', durationMs: i }, NOW + i)
          : o.store.beginAction({ runId: id, seq: 1, kind: 'comment', ticketKey: `PLAT-${i}`, idempotencyKey: `k${i}`, request: { i }, status: 'planned' }, NOW + i),
      ),
    );
    const entries = await o.store.listChainEntries(0, 100);
    expect(entries).toHaveLength(16);
    expectLinked(entries, { seq: 0, hash: GENESIS_HASH });
    expect(new Set(entries.map((e) => `${e.rowTable}:${e.rowId}`)).size).toBe(16);
  });
});

describe('audit chain copied from SQLite', () => {
  const [sqlite, postgres] = runsBackends();
  it.skipIf(postgres.skip !== null)('rows copied by `deflect migrate --to postgres` hash as sealed, and the chain goes on from the copied head', async () => {
    const s = await sqlite.open();
    const run = await queueRun(s, 'PLAT-1', NOW, { dryRun: true, ticket: ticketWith('copied', { key: 'PLAT-1' }) });
    const failed = await queueRun(s, 'PLAT-2', NOW);
    const action = await s.store.beginAction({ runId: run, seq: 1, kind: 'comment', ticketKey: 'PLAT-1', idempotencyKey: 'k1', request: { b: 1 }, status: 'started' }, NOW);
    await s.store.finishAction(action, { status: 'applied', response: { id: 7 } }, NOW + 1);
    await s.store.finishRun(run, { status: 'planned', durationMs: 3, applied: false }, NOW + 2);
    await s.store.finishRun(failed, { status: 'failed', error: 'boom', durationMs: 3 }, NOW + 3);

    const p = await postgres.open();
    await copySqliteToPostgres(s.store.sqlite!.$client, p.postgres!);
    const copied = await p.store.listChainEntries(0, 10);
    expect(copied).toEqual(await s.store.listChainEntries(0, 10));
    for (const [table, id] of [['actions', action], ['runs', run], ['runs', failed]] as const) {
      expect(hashRow(table, (await p.store.findRecordedRow(table, id))!)).toBe((await p.store.findLatestEntry(table, id))!.rowHash);
    }
    // Sealing the same state again appends nothing; a reopen links to the copied head.
    await p.store.finishRun(run, { status: 'planned', durationMs: 3, applied: false }, NOW + 2);
    expect(await p.store.countChain()).toEqual({ entries: 3, checkpoints: 0 });
    expect(await p.store.retryRun(failed, NOW + 10)).toBe(true);
    expect(await p.store.findLatestEntry('runs', failed)).toMatchObject({ seq: 4, kind: 'reopen', prevHash: copied[2].hash });
  });
});
