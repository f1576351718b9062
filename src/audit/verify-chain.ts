/**
 * Walks the audit chain (decision 011) and reports the first row that was changed, removed or inserted out of order.
 * Reads only; in batches of {@link VERIFY_BATCH} entries by seq, so memory stays constant however long the chain.
 * Used by `deflect audit verify`, `GET /api/audit/chain` and the tests.
 */
import type { Store } from '../db/store.js';
import type { AuditEntryRow } from '../db/audit-schema.js';
import { GENESIS_HASH, hashCheckpoint, hashEntry, hashRow, isFinalStatus, type AuditTable } from './audit-chain.js';

/** Entries read per batch. */
export const VERIFY_BATCH = 1000;

/** The first problem found: the row (table and id, as text) and what is wrong, starting with `changed`, `missing` or `out of order`. */
export interface ChainProblem {
  table: AuditTable;
  id: string;
  problem: string;
}

/** What a walk found. `checkedRows` = `runs` + `actions` rows checked against their latest entry. */
export interface ChainReport {
  /** `empty`: nothing recorded yet (no entry, no checkpoint, no final row). */
  state: 'intact' | 'broken' | 'empty';
  checkedRows: number;
  runs: number;
  actions: number;
  /** Entries walked and checkpoints checked. */
  entries: number;
  checkpoints: number;
  firstBad: ChainProblem | null;
  /** When the walk ended (ISO 8601). */
  checkedAt: string;
  /** The chain head at the start of the walk (seq 0 and 64 zeros when empty): copy it elsewhere to anchor the chain. */
  head: { seq: number; hash: string };
}

/** Progress of a walk: entries walked so far, of `total` (counted at the start). */
export type VerifyProgress = (walked: number, total: number) => void;

const short = (hash: string) => hash.slice(0, 16);

/**
 * The walk as an async generator that yields after each batch (so an async caller can give the event loop a turn) and returns
 * the report. Prefer {@link verifyAuditChain} or {@link verifyAuditChainAsync}.
 */
export async function* walkAuditChain(db: Store, onProgress?: VerifyProgress): AsyncGenerator<void, ChainReport, void> {
  const head = await db.findChainHead();
  const total = await db.countChain();
  const counts = { runs: 0, actions: 0, entries: 0, checkpoints: 0 };
  const report = (firstBad: ChainProblem | null): ChainReport => {
    const checkedRows = counts.runs + counts.actions;
    const empty = firstBad === null && counts.entries === 0 && counts.checkpoints === 0;
    return { state: firstBad ? 'broken' : empty ? 'empty' : 'intact', checkedRows, ...counts, firstBad, checkedAt: new Date().toISOString(), head };
  };

  // 1. Checkpoints: each hashes to itself, links to the one before, and starts where it left off.
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let prevCheckpointHash = GENESIS_HASH;
  const checkpoints = await db.listCheckpoints();
  for (const checkpoint of checkpoints) {
    const computed = hashCheckpoint(checkpoint);
    const problem =
      computed !== checkpoint.hash
        ? `changed: checkpoint #${checkpoint.id} (recorded hash ${short(checkpoint.hash)}…, computed ${short(computed)}…)`
        : checkpoint.prevHash !== prevCheckpointHash || checkpoint.firstSeq !== expectedSeq || checkpoint.fromHash !== prevHash
          ? `out of order: checkpoint #${checkpoint.id} does not continue the checkpoint before it (entries ${checkpoint.firstSeq}…${checkpoint.throughSeq})`
          : null;
    if (problem) return report(await firstRowAfter(db, checkpoint.throughSeq, problem));
    counts.checkpoints++;
    prevCheckpointHash = checkpoint.hash;
    expectedSeq = checkpoint.throughSeq + 1;
    prevHash = checkpoint.throughHash;
  }

  // 2. Entries after the last checkpoint: contiguous, linked, each hashing to itself; each row matches its latest entry.
  for (let after = expectedSeq - 1; ; ) {
    const batch = await db.listChainEntries(after, VERIFY_BATCH);
    if (batch.length === 0) break;
    for (const entry of batch) {
      const bad = checkEntry(entry, expectedSeq, prevHash);
      if (bad) return report(bad);
      if (await db.findLatestEntrySeq(entry.rowTable as AuditTable, entry.rowId) === entry.seq) {
        const rowBad = await checkRow(db, entry);
        if (rowBad) return report(rowBad);
        counts[entry.rowTable as AuditTable]++;
      }
      counts.entries++;
      prevHash = entry.hash;
      expectedSeq = entry.seq + 1;
    }
    after = batch.at(-1)!.seq;
    onProgress?.(counts.entries, total.entries);
    yield;
  }

  // 3. Every final row must be in the chain: one that is not was written outside deflect.
  for (const table of ['runs', 'actions'] as const) {
    const [row] = await db.listUnchainedFinalRows(table, 0, 1);
    if (row) return report({ table, id: String(row.id), problem: `out of order: a ${row.status} row the chain never sealed (written outside deflect)` });
  }
  return report(null);
}

