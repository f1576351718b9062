/**
 * Tables behind the top-tickets report and history import (drizzle-orm, SQLite; times are epoch ms).
 * Kept beside `schema.ts` (drizzle.config.ts lists both); migrations are generated from both.
 */
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { tickets } from './schema.js';

/** A repeated request type found by text, as stored by `deflect group` (algorithm-versioned). */
export const textGroups = sqliteTable('text_groups', {
  /** `text:<12 hex>` (hash of the algorithm version and signature). */
  id: text('id').primaryKey(),
  /** The grouping algorithm version that made it, e.g. `text-v1`. */
  algorithm: text('algorithm').notNull(),
  /** Human-readable template, e.g. `Reset <*> feedstock token`. */
  template: text('template').notNull(),
  /** The normalised words that define it (JSON array). */
  signature: text('signature').notNull(),
  /** Members when computed (all time). */
  size: integer('size').notNull(),
  computedAt: integer('computed_at').notNull(),
});

/** Each ticket's text-group assignment and the reason, including singletons (`group_id` null). */
export const ticketGroups = sqliteTable(
  'ticket_groups',
  {
    ticketId: text('ticket_id')
      .primaryKey()
      .references(() => tickets.id, { onDelete: 'cascade' }),
    groupId: text('group_id'),
    algorithm: text('algorithm').notNull(),
    /** Why the ticket is where it is (what `deflect explain` prints). */
    reason: text('reason').notNull(),
    /** Copy of tickets.created (ms) so the report filters a window on the (group, created) index. */
    created: integer('created'),
    computedAt: integer('computed_at').notNull(),
  },
  (t) => [
    index('ticket_groups_group_idx').on(t.groupId),
    index('ticket_groups_group_created_idx').on(t.groupId, t.created),
    // The report's per-window aggregate scans a date range, then groups.
    index('ticket_groups_created_group_idx').on(t.created, t.groupId),
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
