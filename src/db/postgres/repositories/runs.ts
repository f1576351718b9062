/**
 * PostgreSQL twin of `../../runs.ts` (automation runs and their leases, decision 004). Function contracts are
 * documented in the SQLite module.
 *
 * Where the SQL differs, and why:
 * - **Claiming ({@link claimDueRuns}).** SQLite takes the write lock before reading the candidates (`.immediate()`), so
 *   two processes cannot claim one run, nor two runs of one ticket. Here several replicas claim at once:
 *   - the candidates are read `FOR UPDATE SKIP LOCKED` inside `pg.transaction`, so a run another replica is claiming
 *     right now is passed over instead of waited for, and no run is claimed twice
 *     (https://www.postgresql.org/docs/15/sql-select.html#SQL-FOR-UPDATE-SHARE);
 *   - one ticket at a time: before claiming a run of ticket T the claimer takes
 *     `pg_try_advisory_xact_lock(<claim class>, hashtext(T))` (held until its commit) and skips T when another
 *     claimer holds it; the UPDATE then re-checks that T has no `running` run. In READ COMMITTED that UPDATE sees
 *     every claim committed before it started, and a claim still uncommitted holds the ticket's lock, so two replicas
 *     never start runs of one ticket together. A hash collision between two tickets only defers one of them to the
 *     next turn. https://www.postgresql.org/docs/15/functions-admin.html#FUNCTIONS-ADVISORY-LOCKS
 *   - as on SQLite, a first look outside any transaction finds nothing due on most turns and returns at once.
 * - **Requeueing expired leases ({@link requeueExpiredRuns}).** One `UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED)`
 *   returning the previous owner: a run its owner is finishing at this moment (row locked) is left to that owner.
 * - **Jobs.** Every statement that makes a run `queued` (enqueue, requeue after a failure or an expired lease, release at
 *   shutdown, manual retry) adds or moves its graphile-worker job in the same statement (`queueingRuns` of
 *   `../run-jobs.ts`, decision 019); {@link claimRun} is how the worker's `deflect_run` task claims that run (row lock on
 *   the run, then the ticket's claim lock and the `running` check as in claimDueRuns).
 * - Audited writes (`finishOwnedRun`, `finishRun`, `retryRun`) go through `writeAudited` of `./audit-chain.ts` (the
 *   chain's advisory lock, then the write and its seal in one transaction).
 * - Booleans are `boolean` columns: written as true/false, read as booleans (SQLite's `toRun` converts 0/1).
 * - `json_each(?)` → `= ANY($n::text[])` / `::bigint[]`; scalar `max(a, b)` → `greatest`; aliases quoted (PostgreSQL
 *   folds unquoted identifiers to lower case); `count(*) … GROUP BY status` ordered `COLLATE "C"` (SQLite's order).
 * - **The tracker of a run** (`listRuns`): SQLite reads `json_extract(ticket_snapshot, '$.tracker')` when
 *   `json_valid`. PostgreSQL 15 has no `IS JSON` test (16 does), so the snapshot is cast (`::json ->> 'tracker'`)
 *   when it looks like an object (`{…}`), else reads as Jira. Before the cast every `\uXXXX` escape becomes
 *   `\u0020`: PostgreSQL refuses to de-escape `\u0000` (which `JSON.stringify` writes for a NUL character in a
 *   ticket's text) and lone surrogates, in `json` as in `jsonb`, and one such snapshot would fail every listing
 *   (https://www.postgresql.org/docs/15/datatype-json.html). The JSON stays valid (an escaped backslash before `u`
 *   stays one), and the `tracker` names are plain ASCII. Differences: a snapshot that starts with `{` and ends
 *   with `}` but is not JSON makes the query fail here (SQLite reads it as Jira; deflect only writes
 *   `JSON.stringify(ticket)`), and a non-string `tracker` reads as its text (SQLite: as its JSON value).
 */
import type { Ticket } from '../../../ticket.js';
import type { ListRunsOptions, ListedRun, NewRun, RunClaim, RunClaimant, RunOutcomeRecord } from '../../runs.js';
import type { RunRow } from '../../schema.js';
import type { Repositories } from '../../store.js';
import type { PgSession } from '../pg-session.js';
import { queueingRuns } from '../run-jobs.js';
import { writeAudited } from './audit-chain.js';

