/**
 * The audit chain's SQL (tables `audit_chain`, `audit_checkpoints`; decision 011). {@link recordAuditState} is the one
 * function every write that ends or reopens a run or an action calls, inside that write's transaction; the rest reads
 * the chain for `deflect audit verify`, `GET /api/audit/chain` and `/metrics`. Hashes and canonical forms:
 * `audit/audit-chain.ts`.
 */
import {
  FINAL_ACTION_STATUSES,
  FINAL_RUN_STATUSES,
  GENESIS_HASH,
  RECORDED_COLUMNS,
  auditProcessId,
  hashEntry,
  hashRow,
  isFinalStatus,
  type AuditEntryFields,
  type AuditEntryKind,
  type AuditTable,
} from '../audit/audit-chain.js';
import type { Db } from './client.js';
import type { AuditCheckpointRow, AuditEntryRow } from './audit-schema.js';
import { statement } from './statements.js';

/** The recorded columns of a row (SQL names, raw SQLite values) plus `status`. */
export type RecordedRow = Record<string, unknown> & { id: number; status: string };

const SELECT_ROW: Record<AuditTable, string> = {
  runs: `SELECT ${RECORDED_COLUMNS.runs.join(', ')} FROM runs WHERE id = ?`,
  actions: `SELECT ${RECORDED_COLUMNS.actions.join(', ')} FROM actions WHERE id = ?`,
};

const SELECT_ENTRY = `SELECT seq, kind, row_table AS rowTable, row_id AS rowId, run_id AS runId, row_hash AS rowHash, prev_hash AS prevHash,
  hash, sealed_at AS sealedAt, sealed_by AS sealedBy FROM audit_chain`;

const SELECT_CHECKPOINT = `SELECT id, first_seq AS firstSeq, through_seq AS throughSeq, from_hash AS fromHash, through_hash AS throughHash, runs,
  actions, entries, oldest_created_at AS oldestCreatedAt, newest_created_at AS newestCreatedAt, archive, created_at AS createdAt,
  created_by AS createdBy, prev_hash AS prevHash, hash FROM audit_checkpoints`;

/** The recorded columns of row `id` of `table`, or undefined when it does not exist. */
export function findRecordedRow(db: Db, table: AuditTable, id: number): RecordedRow | undefined {
  return statement(db, SELECT_ROW[table]).get(id) as RecordedRow | undefined;
}

