/**
 * (verified resolution) Tables of verified resolutions and handler demotion, kept apart from `runs` and `actions`
 * (their rows are not changed by this feature). Times are epoch ms. Decision record:
 * docs/decisions/010-verified-resolution.md.
 */
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { runs } from './schema.js';

/**
 * One row per run that resolved a ticket (a live run that succeeded, applied, and moved its ticket to a done status):
 * deflect then watches the ticket for `DEFLECT_VERIFY_WINDOW` (`windowEndsAt`). `state`:
 * `pending` (watching) → `verified` (the window passed with no signal; decided lazily on read, see
 * `db/run-verifications.ts`) | `reopened` (back to a not-done status by a person, or the reporter's `/reopen`) |
 * `refiled` (the same reporter filed the same request again) | `overridden` (a person changed what deflect set).
 * The first signal decides; `evidence` says what it was and `signalDeliveryId` which delivery carried it.
 */
export const runVerifications = sqliteTable(
  'run_verifications',
  {
    runId: integer('run_id')
      .primaryKey()
      .references(() => runs.id),
    handler: text('handler').notNull(),
    ticketKey: text('ticket_key').notNull(),
    /** The `tickets.id` row of the ticket (its request type is read from `ticket_groups`), when known. */
    ticketRowId: text('ticket_row_id'),
    /** The reporter, lower-cased: tracker account id, else display name; null when unknown. */
    reporter: text('reporter'),
    /** The status the run moved the ticket to (e.g. `Done`). */
    resolvedStatus: text('resolved_status').notNull(),
    /** Labels the run added (JSON array, lower-cased): a person removing one overrides the run. */
    labelsAdded: text('labels_added').notNull().default('[]'),
    resolvedAt: integer('resolved_at').notNull(),
    windowEndsAt: integer('window_ends_at').notNull(),
    state: text('state', { enum: ['pending', 'verified', 'reopened', 'refiled', 'overridden'] }).notNull().default('pending'),
    decidedAt: integer('decided_at'),
    evidence: text('evidence'),
    signalDeliveryId: integer('signal_delivery_id'),
    /** The rule asked for reporter feedback (`feedback: true`): the run invited `/thanks` or `/reopen`. */
    feedbackInvited: integer('feedback_invited', { mode: 'boolean' }).notNull().default(false),
    /** The reporter's answer: `thanks` | `reopen`, or null. */
    feedback: text('feedback', { enum: ['thanks', 'reopen'] }),
    feedbackAt: integer('feedback_at'),
  },
  (t) => [
    index('run_verifications_ticket_state_idx').on(t.ticketKey, t.state),
    index('run_verifications_handler_resolved_idx').on(t.handler, t.resolvedAt),
    index('run_verifications_reporter_state_idx').on(t.reporter, t.state),
  ],
);

/**
 * Every change of a handler's mode made outside the rules file, oldest first: `shadow` (deflect demoted it: its
 * verified rate fell below `DEFLECT_VERIFY_DEMOTE_BELOW`; `by` = `deflect`) or `live` (a person put it back:
 * `deflect handlers live <name>` / `POST /api/handlers/:name/live`; `by` = their name). The latest row is in force: a
 * handler whose latest row is `shadow` has every rule routed to it run in shadow mode, whatever the rules file says.
 */
export const handlerModeChanges = sqliteTable(
  'handler_mode_changes',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    handler: text('handler').notNull(),
    mode: text('mode', { enum: ['shadow', 'live'] }).notNull(),
    at: integer('at').notNull(),
    by: text('by').notNull(),
    reason: text('reason').notNull(),
  },
  (t) => [index('handler_mode_changes_handler_idx').on(t.handler, t.id)],
);

export type RunVerificationRow = typeof runVerifications.$inferSelect;
export type HandlerModeChangeRow = typeof handlerModeChanges.$inferSelect;
