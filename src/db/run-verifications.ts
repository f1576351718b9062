/**
 * (verified resolution) Table `run_verifications`: one row per run that resolved a ticket, and its verification
 * state (`pending` → `verified` | `reopened` | `refiled` | `overridden`). Signals are written by routing
 * (`pipeline/verification-signals.ts`); the window's end is applied lazily ({@link settleVerifications}, called before
 * every read of the states and on the worker's tick). Times are epoch ms. Decision record:
 * docs/decisions/010-verified-resolution.md.
 */
import type { Db } from './client.js';
import { statement } from './statements.js';

/** The verification states; `pending` until the window passes or a signal decides. */
export const VERIFICATION_STATES = ['pending', 'verified', 'reopened', 'refiled', 'overridden'] as const;
export type VerificationState = (typeof VERIFICATION_STATES)[number];
/** The states a signal sets (the resolution did not hold). */
export type SignalState = Exclude<VerificationState, 'pending' | 'verified'>;

/** A resolution to watch, as the run executor records it. */
export interface NewResolution {
  runId: number;
  handler: string;
  ticketKey: string;
  ticketRowId: string | null;
  /** Lower-cased reporter id (else display name), or null. */
  reporter: string | null;
  resolvedStatus: string;
  labelsAdded: string[];
  feedbackInvited: boolean;
}

/** A watched resolution (a row of `run_verifications`). */
export interface RunVerification {
  runId: number;
  handler: string;
  ticketKey: string;
  ticketRowId: string | null;
  reporter: string | null;
  resolvedStatus: string;
  labelsAdded: string[];
  resolvedAt: number;
  windowEndsAt: number;
  state: VerificationState;
  decidedAt: number | null;
  evidence: string | null;
  signalDeliveryId: number | null;
  feedbackInvited: boolean;
  feedback: 'thanks' | 'reopen' | null;
  feedbackAt: number | null;
}

const SELECT = `SELECT run_id AS runId, handler, ticket_key AS ticketKey, ticket_row_id AS ticketRowId, reporter, resolved_status AS resolvedStatus,
  labels_added AS labelsAdded, resolved_at AS resolvedAt, window_ends_at AS windowEndsAt, state, decided_at AS decidedAt, evidence,
  signal_delivery_id AS signalDeliveryId, feedback_invited AS feedbackInvited, feedback, feedback_at AS feedbackAt FROM run_verifications`;

type Raw = Omit<RunVerification, 'labelsAdded' | 'feedbackInvited'> & { labelsAdded: string; feedbackInvited: number };
const toVerification = (row: Raw): RunVerification => ({ ...row, labelsAdded: JSON.parse(row.labelsAdded) as string[], feedbackInvited: Boolean(row.feedbackInvited) });

