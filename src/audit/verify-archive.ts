/**
 * Verifies a retention archive (audit/audit-retention.ts) against its checkpoint (decision 011): the checkpoint hashes
 * to itself; the archived entries run without gaps from `firstSeq` to `throughSeq`, link from `fromHash` and end at
 * `throughHash`, each hashing to itself; every archived run and action matches its latest archived entry; the counts
 * are the checkpoint's; and, given the database, the database holds the same checkpoint and every entry whose row is
 * not in the archive names a row the database still has (sealed again after the stretch). Reads the file line by line;
 * keeps one small record per archived entry.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Store } from '../db/store.js';
import type { AuditCheckpointRow } from '../db/audit-schema.js';
import { hashCheckpoint, hashEntry, hashRow, isFinalStatus, type AuditEntryKind, type AuditTable } from './audit-chain.js';
import type { ChainProblem, ChainReport } from './verify-chain.js';

interface ArchivedEntry {
  seq: number;
  kind: string;
  rowHash: string;
}

/**
 * Checks the archive at `path`; `db` (optional) is the database it was pruned from.
 * @returns a report like {@link ChainReport} (`checkpoints` is 1, `head` the checkpoint's end).
 * @throws when the file cannot be read.
 */
export async function verifyAuditArchive(path: string, db?: Store): Promise<ChainReport> {
  const counts = { runs: 0, actions: 0, entries: 0, checkpoints: 0 };
  let checkpoint: AuditCheckpointRow | null = null;
  const latest = new Map<string, ArchivedEntry>();
  const archived = new Set<string>();
  let prevHash = '';
  let expectedSeq = 0;
  let lineNumber = 0;
  const finish = (firstBad: ChainProblem | null): ChainReport => ({
    state: firstBad ? 'broken' : 'intact',
    checkedRows: counts.runs + counts.actions,
    ...counts,
    firstBad,
    checkedAt: new Date().toISOString(),
    head: { seq: checkpoint?.throughSeq ?? 0, hash: checkpoint?.throughHash ?? '' },
  });
  const bad = (table: AuditTable, id: unknown, problem: string) => finish({ table, id: String(id), problem });

  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const text of lines) {
    lineNumber++;
    if (text.trim() === '') continue;
    let line: Record<string, any>;
    try {
      line = JSON.parse(text) as Record<string, any>;
    } catch {
      return bad('runs', '-', `out of order: line ${lineNumber} of the archive is not JSON`);
    }
    if (lineNumber === 1) {
      if (line.type !== 'checkpoint') return bad('runs', '-', 'out of order: the archive does not start with its checkpoint');
      checkpoint = line.checkpoint as AuditCheckpointRow;
      const computed = hashCheckpoint(checkpoint);
      if (computed !== checkpoint.hash) return bad('runs', '-', `changed: checkpoint #${checkpoint.id} (recorded hash ${checkpoint.hash.slice(0, 16)}…, computed ${computed.slice(0, 16)}…)`);
      const stored = db ? await db.findCheckpoint(checkpoint.id) : undefined;
      if (db && (!stored || stored.hash !== checkpoint.hash)) {
        return bad('runs', '-', `changed: checkpoint #${checkpoint.id} ${stored ? 'differs from' : 'is not'} the one in the database`);
      }
      counts.checkpoints = 1;
      prevHash = checkpoint.fromHash;
      expectedSeq = checkpoint.firstSeq;
      continue;
    }
    if (line.type === 'entry') {
      const e = line.entry as Record<string, any>;
      const table = e.row_table as AuditTable;
      if (e.seq !== expectedSeq) return bad(table, e.row_id, `out of order: chain entry ${e.seq} where entry ${expectedSeq} was expected`);
      if (e.prev_hash !== prevHash) return bad(table, e.row_id, `out of order: chain entry ${e.seq} does not link to entry ${e.seq - 1}`);
      const computed = hashEntry({
        seq: e.seq, kind: e.kind as AuditEntryKind, rowTable: table, rowId: e.row_id, runId: e.run_id, rowHash: e.row_hash, prevHash: e.prev_hash, sealedAt: e.sealed_at, sealedBy: e.sealed_by,
      });
      if (computed !== e.hash) return bad(table, e.row_id, `changed: chain entry ${e.seq} (recorded hash ${String(e.hash).slice(0, 16)}…, computed ${computed.slice(0, 16)}…)`);
      latest.set(`${table}:${e.row_id}`, { seq: e.seq, kind: e.kind, rowHash: e.row_hash });
      prevHash = e.hash;
      expectedSeq++;
      counts.entries++;
      continue;
    }
    if (line.type === 'run') {
      if (!checkpoint || expectedSeq !== checkpoint.throughSeq + 1 || prevHash !== checkpoint.throughHash) {
        return bad('runs', line.run?.id, `out of order: the archived entries do not end at checkpoint #${checkpoint?.id}'s entry ${checkpoint?.throughSeq}`);
      }
      for (const [table, row] of [['runs', line.run], ...(line.actions as unknown[]).map((a) => ['actions', a])] as Array<[AuditTable, Record<string, unknown>]>) {
        const problem = checkArchivedRow(table, row, latest.get(`${table}:${row.id}`));
        if (problem) return bad(table, row.id, problem);
        archived.add(`${table}:${row.id}`);
        if (isFinalStatus(table, row.status)) counts[table]++;
      }
      continue;
    }
    return bad('runs', '-', `out of order: line ${lineNumber} has an unknown type "${String(line.type)}"`);
  }
  if (!checkpoint) return bad('runs', '-', 'missing: the archive is empty');
  if (expectedSeq !== checkpoint.throughSeq + 1) return bad('runs', '-', `missing: the archive's entries stop before entry ${checkpoint.throughSeq}`);
  if (counts.runs !== checkpoint.runs) return bad('runs', '-', `missing: the checkpoint counts ${checkpoint.runs} runs, the archive holds ${counts.runs}`);
  // Rows named by an archived entry but not archived: history of rows the database keeps (sealed again later).
  for (const [key, entry] of latest) {
    if (archived.has(key)) continue;
    const [table, id] = key.split(':') as [AuditTable, string];
    if (db && (await db.findLatestEntrySeq(table, Number(id)) ?? 0) <= checkpoint.throughSeq) {
      return bad(table, id, `missing: sealed by archived entry ${entry.seq}, neither in the archive nor sealed again in the database`);
    }
  }
  return finish(null);
}

function checkArchivedRow(table: AuditTable, row: Record<string, unknown>, entry: ArchivedEntry | undefined): string | null {
  if (!entry) return isFinalStatus(table, row.status) ? `out of order: a ${String(row.status)} row no archived entry seals` : null;
  if (entry.kind === 'reopen') return isFinalStatus(table, row.status) ? `changed: ${String(row.status)} but never sealed since its reopen (entry ${entry.seq})` : null;
  const computed = hashRow(table, row);
  return computed === entry.rowHash ? null : `changed (recorded hash ${entry.rowHash.slice(0, 16)}…, computed ${computed.slice(0, 16)}…; archived entry ${entry.seq})`;
}
