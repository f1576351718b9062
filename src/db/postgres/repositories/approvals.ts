/**
 * PostgreSQL twin of `../../approvals.ts` (tables `approvals`, `run_rule_settings`, and the run status moves of an
 * approval; decision 009). Where the SQL differs, and why:
 * - `by` and `at` are written quoted, and camelCase aliases are quoted (PostgreSQL folds unquoted names to lower case).
 * - `run_rule_settings.feedback` is a real boolean (SQLite stored 0/1).
 * - `run_id IN (SELECT value FROM json_each(?))` → `run_id = ANY($1::bigint[])` (an array parameter).
 * - {@link findRunsAwaitingApproval}: SQLite skips runs whose `ticket_snapshot` is not valid JSON
 *   (`json_valid`) and reads `$.reporterId` / `$.reporter` with `json_extract`. PostgreSQL 15 has no `IS JSON` test
 *   (that is 16: https://www.postgresql.org/docs/16/functions-json.html) and `::jsonb` on bad text raises, so the
 *   snapshot text is read and parsed here, with `json_extract`'s result types (text and numbers as they are, true/false
 *   as 1/0, objects and arrays as their JSON text, absent → null). One difference: of a key given twice, SQLite reads
 *   the first and `JSON.parse` the last (deflect writes snapshots with `JSON.stringify`, which never repeats a key).
 * - {@link parkRunForApproval} / {@link decideAwaitingRun}: the guarded UPDATE and the step's INSERT run in one
 *   `pg.transaction` (SQLite: `db.transaction`). Across replicas the UPDATE's row lock decides: a second replica's
 *   UPDATE waits for the first to commit, re-checks `status` / `owner` on the new row version and changes nothing
 *   (READ COMMITTED, https://www.postgresql.org/docs/15/transaction-iso.html#XACT-READ-COMMITTED), so a run is parked
 *   or decided once and only one `approvals` step is written for it.
 * - {@link findExpiredApprovalRuns} orders by run id; the SQLite query has no ORDER BY (its order is the plan's).
 * - {@link decideAwaitingRun} adds the requeued run's graphile-worker job in its UPDATE (`queueingRuns`, decision 019).
 * Neither move reaches a final status, so, as on SQLite, neither writes to the audit chain.
 */
import type { ApprovalSettings } from '../../../automation/approval-rule.js';
import type { AwaitingRun, NewApprovalStep, RunRuleSettings } from '../../approvals.js';
import type { ApprovalRow } from '../../schema.js';
import type { Repositories } from '../../store.js';
import type { PgSession } from '../pg-session.js';
import { queueingRuns } from '../run-jobs.js';

const SELECT_APPROVAL = `SELECT id, run_id AS "runId", decision, "by", "at", comment_id AS "commentId", delivery_id AS "deliveryId", reason,
  expires_at AS "expiresAt" FROM approvals`;

/** `json_extract(snapshot, '$.<field>')` of a snapshot already known to be valid JSON. */
function extractField(parsed: unknown, field: string): string | null {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const value = (parsed as Record<string, unknown>)[field];
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return (value ? 1 : 0) as unknown as string;
  if (typeof value === 'object') return JSON.stringify(value);
  return value as string;
}

/** `json_valid(COALESCE(snapshot, '{}'))` then the parsed value; undefined when not valid JSON. */
function parseSnapshot(text: string | null): unknown {
  try {
    return JSON.parse(text ?? '{}') as unknown;
  } catch {
    return undefined;
  }
}

