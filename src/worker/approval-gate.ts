/**
 * (approvals) The run executor's side of approvals: which options and approval a run runs with, the one comment that
 * asks the rule's approvers, parking the run as `awaiting-approval`, and ending a denied or expired run with a
 * comment. The decisions themselves are read from comment webhooks by `pipeline/approval-decisions.ts` (and expiry
 * by {@link expireApprovals}), which only record them and requeue the run: every comment is posted here, by the
 * worker, as a recorded action (effectively once, planned in dry run). Decision record: docs/decisions/009-approvals.md.
 *
 * The approval comments are recorded under their own keys (`<run key>:approval:1:comment` for the request,
 * `<run key>:approval-end:1:comment` for a denial or expiry), so the handler's own action sequence is the same on the
 * attempt that asked and on the approved attempt.
 */
import type { Logger } from 'pino';
import type { AnyHandler } from '../automation/define-handler.js';
import type { ApprovalGrant } from '../automation/approval.js';
import { conditionRequiresApproval, type ApprovalSettings } from '../automation/approval-rule.js';
import type { Store } from '../db/store.js';
import type { RunOutcomeRecord } from '../db/runs.js';
import type { RunRow } from '../db/schema.js';
import { md } from '../jira/comment-markdown.js';
import type { TicketActions } from '../trackers/tracker.js';

/** What a run attempt runs with, from its stored rule settings and its approval record. */
export interface RunGate {
  ruleName: string | null;
  /** `ctx.options`: the stored parsed options, else the handler's defaults. */
  options: Record<string, unknown>;
  approval: ApprovalSettings | null;
  /** `ctx.approval`: set when the latest decision is `approved`. */
  grant: ApprovalGrant | null;
  /** The latest decision when it ends the run (`denied`, `expired`), with who decided. */
  ended: { decision: 'denied' | 'expired'; by: string | null } | null;
  /** (verified resolution) The rule's `feedback: true`: a resolving run invites `/thanks` or `/reopen`. */
  feedback: boolean;
}

/**
 * The gate of run `run` of `handler`.
 * @throws Error when the handler's options schema refuses its defaults (a handler bug: the run fails).
 */
export async function runGateOf(db: Store, run: RunRow, handler: AnyHandler): Promise<RunGate> {
  const settings = await db.findRunRuleSettings(run.id);
  const options = settings?.options ?? (handler.options ? ((handler.options.parse({}) ?? {}) as Record<string, unknown>) : {});
  const latest = await db.findLatestApprovalStep(run.id);
  return {
    ruleName: settings?.ruleName ?? null,
    options,
    approval: settings?.approval ?? null,
    grant: latest?.decision === 'approved' ? { by: latest.by ?? 'unknown', at: latest.at } : null,
    ended: latest?.decision === 'denied' || latest?.decision === 'expired' ? { decision: latest.decision, by: latest.by } : null,
    feedback: settings?.feedback ?? false,
  };
}

/** The reason the rule's `approval.when` gives for `input` needing approval, or null (none, or already approved). */
export function ruleRequiresApproval(gate: RunGate, input: unknown): string | null {
  return gate.grant ? null : conditionRequiresApproval(gate.approval?.when ?? null, input);
}

/** What asking for approval or closing a decided run needs. */
export interface GateActionParts {
  db: Store;
  run: RunRow;
  gate: RunGate;
  /** Recorded ticket actions under the run key plus `suffix` (`:approval`, `:approval-end`). */
  actionsFor: (suffix: string) => TicketActions;
  owner: string;
  durationMs: number;
  log: Logger;
  finish: (outcome: RunOutcomeRecord) => Promise<boolean>;
  now?: number;
}

/**
 * Asks for approval: comments once who must approve and how, and parks the run (`awaiting-approval`) until a decision
 * or `expiresAfter`. A rule without approvers cannot be approved: the run ends `skipped` (not applied) with a comment
 * saying so. Returns the status written, or `lost` when the run is no longer this owner's.
 */
