/**
 * (verified resolution) Routing's side of verification: reading, from each routed event (webhooks and reconcile
 * alike, both arrive here), the signals that a resolution by deflect did not hold, within `DEFLECT_VERIFY_WINDOW`:
 * - **reopen**: the ticket's status is back to a not-done status (see {@link isDoneStatus}), or its reporter comments
 *   `/reopen`;
 * - **override**: a person changed what deflect set: the ticket is in another done status than the one deflect set
 *   (`Done` → `Won't Do`), or a label deflect added was removed;
 * - **re-file**: the same reporter files the same request again: a new ticket with the same summary or description
 *   that the same handler's rules match (the grouping's request type is checked too, lazily, by
 *   `db/run-verifications.ts` `settleVerifications`).
 * Events caused by deflect's own account, and events older than the resolution, are never signals. A reconcile
 * delivery names no actor: its status change counts as a person's (deflect never moves a ticket out of done).
 * Reporter answers `/thanks` and `/reopen` are counted as feedback (only from the ticket's reporter). Called inside
 * routeEvent's transaction; no I/O besides the database. Decision record: docs/decisions/010-verified-resolution.md.
 */
import type { Logger } from 'pino';
import type { VerifySettings } from '../config.js';
import type { Store } from '../db/store.js';
import { type RunVerification, type SignalState } from '../db/run-verifications.js';
import { evaluateDemotion } from '../automation/demotion.js';
import type { Ticket } from '../ticket.js';
import type { TrackerEvent } from '../trackers/tracker.js';
import { commentCommandOf } from './approval-decisions.js';

/**
 * Status names that mean "done" on Jira (status category Done in the default workflows), GitHub (`closed`) and Linear
 * (completed / canceled states), lower-cased. Any other status is open.
 */
const DONE_STATUSES = new Set(['done', 'closed', 'resolved', 'complete', 'completed', 'fixed', 'canceled', 'cancelled', "won't do", "won't fix", 'wont do', 'declined', 'duplicate', 'rejected']);

/** True when `status` names a done status (case-insensitive). */
export function isDoneStatus(status: string): boolean {
  return DONE_STATUSES.has(status.trim().toLowerCase());
}

/**
 * Whether done status `status` is the one deflect set. GitHub has one done state (`closed`, whatever status name the
 * handler resolved with), so any closed GitHub issue is what deflect set.
 */
function sameDoneStatus(ticket: Ticket, status: string, resolvedStatus: string): boolean {
  return ticket.tracker === 'github' || status.trim().toLowerCase() === resolvedStatus.trim().toLowerCase();
}

/** The reporter of a ticket as verification compares it: account id, else display name, lower-cased; null when unknown. */
export function reporterOf(ticket: Pick<Ticket, 'reporterId' | 'reporter'>): string | null {
  return (ticket.reporterId ?? ticket.reporter)?.toLowerCase() ?? null;
}

/** What the signals need of routing. */
export interface SignalContext {
  deliveryId: number;
  /** The event's time (no later than its receipt), ms. */
  eventAt: number;
  /** The ticket as the event carries it (after routing's site normalisation), or null. */
  ticket: Ticket | null;
  /** True when the event is older than the stored snapshot: its status is not current and says nothing. */
  stale: boolean;
  /** Handlers the event's ticket is routed to (a new ticket matched by the same handler's rules is a re-file). */
  matchedHandlers: readonly string[];
  /** deflect's own account on the event's tracker. */
  selfAccountId: string | null;
  settings?: Pick<VerifySettings, 'minResolutions' | 'demoteBelow'>;
  logger?: Logger;
}

/**
 * Applies the event's verification signals and feedback; demotes a handler whose rate fell below the threshold.
 * @returns a note for the delivery's reason (`run #4 (answer-with-runbook) reopened: status Done → To Do by …`), or null.
 */
export async function applyVerificationSignals(db: Store, event: TrackerEvent, c: SignalContext, now = Date.now()): Promise<string | null> {
  const self = c.selfAccountId?.toLowerCase() ?? null;
  const actor = event.actor?.toLowerCase() ?? null;
  if (self && actor === self) return null;
  const notes: string[] = [];
  const decided = new Set<string>();
  const decide = async (v: RunVerification, state: SignalState, evidence: string) => {
    if (await db.decideVerification(v.runId, state, evidence, c.deliveryId, now)) {
      notes.push(`run #${v.runId} (${v.handler}) ${state}: ${evidence}`);
      decided.add(v.handler);
    }
  };
  const by = event.actor ? `by ${event.actor}` : 'seen by reconcile';
  const key = c.ticket?.key ?? null;
  for (const v of key ? await db.findWatchedResolutions(key, c.eventAt) : []) {
    if (v.resolvedAt >= c.eventAt) continue;
    await commentSignal(db, event, v, self, decide, notes, now);
    if (v.state !== 'pending') continue;
    const status = c.stale ? null : (c.ticket?.status ?? null);
    if (status !== null && !isDoneStatus(status)) await decide(v, 'reopened', `status ${v.resolvedStatus} → ${status} ${by}`);
    else if (status !== null && !sameDoneStatus(c.ticket!, status, v.resolvedStatus)) await decide(v, 'overridden', `status changed from ${v.resolvedStatus} to ${status} ${by}`);
    const removed = event.labelsRemoved.filter((l) => v.labelsAdded.includes(l));
    if (removed.length > 0) await decide(v, 'overridden', `label${removed.length > 1 ? 's' : ''} ${removed.join(', ')} set by deflect removed ${by}`);
  }
  // The same request (same summary or description) filed again by the same reporter for the same handler: the first
  // answer did not do. A different request of the same kind (access to another repository) is no re-file.
  const reporter = c.ticket ? reporterOf(c.ticket) : null;
  if (event.kind === 'created' && reporter && key) {
    const request = { summary: c.ticket?.summary ?? null, description: c.ticket?.description ?? null };
    for (const v of await db.findPendingOfReporter(reporter, c.matchedHandlers, key, c.eventAt, request)) {
      await decide(v, 'refiled', `re-filed as ${key} by the same reporter (routed to ${v.handler} again)`);
    }
  }
  if (c.settings) {
    for (const handler of decided) {
      const demoted = await evaluateDemotion(db, handler, c.settings, c.logger, now);
      if (demoted) notes.push(`${handler} demoted to shadow: ${demoted}`);
    }
  }
  return notes.length > 0 ? notes.join('; ') : null;
}

/** The reporter's `/thanks` or `/reopen` on a watched resolution (others' are ignored, with a note). */
async function commentSignal(
  db: Store,
  event: TrackerEvent,
  v: RunVerification,
  self: string | null,
  decide: (v: RunVerification, state: SignalState, evidence: string) => void,
  notes: string[],
  now: number,
): Promise<void> {
  const comment = event.comment;
  if (!comment) return;
  const command = commentCommandOf(comment.body, ['thanks', 'reopen'] as const);
  if (!command) return;
  const author = comment.authorId?.toLowerCase() ?? null;
  const email = comment.authorEmail?.toLowerCase() ?? null;
  if (self && author === self) return;
  if (!v.reporter || (author !== v.reporter && email !== v.reporter)) {
    notes.push(`/${command} by ${comment.authorId ?? comment.authorEmail ?? 'an unknown author'} ignored: only the reporter's answer counts (run #${v.runId})`);
    return;
  }
  await db.recordFeedback(v.runId, command, now);
  if (command === 'reopen') decide(v, 'reopened', `the reporter commented /reopen`);
  else notes.push(`run #${v.runId} (${v.handler}): the reporter said /thanks`);
}