/** First key of the two-key advisory lock a claimer holds on a ticket ("dflt" in ASCII); the second is `hashtext(ticket_key)`. */
export const CLAIM_TICKET_LOCK_CLASS = 0x64666c74;

const RUN_COLUMNS = `id, delivery_id AS "deliveryId", ticket_key AS "ticketKey", handler, reason, status, dry_run AS "dryRun",
  idempotency_key AS "idempotencyKey", attempts, max_attempts AS "maxAttempts", run_after AS "runAfter", locked_at AS "lockedAt",
  owner, lease_expires_at AS "leaseExpiresAt", started_at AS "startedAt", finished_at AS "finishedAt", duration_ms AS "durationMs",
  summary, applied, error, manual_retries AS "manualRetries", shadow, rules_version AS "rulesVersion", created_at AS "createdAt"`;
const SELECT_RUN = `SELECT ${RUN_COLUMNS} FROM runs`;

/** `\uXXXX` escapes made `\u0020` before the cast (see the module comment): the JSON stays valid, `tracker` unchanged. */
const SNAPSHOT_JSON = `(CASE WHEN strpos(ticket_snapshot, '\\u') > 0 THEN regexp_replace(ticket_snapshot, '\\\\u[0-9A-Fa-f]{4}', '\\\\u0020', 'g') ELSE ticket_snapshot END)::json`;
const RUN_TRACKER = `COALESCE(CASE WHEN ticket_snapshot LIKE '{%}' THEN (${SNAPSHOT_JSON} ->> 'tracker') END, 'jira')`;