export const approvals = (pg: PgSession): Repositories['approvals'] => {
  const recordApprovalStep = async (step: NewApprovalStep, now = Date.now()): Promise<void> => {
    await pg.execute(
      'INSERT INTO approvals (run_id, decision, "by", "at", comment_id, delivery_id, reason, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [step.runId, step.decision, step.by ?? null, now, step.commentId ?? null, step.deliveryId ?? null, step.reason ?? null, step.expiresAt ?? null],
    );
  };

  return {
    recordRunRuleSettings: async (runId: number, settings: RunRuleSettings) => {
      await pg.execute(
        'INSERT INTO run_rule_settings (run_id, rule_name, options, approval, feedback) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
        [runId, settings.ruleName, JSON.stringify(settings.options), settings.approval ? JSON.stringify(settings.approval) : null, Boolean(settings.feedback)],
      );
    },

    findRunRuleSettings: async (runId: number) => {
      const [row] = await pg.query<{ ruleName: string; options: string; approval: string | null; feedback: boolean }>(
        'SELECT rule_name AS "ruleName", options, approval, feedback FROM run_rule_settings WHERE run_id = $1',
        [runId],
      );
      if (!row) return null;
      return {
        ruleName: row.ruleName,
        options: JSON.parse(row.options) as Record<string, unknown>,
        approval: row.approval ? (JSON.parse(row.approval) as ApprovalSettings) : null,
        feedback: row.feedback,
      };
    },

    recordApprovalStep,

    findLatestApprovalStep: async (runId: number) => {
      const [row] = await pg.query<ApprovalRow>(`${SELECT_APPROVAL} WHERE run_id = $1 ORDER BY id DESC LIMIT 1`, [runId]);
      return row ?? null;
    },

    listApprovalSteps: async (runIds: readonly number[]) => {
      if (runIds.length === 0) return [];
      return pg.query<ApprovalRow>(`${SELECT_APPROVAL} WHERE run_id = ANY($1::bigint[]) ORDER BY id`, [[...runIds]]);
    },

    findRunsAwaitingApproval: async (ticketKey: string) => {
      const rows = await pg.query<{ runId: number; handler: string; snapshot: string | null; approval: string | null }>(
        `SELECT r.id AS "runId", r.handler, r.ticket_snapshot AS snapshot, s.approval
         FROM runs r LEFT JOIN run_rule_settings s ON s.run_id = r.id
         WHERE r.ticket_key = $1 AND r.status = 'awaiting-approval' ORDER BY r.id`,
        [ticketKey],
      );
      const awaiting: AwaitingRun[] = [];
      for (const row of rows) {
        const parsed = parseSnapshot(row.snapshot);
        if (parsed === undefined) continue;
        awaiting.push({
          runId: row.runId,
          handler: row.handler,
          reporterId: extractField(parsed, 'reporterId'),
          reporter: extractField(parsed, 'reporter'),
          approval: row.approval ? (JSON.parse(row.approval) as ApprovalSettings) : null,
        });
      }
      return awaiting;
    },

    parkRunForApproval: (runId: number, owner: string, reason: string, expiresAt: number, durationMs: number, now = Date.now()) =>
      pg.transaction(async () => {
        const parked =
          (await pg.execute(
            `UPDATE runs SET status = 'awaiting-approval', summary = $1, duration_ms = $2, finished_at = NULL, locked_at = NULL, owner = NULL,
               lease_expires_at = NULL WHERE id = $3 AND status = 'running' AND owner = $4`,
            [`awaiting approval: ${reason}`.slice(0, 500), durationMs, runId, owner],
          )) === 1;
        if (parked) await recordApprovalStep({ runId, decision: 'requested', reason, expiresAt }, now);
        return parked;
      }),

    decideAwaitingRun: (step: NewApprovalStep, now = Date.now()) =>
      pg.transaction(async () => {
        const requeued =
          (await pg.query(
            queueingRuns(`UPDATE runs SET status = 'queued', run_after = $1, attempts = 0, finished_at = NULL WHERE id = $2 AND status = 'awaiting-approval'`, 'runs.id'),
            [now, step.runId],
          )).length === 1;
        if (requeued) await recordApprovalStep(step, now);
        return requeued;
      }),

    findExpiredApprovalRuns: async (now = Date.now()) =>
      (
        await pg.query<{ id: number }>(
          `SELECT r.id FROM runs r WHERE r.status = 'awaiting-approval' AND (SELECT a.expires_at FROM approvals a WHERE a.run_id = r.id
             AND a.decision = 'requested' ORDER BY a.id DESC LIMIT 1) <= $1 ORDER BY r.id`,
          [now],
        )
      ).map((row) => row.id),

    isApprovalCommentRecorded: async (commentId: string) =>
      (await pg.query('SELECT 1 FROM approvals WHERE comment_id = $1 LIMIT 1', [commentId])).length > 0,
  };
};
