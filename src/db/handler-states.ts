/**
 * Handler health (table `handler_states`): consecutive failures per handler, and the automatic pause that stops a
 * broken handler from failing every ticket routed to it. Paused handlers keep their runs `queued`; nothing is dropped.
 */
import type { Db } from './client.js';
import { statement } from './statements.js';
import type { HandlerStateRow } from './schema.js';

const SELECT_STATE = `SELECT handler, consecutive_failures AS consecutiveFailures, paused_at AS pausedAt, paused_reason AS pausedReason,
  updated_at AS updatedAt FROM handler_states`;

/** What {@link recordHandlerOutcome} did: the failure streak after this outcome, and whether this outcome paused the handler. */
export interface HandlerOutcomeResult {
  consecutiveFailures: number;
  pausedNow: boolean;
}

/**
 * Records a run's final outcome for its handler. `success` ends the failure streak; `failure` extends it, and the
 * failure that makes the streak reach `pauseAfter` pauses the handler (`pauseAfter` 0 never pauses).
 * @param error the failing run's error, quoted in the pause reason.
 */
export function recordHandlerOutcome(
  db: Db,
  handler: string,
  outcome: 'success' | 'failure',
  options: { pauseAfter: number; error?: string | null },
  now = Date.now(),
): HandlerOutcomeResult {
  const sqlite = db.$client;
  return sqlite.transaction((): HandlerOutcomeResult => {
    if (outcome === 'success') {
      sqlite
        .prepare(
          `INSERT INTO handler_states (handler, consecutive_failures, updated_at) VALUES (?, 0, ?)
           ON CONFLICT(handler) DO UPDATE SET consecutive_failures = 0, updated_at = excluded.updated_at`,
        )
        .run(handler, now);
      return { consecutiveFailures: 0, pausedNow: false };
    }
    const row = sqlite
      .prepare(
        `INSERT INTO handler_states (handler, consecutive_failures, updated_at) VALUES (?, 1, ?)
         ON CONFLICT(handler) DO UPDATE SET consecutive_failures = consecutive_failures + 1, updated_at = excluded.updated_at
         RETURNING consecutive_failures AS n, paused_at AS pausedAt`,
      )
      .get(handler, now) as { n: number; pausedAt: number | null };
    const pausedNow = options.pauseAfter > 0 && row.n >= options.pauseAfter && row.pausedAt === null;
    if (pausedNow) {
      const reason = `${row.n} runs in a row failed; last error: ${(options.error ?? 'unknown').slice(0, 500)}`;
      statement(db, 'UPDATE handler_states SET paused_at = ?, paused_reason = ? WHERE handler = ?').run(now, reason, handler);
    }
    return { consecutiveFailures: row.n, pausedNow };
  })();
}

/** Names of the handlers paused now. */
export function listPausedHandlers(db: Db): Set<string> {
  const rows = statement(db, 'SELECT handler FROM handler_states WHERE paused_at IS NOT NULL').all() as Array<{ handler: string }>;
  return new Set(rows.map((r) => r.handler));
}

/** Every handler that has finished a run, by name. */
export function listHandlerStates(db: Db): HandlerStateRow[] {
  return statement(db, `${SELECT_STATE} ORDER BY handler`).all() as HandlerStateRow[];
}

/**
 * Un-pauses a handler and resets its failure streak (`deflect handlers resume`). Its queued runs become claimable at
 * the worker's next turn. @returns false when the handler was not paused.
 */
export function resumeHandler(db: Db, handler: string, now = Date.now()): boolean {
  return (
    statement(db,
        'UPDATE handler_states SET paused_at = NULL, paused_reason = NULL, consecutive_failures = 0, updated_at = ? WHERE handler = ? AND paused_at IS NOT NULL',
      )
      .run(now, handler).changes === 1
  );
}

/** Pauses a handler by hand (`deflect handlers pause`). @returns false when it was already paused. */
export function pauseHandler(db: Db, handler: string, reason: string, now = Date.now()): boolean {
  return (
    statement(db,
        `INSERT INTO handler_states (handler, consecutive_failures, paused_at, paused_reason, updated_at) VALUES (?, 0, ?, ?, ?)
         ON CONFLICT(handler) DO UPDATE SET paused_at = excluded.paused_at, paused_reason = excluded.paused_reason, updated_at = excluded.updated_at
         WHERE handler_states.paused_at IS NULL`,
      )
      .run(handler, now, reason, now).changes === 1
  );
}
