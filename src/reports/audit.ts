/**
 * The audit trail: automated runs with the actions each took, newest first, on tickets of every tracker (or of those
 * `trackers` names). Backs `deflect audit` and `GET /api/runs`.
 */
import { listActionsForRuns } from '../db/actions.js';
import { listApprovalSteps } from '../db/approvals.js';
import type { Db } from '../db/client.js';
import { replayOrigins } from '../db/deliveries.js';
import { listHandlerStates } from '../db/handler-states.js';
import { listRuns, type ListRunsOptions } from '../db/runs.js';
import { findRunVerificationStates, type RunVerificationState } from '../db/run-verifications.js';
import { listHandlerModeChanges } from '../db/handler-modes.js';
import { listDemotedHandlers } from '../automation/demotion.js';
import type { TrackerName } from '../trackers/tracker.js';

export interface AuditAction {
  seq: number;
  kind: string;
  /** `planned` | `started` | `applied` | `failed` */
  status: string;
  request: unknown;
  response: unknown;
  error: string | null;
  at: string;
}

export interface AuditRun {
  id: number;
  deliveryId: number;
  /** The ticket's display key: `PLAT-12` (Jira), `acme/api#12` (GitHub), `ENG-12` (Linear). */
  ticketKey: string;
  /** The tracker of the ticket, from the snapshot the run was queued with (`jira` when it names none). */
  tracker: TrackerName;
  handler: string;
  /** Why the run was created, e.g. `label access-request → grant-repo-access (rule repo-access #1)`. */
  reason: string;
  status: string;
  dryRun: boolean;
  /** Queued by a rule in `mode: shadow`: actions planned, nothing sent; status `shadow` once finished. */
  shadow: boolean;
  /** The rules file version that routed the run (12 hex of the file's SHA-256); null without a rules file or before it was recorded. */
  rulesVersion: string | null;
  /** The delivery this run's delivery replays (`deflect replay --delivery`), or null for an original delivery. */
  replayOf: number | null;
  /** How many times an operator re-queued the run (`deflect runs retry`). */
  manualRetries: number;
  attempts: number;
  durationMs: number | null;
  summary: string | null;
  /** False when the run succeeded but did not carry the request out (see HandlerResult.applied). */
  applied: boolean;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
  actions: AuditAction[];
  /** (approvals) The run's approval steps, oldest first: requested, approved / denied (by whom), expired. */
  approvals: AuditApproval[];
  /**
   * (verified resolution) For a run that resolved its ticket: `pending` (watched until `windowEndsAt`), `verified`,
   * `reopened`, `refiled` or `overridden`, with the evidence and the reporter's answer; null for a run that resolved nothing.
   */
  verification: AuditVerification | null;
}

/** (verified resolution) A resolution's verification, as the audit shows it (`db/run-verifications.ts`). */
export interface AuditVerification {
  state: string;
  decidedAt: string | null;
  evidence: string | null;
  windowEndsAt: string;
  /** `thanks` | `reopen` | null: the reporter's answer. */
  feedback: string | null;
}

/** (verified resolution) A handler's mode set outside the rules file: `shadow` (demoted by deflect) or `live` (put back by a person). */
export interface AuditModeChange {
  handler: string;
  mode: string;
  at: string;
  by: string;
  reason: string;
}

/** One step of a run's approval (table `approvals`). */
export interface AuditApproval {
  /** `requested` | `approved` | `denied` | `expired` */
  decision: string;
  /** The approver's tracker account id, login or email; null for `requested` and `expired`. */
  by: string | null;
  at: string;
  /** The tracker comment that carried the decision. */
  commentId: string | null;
  reason: string | null;
  /** `requested`: when it expires. */
  expiresAt: string | null;
}

/** A handler paused after repeated failures (or by hand), until `deflect handlers resume <name>`. */
export interface PausedHandler {
  handler: string;
  pausedAt: string;
  reason: string | null;
}

/** Runs matching `options` (newest first, default 100) with their actions, and the handlers paused now. */
export function listAudit(
  db: Db,
  options: ListRunsOptions = {},
): { runs: AuditRun[]; pausedHandlers: PausedHandler[]; demotedHandlers: Array<{ handler: string; demotedAt: string; reason: string }>; modeChanges: AuditModeChange[] } {
  const runs = listRuns(db, options);
  const verifications = findRunVerificationStates(
    db,
    runs.map((r) => r.id),
  );
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const modeChanges = listHandlerModeChanges(db, { handler: options.handler, limit: 50 }).map((m) => ({ handler: m.handler, mode: m.mode, at: iso(m.at)!, by: m.by, reason: m.reason }));
  const replays = replayOrigins(
    db,
    runs.map((r) => r.deliveryId),
  );
  const pausedHandlers = listHandlerStates(db)
    .filter((s) => s.pausedAt !== null)
    .map((s) => ({ handler: s.handler, pausedAt: new Date(s.pausedAt!).toISOString(), reason: s.pausedReason }));
  const actions = listActionsForRuns(
    db,
    runs.map((r) => r.id),
  );
  const approvals = listApprovalSteps(
    db,
    runs.map((r) => r.id),
  );
  const parse = (value: string | null) => (value === null ? null : (JSON.parse(value) as unknown));
  return {
    pausedHandlers,
    demotedHandlers: listDemotedHandlers(db),
    modeChanges,
    runs: runs.map((run) => ({
      id: run.id,
      deliveryId: run.deliveryId,
      ticketKey: run.ticketKey,
      tracker: run.tracker as TrackerName,
      handler: run.handler,
      reason: run.reason,
      status: run.status,
      dryRun: run.dryRun,
      shadow: run.shadow,
      rulesVersion: run.rulesVersion,
      replayOf: replays.get(run.deliveryId) ?? null,
      manualRetries: run.manualRetries,
      attempts: run.attempts,
      durationMs: run.durationMs,
      summary: run.summary,
      applied: run.applied,
      error: run.error,
      createdAt: new Date(run.createdAt).toISOString(),
      finishedAt: run.finishedAt === null ? null : new Date(run.finishedAt).toISOString(),
      actions: actions
        .filter((a) => a.runId === run.id)
        .map((a) => ({
          seq: a.seq,
          kind: a.kind,
          status: a.status,
          request: parse(a.request),
          response: parse(a.response),
          error: a.error,
          at: new Date(a.finishedAt ?? a.createdAt).toISOString(),
        })),
      approvals: approvals
        .filter((a) => a.runId === run.id)
        .map((a) => ({
          decision: a.decision,
          by: a.by,
          at: new Date(a.at).toISOString(),
          commentId: a.commentId,
          reason: a.reason,
          expiresAt: a.expiresAt === null ? null : new Date(a.expiresAt).toISOString(),
        })),
      verification: verificationOf(verifications.get(run.id), iso),
    })),
  };
}

function verificationOf(v: RunVerificationState | undefined, iso: (ms: number | null) => string | null): AuditVerification | null {
  return v ? { state: v.state, decidedAt: iso(v.decidedAt), evidence: v.evidence, windowEndsAt: iso(v.windowEndsAt)!, feedback: v.feedback } : null;
}
