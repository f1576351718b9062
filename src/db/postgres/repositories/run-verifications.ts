/**
 * PostgreSQL twin of `../../run-verifications.ts` (table `run_verifications`; decision 010). Where the SQL differs,
 * and why:
 * - `feedback_invited`, `runs.dry_run`, `runs.shadow` are real booleans (SQLite stored 0/1): written as true/false,
 *   tested as `v.feedback_invited`, `NOT r.dry_run`.
 * - `x IN (SELECT value FROM json_each(?))` → `x = ANY($n::bigint[] / ::text[])` (an array parameter).
 * - SQLite's `lower()` folds ASCII letters only (without ICU: https://www.sqlite.org/lang_corefunc.html#lower);
 *   PostgreSQL's folds every letter the database's locale knows. To compare exactly as SQLite does (a stored summary
 *   "ÉCOLE" does not match the request "école" there), `lower(x)` is written as `translate(x, 'A…Z', 'a…z')`.
 *   `trim(x)` removes spaces only on both.
 * - `ORDER BY` on text (`handler`) uses `COLLATE "C"`: SQLite compares bytewise.
 * - {@link settleVerifications}: SQLite skips a read-only connection (`db.$client.readonly`); here, a read-only
 *   transaction (`store.snapshot`, or a read-only server / role: `current_setting('transaction_read_only')`) settles
 *   nothing either. So inside `store.snapshot` the states read are those last settled, where SQLite (a deferred
 *   transaction on a writable connection) would settle first. The settling itself runs in one `pg.transaction` holding
 *   `pg_advisory_xact_lock(SETTLE_LOCK_KEY)`: replicas settle one at a time, so two settles cannot lock the same rows
 *   in different orders (the bulk UPDATE's order is the plan's) and deadlock, and each runs the refile pass before the
 *   window pass as SQLite's one writer does. The per-row `UPDATE … WHERE state = 'pending'` keeps the first signal
 *   winning against routing's {@link decideVerification} calls (row lock, re-checked after the wait).
 *   https://www.postgresql.org/docs/15/functions-admin.html#FUNCTIONS-ADVISORY-LOCKS
 * - {@link lastResolutionStates}: a negative `limit` is sent as `LIMIT NULL` (no limit, as SQLite reads a negative
 *   one; PostgreSQL refuses it: https://www.postgresql.org/docs/15/sql-select.html#SQL-LIMIT).
 * - The refile pass's ORDER BY adds `t2.id COLLATE "C"` after `t2.created`: for two re-filed tickets created in the same
 *   ms, SQLite's pick (and so the evidence text) is its plan's order; here it is fixed.
 */
import type { HandlerVerificationCounts, NewResolution, RunVerification, RunVerificationState, SignalState, VerificationState } from '../../run-verifications.js';
import type { Repositories } from '../../store.js';
import type { PgSession } from '../pg-session.js';

/** Advisory lock key (`pg_advisory_xact_lock(bigint)`) serialising {@link settleVerifications}: "deflect" in ASCII, then "v". */
const SETTLE_LOCK_KEY = BigInt('0x6465666c65637476').toString();

const SELECT = `SELECT run_id AS "runId", handler, ticket_key AS "ticketKey", ticket_row_id AS "ticketRowId", reporter, resolved_status AS "resolvedStatus",
  labels_added AS "labelsAdded", resolved_at AS "resolvedAt", window_ends_at AS "windowEndsAt", state, decided_at AS "decidedAt", evidence,
  signal_delivery_id AS "signalDeliveryId", feedback_invited AS "feedbackInvited", feedback, feedback_at AS "feedbackAt" FROM run_verifications`;

type Raw = Omit<RunVerification, 'labelsAdded'> & { labelsAdded: string };
const toVerification = (row: Raw): RunVerification => ({ ...row, labelsAdded: JSON.parse(row.labelsAdded) as string[] });

/** SQLite's ASCII-only `lower(expr)`. */
const asciiLower = (expr: string) => `translate(${expr}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')`;