/** The chain head: the newest entry's seq and hash, else the newest checkpoint's `through_*`, else seq 0 and 64 zeros. */
export function findChainHead(db: Db): { seq: number; hash: string } {
  const entry = statement(db, 'SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
  if (entry) return entry;
  const checkpoint = findLatestCheckpoint(db);
  return checkpoint ? { seq: checkpoint.throughSeq, hash: checkpoint.throughHash } : { seq: 0, hash: GENESIS_HASH };
}

/** The newest entry about row `id` of `table`, or undefined when the chain has none. */
export function findLatestEntry(db: Db, table: AuditTable, id: number): AuditEntryRow | undefined {
  return statement(db, `${SELECT_ENTRY} WHERE row_table = ? AND row_id = ? ORDER BY seq DESC LIMIT 1`).get(table, id) as AuditEntryRow | undefined;
}

function appendEntry(db: Db, fields: Omit<AuditEntryFields, 'seq' | 'prevHash' | 'sealedBy'>): AuditEntryRow {
  const head = findChainHead(db);
  const entry: AuditEntryFields = { ...fields, seq: head.seq + 1, prevHash: head.hash, sealedBy: auditProcessId() };
  const hash = hashEntry(entry);
  statement(db,
    `INSERT INTO audit_chain (seq, kind, row_table, row_id, run_id, row_hash, prev_hash, hash, sealed_at, sealed_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(entry.seq, entry.kind, entry.rowTable, entry.rowId, entry.runId, entry.rowHash, entry.prevHash, hash, entry.sealedAt, entry.sealedBy);
  return { ...entry, hash };
}

/**
 * Brings the chain up to date with row `id` of `table` after a write to it: appends a `seal` entry when the row is in a
 * final status (unless its latest entry already seals exactly this state), a `reopen` entry when a sealed row is no
 * longer final, and nothing otherwise. **Call it inside the write transaction that changed the row** (so the chain
 * head read here cannot move before the append: SQLite has one writer at a time, and `seq` is the primary key).
 * @param kind `genesis` for the upgrade pass ({@link sealRowsAtUpgrade}); default `seal`.
 * @returns the entry appended, or null.
 */
export function recordAuditState(db: Db, table: AuditTable, id: number, now = Date.now(), kind: 'seal' | 'genesis' = 'seal'): AuditEntryRow | null {
  const row = findRecordedRow(db, table, id);
  if (!row) return null;
  const latest = findLatestEntry(db, table, id);
  const runId = table === 'runs' ? row.id : Number(row.run_id);
  const rowHash = hashRow(table, row);
  let entryKind: AuditEntryKind;
  if (isFinalStatus(table, row.status)) {
    if (latest && latest.kind !== 'reopen' && latest.rowHash === rowHash) return null;
    entryKind = kind;
  } else {
    if (!latest || latest.kind === 'reopen') return null;
    entryKind = 'reopen';
  }
  return appendEntry(db, { kind: entryKind, rowTable: table, rowId: id, runId, rowHash, sealedAt: now });
}

/**
 * Runs `write` and then {@link recordAuditState} for the rows it names, in one IMMEDIATE transaction (a savepoint when
 * already inside one). `write` returns the rows it changed (`[table, id]` pairs) and its own result.
 */
export function writeAudited<T>(db: Db, write: () => { result: T; rows: ReadonlyArray<readonly [AuditTable, number]> }, now = Date.now()): T {
  return db.$client.transaction(() => {
    const { result, rows } = write();
    for (const [table, id] of rows) recordAuditState(db, table, id, now);
    return result;
  }).immediate();
}

/**
 * The genesis pass (decision 011): on a database whose chain is empty and has never been pruned, seals every row
 * already in a final status (each run's actions in order, then the run), kind `genesis`, in one transaction. A no-op
 * on a fresh database and on every later open.
 * @returns the number of entries written.
 */
export function sealRowsAtUpgrade(db: Db, now = Date.now()): number {
  const empty = statement(db, 'SELECT (SELECT count(*) FROM audit_chain) + (SELECT count(*) FROM audit_checkpoints) AS n').get() as { n: number };
  if (empty.n > 0) return 0;
  const any = statement(db, "SELECT 1 FROM runs LIMIT 1").get();
  if (!any) return 0;
  return db.$client.transaction(() => {
    let written = 0;
    const runs = statement(db, 'SELECT id FROM runs WHERE id > ? ORDER BY id LIMIT 1000');
    const actions = statement(db, 'SELECT id FROM actions WHERE run_id = ? ORDER BY seq, id');
    for (let after = 0; ; ) {
      const batch = runs.all(after) as Array<{ id: number }>;
      if (batch.length === 0) break;
      for (const run of batch) {
        for (const action of actions.all(run.id) as Array<{ id: number }>) if (recordAuditState(db, 'actions', action.id, now, 'genesis')) written++;
        if (recordAuditState(db, 'runs', run.id, now, 'genesis')) written++;
      }
      after = batch.at(-1)!.id;
    }
    return written;
  }).immediate();
}

/** Up to `limit` entries with `seq` greater than `afterSeq`, in seq order (the verifier's batches). */
export function listChainEntries(db: Db, afterSeq: number, limit: number): AuditEntryRow[] {
  return statement(db, `${SELECT_ENTRY} WHERE seq > ? ORDER BY seq LIMIT ?`).all(afterSeq, limit) as AuditEntryRow[];
}

/** The seq of the newest entry about row `id` of `table`, or null. */
export function findLatestEntrySeq(db: Db, table: AuditTable, id: number): number | null {
  return (statement(db, 'SELECT max(seq) AS seq FROM audit_chain WHERE row_table = ? AND row_id = ?').get(table, id) as { seq: number | null }).seq;
}

/**
 * Up to `limit` rows of `table` with id above `afterId`, in a final status, that no entry of the chain names (the
 * verifier's last pass: such a row was written outside deflect), by id.
 */
export function listUnchainedFinalRows(db: Db, table: AuditTable, afterId: number, limit: number): Array<{ id: number; status: string }> {
  const statuses = JSON.stringify(table === 'runs' ? FINAL_RUN_STATUSES : FINAL_ACTION_STATUSES);
  return statement(db,
    `SELECT id, status FROM ${table} t WHERE id > ? AND status IN (SELECT value FROM json_each(?))
       AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.row_table = ? AND c.row_id = t.id) ORDER BY id LIMIT ?`,
  ).all(afterId, statuses, table, limit) as Array<{ id: number; status: string }>;
}

/** Every checkpoint, oldest first (a handful: one per prune batch). */
export function listCheckpoints(db: Db): AuditCheckpointRow[] {
  return statement(db, `${SELECT_CHECKPOINT} ORDER BY id`).all() as AuditCheckpointRow[];
}

/** The newest checkpoint, or undefined before the first prune. */
export function findLatestCheckpoint(db: Db): AuditCheckpointRow | undefined {
  return statement(db, `${SELECT_CHECKPOINT} ORDER BY id DESC LIMIT 1`).get() as AuditCheckpointRow | undefined;
}

/** The checkpoint with this id. */
export function findCheckpoint(db: Db, id: number): AuditCheckpointRow | undefined {
  return statement(db, `${SELECT_CHECKPOINT} WHERE id = ?`).get(id) as AuditCheckpointRow | undefined;
}

/** Entries in the chain and checkpoints written, for `/metrics`. */
export function countChain(db: Db): { entries: number; checkpoints: number } {
  return statement(db, 'SELECT (SELECT count(*) FROM audit_chain) AS entries, (SELECT count(*) FROM audit_checkpoints) AS checkpoints').get() as {
    entries: number;
    checkpoints: number;
  };
}

/** Checkpoints written by retention (for `/metrics`). */
export function countCheckpoints(db: Db): number {
  return (statement(db, 'SELECT count(*) AS n FROM audit_checkpoints').get() as { n: number }).n;
}
