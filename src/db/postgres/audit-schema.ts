/**
 * The PostgreSQL twins of `../audit-schema.ts` (the audit chain and its checkpoints, decision 011): same names; column
 * meanings are documented there. Type mapping: `schema.ts` in this folder (decision 018). `seq` and `id` are assigned
 * by deflect (no identity), as in SQLite.
 */
import { index, pgTable, text } from 'drizzle-orm/pg-core';
import { int } from './schema.js';

export const auditChain = pgTable(
  'audit_chain',
  {
    seq: int('seq').primaryKey(),
    kind: text('kind').notNull(),
    rowTable: text('row_table').notNull(),
    rowId: int('row_id').notNull(),
    runId: int('run_id').notNull(),
    rowHash: text('row_hash').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
    sealedAt: int('sealed_at').notNull(),
    sealedBy: text('sealed_by').notNull(),
  },
  (t) => [index('audit_chain_row_idx').on(t.rowTable, t.rowId, t.seq), index('audit_chain_run_idx').on(t.runId, t.seq)],
);

export const auditCheckpoints = pgTable('audit_checkpoints', {
  id: int('id').primaryKey(),
  firstSeq: int('first_seq').notNull(),
  throughSeq: int('through_seq').notNull(),
  fromHash: text('from_hash').notNull(),
  throughHash: text('through_hash').notNull(),
  runs: int('runs').notNull(),
  actions: int('actions').notNull(),
  entries: int('entries').notNull(),
  oldestCreatedAt: int('oldest_created_at'),
  newestCreatedAt: int('newest_created_at'),
  archive: text('archive'),
  createdAt: int('created_at').notNull(),
  createdBy: text('created_by').notNull(),
  prevHash: text('prev_hash').notNull(),
  hash: text('hash').notNull(),
});