/** Starts watching a resolution for `windowMs` from `now` (once per run; a second call is ignored). */
export function recordResolution(db: Db, resolution: NewResolution, windowMs: number, now = Date.now()): void {
  statement(db,
    `INSERT INTO run_verifications (run_id, handler, ticket_key, ticket_row_id, reporter, resolved_status, labels_added, resolved_at, window_ends_at, feedback_invited)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  ).run(resolution.runId, resolution.handler, resolution.ticketKey, resolution.ticketRowId, resolution.reporter, resolution.resolvedStatus,
    JSON.stringify(resolution.labelsAdded), now, now + windowMs, resolution.feedbackInvited ? 1 : 0);
}

/** The resolutions of ticket `ticketKey` still watched at `at` (window not over), oldest first. */
export function findWatchedResolutions(db: Db, ticketKey: string, at: number): RunVerification[] {
  return (statement(db, `${SELECT} WHERE ticket_key = ? AND window_ends_at > ? ORDER BY run_id`).all(ticketKey, at) as Raw[]).map(toVerification);
}

/** Pending resolutions of `reporter` on other tickets than `ticketKey`, by `handlers`, whose window is open at `at`. */
export function findPendingOfReporter(
  db: Db,
  reporter: string,
  handlers: readonly string[],
  ticketKey: string,
  at: number,
  request: { summary: string | null; description: string | null } = { summary: null, description: null },
): RunVerification[] {
  if (handlers.length === 0) return [];
  const norm = (text: string | null) => (text === null ? null : text.trim().replace(/\s+/g, ' ').toLowerCase() || null);
  const summary = norm(request.summary);
  const description = norm(request.description);
  if (summary === null && description === null) return [];
  // The same request again: the resolved ticket's summary or description, compared without case and runs of blanks.
  return (
    statement(db,
      `${SELECT} WHERE reporter = ? AND state = 'pending' AND ticket_key <> ? AND resolved_at < ? AND window_ends_at > ?
         AND handler IN (SELECT value FROM json_each(?))
         AND EXISTS (SELECT 1 FROM tickets t WHERE t.id = run_verifications.ticket_row_id
           AND ((? IS NOT NULL AND lower(trim(t.summary)) = ?) OR (? IS NOT NULL AND lower(trim(t.description)) = ?)))
       ORDER BY run_id`,
    ).all(reporter, ticketKey, at, at, JSON.stringify(handlers), summary, summary, description, description) as Raw[]
  ).map(toVerification);
}

/**
 * Decides a pending resolution: the first signal wins. @returns false when it was no longer pending (nothing written).
 */
export function decideVerification(db: Db, runId: number, state: SignalState, evidence: string, deliveryId: number | null, now = Date.now()): boolean {
  return (
    statement(db, `UPDATE run_verifications SET state = ?, decided_at = ?, evidence = ?, signal_delivery_id = ? WHERE run_id = ? AND state = 'pending'`)
      .run(state, now, evidence.slice(0, 1000), deliveryId, runId).changes === 1
  );
}

/** Records the reporter's `/thanks` or `/reopen` (the latest answer counts). */
export function recordFeedback(db: Db, runId: number, feedback: 'thanks' | 'reopen', now = Date.now()): void {
  statement(db, 'UPDATE run_verifications SET feedback = ?, feedback_at = ? WHERE run_id = ?').run(feedback, now, runId);
}

/**
 * Applies what time and the grouping decide (lazily, before states are read): a pending resolution whose reporter
 * filed a ticket of the same request type (`ticket_groups.type_id`, from `deflect group`) within the window becomes
 * `refiled`; one whose window ended with no signal becomes `verified` (decided at the window's end).
 * A read-only connection (the CLI's read commands) settles nothing: it reads what the server's tick (once a minute)
 * last settled.
 * @returns how many rows changed, and the handlers of the resolutions found re-filed (their demotion is re-evaluated).
 */
export function settleVerifications(db: Db, now = Date.now()): { changed: number; refiledHandlers: string[] } {
  if (db.$client.readonly) return { changed: 0, refiledHandlers: [] };
  return db.$client.transaction(() => {
    const refiles = statement(db,
      `SELECT v.run_id AS runId, v.handler AS handler, t2.key AS key, t2.created AS created, g1.type_id AS typeId FROM run_verifications v
         JOIN ticket_groups g1 ON g1.ticket_id = v.ticket_row_id AND g1.type_id IS NOT NULL
         JOIN ticket_groups g2 ON g2.type_id = g1.type_id AND g2.ticket_id <> v.ticket_row_id
         JOIN tickets t2 ON t2.id = g2.ticket_id
       WHERE v.state = 'pending' AND v.reporter IS NOT NULL AND lower(COALESCE(t2.reporter_id, t2.reporter)) = v.reporter
         AND t2.created > v.resolved_at AND t2.created <= v.window_ends_at AND t2.created <= ?
       ORDER BY v.run_id, t2.created`,
    ).all(now) as Array<{ runId: number; handler: string; key: string; created: number; typeId: string }>;
    let changed = 0;
    const refiledHandlers = new Set<string>();
    for (const r of refiles) {
      if (decideVerification(db, r.runId, 'refiled', `re-filed as ${r.key} by the same reporter (same request type ${r.typeId}, by the grouping)`, null, r.created)) {
        changed++;
        refiledHandlers.add(r.handler);
      }
    }
    changed += statement(db, `UPDATE run_verifications SET state = 'verified', decided_at = window_ends_at WHERE state = 'pending' AND window_ends_at <= ?`).run(now).changes;
    return { changed, refiledHandlers: [...refiledHandlers] };
  })();
}

/** The verification of each run in `runIds` that resolved a ticket (runs that did not resolve have no entry). */
export interface RunVerificationState {
  state: VerificationState;
  /** When it was decided (ms), null while pending. */
  decidedAt: number | null;
  /** What decided it (`status Done → To Do by 5b10…`), null while pending or when verified. */
  evidence: string | null;
  /** When the window ends / ended (ms). */
  windowEndsAt: number;
  feedback: 'thanks' | 'reopen' | null;
}

/**
 * The verification state of each of `runIds` (settled first, so a passed window reads `verified`): the function the
 * audit and its pages use. A run missing from the map did not resolve a ticket (nothing to verify).
 */
export function findRunVerificationStates(db: Db, runIds: readonly number[], now = Date.now()): Map<number, RunVerificationState> {
  if (runIds.length === 0) return new Map();
  settleVerifications(db, now);
  const rows = statement(db,
    `SELECT run_id AS runId, state, decided_at AS decidedAt, evidence, window_ends_at AS windowEndsAt, feedback FROM run_verifications
     WHERE run_id IN (SELECT value FROM json_each(?))`,
  ).all(JSON.stringify(runIds)) as Array<RunVerificationState & { runId: number }>;
  return new Map(rows.map(({ runId, ...state }) => [runId, state]));
}

/** Per handler: how its resolutions fared (see `automation/handler-verification.ts` for the rates). */
export interface HandlerVerificationCounts {
  handler: string;
  /** Live runs that finished (not dry run, not shadow, not waiting). */
  runs: number;
  resolved: number;
  verifiedResolved: number;
  pending: number;
  reopened: number;
  refiled: number;
  overridden: number;
  /** Reporter answers: `/thanks` and `/reopen` (feedback), and resolutions that invited one. */
  thanks: number;
  reopenAnswers: number;
  feedbackInvited: number;
}

/** The counts of every handler that has finished a live run (settled first). */
export function countHandlerVerifications(db: Db, now = Date.now()): HandlerVerificationCounts[] {
  settleVerifications(db, now);
  return statement(db,
    `SELECT r.handler AS handler, count(*) AS runs, count(v.run_id) AS resolved,
       count(CASE WHEN v.state = 'verified' THEN 1 END) AS verifiedResolved, count(CASE WHEN v.state = 'pending' THEN 1 END) AS pending,
       count(CASE WHEN v.state = 'reopened' THEN 1 END) AS reopened, count(CASE WHEN v.state = 'refiled' THEN 1 END) AS refiled,
       count(CASE WHEN v.state = 'overridden' THEN 1 END) AS overridden, count(CASE WHEN v.feedback = 'thanks' THEN 1 END) AS thanks,
       count(CASE WHEN v.feedback = 'reopen' THEN 1 END) AS reopenAnswers, count(CASE WHEN v.feedback_invited = 1 THEN 1 END) AS feedbackInvited
     FROM runs r LEFT JOIN run_verifications v ON v.run_id = r.id
     WHERE r.dry_run = 0 AND r.shadow = 0 AND r.status IN ('succeeded', 'failed', 'dead', 'skipped', 'denied', 'expired')
     GROUP BY r.handler ORDER BY r.handler`,
  ).all() as HandlerVerificationCounts[];
}

/** The states of `handler`'s last `limit` resolutions made after `since` (ms), newest first. */
export function lastResolutionStates(db: Db, handler: string, limit: number, since: number): VerificationState[] {
  return (
    statement(db, 'SELECT state FROM run_verifications WHERE handler = ? AND resolved_at > ? ORDER BY resolved_at DESC, run_id DESC LIMIT ?')
      .all(handler, since, limit) as Array<{ state: VerificationState }>
  ).map((r) => r.state);
}
