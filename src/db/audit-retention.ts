/**
 * Retention of the audit trail (`DEFLECT_AUDIT_RETENTION`; decision 011): deleting runs older than the window with
 * their actions, approvals and rule settings, together with the **oldest stretch of the audit chain** that sealed
 * them, and recording a checkpoint that carries the hash of that stretch, so the chain still verifies.
 *
 * A stretch ends before the first entry that is the latest entry of a row that must stay: a run not in a final status,
 * created within the window, or (with its actions) still having an entry after the stretch. Superseded entries (a row
 * sealed again later) inside the stretch go too: only a row's latest entry proves its current state. Runs queued,
 * running or awaiting approval are therefore never pruned, and a run kept behind a newer one waits for a later prune.
 *
 * The caller ({@link ../audit/audit-retention.ts}) runs {@link planAuditPrune}, writes the archive, then
 * {@link applyAuditPrune}, all inside {@link inWriteTransaction}.
 */
import { FINAL_RUN_STATUSES, GENESIS_HASH, hashCheckpoint, auditProcessId } from '../audit/audit-chain.js';
import { findLatestCheckpoint } from './audit-chain.js';
import type { Db } from './client.js';
import type { AuditCheckpointRow } from './audit-schema.js';
import { statement } from './statements.js';

/** Chain entries looked at per prune batch (one checkpoint, one archive file each). */
export const AUDIT_PRUNE_BATCH = 5000;

/** What one prune batch removes. */
export interface AuditPrunePlan {
  firstSeq: number;
  throughSeq: number;
  fromHash: string;
  throughHash: string;
  /** Runs deleted (with their actions, approvals, rule settings), ascending. */
  runIds: number[];
  oldestCreatedAt: number | null;
  newestCreatedAt: number | null;
}

/** The rows a plan deletes, as stored (every column), for the archive. */
export interface AuditPruneRows {
  runs: Array<Record<string, unknown>>;
  /** By run id. */
  actions: Map<number, Array<Record<string, unknown>>>;
  approvals: Map<number, Array<Record<string, unknown>>>;
  ruleSettings: Map<number, Record<string, unknown>>;
  /** Chain entries `firstSeq..throughSeq` in seq order (every column). */
  entries: Array<Record<string, unknown>>;
}

/** Runs `work` in one IMMEDIATE write transaction (a savepoint inside one). */
export function inWriteTransaction<T>(db: Db, work: () => T): T {
  return db.$client.transaction(work).immediate();
}

/** One chain entry as the prune walk reads it: `latest` = the newest seq of its row, `groupMax` = of its run. */
export interface WalkedEntry {
  seq: number;
  runId: number;
  hash: string;
  prevHash: string;
  latest: number;
  groupMax: number;
  candidate: number | null;
}

/**
 * Plans one batch: the longest prunable stretch of at most `limit` entries after the newest checkpoint, for runs
 * created before `before` (ms). Call inside {@link inWriteTransaction}.
 * @returns null when nothing can be pruned.
 */
export function planAuditPrune(db: Db, before: number, limit = AUDIT_PRUNE_BATCH): AuditPrunePlan | null {
  const from = findLatestCheckpoint(db)?.throughSeq ?? 0;
  // A run sealed long after its first action can span more entries than a batch: widen the batch to take it whole.
  for (let size = limit; ; ) {
    const walked = walkPrunable(db, before, from, size);
    if (walked.through > from) return planOf(db, from, walked.through, walked.entries);
    if (walked.widenTo === null || walked.widenTo <= size) return null;
    size = walked.widenTo;
  }
}

function walkPrunable(db: Db, before: number, from: number, limit: number): { through: number; entries: WalkedEntry[]; widenTo: number | null } {
  const entries = statement(db,
    `SELECT e.seq, e.run_id AS runId, e.hash, e.prev_hash AS prevHash,
       (SELECT max(l.seq) FROM audit_chain l WHERE l.row_table = e.row_table AND l.row_id = e.row_id) AS latest,
       (SELECT max(g.seq) FROM audit_chain g WHERE g.run_id = e.run_id) AS groupMax,
       (SELECT r.status IN (SELECT value FROM json_each(?)) AND r.created_at < ? FROM runs r WHERE r.id = e.run_id) AS candidate
     FROM audit_chain e WHERE e.seq > ? ORDER BY e.seq LIMIT ?`,
  ).all(JSON.stringify(FINAL_RUN_STATUSES), before, from, limit) as WalkedEntry[];
  return { ...prunableStretch(entries, from), entries };
}

/**
 * The prune walk over `entries` (in seq order, after checkpoint seq `from`): `through`, the last seq that can go, and
 * `widenTo`, the batch size that would take a run spanning past the batch whole (null when none). Pure: shared with
 * the PostgreSQL twin.
 */
export function prunableStretch(entries: readonly WalkedEntry[], from: number): { through: number; widenTo: number | null } {
  let through = from;
  for (const entry of entries) {
    if (entry.seq !== through + 1) break; // a gap: leave it for `audit verify` to report
    if (entry.latest === entry.seq && entry.candidate !== 1) break;
    through = entry.seq;
  }
  // A run goes with all its rows: cut the stretch before the first run whose entries reach past it; repeat until stable.
  let widenTo: number | null = null;
  for (let changed = true; changed; ) {
    changed = false;
    for (const entry of entries) {
      if (entry.seq > through) break;
      if (entry.latest === entry.seq && entry.groupMax > through) {
        if (through === entries.at(-1)?.seq && entry.seq === from + 1) widenTo = entry.groupMax - from;
        through = entry.seq - 1;
        changed = true;
        break;
      }
    }
  }
  return { through, widenTo };
}