export const runs = (pg: PgSession): Repositories['runs'] => {
  const notPaused = `handler NOT IN (SELECT handler FROM handler_states WHERE paused_at IS NOT NULL)`;

  const claimDueRuns = async (
    limit: number,
    busyTickets: ReadonlySet<string>,
    claimant: RunClaimant,
    now = Date.now(),
    pausedHandlers: ReadonlySet<string> = new Set(),
  ): Promise<RunRow[]> => {
    if (limit <= 0) return [];
    const where = `status = 'queued' AND run_after <= $1 AND NOT (ticket_key = ANY($2::text[])) AND NOT (handler = ANY($3::text[]))
       AND ticket_key NOT IN (SELECT ticket_key FROM runs WHERE status = 'running')`;
    const params = [now, [...busyTickets], [...pausedHandlers]];
    if (!pg.inTransaction && (await pg.query(`SELECT 1 FROM runs WHERE ${where} LIMIT 1`, params)).length === 0) return [];
    const leaseExpiresAt = now + claimant.leaseMs;
    return pg.transaction(async () => {
      const candidates = await pg.query<{ id: number; ticketKey: string }>(
        `SELECT id, ticket_key AS "ticketKey" FROM runs WHERE ${where} ORDER BY run_after, id LIMIT $4 FOR UPDATE SKIP LOCKED`,
        [...params, Math.max(limit * 4, 16)],
      );
      const taken: RunRow[] = [];
      const tickets = new Set(busyTickets);
      for (const candidate of candidates) {
        if (taken.length >= limit) break;
        if (tickets.has(candidate.ticketKey)) continue;
        tickets.add(candidate.ticketKey);
        const [locked] = await pg.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1::int, hashtext($2)) AS locked', [
          CLAIM_TICKET_LOCK_CLASS,
          candidate.ticketKey,
        ]);
        if (!locked.locked) continue;
        const [claimed] = await pg.query<RunRow>(
          `UPDATE runs SET status = 'running', attempts = attempts + 1, locked_at = $1, started_at = $1, owner = $2, lease_expires_at = $3
           WHERE id = $4 AND status = 'queued'
             AND NOT EXISTS (SELECT 1 FROM runs other WHERE other.ticket_key = runs.ticket_key AND other.status = 'running')
           RETURNING ${RUN_COLUMNS}`,
          [now, claimant.owner, leaseExpiresAt, candidate.id],
        );
        if (claimed) taken.push(claimed);
      }
      return taken;
    });
  };

  const finish = (id: number, outcome: RunOutcomeRecord, now: number, owner: string | null) =>
    pg.execute(
      `UPDATE runs SET status = $1, summary = $2, error = $3, duration_ms = $4, applied = $5, finished_at = $6, locked_at = NULL,
         owner = NULL, lease_expires_at = NULL
       WHERE id = $7${owner === null ? '' : ` AND status = 'running' AND owner = $8`}`,
      [outcome.status, outcome.summary ?? null, outcome.error ?? null, outcome.durationMs, outcome.applied !== false, now, id, ...(owner === null ? [] : [owner])],
    );

  return {
    enqueueRun: async (run: NewRun, now = Date.now()) => {
      const [row] = await pg.query<{ id: number }>(
        queueingRuns(
          `INSERT INTO runs (delivery_id, ticket_key, handler, reason, status, dry_run, idempotency_key, attempts, max_attempts, run_after, created_at,
             ticket_snapshot, shadow, rules_version)
           VALUES ($1, $2, $3, $4, 'queued', $5, $6, 0, $7, $8, $8, $9, $10, $11)
           ON CONFLICT DO NOTHING`,
          'runs.id',
        ),
        [run.deliveryId, run.ticketKey, run.handler, run.reason, Boolean(run.dryRun || run.shadow), run.idempotencyKey, run.maxAttempts, now,
          run.ticket ? JSON.stringify(run.ticket) : null, Boolean(run.shadow), run.rulesVersion ?? null],
      );
      return row?.id ?? null;
    },

    claimDueRuns,

    claimRun: (id: number, claimant: RunClaimant, now = Date.now()) =>
      pg.transaction(async (): Promise<RunClaim> => {
        const [row] = await pg.query<{ status: string; runAfter: number; handler: string; ticketKey: string; paused: boolean }>(
          `SELECT status, run_after AS "runAfter", handler, ticket_key AS "ticketKey",
             EXISTS (SELECT 1 FROM handler_states h WHERE h.handler = runs.handler AND h.paused_at IS NOT NULL) AS paused
           FROM runs WHERE id = $1 FOR UPDATE`,
          [id],
        );
        if (!row || row.status !== 'queued') return { run: null, notClaimed: 'not-queued', runAfter: null };
        if (row.runAfter > now) return { run: null, notClaimed: 'not-due', runAfter: row.runAfter };
        if (row.paused) return { run: null, notClaimed: 'handler-paused', runAfter: row.runAfter };
        // The ticket's claim lock, as in claimDueRuns: a claim of another run of this ticket not yet committed holds it.
        const [locked] = await pg.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1::int, hashtext($2)) AS locked', [
          CLAIM_TICKET_LOCK_CLASS,
          row.ticketKey,
        ]);
        const [claimed] = !locked.locked
          ? []
          : await pg.query<RunRow>(
              `UPDATE runs SET status = 'running', attempts = attempts + 1, locked_at = $1, started_at = $1, owner = $2, lease_expires_at = $3
               WHERE id = $4 AND NOT EXISTS (SELECT 1 FROM runs other WHERE other.ticket_key = runs.ticket_key AND other.status = 'running')
               RETURNING ${RUN_COLUMNS}`,
              [now, claimant.owner, now + claimant.leaseMs, id],
            );
        return claimed ? { run: claimed } : { run: null, notClaimed: 'ticket-busy', runAfter: row.runAfter };
      }),

    renewRunLeases: async (owner: string, ids: readonly number[], leaseExpiresAt: number) => {
      if (ids.length === 0) return new Set<number>();
      const rows = await pg.query<{ id: number }>(
        `UPDATE runs SET lease_expires_at = $1 WHERE owner = $2 AND status = 'running' AND id = ANY($3::bigint[]) RETURNING id`,
        [leaseExpiresAt, owner, [...ids]],
      );
      return new Set(rows.map((r) => r.id));
    },

    requeueExpiredRuns: async (now = Date.now()) => {
      const rows = await pg.query<{ id: number; owner: string | null }>(
        queueingRuns(
          `UPDATE runs SET status = 'queued', attempts = greatest(runs.attempts - 1, 0), locked_at = NULL, lease_expires_at = NULL, owner = NULL
           FROM (SELECT id, owner FROM runs WHERE status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < $1)
                 ORDER BY id FOR UPDATE SKIP LOCKED) expired
           WHERE runs.id = expired.id`,
          'runs.id, expired.owner',
        ),
        [now],
      );
      return rows.map(({ id, owner }) => ({ id, owner })).sort((a, b) => a.id - b.id);
    },

    finishOwnedRun: (id: number, owner: string, outcome: RunOutcomeRecord, now = Date.now()) =>
      writeAudited(pg, async () => {
        const written = (await finish(id, outcome, now, owner)) === 1;
        return { result: written, rows: written ? [['runs', id] as const] : [] };
      }, now),

    finishRun: (id: number, outcome: RunOutcomeRecord, now = Date.now()) =>
      writeAudited(pg, async () => {
        await finish(id, outcome, now, null);
        return { result: undefined, rows: [['runs', id] as const] };
      }, now),

    requeueOwnedRun: async (id: number, owner: string, runAfter: number, error: string, durationMs: number) =>
      (await pg.query(
        queueingRuns(
          `UPDATE runs SET status = 'queued', run_after = $1, error = $2, duration_ms = $3, locked_at = NULL, owner = NULL, lease_expires_at = NULL
           WHERE id = $4 AND status = 'running' AND owner = $5`,
          'runs.id',
        ),
        [runAfter, error, durationMs, id, owner],
      )).length === 1,

    releaseOwnedRuns: async (owner: string, ids: readonly number[]) => {
      if (ids.length === 0) return 0;
      const released = await pg.query(
        queueingRuns(
          `UPDATE runs SET status = 'queued', attempts = greatest(attempts - 1, 0), locked_at = NULL, owner = NULL, lease_expires_at = NULL
           WHERE status = 'running' AND owner = $1 AND id = ANY($2::bigint[])`,
          'runs.id',
        ),
        [owner, [...ids]],
      );
      return released.length;
    },

    findRunTicketSnapshot: async (id: number) => {
      const [row] = await pg.query<{ ticketSnapshot: string | null }>('SELECT ticket_snapshot AS "ticketSnapshot" FROM runs WHERE id = $1', [id]);
      return row?.ticketSnapshot ? (JSON.parse(row.ticketSnapshot) as Ticket) : null;
    },

    findRun: async (id: number) => (await pg.query<RunRow>(`${SELECT_RUN} WHERE id = $1`, [id]))[0],

    listRuns: async (options: ListRunsOptions = {}) => {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (condition: (n: string) => string, value: unknown) => {
        params.push(value);
        where.push(condition(`$${params.length}`));
      };
      if (options.since !== undefined) add((n) => `created_at >= ${n}`, options.since);
      if (options.status) add((n) => `status = ${n}`, options.status);
      if (options.handler) add((n) => `handler = ${n}`, options.handler);
      if (options.ticketKey) add((n) => `ticket_key = ${n}`, options.ticketKey);
      if (options.trackers?.length) add((n) => `${RUN_TRACKER} = ANY(${n}::text[])`, [...options.trackers]);
      params.push(options.limit ?? 100);
      return pg.query<ListedRun>(
        `SELECT ${RUN_COLUMNS}, ${RUN_TRACKER} AS tracker FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`,
        params,
      );
    },

    countRuns: async (now = Date.now()) => {
      const rows = await pg.query<{ status: string; n: number }>('SELECT status, count(*) AS n FROM runs GROUP BY status ORDER BY status COLLATE "C"');
      const [due] = await pg.query<{ n: number }>(`SELECT count(*) AS n FROM runs WHERE status = 'queued' AND run_after <= $1 AND ${notPaused}`, [now]);
      return { byStatus: Object.fromEntries(rows.map((r) => [r.status, r.n])), due: due.n };
    },

    retryRun: (id: number, now = Date.now()) =>
      writeAudited(pg, async () => {
        const retried =
          (await pg.query(
            queueingRuns(
              `UPDATE runs SET status = 'queued', attempts = 0, run_after = $1, locked_at = NULL, finished_at = NULL, owner = NULL, lease_expires_at = NULL,
                 manual_retries = manual_retries + 1 WHERE id = $2 AND status IN ('failed', 'dead')`,
              'runs.id',
            ),
            [now, id],
          )).length === 1;
        return { result: retried, rows: retried ? [['runs', id] as const] : [] };
      }, now),

    findRetryableRuns: (since: number | null) =>
      pg.query<RunRow>(`${SELECT_RUN} WHERE status IN ('failed', 'dead') AND created_at >= $1 ORDER BY id`, [since ?? 0]),

    nextRunDueAt: async (after: number) =>
      (await pg.query<{ at: number | null }>(`SELECT min(run_after) AS at FROM runs WHERE status = 'queued' AND run_after > $1 AND ${notPaused}`, [after]))[0].at,
  };
};
