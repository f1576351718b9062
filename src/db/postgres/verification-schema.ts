/**
 * The PostgreSQL twins of `../verification-schema.ts` (verified resolutions and handler mode changes, decision 010):
 * same names; column meanings are documented there. Type mapping: `schema.ts` in this folder (decision 018).
 */
import { boolean, index, pgTable, text } from 'drizzle-orm/pg-core';
import { int, runs } from './schema.js';

export const runVerifications = pgTable(
  'run_verifications',
  {
    runId: int('run_id')
      .primaryKey()
      .references(() => runs.id),
    handler: text('handler').notNull(),
    ticketKey: text('ticket_key').notNull(),
    ticketRowId: text('ticket_row_id'),
    reporter: text('reporter'),
    resolvedStatus: text('resolved_status').notNull(),
    labelsAdded: text('labels_added').notNull().default('[]'),
    resolvedAt: int('resolved_at').notNull(),
    windowEndsAt: int('window_ends_at').notNull(),
    state: text('state', { enum: ['pending', 'verified', 'reopened', 'refiled', 'overridden'] }).notNull().default('pending'),
    decidedAt: int('decided_at'),
    evidence: text('evidence'),
    signalDeliveryId: int('signal_delivery_id'),
    feedbackInvited: boolean('feedback_invited').notNull().default(false),
    feedback: text('feedback', { enum: ['thanks', 'reopen'] }),
    feedbackAt: int('feedback_at'),
  },
  (t) => [
    index('run_verifications_ticket_state_idx').on(t.ticketKey, t.state),
    index('run_verifications_handler_resolved_idx').on(t.handler, t.resolvedAt),
    index('run_verifications_reporter_state_idx').on(t.reporter, t.state),
  ],
);

export const handlerModeChanges = pgTable(
  'handler_mode_changes',
  {
    id: int('id').primaryKey().generatedByDefaultAsIdentity(),
    handler: text('handler').notNull(),
    mode: text('mode', { enum: ['shadow', 'live'] }).notNull(),
    at: int('at').notNull(),
    by: text('by').notNull(),
    reason: text('reason').notNull(),
  },
  (t) => [index('handler_mode_changes_handler_idx').on(t.handler, t.id)],
);
