/**
 * PostgreSQL twin of `../../audit-chain.ts` (the audit chain's SQL, decision 011), plus {@link recordAuditState} and
 * {@link writeAudited}, the functions the PostgreSQL `runs` and `actions` twins call inside their writes (not part of
 * the Store, as on SQLite). Function contracts are documented in the SQLite module.
 *
 * Where the SQL differs, and why:
 * - **One appender at a time.** SQLite has one writer, so reading the head and inserting `seq = head + 1` cannot
 *   interleave. On PostgreSQL several replicas write at once; {@link writeAudited} and {@link recordAuditState} take
 *   the transaction advisory lock {@link AUDIT_CHAIN_LOCK_KEY} (`pg_advisory_xact_lock`, held until the transaction
 *   ends) inside `pg.transaction` before reading the head, so `seq` stays gap-free and every `prev_hash` links to the
 *   entry before it. In READ COMMITTED each statement sees what committed before it started, so the head read after
 *   the lock is the true head. https://www.postgresql.org/docs/15/explicit-locking.html#ADVISORY-LOCKS
 *   `writeAudited` takes the lock before the write it wraps, so the row lock the write takes is always acquired after
 *   the chain lock (two audited writers cannot wait on each other in opposite orders within one call).
 * - **Row hashes over SQLite's values.** `hashRow` hashes the recorded columns as SQLite stores them (decision 011):
 *   the boolean columns (`dry_run`, `shadow`, `applied`) are selected as `::int` (0/1), integers arrive as JS numbers
 *   (int8 parser of `pg-session.ts`), JSON stays its stored text. So a row copied by `deflect migrate --to postgres`
 *   hashes as it did on SQLite, and a row written here hashes as SQLite would have hashed it.
 * - Aliases are quoted (`AS "rowTable"`): PostgreSQL folds unquoted identifiers to lower case.
 * - `json_each(?)` → `= ANY($n::text[])`.
 * - `sealRowsAtUpgrade` (the genesis pass at SQLite open) has no twin: a PostgreSQL database starts empty or as a
 *   verified copy of a SQLite database whose genesis pass already ran.
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
} from '../../../audit/audit-chain.js';
import type { AuditCheckpointRow, AuditEntryRow } from '../../audit-schema.js';
import type { RecordedRow } from '../../audit-chain.js';
import type { Repositories } from '../../store.js';
import type { PgSession } from '../pg-session.js';

/** Key of the transaction advisory lock held while appending to the chain (or pruning it): "deflect" in ASCII, then 03. */
export const AUDIT_CHAIN_LOCK_KEY = BigInt('0x6465666c65637403').toString();

/** Columns stored as 0/1 on SQLite and as `boolean` here: selected as `::int` so the row hashes alike. */
const BOOLEAN_COLUMNS = new Set(['dry_run', 'shadow', 'applied']);

const SELECT_ROW: Record<AuditTable, string> = {
  runs: `SELECT ${RECORDED_COLUMNS.runs.map((c) => (BOOLEAN_COLUMNS.has(c) ? `${c}::int AS ${c}` : c)).join(', ')} FROM runs WHERE id = $1`,
  actions: `SELECT ${RECORDED_COLUMNS.actions.join(', ')} FROM actions WHERE id = $1`,
};

const SELECT_ENTRY = `SELECT seq, kind, row_table AS "rowTable", row_id AS "rowId", run_id AS "runId", row_hash AS "rowHash",
  prev_hash AS "prevHash", hash, sealed_at AS "sealedAt", sealed_by AS "sealedBy" FROM audit_chain`;

const SELECT_CHECKPOINT = `SELECT id, first_seq AS "firstSeq", through_seq AS "throughSeq", from_hash AS "fromHash",
  through_hash AS "throughHash", runs, actions, entries, oldest_created_at AS "oldestCreatedAt",
  newest_created_at AS "newestCreatedAt", archive, created_at AS "createdAt", created_by AS "createdBy",
  prev_hash AS "prevHash", hash FROM audit_checkpoints`;

/** Takes the chain's advisory lock until the current transaction ends (a no-op when already held). */
export async function lockAuditChain(pg: PgSession): Promise<void> {
  await pg.query('SELECT pg_advisory_xact_lock($1::bigint)', [AUDIT_CHAIN_LOCK_KEY]);
}

async function findRecordedRow(pg: PgSession, table: AuditTable, id: number): Promise<RecordedRow | undefined> {
  return (await pg.query<RecordedRow>(SELECT_ROW[table], [id]))[0];
}

async function findLatestCheckpoint(pg: PgSession): Promise<AuditCheckpointRow | undefined> {
  return (await pg.query<AuditCheckpointRow>(`${SELECT_CHECKPOINT} ORDER BY id DESC LIMIT 1`))[0];
}

async function findChainHead(pg: PgSession): Promise<{ seq: number; hash: string }> {
  const [entry] = await pg.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1');
  if (entry) return entry;
  const checkpoint = await findLatestCheckpoint(pg);
  return checkpoint ? { seq: checkpoint.throughSeq, hash: checkpoint.throughHash } : { seq: 0, hash: GENESIS_HASH };
}

