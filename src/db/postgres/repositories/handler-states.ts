/**
 * PostgreSQL twin of `../../handler-states.ts` (the reference).
 *
 * Where the SQL differs, and why:
 * - `recordHandlerOutcome` runs in `pg.transaction`. Its `INSERT … ON CONFLICT DO UPDATE … RETURNING` takes the
 *   handler's row lock, held until commit, so two replicas recording failures of one handler at once get distinct
 *   streak counts, and the one that reaches `pauseAfter` has written the pause before the other's upsert can read the
 *   row (it then returns `paused_at` set and does not pause again). No advisory lock needed: the row is the unit.
 *   https://www.postgresql.org/docs/15/sql-insert.html#SQL-ON-CONFLICT
 * - The streak's `consecutive_failures + 1` names the table (`handler_states.consecutive_failures`), as PostgreSQL's
 *   `DO UPDATE` sees both the stored row and `excluded`.
 * - `listPausedHandlers` orders by name (`COLLATE "C"`) where SQLite returns rowid (insertion) order, which
 *   PostgreSQL does not have; `listHandlerStates` orders by `handler COLLATE "C"` (SQLite compares bytewise).
 * - `resumeHandler` also adds the jobs of the handler's queued runs (graphile-worker, decision 019), in the same statement.
 * - `changes === 1` → the statement's rowCount; an `ON CONFLICT DO UPDATE … WHERE` that skips the row counts 0 on
 *   both.
 */
import type { HandlerStateRow } from '../../schema.js';
import type { Repositories } from '../../store.js';
import type { PgSession } from '../pg-session.js';
import { addRunJobCall } from '../run-jobs.js';

const SELECT_STATE = `SELECT handler, consecutive_failures AS "consecutiveFailures", paused_at AS "pausedAt", paused_reason AS "pausedReason",
  updated_at AS "updatedAt" FROM handler_states`;

export const handlerStates = (pg: PgSession): Repositories['handlerStates'] => ({
  recordHandlerOutcome: (handler, outcome, options, now = Date.now()) =>
    pg.transaction(async () => {
      if (outcome === 'success') {
        await pg.execute(
          `INSERT INTO handler_states (handler, consecutive_failures, updated_at) VALUES ($1, 0, $2)
           ON CONFLICT (handler) DO UPDATE SET consecutive_failures = 0, updated_at = excluded.updated_at`,
          [handler, now],
        );
        return { consecutiveFailures: 0, pausedNow: false };
      }
      const [row] = await pg.query<{ n: number; pausedAt: number | null }>(
        `INSERT INTO handler_states (handler, consecutive_failures, updated_at) VALUES ($1, 1, $2)
         ON CONFLICT (handler) DO UPDATE SET consecutive_failures = handler_states.consecutive_failures + 1, updated_at = excluded.updated_at
         RETURNING consecutive_failures AS n, paused_at AS "pausedAt"`,
        [handler, now],
      );
      const { n, pausedAt } = row!;
      const pausedNow = options.pauseAfter > 0 && n >= options.pauseAfter && pausedAt === null;
      if (pausedNow) {
        const reason = `${n} runs in a row failed; last error: ${(options.error ?? 'unknown').slice(0, 500)}`;
        await pg.execute('UPDATE handler_states SET paused_at = $1, paused_reason = $2 WHERE handler = $3', [now, reason, handler]);
      }
      return { consecutiveFailures: n, pausedNow };
    }),

  listPausedHandlers: async () => {
    const rows = await pg.query<{ handler: string }>('SELECT handler FROM handler_states WHERE paused_at IS NOT NULL ORDER BY handler COLLATE "C"');
    return new Set(rows.map((r) => r.handler));
  },

  listHandlerStates: () => pg.query<HandlerStateRow>(`${SELECT_STATE} ORDER BY handler COLLATE "C"`),

  // One statement (the resume and its runs' jobs): callers resume several handlers at once inside one transaction
  // (the kill switch), where savepoints started together would interleave.
  resumeHandler: async (handler, now = Date.now()) => {
    const [row] = await pg.query<{ resumed: number }>(
      `WITH resumed AS (
         UPDATE handler_states SET paused_at = NULL, paused_reason = NULL, consecutive_failures = 0, updated_at = $1
         WHERE handler = $2 AND paused_at IS NOT NULL RETURNING handler),
       due AS (SELECT r.id, r.ticket_key, r.run_after FROM runs r WHERE r.status = 'queued' AND r.handler IN (SELECT handler FROM resumed)),
       jobs AS (SELECT due.id FROM due CROSS JOIN LATERAL ${addRunJobCall('due.id', 'due.ticket_key', 'due.run_after')} job)
       SELECT (SELECT count(*) FROM resumed) AS resumed, (SELECT count(*) FROM jobs) AS jobs`,
      [now, handler],
    );
    return row.resumed === 1;
  },

  pauseHandler: async (handler, reason, now = Date.now()) =>
    (await pg.execute(
      `INSERT INTO handler_states (handler, consecutive_failures, paused_at, paused_reason, updated_at) VALUES ($1, 0, $2, $3, $2)
       ON CONFLICT (handler) DO UPDATE SET paused_at = excluded.paused_at, paused_reason = excluded.paused_reason, updated_at = excluded.updated_at
       WHERE handler_states.paused_at IS NULL`,
      [handler, now, reason],
    )) === 1,
});