export async function askForApproval(parts: GateActionParts, reason: string): Promise<string> {
  const { run, gate, log } = parts;
  const actions = parts.actionsFor(':approval');
  const requestId = md`Request id: \`${run.idempotencyKey}\``;
  if (!gate.approval) {
    await actions.comment(
      md.join([
        md`This request needs approval (${reason}), but the rule names no approvers, so deflect did **not** act on it.`,
        md``,
        md`A platform engineer can apply it by hand, or add \`approval.approvers\` to rule \`${gate.ruleName ?? run.handler}\` in the rules file. ${requestId}`,
      ]),
    );
    if (!(await parts.finish({ status: 'skipped', summary: `needs approval (${reason}); the rule names no approvers`, applied: false, durationMs: parts.durationMs }))) return 'lost';
    log.info({ reason }, 'approval needed but the rule names no approvers; run skipped');
    return 'skipped';
  }
  const now = parts.now ?? Date.now();
  const expiresAt = now + gate.approval.expiresAfterMs;
  await actions.comment(
    md.join([
      md`This request needs approval before deflect acts: ${reason}.`,
      md``,
      md`- Approvers: ${gate.approval.approvers.join(', ')}`,
      md`- To decide, an approver adds a comment whose first line is \`/approve\` or \`/deny\` (the reporter cannot approve their own request).`,
      md`- Without a decision the request expires at ${new Date(expiresAt).toISOString()}.`,
      md``,
      requestId,
    ]),
  );
  // A dry run or a shadow run shows that it would wait (its comment is only planned) and ends: nobody could answer it.
  if (run.dryRun || run.shadow) {
    const status = run.shadow ? 'shadow' : 'planned';
    const summary = `would wait for approval (${reason}) by ${gate.approval.approvers.join(', ')}`;
    if (!(await parts.finish({ status, summary, applied: false, durationMs: parts.durationMs }))) return 'lost';
    log.info({ reason }, `${status} run: approval would be asked; nothing sent`);
    return status;
  }
  if (!await parts.db.parkRunForApproval(run.id, parts.owner, reason, expiresAt, parts.durationMs, now)) return 'lost';
  log.info({ reason, approvers: gate.approval.approvers, expiresAt }, 'run awaits approval');
  return 'awaiting-approval';
}

/** Ends a run whose latest decision is `denied` or `expired`, with one comment saying so. */
export async function closeDecidedRun(parts: GateActionParts): Promise<string> {
  const { run, gate } = parts;
  const actions = parts.actionsFor(':approval-end');
  const ended = gate.ended!;
  const requestId = md`Request id: \`${run.idempotencyKey}\``;
  const text =
    ended.decision === 'denied'
      ? md`Denied by ${ended.by ?? 'an approver'}: deflect will not act on this request. ${requestId}`
      : md`Nobody approved this request in time, so it expired and deflect did not act on it. File a new ticket if it is still needed. ${requestId}`;
  await actions.comment(text);
  const summary = ended.decision === 'denied' ? `denied by ${ended.by ?? 'an approver'}` : 'approval expired';
  if (!(await parts.finish({ status: ended.decision, summary, applied: false, durationMs: parts.durationMs }))) return 'lost';
  parts.log.info({ decision: ended.decision, by: ended.by }, `run ${ended.decision}`);
  return ended.decision;
}

/**
 * Records `expired` on every `awaiting-approval` run whose request expired at or before `now` (ms) and requeues it, so
 * the worker comments and ends it. Called periodically by the worker. Returns the run ids.
 */
export async function expireApprovals(db: Store, now = Date.now()): Promise<number[]> {
  const expired: number[] = [];
  for (const runId of await db.findExpiredApprovalRuns(now)) {
    if (await db.decideAwaitingRun({ runId, decision: 'expired', reason: 'no decision before expiresAfter' }, now)) expired.push(runId);
  }
  return expired;
}
