/**
 * Tables behind the top-tickets report and history import (drizzle-orm, SQLite; times are epoch ms).
 * Kept beside `schema.ts` (drizzle.config.ts lists both); migrations are generated from both.
 */
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { tickets } from './schema.js';

/**
 * A repeated request type found by text (`text-v2`: an action on a kind of object), as stored by `deflect group`.
 * Shape of the values: `src/grouping/grouping-contract.ts` (`RequestType`).
 */
export const requestTypes = sqliteTable('request_types', {
  /** `type:<12 hex>` (hash of the algorithm version and the defining words). */
  id: text('id').primaryKey(),
  /** The grouping algorithm version that made it, e.g. `text-v2`. */
  algorithm: text('algorithm').notNull(),
  /** Readable name, e.g. `Add … to team`. */
  name: text('name').notNull(),
  /** The normalised words that define it (JSON array of strings). */
  keyWords: text('key_words').notNull(),
  /** Members when computed (all time). */
  size: integer('size').notNull(),
  /** Labels the members carry, most common first (JSON array of `{ label, count }`). */
  labels: text('labels').notNull().default('[]'),
  dominantLabel: text('dominant_label'),
  /** Up to 5 member keys (JSON array). */
  exampleKeys: text('example_keys').notNull().default('[]'),
  computedAt: integer('computed_at').notNull(),
});

/** The wordings (variants) of each request type. */
export const requestVariants = sqliteTable(
  'request_variants',
  {
    /** `variant:<12 hex>`. */
    id: text('id').primaryKey(),
    typeId: text('type_id')
      .notNull()
      .references(() => requestTypes.id, { onDelete: 'cascade' }),
    algorithm: text('algorithm').notNull(),
    /** Human-readable template, e.g. `Add <*> to <*> maintainers`. */
    template: text('template').notNull(),
    /** Members when computed (all time). */
    size: integer('size').notNull(),
    computedAt: integer('computed_at').notNull(),
  },
  (t) => [index('request_variants_type_idx').on(t.typeId)],
);

/**
 * Each ticket's request type and variant and why, including tickets that repeat nothing (`type_id` null, with the
 * nearest type in `nearest`). Rows left by `text-v1` (before the migration) keep their algorithm and have no type:
 * the report calls such a grouping stale until `deflect group` runs.
 */
export const ticketGroups = sqliteTable(
  'ticket_groups',
  {
    ticketId: text('ticket_id')
      .primaryKey()
      .references(() => tickets.id, { onDelete: 'cascade' }),
    typeId: text('type_id'),
    variantId: text('variant_id'),
    algorithm: text('algorithm').notNull(),
    /** Why the ticket is where it is (what `deflect explain` prints). */
    reason: text('reason').notNull(),
    /** The normalised words that decided the type (JSON array; empty for a singleton). */
    decidingWords: text('deciding_words').notNull().default('[]'),
    /** Singleton: the nearest type and why it did not join (JSON `{ typeId, name, similarity, why }`), else null. */
    nearest: text('nearest'),
    /** Copy of tickets.created (ms) so the report filters a window on the (type, created) index. */
    created: integer('created'),
    computedAt: integer('computed_at').notNull(),
  },
  (t) => [
    // ticket_id too, so the report counts a type's members without a label (previous window) from the index alone.
    index('ticket_groups_type_idx').on(t.typeId, t.created, t.ticketId),
    index('ticket_groups_variant_idx').on(t.variantId),
    // The report's per-window aggregate scans a date range, then groups.
    index('ticket_groups_created_type_idx').on(t.created, t.typeId),
  ],
);

/** Progress of an import, so an interrupted one resumes where it stopped. */
export const importCheckpoints = sqliteTable('import_checkpoints', {
  /** `jsonl:<absolute path>`, `csv:<absolute path>` or `jql:<query>`. */
  source: text('source').primaryKey(),
  /** Where to resume: the last committed line number (files) or the next page token (JQL). */
  cursor: text('cursor'),
  /** Tickets written so far. */
  imported: integer('imported').notNull().default(0),
  /** Rows skipped as bad so far. */
  skipped: integer('skipped').notNull().default(0),
  /** `running` | `done` */
  status: text('status').notNull(),
  /** File size and mtime (ms) when the import started, to detect a changed file: `<size>:<mtime>`. */
  fingerprint: text('fingerprint'),
  startedAt: integer('started_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});