async function findLatestEntry(pg: PgSession, table: AuditTable, id: number): Promise<AuditEntryRow | undefined> {
  return (await pg.query<AuditEntryRow>(`${SELECT_ENTRY} WHERE row_table = $1 AND row_id = $2 ORDER BY seq DESC LIMIT 1`, [table, id]))[0];
}

/** Appends an entry after the head. Call with {@link lockAuditChain} held. */
async function appendEntry(pg: PgSession, fields: Omit<AuditEntryFields, 'seq' | 'prevHash' | 'sealedBy'>): Promise<AuditEntryRow> {
  const head = await findChainHead(pg);
  const entry: AuditEntryFields = { ...fields, seq: head.seq + 1, prevHash: head.hash, sealedBy: auditProcessId() };
  const hash = hashEntry(entry);
  await pg.execute(
    `INSERT INTO audit_chain (seq, kind, row_table, row_id, run_id, row_hash, prev_hash, hash, sealed_at, sealed_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [entry.seq, entry.kind, entry.rowTable, entry.rowId, entry.runId, entry.rowHash, entry.prevHash, hash, entry.sealedAt, entry.sealedBy],
  );
  return { ...entry, hash };
}

/**
 * PostgreSQL form of `recordAuditState` (see the SQLite module): brings the chain up to date with row `id` of `table`,
 * under the chain's advisory lock, in a transaction (a savepoint inside the caller's).
 * @returns the entry appended, or null.
 */
export function recordAuditState(pg: PgSession, table: AuditTable, id: number, now = Date.now(), kind: 'seal' | 'genesis' = 'seal'): Promise<AuditEntryRow | null> {
  return pg.transaction(async () => {
    await lockAuditChain(pg);
    return recordLocked(pg, table, id, now, kind);
  });
}

/** {@link recordAuditState}'s work, for a caller already in a transaction holding {@link lockAuditChain}. */
async function recordLocked(pg: PgSession, table: AuditTable, id: number, now: number, kind: 'seal' | 'genesis'): Promise<AuditEntryRow | null> {
  const row = await findRecordedRow(pg, table, id);
  if (!row) return null;
  const latest = await findLatestEntry(pg, table, id);
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
  return appendEntry(pg, { kind: entryKind, rowTable: table, rowId: id, runId, rowHash, sealedAt: now });
}

/**
 * PostgreSQL form of `writeAudited`: runs `write` and then {@link recordAuditState} for the rows it names, in one
 * transaction (a savepoint when already inside one), holding the chain's advisory lock from before the write.
 */
export function writeAudited<T>(
  pg: PgSession,
  write: () => Promise<{ result: T; rows: ReadonlyArray<readonly [AuditTable, number]> }>,
  now = Date.now(),
): Promise<T> {
  return pg.transaction(async () => {
    await lockAuditChain(pg);
    const { result, rows } = await write();
    for (const [table, id] of rows) await recordLocked(pg, table, id, now, 'seal');
    return result;
  });
}

export const auditChain = (pg: PgSession): Repositories['auditChain'] => ({
  findRecordedRow: (table, id) => findRecordedRow(pg, table, id),
  findChainHead: () => findChainHead(pg),
  findLatestEntry: (table, id) => findLatestEntry(pg, table, id),
  listChainEntries: (afterSeq, limit) => pg.query<AuditEntryRow>(`${SELECT_ENTRY} WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, limit]),
  findLatestEntrySeq: async (table, id) =>
    (await pg.query<{ seq: number | null }>('SELECT max(seq) AS seq FROM audit_chain WHERE row_table = $1 AND row_id = $2', [table, id]))[0].seq,
  listUnchainedFinalRows: (table, afterId, limit) =>
    pg.query<{ id: number; status: string }>(
      `SELECT id, status FROM ${table === 'runs' ? 'runs' : 'actions'} t WHERE id > $1 AND status = ANY($2::text[])
         AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.row_table = $3 AND c.row_id = t.id) ORDER BY id LIMIT $4`,
      [afterId, table === 'runs' ? FINAL_RUN_STATUSES : FINAL_ACTION_STATUSES, table, limit],
    ),
  listCheckpoints: () => pg.query<AuditCheckpointRow>(`${SELECT_CHECKPOINT} ORDER BY id`),
  findLatestCheckpoint: () => findLatestCheckpoint(pg),
  findCheckpoint: async (id) => (await pg.query<AuditCheckpointRow>(`${SELECT_CHECKPOINT} WHERE id = $1`, [id]))[0],
  countChain: async () =>
    (await pg.query<{ entries: number; checkpoints: number }>(
      'SELECT (SELECT count(*) FROM audit_chain) AS entries, (SELECT count(*) FROM audit_checkpoints) AS checkpoints',
    ))[0],
  countCheckpoints: async () => (await pg.query<{ n: number }>('SELECT count(*) AS n FROM audit_checkpoints'))[0].n,
});
