/**
 * The PostgreSQL twins of `../report-schema.ts` (request types, variants, ticket groups, import checkpoints): same
 * names; column meanings are documented there. Type mapping: `schema.ts` in this folder (decision 018).
 */
import { index, pgTable, text } from 'drizzle-orm/pg-core';
import { int, tickets } from './schema.js';

export const requestTypes = pgTable('request_types', {
  id: text('id').primaryKey(),
  algorithm: text('algorithm').notNull(),
  name: text('name').notNull(),
  keyWords: text('key_words').notNull(),
  size: int('size').notNull(),
  labels: text('labels').notNull().default('[]'),
  dominantLabel: text('dominant_label'),
  exampleKeys: text('example_keys').notNull().default('[]'),
  computedAt: int('computed_at').notNull(),
});

export const requestVariants = pgTable(
  'request_variants',
  {
    id: text('id').primaryKey(),
    typeId: text('type_id')
      .notNull()
      .references(() => requestTypes.id, { onDelete: 'cascade' }),
    algorithm: text('algorithm').notNull(),
    template: text('template').notNull(),
    size: int('size').notNull(),
    computedAt: int('computed_at').notNull(),
  },
  (t) => [index('request_variants_type_idx').on(t.typeId)],
);

export const ticketGroups = pgTable(
  'ticket_groups',
  {
    ticketId: text('ticket_id')
      .primaryKey()
      .references(() => tickets.id, { onDelete: 'cascade' }),
    typeId: text('type_id'),
    variantId: text('variant_id'),
    algorithm: text('algorithm').notNull(),
    reason: text('reason').notNull(),
    decidingWords: text('deciding_words').notNull().default('[]'),
    nearest: text('nearest'),
    created: int('created'),
    computedAt: int('computed_at').notNull(),
  },
  (t) => [
    index('ticket_groups_type_idx').on(t.typeId, t.created, t.ticketId),
    index('ticket_groups_variant_idx').on(t.variantId),
    index('ticket_groups_created_type_idx').on(t.created, t.typeId),
  ],
);

export const importCheckpoints = pgTable('import_checkpoints', {
  source: text('source').primaryKey(),
  cursor: text('cursor'),
  imported: int('imported').notNull().default(0),
  skipped: int('skipped').notNull().default(0),
  status: text('status').notNull(),
  fingerprint: text('fingerprint'),
  startedAt: int('started_at').notNull(),
  updatedAt: int('updated_at').notNull(),
});