export const runVerifications = (pg: PgSession): Repositories['runVerifications'] => {
  const decideVerification = async (runId: number, state: SignalState, evidence: string, deliveryId: number | null, now = Date.now()) =>
    (await pg.execute(
      `UPDATE run_verifications SET state = $1, decided_at = $2, evidence = $3, signal_delivery_id = $4 WHERE run_id = $5 AND state = 'pending'`,
      [state, now, evidence.slice(0, 1000), deliveryId, runId],
    )) === 1;

  const settleVerifications = async (now = Date.now()): Promise<{ changed: number; refiledHandlers: string[] }> => {
    const [mode] = await pg.query<{ ro: string }>(`SELECT current_setting('transaction_read_only') AS ro`);
    if (mode.ro === 'on') return { changed: 0, refiledHandlers: [] };
    return pg.transaction(async () => {
      await pg.query('SELECT pg_advisory_xact_lock($1::bigint)', [SETTLE_LOCK_KEY]);
      const refiles = await pg.query<{ runId: number; handler: string; key: string; created: number; typeId: string }>(
        `SELECT v.run_id AS "runId", v.handler AS handler, t2.key AS key, t2.created AS created, g1.type_id AS "typeId" FROM run_verifications v
           JOIN ticket_groups g1 ON g1.ticket_id = v.ticket_row_id AND g1.type_id IS NOT NULL
           JOIN ticket_groups g2 ON g2.type_id = g1.type_id AND g2.ticket_id <> v.ticket_row_id
           JOIN tickets t2 ON t2.id = g2.ticket_id
         WHERE v.state = 'pending' AND v.reporter IS NOT NULL AND ${asciiLower('COALESCE(t2.reporter_id, t2.reporter)')} = v.reporter
           AND t2.created > v.resolved_at AND t2.created <= v.window_ends_at AND t2.created <= $1
         ORDER BY v.run_id, t2.created, t2.id COLLATE "C"`,
        [now],
      );
      let changed = 0;
      const refiledHandlers = new Set<string>();
      for (const r of refiles) {
        if (await decideVerification(r.runId, 'refiled', `re-filed as ${r.key} by the same reporter (same request type ${r.typeId}, by the grouping)`, null, r.created)) {
          changed++;
          refiledHandlers.add(r.handler);
        }
      }
      changed += await pg.execute(`UPDATE run_verifications SET state = 'verified', decided_at = window_ends_at WHERE state = 'pending' AND window_ends_at <= $1`, [now]);
      return { changed, refiledHandlers: [...refiledHandlers] };
    });
  };

  return {
    recordResolution: async (resolution: NewResolution, windowMs: number, now = Date.now()) => {
      await pg.execute(
        `INSERT INTO run_verifications (run_id, handler, ticket_key, ticket_row_id, reporter, resolved_status, labels_added, resolved_at, window_ends_at, feedback_invited)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
        [resolution.runId, resolution.handler, resolution.ticketKey, resolution.ticketRowId, resolution.reporter, resolution.resolvedStatus,
          JSON.stringify(resolution.labelsAdded), now, now + windowMs, resolution.feedbackInvited],
      );
    },

    findWatchedResolutions: async (ticketKey: string, at: number) =>
      (await pg.query<Raw>(`${SELECT} WHERE ticket_key = $1 AND window_ends_at > $2 ORDER BY run_id`, [ticketKey, at])).map(toVerification),

    findPendingOfReporter: async (
      reporter: string,
      handlers: readonly string[],
      ticketKey: string,
      at: number,
      request: { summary: string | null; description: string | null } = { summary: null, description: null },
    ) => {
      if (handlers.length === 0) return [];
      const norm = (text: string | null) => (text === null ? null : text.trim().replace(/\s+/g, ' ').toLowerCase() || null);
      const summary = norm(request.summary);
      const description = norm(request.description);
      if (summary === null && description === null) return [];
      return (
        await pg.query<Raw>(
          `${SELECT} WHERE reporter = $1 AND state = 'pending' AND ticket_key <> $2 AND resolved_at < $3 AND window_ends_at > $3
             AND handler = ANY($4::text[])
             AND EXISTS (SELECT 1 FROM tickets t WHERE t.id = run_verifications.ticket_row_id
               AND (($5::text IS NOT NULL AND ${asciiLower('trim(t.summary)')} = $5::text)
                 OR ($6::text IS NOT NULL AND ${asciiLower('trim(t.description)')} = $6::text)))
           ORDER BY run_id`,
          [reporter, ticketKey, at, [...handlers], summary, description],
        )
      ).map(toVerification);
    },

    decideVerification,

    recordFeedback: async (runId: number, feedback: 'thanks' | 'reopen', now = Date.now()) => {
      await pg.execute('UPDATE run_verifications SET feedback = $1, feedback_at = $2 WHERE run_id = $3', [feedback, now, runId]);
    },

    settleVerifications,

    findRunVerificationStates: async (runIds: readonly number[], now = Date.now()) => {
      if (runIds.length === 0) return new Map<number, RunVerificationState>();
      await settleVerifications(now);
      const rows = await pg.query<RunVerificationState & { runId: number }>(
        `SELECT run_id AS "runId", state, decided_at AS "decidedAt", evidence, window_ends_at AS "windowEndsAt", feedback FROM run_verifications
         WHERE run_id = ANY($1::bigint[])`,
        [[...runIds]],
      );
      return new Map(rows.map(({ runId, ...state }) => [runId, state]));
    },

    countHandlerVerifications: async (now = Date.now()) => {
      await settleVerifications(now);
      return pg.query<HandlerVerificationCounts>(
        `SELECT r.handler AS handler, count(*) AS runs, count(v.run_id) AS resolved,
           count(CASE WHEN v.state = 'verified' THEN 1 END) AS "verifiedResolved", count(CASE WHEN v.state = 'pending' THEN 1 END) AS pending,
           count(CASE WHEN v.state = 'reopened' THEN 1 END) AS reopened, count(CASE WHEN v.state = 'refiled' THEN 1 END) AS refiled,
           count(CASE WHEN v.state = 'overridden' THEN 1 END) AS overridden, count(CASE WHEN v.feedback = 'thanks' THEN 1 END) AS thanks,
           count(CASE WHEN v.feedback = 'reopen' THEN 1 END) AS "reopenAnswers", count(CASE WHEN v.feedback_invited THEN 1 END) AS "feedbackInvited"
         FROM runs r LEFT JOIN run_verifications v ON v.run_id = r.id
         WHERE NOT r.dry_run AND NOT r.shadow AND r.status IN ('succeeded', 'failed', 'dead', 'skipped', 'denied', 'expired')
         GROUP BY r.handler ORDER BY r.handler COLLATE "C"`,
      );
    },

    lastResolutionStates: async (handler: string, limit: number, since: number) =>
      (
        await pg.query<{ state: VerificationState }>(
          'SELECT state FROM run_verifications WHERE handler = $1 AND resolved_at > $2 ORDER BY resolved_at DESC, run_id DESC LIMIT $3',
          // SQLite reads a negative LIMIT as no limit; PostgreSQL refuses one, and reads LIMIT NULL as none.
          [handler, since, limit < 0 ? null : limit],
        )
      ).map((r) => r.state),
  };
};