/** The runs whose every entry is in the stretch up to `through` (ascending ids): the runs a prune removes. */
export function prunedRunIds(entries: readonly WalkedEntry[], through: number): number[] {
  return [...new Set(entries.filter((e) => e.seq <= through && e.latest === e.seq).map((e) => e.runId))].sort((a, b) => a - b);
}

function planOf(db: Db, from: number, through: number, entries: WalkedEntry[]): AuditPrunePlan {
  const kept = entries.filter((e) => e.seq <= through);
  const runIds = prunedRunIds(entries, through);
  const range = statement(db, 'SELECT min(created_at) AS oldest, max(created_at) AS newest FROM runs WHERE id IN (SELECT value FROM json_each(?))')
    .get(JSON.stringify(runIds)) as { oldest: number | null; newest: number | null };
  return {
    firstSeq: from + 1,
    throughSeq: through,
    fromHash: kept[0].prevHash,
    throughHash: kept.at(-1)!.hash,
    runIds,
    oldestCreatedAt: range.oldest,
    newestCreatedAt: range.newest,
  };
}

/** Every stored column of the rows `plan` deletes (for the archive). */
export function readAuditPruneRows(db: Db, plan: AuditPrunePlan): AuditPruneRows {
  const ids = JSON.stringify(plan.runIds);
  const byRun = (sql: string) => {
    const map = new Map<number, Array<Record<string, unknown>>>();
    for (const row of statement(db, sql).all(ids) as Array<Record<string, unknown>>) {
      const runId = Number(row.run_id);
      map.set(runId, [...(map.get(runId) ?? []), row]);
    }
    return map;
  };
  return {
    runs: statement(db, 'SELECT * FROM runs WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id').all(ids) as Array<Record<string, unknown>>,
    actions: byRun('SELECT * FROM actions WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, seq, id'),
    approvals: byRun('SELECT * FROM approvals WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, id'),
    ruleSettings: new Map(
      (statement(db, 'SELECT * FROM run_rule_settings WHERE run_id IN (SELECT value FROM json_each(?))').all(ids) as Array<Record<string, unknown>>).map(
        (row) => [Number(row.run_id), row],
      ),
    ),
    entries: statement(db, 'SELECT * FROM audit_chain WHERE seq >= ? AND seq <= ? ORDER BY seq').all(plan.firstSeq, plan.throughSeq) as Array<Record<string, unknown>>,
  };
}

/**
 * The checkpoint `plan` will write (its id and hash included), so the archive can carry it before the delete.
 * @param archive the archive's file name, or null.
 */
export function checkpointFor(db: Db, plan: AuditPrunePlan, archive: string | null, now = Date.now()): AuditCheckpointRow {
  const previous = findLatestCheckpoint(db);
  const counts = statement(db, 'SELECT count(*) AS n FROM actions WHERE run_id IN (SELECT value FROM json_each(?))').get(JSON.stringify(plan.runIds)) as { n: number };
  const fields = {
    id: (previous?.id ?? 0) + 1,
    firstSeq: plan.firstSeq,
    throughSeq: plan.throughSeq,
    fromHash: plan.fromHash,
    throughHash: plan.throughHash,
    runs: plan.runIds.length,
    actions: counts.n,
    entries: plan.throughSeq - plan.firstSeq + 1,
    oldestCreatedAt: plan.oldestCreatedAt,
    newestCreatedAt: plan.newestCreatedAt,
    archive,
    createdAt: now,
    createdBy: auditProcessId(),
    prevHash: previous?.hash ?? GENESIS_HASH,
  };
  return { ...fields, hash: hashCheckpoint(fields) };
}

/** Deletes what `plan` covers and inserts `checkpoint` (from {@link checkpointFor}). Call inside the plan's transaction. */
export function applyAuditPrune(db: Db, plan: AuditPrunePlan, checkpoint: AuditCheckpointRow): void {
  const ids = JSON.stringify(plan.runIds);
  for (const table of ['approvals', 'run_rule_settings', 'actions']) {
    statement(db, `DELETE FROM ${table} WHERE run_id IN (SELECT value FROM json_each(?))`).run(ids);
  }
  statement(db, 'DELETE FROM runs WHERE id IN (SELECT value FROM json_each(?))').run(ids);
  statement(db, 'DELETE FROM audit_chain WHERE seq <= ?').run(plan.throughSeq);
  const c = checkpoint;
  statement(db,
    `INSERT INTO audit_checkpoints (id, first_seq, through_seq, from_hash, through_hash, runs, actions, entries, oldest_created_at, newest_created_at,
       archive, created_at, created_by, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(c.id, c.firstSeq, c.throughSeq, c.fromHash, c.throughHash, c.runs, c.actions, c.entries, c.oldestCreatedAt, c.newestCreatedAt, c.archive, c.createdAt,
    c.createdBy, c.prevHash, c.hash);
}

/** Final runs created before `before` (ms): at most what retention would prune now (`deflect prune --dry-run`). */
export function countPrunableRuns(db: Db, before: number): number {
  return (statement(db, 'SELECT count(*) AS n FROM runs WHERE created_at < ? AND status IN (SELECT value FROM json_each(?))')
    .get(before, JSON.stringify(FINAL_RUN_STATUSES)) as { n: number }).n;
}
