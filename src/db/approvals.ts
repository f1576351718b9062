/**
 * (approvals) Tables `approvals` and `run_rule_settings`, and the run status moves of an approval: parking a run as
 * `awaiting-approval`, putting it back in the queue once decided. Times are epoch ms. Flow and reasons:
 * docs/decisions/009-approvals.md.
 */
import type { ApprovalSettings } from '../automation/approval-rule.js';
import type { Db } from './client.js';
import { statement } from './statements.js';
import type { ApprovalRow } from './schema.js';

/** The steps of an approval recorded in `approvals.decision`. */
export const APPROVAL_DECISIONS = ['requested', 'approved', 'denied', 'expired'] as const;
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];

/** The rule a run was routed by (see table `run_rule_settings`). */
export interface RunRuleSettings {
  ruleName: string;
  options: Record<string, unknown>;
  approval: ApprovalSettings | null;
  /** (verified resolution) The rule's `feedback: true`; absent = false. */
  feedback?: boolean;
}

/** Stores the rule settings of a newly queued run (once; a second call for the run is ignored). */
export function recordRunRuleSettings(db: Db, runId: number, settings: RunRuleSettings): void {
  statement(db, 'INSERT INTO run_rule_settings (run_id, rule_name, options, approval, feedback) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING').run(
    runId,
    settings.ruleName,
    JSON.stringify(settings.options),
    settings.approval ? JSON.stringify(settings.approval) : null,
    settings.feedback ? 1 : 0,
  );
}

/** The rule settings stored with run `runId`, or null when it has none. */
export function findRunRuleSettings(db: Db, runId: number): RunRuleSettings | null {
  const row = statement(db, 'SELECT rule_name AS ruleName, options, approval, feedback FROM run_rule_settings WHERE run_id = ?').get(runId) as
    | { ruleName: string; options: string; approval: string | null; feedback: number }
    | undefined;
  if (!row) return null;
  return {
    ruleName: row.ruleName,
    options: JSON.parse(row.options) as Record<string, unknown>,
    approval: row.approval ? (JSON.parse(row.approval) as ApprovalSettings) : null,
    feedback: Boolean(row.feedback),
  };
}

/** One step of a run's approval to record. */
export interface NewApprovalStep {
  runId: number;
  decision: ApprovalDecision;
  by?: string | null;
  commentId?: string | null;
  deliveryId?: number | null;
  reason?: string | null;
  expiresAt?: number | null;
}

/** Appends a step to a run's approval record. */
export function recordApprovalStep(db: Db, step: NewApprovalStep, now = Date.now()): void {
  statement(db, 'INSERT INTO approvals (run_id, decision, by, at, comment_id, delivery_id, reason, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
    step.runId,
    step.decision,
    step.by ?? null,
    now,
    step.commentId ?? null,
    step.deliveryId ?? null,
    step.reason ?? null,
    step.expiresAt ?? null,
  );
}

const SELECT_APPROVAL = `SELECT id, run_id AS runId, decision, by, at, comment_id AS commentId, delivery_id AS deliveryId, reason,
  expires_at AS expiresAt FROM approvals`;

/** The latest approval step of a run, or null when approval was never requested. */
export function findLatestApprovalStep(db: Db, runId: number): ApprovalRow | null {
  return (statement(db, `${SELECT_APPROVAL} WHERE run_id = ? ORDER BY id DESC LIMIT 1`).get(runId) as ApprovalRow | undefined) ?? null;
}

/** Every approval step of the runs in `runIds`, oldest first (for the audit). */
export function listApprovalSteps(db: Db, runIds: readonly number[]): ApprovalRow[] {
  if (runIds.length === 0) return [];
  return statement(db, `${SELECT_APPROVAL} WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY id`).all(JSON.stringify(runIds)) as ApprovalRow[];
}

/** A run waiting for approval, with what deciding needs. */
export interface AwaitingRun {
  runId: number;
  handler: string;
  /** The run's ticket snapshot's reporter account id and name (the reporter never approves their own request). */
  reporterId: string | null;
  reporter: string | null;
  approval: ApprovalSettings | null;
}

/** Runs of ticket `ticketKey` in status `awaiting-approval`, oldest first. */
export function findRunsAwaitingApproval(db: Db, ticketKey: string): AwaitingRun[] {
  const rows = statement(db,
    `SELECT r.id AS runId, r.handler, json_extract(r.ticket_snapshot, '$.reporterId') AS reporterId,
       json_extract(r.ticket_snapshot, '$.reporter') AS reporter, s.approval
     FROM runs r LEFT JOIN run_rule_settings s ON s.run_id = r.id
     WHERE r.ticket_key = ? AND r.status = 'awaiting-approval' AND json_valid(COALESCE(r.ticket_snapshot, '{}')) ORDER BY r.id`,
  ).all(ticketKey) as Array<Omit<AwaitingRun, 'approval'> & { approval: string | null }>;
  return rows.map((row) => ({ ...row, approval: row.approval ? (JSON.parse(row.approval) as ApprovalSettings) : null }));
}

/**
 * Parks a run that `owner` holds as `awaiting-approval` (no lease, not claimable) and records the `requested` step.
 * @returns false (nothing written) when the run is no longer this owner's.
 */
export function parkRunForApproval(db: Db, runId: number, owner: string, reason: string, expiresAt: number, durationMs: number, now = Date.now()): boolean {
  return db.$client.transaction(() => {
    const parked = statement(db,
      `UPDATE runs SET status = 'awaiting-approval', summary = ?, duration_ms = ?, finished_at = NULL, locked_at = NULL, owner = NULL,
         lease_expires_at = NULL WHERE id = ? AND status = 'running' AND owner = ?`,
    ).run(`awaiting approval: ${reason}`.slice(0, 500), durationMs, runId, owner).changes === 1;
    if (parked) recordApprovalStep(db, { runId, decision: 'requested', reason, expiresAt }, now);
    return parked;
  })();
}

/**
 * Records a decision on an `awaiting-approval` run and puts it back in the queue, due now, its attempts reset: the
 * executor then runs the handler (approved) or posts the denial / expiry comment and ends it.
 * @returns false when the run was not awaiting approval (decided already): nothing written.
 */
export function decideAwaitingRun(db: Db, step: NewApprovalStep, now = Date.now()): boolean {
  return db.$client.transaction(() => {
    const requeued = statement(db,
      `UPDATE runs SET status = 'queued', run_after = ?, attempts = 0, finished_at = NULL WHERE id = ? AND status = 'awaiting-approval'`,
    ).run(now, step.runId).changes === 1;
    if (requeued) recordApprovalStep(db, step, now);
    return requeued;
  })();
}

/** Ids of `awaiting-approval` runs whose latest request expired at or before `now`. */
export function findExpiredApprovalRuns(db: Db, now = Date.now()): number[] {
  return (
    statement(db,
      `SELECT r.id FROM runs r WHERE r.status = 'awaiting-approval' AND (SELECT a.expires_at FROM approvals a WHERE a.run_id = r.id
         AND a.decision = 'requested' ORDER BY a.id DESC LIMIT 1) <= ?`,
    ).all(now) as Array<{ id: number }>
  ).map((row) => row.id);
}

/** Whether a decision carried by tracker comment `commentId` was already recorded (Jira may send one comment twice: `comment_created` and `jira:issue_updated`). */
export function isApprovalCommentRecorded(db: Db, commentId: string): boolean {
  return statement(db, 'SELECT 1 FROM approvals WHERE comment_id = ? LIMIT 1').get(commentId) !== undefined;
}
