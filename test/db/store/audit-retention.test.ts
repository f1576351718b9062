/**
 * Conformance of the `auditRetention` repository (src/db/audit-retention.ts,
 * src/db/postgres/repositories/audit-retention.ts): the same prunes on SQLite and PostgreSQL, archives that are line
 * for line the same and verify (`verifyAuditArchive`), and two pruners at once.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/audit/audit-chain.js';
import { archiveLines } from '../../../src/audit/audit-retention.js';
import { verifyAuditArchive } from '../../../src/audit/verify-archive.js';
import type { AuditCheckpointRow } from '../../../src/db/audit-schema.js';
import type { AuditPruneRows } from '../../../src/db/audit-retention.js';
import { freshDir } from '../../support/deflect-under-test.js';
import { addApproval, addRuleSettings, closeRunsBackends, queueRun, runsBackends, type Opened } from './run-fixtures.js';

afterAll(closeRunsBackends);

const NOW = 1_700_000_000_000;
const DAY = 86_400_000;
const OLD = NOW - 100 * DAY;
const BEFORE = NOW - 30 * DAY;

/**
 * Seeds: r1 (old, an applied action, rule settings, an approval) sealed at seq 1–2; r2 (old, failed) seq 3; r3 (new)
 * seq 4; r4 (old) seq 5; r5 (old, still queued: never pruned).
 */
async function seed(o: Opened): Promise<number[]> {
  const { store } = o;
  const r1 = await queueRun(o, 'PLAT-1', OLD, { dryRun: true });
  const r2 = await queueRun(o, 'PLAT-2', OLD + 1);
  const r3 = await queueRun(o, 'PLAT-3', NOW - DAY);
  const r4 = await queueRun(o, 'PLAT-4', OLD + 2);
  const r5 = await queueRun(o, 'PLAT-5', OLD + 3);
  await addRuleSettings(o, r1, 'repo-access');
  await addApproval(o, r1, OLD + 10);
  const a1 = await store.beginAction({ runId: r1, seq: 1, kind: 'comment', ticketKey: 'PLAT-1', idempotencyKey: 'k1', request: { body: 'hi' }, status: 'started' }, OLD + 20);
  await store.finishAction(a1, { status: 'applied', response: { id: 'c-1' } }, OLD + 21);
  await store.finishRun(r1, { status: 'succeeded', summary: 'commented', durationMs: 9, applied: false }, OLD + 22);
  await store.finishRun(r2, { status: 'failed', error: 'boom', durationMs: 2 }, OLD + 23);
  await store.finishRun(r3, { status: 'succeeded', durationMs: 2 }, NOW - DAY + 1);
  await store.finishRun(r4, { status: 'dead', error: 'x', durationMs: 2 }, OLD + 24);
  return [r1, r2, r3, r4, r5];
}

/** One batch as `pruneAuditBatch` runs it, through the Store: plan, checkpoint, rows for the archive, apply. */
async function pruneBatch(o: Opened, limit: number): Promise<{ checkpoint: AuditCheckpointRow; rows: AuditPruneRows } | null> {
  return o.store.transaction(async () => {
    const plan = await o.store.planAuditPrune(BEFORE, limit);
    if (!plan) return null;
    const checkpoint = await o.store.checkpointFor(plan, `audit-${plan.firstSeq}.jsonl`, NOW);
    const rows = await o.store.readAuditPruneRows(plan);
    await o.store.applyAuditPrune(plan, checkpoint);
    return { checkpoint, rows };
  });
}