function checkEntry(entry: AuditEntryRow, expectedSeq: number, prevHash: string): ChainProblem | null {
  if (entry.rowTable !== 'runs' && entry.rowTable !== 'actions') {
    return { table: 'runs', id: '-', problem: `out of order: chain entry ${entry.seq} names a table deflect never seals ("${entry.rowTable.slice(0, 40)}")` };
  }
  const at = { table: entry.rowTable as AuditTable, id: String(entry.rowId) };
  if (entry.seq !== expectedSeq) {
    return { ...at, problem: `out of order: chain entry ${entry.seq} follows entry ${expectedSeq - 1} (entries ${expectedSeq}…${entry.seq - 1} missing)` };
  }
  if (entry.prevHash !== prevHash) return { ...at, problem: `out of order: chain entry ${entry.seq} does not link to entry ${entry.seq - 1}` };
  const computed = hashEntry({ ...entry, kind: entry.kind as 'seal', rowTable: at.table });
  if (computed !== entry.hash) return { ...at, problem: `changed: chain entry ${entry.seq} (recorded hash ${short(entry.hash)}…, computed ${short(computed)}…)` };
  return null;
}

async function checkRow(db: Store, entry: AuditEntryRow): Promise<ChainProblem | null> {
  const table = entry.rowTable as AuditTable;
  const at = { table, id: String(entry.rowId) };
  const row = await db.findRecordedRow(table, entry.rowId);
  const when = new Date(entry.sealedAt).toISOString();
  if (!row) return { ...at, problem: `missing: ${entry.kind === 'reopen' ? 'reopened' : 'sealed'} by chain entry ${entry.seq} at ${when}, no longer in the table` };
  if (entry.kind === 'reopen') {
    return isFinalStatus(table, row.status)
      ? { ...at, problem: `changed: ${row.status} but never sealed since its reopen (chain entry ${entry.seq} at ${when})` }
      : null;
  }
  const computed = hashRow(table, row);
  return computed === entry.rowHash
    ? null
    : { ...at, problem: `changed (recorded hash ${short(entry.rowHash)}…, computed ${short(computed)}…; sealed by chain entry ${entry.seq} at ${when})` };
}

/** The seal state of one row, for a trace view: see {@link checkRowSeal}. */
export type RowSealState =
  | { state: 'sealed'; seq: number; sealedAt: string; sealedBy: string }
  | { state: 'unsealed' }
  | { state: 'broken'; problem: string };

/**
 * Whether one run or action still matches its latest chain entry (and that entry its own hash): `sealed`, `unsealed`
 * (not final yet, or reopened and in progress), or `broken` with the problem, worded as `audit verify` words it. Two
 * indexed reads; it does not walk the chain's links (that is {@link verifyAuditChain}'s job).
 */
export async function checkRowSeal(db: Store, table: AuditTable, id: number): Promise<RowSealState> {
  const seq = await db.findLatestEntrySeq(table, id);
  const row = await db.findRecordedRow(table, id);
  if (seq === null) {
    return row && isFinalStatus(table, row.status) ? { state: 'broken', problem: `out of order: a ${row.status} row the chain never sealed (written outside deflect)` } : { state: 'unsealed' };
  }
  const [entry] = await db.listChainEntries(seq - 1, 1);
  const computed = hashEntry({ ...entry, kind: entry.kind as 'seal', rowTable: table });
  if (computed !== entry.hash) return { state: 'broken', problem: `changed: chain entry ${entry.seq} (recorded hash ${short(entry.hash)}…, computed ${short(computed)}…)` };
  const bad = await checkRow(db, entry);
  if (bad) return { state: 'broken', problem: bad.problem };
  return entry.kind === 'reopen' ? { state: 'unsealed' } : { state: 'sealed', seq: entry.seq, sealedAt: new Date(entry.sealedAt).toISOString(), sealedBy: entry.sealedBy };
}

/** A checkpoint problem is reported against the first row the chain names after it (the rows whose proof it breaks). */
async function firstRowAfter(db: Store, throughSeq: number, problem: string): Promise<ChainProblem> {
  const [entry] = await db.listChainEntries(throughSeq, 1);
  return { table: (entry?.rowTable as AuditTable | undefined) ?? 'runs', id: entry ? String(entry.rowId) : '-', problem };
}

/**
 * Walks the whole chain at once, inside one read transaction (one consistent snapshot, even while other processes
 * write: WAL readers see the database as of their first read). The CLI; and the server's confirmation of a problem.
 */
export async function verifyAuditChain(db: Store, onProgress?: VerifyProgress): Promise<ChainReport> {
  return await db.snapshot(async () => {
    const walk = await walkAuditChain(db, onProgress);
    for (;;) {
      const step = await walk.next();
      if (step.done) return step.value;
    }
  });
}

/**
 * Walks the chain yielding to the event loop between batches (the server: webhooks keep being received). Writes that
 * land between two batches (a prune, a seal) can make such a walk see a chain that never existed, so a problem it
 * finds is confirmed by {@link verifyAuditChain} on one snapshot before it is reported.
 */
export async function verifyAuditChainAsync(db: Store): Promise<ChainReport> {
  const walk = await walkAuditChain(db);
  for (;;) {
    const step = await walk.next();
    if (step.done) return step.value.state === 'broken' ? await verifyAuditChain(db) : step.value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
