/**
 * Audit retention (`DEFLECT_AUDIT_RETENTION`, `DEFLECT_AUDIT_ARCHIVE_DIR`; decision 011): prunes runs older than the
 * window, batch by batch, each batch one write transaction that plans the stretch of the chain to remove
 * (`db/audit-retention.ts`), writes and fsyncs its archive file (when an archive folder is set), deletes, and records
 * the checkpoint. Run by `deflect prune` and by serve's hourly prune (worker/prune-deliveries.ts).
 *
 * Archive file (JSONL, one per batch = one checkpoint), named
 * `deflect-audit-<oldest run YYYY-MM-DD>_<newest run YYYY-MM-DD>-checkpoint-<id>.jsonl`; lines, in this order:
 * - `{"type":"checkpoint","checkpoint":{…}}`: the checkpoint row (camelCase, as stored in `audit_checkpoints`);
 * - `{"type":"entry","entry":{…}}`: every pruned chain entry, seq order (columns as stored, snake_case);
 * - `{"type":"run","run":{…},"actions":[…],"approvals":[…],"ruleSettings":{…}|null}`: every pruned run with its rows,
 *   every column as stored (the ticket snapshot included: protect the folder like the database).
 * `deflect audit verify --archive FILE` checks one (audit/verify-archive.ts).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../db/store.js';
import { AUDIT_PRUNE_BATCH, type AuditPrunePlan, type AuditPruneRows } from '../db/audit-retention.js';
import type { AuditCheckpointRow } from '../db/audit-schema.js';

/** What a prune removed, over all its batches. */
export interface AuditPruneResult {
  runs: number;
  actions: number;
  entries: number;
  /** Checkpoints written (one per batch). */
  checkpoints: number;
  /** Archive files written (full paths). */
  archives: string[];
  /** The newest checkpoint's chain position after the prune, or null when nothing was pruned. */
  throughSeq: number | null;
}

export interface AuditPruneOptions {
  /** Runs created more than this long before `now` are pruned, ms. */
  retentionMs: number;
  /** Folder for the archive files (created if missing); null = prune without archiving. */
  archiveDir: string | null;
  now?: number;
  /** Chain entries per batch (default {@link AUDIT_PRUNE_BATCH}). */
  batchSize?: number;
  /** Checked between batches; false stops after the current one. */
  keepGoing?: () => boolean;
}

const day = (ms: number | null) => (ms === null ? 'none' : new Date(ms).toISOString().slice(0, 10));

/** The archive file name of a checkpoint. */
export function archiveFileName(plan: Pick<AuditPrunePlan, 'oldestCreatedAt' | 'newestCreatedAt'>, checkpointId: number): string {
  return `deflect-audit-${day(plan.oldestCreatedAt)}_${day(plan.newestCreatedAt)}-checkpoint-${checkpointId}.jsonl`;
}

/** The archive's lines (see the module comment), each JSON without a newline. */
export function* archiveLines(checkpoint: AuditCheckpointRow, rows: AuditPruneRows): Generator<string> {
  yield JSON.stringify({ type: 'checkpoint', checkpoint });
  for (const entry of rows.entries) yield JSON.stringify({ type: 'entry', entry });
  for (const run of rows.runs) {
    const id = Number(run.id);
    yield JSON.stringify({ type: 'run', run, actions: rows.actions.get(id) ?? [], approvals: rows.approvals.get(id) ?? [], ruleSettings: rows.ruleSettings.get(id) ?? null });
  }
}

/**
 * Writes `lines` to the file at `path` and fsyncs it and its folder before returning. A file already there is replaced:
 * checkpoint ids are unique once committed, so it can only be left by a batch whose transaction rolled back.
 * @throws when the file cannot be written (the batch then deletes nothing).
 */
function writeDurably(path: string, dir: string, lines: Iterable<string>): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    let chunk = '';
    for (const line of lines) {
      chunk += `${line}\n`;
      if (chunk.length > 1 << 20) chunk = (writeSync(fd, chunk), '');
    }
    if (chunk) writeSync(fd, chunk);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/**
 * One batch: plan, archive (fsynced), delete, checkpoint, in one write transaction.
 * @returns the checkpoint and the archive path, or null when nothing could be pruned.
 * @throws the file or database error (the transaction is rolled back: nothing deleted).
 */
export async function pruneAuditBatch(db: Store, before: number, archiveDir: string | null, batchSize = AUDIT_PRUNE_BATCH, now = Date.now()): Promise<{ checkpoint: AuditCheckpointRow; archive: string | null } | null> {
  return db.transaction(async () => {
    const plan = await db.planAuditPrune(before, batchSize);
    if (!plan) return null;
    const draft = await db.checkpointFor(plan, null, now);
    const name = archiveDir === null ? null : archiveFileName(plan, draft.id);
    const checkpoint = name === null ? draft : await db.checkpointFor(plan, name, now);
    if (archiveDir !== null && name !== null) writeDurably(join(archiveDir, name), archiveDir, archiveLines(checkpoint, await db.readAuditPruneRows(plan)));
    await db.applyAuditPrune(plan, checkpoint);
    return { checkpoint, archive: archiveDir !== null && name !== null ? join(archiveDir, name) : null };
  });
}

/**
 * Prunes every run older than the window that can go (see `db/audit-retention.ts`), batch after batch, yielding to the
 * event loop between batches.
 * @throws the error of a failing batch (earlier batches stay committed, with their archives).
 */
export async function pruneAuditRecords(db: Store, options: AuditPruneOptions): Promise<AuditPruneResult> {
  const { retentionMs, archiveDir, now = Date.now(), batchSize = AUDIT_PRUNE_BATCH, keepGoing = () => true } = options;
  if (archiveDir !== null) mkdirSync(archiveDir, { recursive: true });
  const total: AuditPruneResult = { runs: 0, actions: 0, entries: 0, checkpoints: 0, archives: [], throughSeq: null };
  for (;;) {
    const batch = await pruneAuditBatch(db, now - retentionMs, archiveDir, batchSize, now);
    if (!batch) return total;
    total.runs += batch.checkpoint.runs;
    total.actions += batch.checkpoint.actions;
    total.entries += batch.checkpoint.entries;
    total.checkpoints++;
    total.throughSeq = batch.checkpoint.throughSeq;
    if (batch.archive) total.archives.push(batch.archive);
    if (!keepGoing()) return total;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