describe.each(runsBackends())('audit retention on %s', (backend) => {
  it.skipIf(backend.skip !== null)('plans the oldest prunable stretch, reads its rows, deletes them behind a checkpoint', async () => {
    const o = await backend.open();
    const { store } = o;
    expect(await store.planAuditPrune(BEFORE)).toBeNull();
    expect(await store.countPrunableRuns(BEFORE)).toBe(0);
    const [r1, r2, r3, r4, r5] = await seed(o);
    expect(await store.countPrunableRuns(BEFORE)).toBe(3);

    const plan = await store.transaction(() => store.planAuditPrune(BEFORE));
    const entries = await store.listChainEntries(0, 10);
    // seq 4 (r3, inside the window) ends the stretch; r4 waits behind it.
    expect(plan).toEqual({ firstSeq: 1, throughSeq: 3, fromHash: entries[0].prevHash, throughHash: entries[2].hash, runIds: [r1, r2], oldestCreatedAt: OLD, newestCreatedAt: OLD + 1 });
    const rows = await store.readAuditPruneRows(plan!);
    expect(rows.runs.map((r) => r.id)).toEqual([r1, r2]);
    expect(rows.runs[0]).toMatchObject({ dry_run: 1, applied: 0, shadow: 0, status: 'succeeded', created_at: OLD, ticket_snapshot: null });
    expect(Object.keys(rows.runs[0])).toContain('lease_expires_at');
    expect(rows.actions.get(r1)!.map((a) => [a.idempotency_key, a.status])).toEqual([['k1', 'applied']]);
    expect(rows.actions.get(r2)).toBeUndefined();
    expect(rows.approvals.get(r1)!.map((a) => [a.decision, a.by, a.at])).toEqual([['approved', 'ann', OLD + 10]]);
    expect(rows.ruleSettings.get(r1)).toEqual({ run_id: r1, rule_name: 'repo-access', options: '{"team":"a"}', approval: null, feedback: 1 });
    expect(rows.entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(rows.entries[0]).toMatchObject({ row_table: 'actions', kind: 'seal', prev_hash: entries[0].prevHash });

    const checkpoint = await store.checkpointFor(plan!, null, NOW);
    expect(checkpoint).toMatchObject({ id: 1, firstSeq: 1, throughSeq: 3, runs: 2, actions: 1, entries: 3, oldestCreatedAt: OLD, newestCreatedAt: OLD + 1, archive: null, createdAt: NOW });
    await store.transaction(() => store.applyAuditPrune(plan!, checkpoint));
    expect(await store.findRun(r1)).toBeUndefined();
    expect(await store.findRun(r2)).toBeUndefined();
    expect(await store.listActionsForRuns([r1])).toEqual([]);
    expect((await store.findRun(r5))!.status).toBe('queued');
    expect((await store.listChainEntries(0, 10)).map((e) => e.seq)).toEqual([4, 5]);
    expect(await store.findLatestCheckpoint()).toEqual(checkpoint);
    expect(await store.countPrunableRuns(BEFORE)).toBe(1);
    // r3's entry now heads the stretch and is inside the window: nothing more to prune.
    expect(await store.planAuditPrune(BEFORE)).toBeNull();
    expect(await store.findRun(r4)).toMatchObject({ status: 'dead' });
    expect((await store.findRun(r3))!.status).toBe('succeeded');
  });

  it.skipIf(backend.skip !== null)('widens a batch that would cut a run from its actions', async () => {
    const o = await backend.open();
    const [r1] = await seed(o);
    // A batch of 1 entry would hold r1's action without r1: widened to 2.
    const plan = await o.store.transaction(() => o.store.planAuditPrune(BEFORE, 1));
    expect(plan).toMatchObject({ firstSeq: 1, throughSeq: 2, runIds: [r1] });
  });

  it.skipIf(backend.skip !== null)('two pruners at once: one prunes, the other then finds nothing left', async () => {
    const o = await backend.open();
    await seed(o);
    const results = await Promise.all([pruneBatch(o, 100), pruneBatch(o, 100)]);
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    expect(await o.store.listCheckpoints()).toHaveLength(1);
    expect(await o.store.countChain()).toEqual({ entries: 2, checkpoints: 1 });
  });
});

describe('audit retention archives across backends', () => {
  const [sqlite, postgres] = runsBackends();
  it.skipIf(postgres.skip !== null)('the same prune writes the same archive on SQLite and PostgreSQL, and it verifies', async () => {
    const lines: string[][] = [];
    for (const backend of [sqlite, postgres]) {
      const o = await backend.open();
      await seed(o);
      const batch = (await pruneBatch(o, 100))!;
      lines.push([...archiveLines(batch.checkpoint, batch.rows)]);
    }
    // The same values; the keys of a row come in each database's column order (SQLite's grew by ALTER TABLE), so
    // compare the canonical forms (the verifier hashes those too).
    const canonical = (archive: string[]) => archive.map((line) => canonicalJson(JSON.parse(line)));
    expect(canonical(lines[1])).toEqual(canonical(lines[0]));
    expect(lines[1].slice(0, 4)).toEqual(lines[0].slice(0, 4)); // checkpoint and entries: byte for byte
    const path = join(freshDir('deflect-archive-'), 'audit-1.jsonl');
    writeFileSync(path, `${lines[1].join('\n')}\n`);
    const report = await verifyAuditArchive(path);
    expect(report).toMatchObject({ state: 'intact', runs: 2, actions: 1, entries: 3, checkpoints: 1, firstBad: null });
  });
});
