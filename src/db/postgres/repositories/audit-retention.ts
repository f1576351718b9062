/**
 * PostgreSQL twin of `../../audit-retention.ts` (pruning old runs with the oldest stretch of the audit chain behind a
 * checkpoint, decision 011). Function contracts are documented in the SQLite module; `inWriteTransaction` has no twin
 * (it is not in the Store: a caller runs plan, archive and apply inside `store.transaction`).
 *
 * Where the SQL differs, and why:
 * - **One pruner, no appender in between.** SQLite's write transaction excludes every other writer from plan to
 *   apply. Here {@link planAuditPrune} and {@link applyAuditPrune} take the chain's transaction advisory lock
 *   (`lockAuditChain` of `./audit-chain.ts`, the lock every append takes), so a second replica pruning at the same time
 *   waits and then plans from the new checkpoint, and no entry is appended between the plan and the delete. The lock
 *   lasts until the caller's transaction ends, so call them inside `store.transaction` as SQLite's callers do inside
 *   `inWriteTransaction`.
 * - **Archived rows as SQLite stores them.** {@link readAuditPruneRows} renders `boolean` columns (`dry_run`, `shadow`,
 *   `applied`, `feedback`) as 0/1, so the archive's lines are what SQLite writes and `verify-archive` re-hashes runs as
 *   the chain sealed them (decision 011's canonical form). Not identical: a row's keys come in PostgreSQL's column
 *   order (the drizzle schema's), where SQLite's follow its migrations (columns added by ALTER TABLE come last), so an
 *   archive line is the same JSON value with its keys in another order; the verifier and the canonical form
 *   (`canonicalJson`, sorted keys) do not see the difference. The checkpoint and entry lines are byte for byte alike.
 * - `status IN (SELECT value FROM json_each(?))` → `status = ANY($n::text[])`; the walk's `candidate` (SQLite: 1/0/null)
 *   is cast `::int`; `id IN (json_each)` → `= ANY($n::bigint[])`; aliases quoted (PostgreSQL folds them to lower case).
 */
import { FINAL_RUN_STATUSES, GENESIS_HASH, auditProcessId, hashCheckpoint } from '../../../audit/audit-chain.js';
import type { AuditCheckpointRow } from '../../audit-schema.js';
import { AUDIT_PRUNE_BATCH, prunableStretch, prunedRunIds, type AuditPrunePlan, type AuditPruneRows, type WalkedEntry } from '../../audit-retention.js';
import type { Repositories } from '../../store.js';
import type { PgSession } from '../pg-session.js';
import { lockAuditChain } from './audit-chain.js';

const SELECT_LATEST_CHECKPOINT = `SELECT id, through_seq AS "throughSeq", hash FROM audit_checkpoints ORDER BY id DESC LIMIT 1`;

/** Every value as SQLite stores it: booleans as 0/1 (the rest arrives as SQLite's: numbers, text, null). */
const asStored = (row: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(row).map(([column, value]) => [column, typeof value === 'boolean' ? Number(value) : value]));

