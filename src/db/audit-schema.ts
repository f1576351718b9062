/**
 * The audit chain's tables (decision 011, docs/decisions/011-tamper-evident-audit.md), beside the main schema
 * (`schema.ts`) as the report's are in `report-schema.ts`. Same conventions: camelCase properties, snake_case columns,
 * times in epoch ms. SQL: `db/audit-chain.ts`, `db/audit-retention.ts`.
 */
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * (audit chain) The append-only chain of audit entries over runs and actions: one entry each time a row reaches a
 * final status (`seal`; `genesis` for rows sealed by the upgrade pass) or a sealed row is reopened (`reopen`: an
 * operator's retry, a failed action sent again). `hash` = SHA-256 of the entry's canonical form, which includes
 * `prev_hash` (the previous entry's `hash`, 64 zeros for the first): changing, removing or inserting an entry or a
 * sealed row breaks verification. Written only by `recordAuditState` (src/db/audit-chain.ts); decision 011.
 */
export const auditChain = sqliteTable(
  'audit_chain',
  {
    /** 1, 2, 3 … without gaps (after the last checkpoint's `through_seq`). */
    seq: integer('seq').primaryKey(),
    /** `seal` | `genesis` | `reopen`. */
    kind: text('kind').notNull(),
    /** `runs` | `actions`. */
    rowTable: text('row_table').notNull(),
    rowId: integer('row_id').notNull(),
    /** The run the row belongs to (the run itself for a `runs` row). */
    runId: integer('run_id').notNull(),
    /** SHA-256 (hex) of the row's canonical form when the entry was written. */
    rowHash: text('row_hash').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
    /** When the entry was written, ms. */
    sealedAt: integer('sealed_at').notNull(),
    /** The process that wrote it: `<hostname>:<pid>`. */
    sealedBy: text('sealed_by').notNull(),
  },
  (t) => [index('audit_chain_row_idx').on(t.rowTable, t.rowId, t.seq), index('audit_chain_run_idx').on(t.runId, t.seq)],
);

/**
 * (audit chain) One row per retention prune batch (`DEFLECT_AUDIT_RETENTION`): entries `first_seq..through_seq` and
 * the runs they sealed were removed; `through_hash` is the `hash` of entry `through_seq`, so the next entry must link
 * to it. Checkpoints chain too (`prev_hash` = the previous checkpoint's `hash`). Decision 011.
 */
export const auditCheckpoints = sqliteTable('audit_checkpoints', {
  id: integer('id').primaryKey(),
  firstSeq: integer('first_seq').notNull(),
  throughSeq: integer('through_seq').notNull(),
  /** `prev_hash` of entry `first_seq` (the hash the pruned stretch started from). */
  fromHash: text('from_hash').notNull(),
  throughHash: text('through_hash').notNull(),
  /** Runs, actions and chain entries pruned. */
  runs: integer('runs').notNull(),
  actions: integer('actions').notNull(),
  entries: integer('entries').notNull(),
  /** `created_at` range (ms) of the pruned runs; null when none. */
  oldestCreatedAt: integer('oldest_created_at'),
  newestCreatedAt: integer('newest_created_at'),
  /** File name of the JSONL archive written before the delete, or null (no `DEFLECT_AUDIT_ARCHIVE_DIR`). */
  archive: text('archive'),
  createdAt: integer('created_at').notNull(),
  createdBy: text('created_by').notNull(),
  prevHash: text('prev_hash').notNull(),
  hash: text('hash').notNull(),
});

export type AuditEntryRow = typeof auditChain.$inferSelect;
export type AuditCheckpointRow = typeof auditCheckpoints.$inferSelect;