export const auditRetention = (pg: PgSession): Repositories['auditRetention'] => {
  const latestCheckpoint = async () => (await pg.query<{ id: number; throughSeq: number; hash: string }>(SELECT_LATEST_CHECKPOINT))[0];

  const walkPrunable = async (before: number, from: number, limit: number) => {
    const entries = await pg.query<WalkedEntry>(
      `SELECT e.seq, e.run_id AS "runId", e.hash, e.prev_hash AS "prevHash",
         (SELECT max(l.seq) FROM audit_chain l WHERE l.row_table = e.row_table AND l.row_id = e.row_id) AS latest,
         (SELECT max(g.seq) FROM audit_chain g WHERE g.run_id = e.run_id) AS "groupMax",
         (SELECT (r.status = ANY($1::text[]) AND r.created_at < $2)::int FROM runs r WHERE r.id = e.run_id) AS candidate
       FROM audit_chain e WHERE e.seq > $3 ORDER BY e.seq LIMIT $4`,
      [FINAL_RUN_STATUSES, before, from, limit],
    );
    return { ...prunableStretch(entries, from), entries };
  };

  const planOf = async (from: number, through: number, entries: WalkedEntry[]): Promise<AuditPrunePlan> => {
    const kept = entries.filter((e) => e.seq <= through);
    const runIds = prunedRunIds(entries, through);
    const [range] = await pg.query<{ oldest: number | null; newest: number | null }>(
      'SELECT min(created_at) AS oldest, max(created_at) AS newest FROM runs WHERE id = ANY($1::bigint[])',
      [runIds],
    );
    return {
      firstSeq: from + 1,
      throughSeq: through,
      fromHash: kept[0].prevHash,
      throughHash: kept.at(-1)!.hash,
      runIds,
      oldestCreatedAt: range.oldest,
      newestCreatedAt: range.newest,
    };
  };

  return {
    planAuditPrune: async (before: number, limit = AUDIT_PRUNE_BATCH) => {
      await lockAuditChain(pg);
      const from = (await latestCheckpoint())?.throughSeq ?? 0;
      for (let size = limit; ; ) {
        const walked = await walkPrunable(before, from, size);
        if (walked.through > from) return planOf(from, walked.through, walked.entries);
        if (walked.widenTo === null || walked.widenTo <= size) return null;
        size = walked.widenTo;
      }
    },

    readAuditPruneRows: async (plan: AuditPrunePlan): Promise<AuditPruneRows> => {
      const ids = plan.runIds;
      const byRun = async (sql: string) => {
        const map = new Map<number, Array<Record<string, unknown>>>();
        for (const row of await pg.query<Record<string, unknown>>(sql, [ids])) {
          const runId = Number(row.run_id);
          map.set(runId, [...(map.get(runId) ?? []), asStored(row)]);
        }
        return map;
      };
      return {
        runs: (await pg.query<Record<string, unknown>>('SELECT * FROM runs WHERE id = ANY($1::bigint[]) ORDER BY id', [ids])).map(asStored),
        actions: await byRun('SELECT * FROM actions WHERE run_id = ANY($1::bigint[]) ORDER BY run_id, seq, id'),
        approvals: await byRun('SELECT * FROM approvals WHERE run_id = ANY($1::bigint[]) ORDER BY run_id, id'),
        ruleSettings: new Map(
          (await pg.query<Record<string, unknown>>('SELECT * FROM run_rule_settings WHERE run_id = ANY($1::bigint[])', [ids])).map((row) => [
            Number(row.run_id),
            asStored(row),
          ]),
        ),
        entries: (await pg.query<Record<string, unknown>>('SELECT * FROM audit_chain WHERE seq >= $1 AND seq <= $2 ORDER BY seq', [plan.firstSeq, plan.throughSeq])).map(
          asStored,
        ),
      };
    },

    checkpointFor: async (plan: AuditPrunePlan, archive: string | null, now = Date.now()): Promise<AuditCheckpointRow> => {
      const previous = await latestCheckpoint();
      const [counts] = await pg.query<{ n: number }>('SELECT count(*) AS n FROM actions WHERE run_id = ANY($1::bigint[])', [plan.runIds]);
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
    },

    applyAuditPrune: async (plan: AuditPrunePlan, checkpoint: AuditCheckpointRow) => {
      await pg.transaction(async () => {
        await lockAuditChain(pg);
        for (const table of ['approvals', 'run_rule_settings', 'actions']) {
          await pg.execute(`DELETE FROM ${table} WHERE run_id = ANY($1::bigint[])`, [plan.runIds]);
        }
        await pg.execute('DELETE FROM runs WHERE id = ANY($1::bigint[])', [plan.runIds]);
        await pg.execute('DELETE FROM audit_chain WHERE seq <= $1', [plan.throughSeq]);
        const c = checkpoint;
        await pg.execute(
          `INSERT INTO audit_checkpoints (id, first_seq, through_seq, from_hash, through_hash, runs, actions, entries, oldest_created_at, newest_created_at,
             archive, created_at, created_by, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
          [c.id, c.firstSeq, c.throughSeq, c.fromHash, c.throughHash, c.runs, c.actions, c.entries, c.oldestCreatedAt, c.newestCreatedAt, c.archive, c.createdAt,
            c.createdBy, c.prevHash, c.hash],
        );
      });
    },

    countPrunableRuns: async (before: number) =>
      (await pg.query<{ n: number }>('SELECT count(*) AS n FROM runs WHERE created_at < $1 AND status = ANY($2::text[])', [before, FINAL_RUN_STATUSES]))[0].n,
  };
};
