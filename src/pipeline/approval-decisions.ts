/**
 * (approvals) Routing's side of approvals: reading an `/approve` or `/deny` decision from a comment event and applying
 * it to the ticket's runs that wait for approval, and storing the rule settings (options, approval) of each queued
 * run. Called from `routeEvent` inside its transaction; no I/O besides the database: the worker posts the comments.
 * Decision record: docs/decisions/009-approvals.md.
 *
 * A comment is a decision when its first non-empty line is `/approve` or `/deny` (case-insensitive, anything after
 * the word is a note). It counts only when its author is one of the rule's approvers (tracker account id, login or
 * email, compared case-insensitively), is not the ticket's reporter (nobody approves their own request), and is not
 * deflect itself (its own account, `selfAccountId`); otherwise it is ignored, with the reason on the delivery.
 */
import type { Store } from '../db/store.js';
import type { Rule } from '../rules/rules-file.js';
import type { TrackerEvent } from '../trackers/tracker.js';

/** What applying a comment did, for the delivery's reason; null when the event carries no decision. */
export interface ApprovalNote {
  /** True when at least one run was approved or denied. */
  decided: boolean;
  reason: string;
}

/**
 * The slash command a comment carries: one of `commands` when the comment's first non-empty line is `/<command>`
 * (case-insensitive; anything after the word is a note), else null. The one comment-command parser: approvals
 * (`/approve`, `/deny`) and reporter feedback (`/thanks`, `/reopen`, `pipeline/verification-signals.ts`) use it.
 */
export function commentCommandOf<C extends string>(body: string, commands: readonly C[]): C | null {
  const first = body.split(/\r?\n/).find((line) => line.trim() !== '')?.trim().toLowerCase() ?? '';
  const match = /^\/([a-z]+)(?:\s|$|[.!,:])/.exec(first);
  return match && (commands as readonly string[]).includes(match[1]) ? (match[1] as C) : null;
}

/** `approve` / `deny` when the comment's first non-empty line is that command, else null. */
export function decisionOf(body: string): 'approve' | 'deny' | null {
  return commentCommandOf(body, ['approve', 'deny'] as const);
}

/**
 * Applies the decision an event's comment carries to the runs of its ticket that await approval.
 * @returns null when the event adds no `/approve` or `/deny` comment on a known ticket; otherwise what was decided or
 *   why the comment was ignored.
 */
export async function applyApprovalDecision(
  db: Store,
  deliveryId: number,
  event: TrackerEvent,
  options: { selfAccountId: string | null },
  now = Date.now(),
): Promise<ApprovalNote | null> {
  const comment = event.comment;
  const key = event.ticket?.key;
  if (!comment || !key) return null;
  const decision = decisionOf(comment.body);
  if (!decision) return null;
  const author = comment.authorId?.toLowerCase() ?? null;
  const email = comment.authorEmail?.toLowerCase() ?? null;
  const who = comment.authorId ?? comment.authorEmail ?? 'an unknown author';
  const ignored = (why: string): ApprovalNote => ({ decided: false, reason: `/${decision} by ${who} ignored: ${why}` });
  const self = options.selfAccountId?.toLowerCase();
  if (self && (author === self || event.actor?.toLowerCase() === self)) return ignored("it is deflect's own comment");
  if (!author && !email) return ignored('the comment names no author');
  if (comment.id && await db.isApprovalCommentRecorded(comment.id)) return ignored(`comment ${comment.id} was already counted`);
  const waiting = await db.findRunsAwaitingApproval(key);
  if (waiting.length === 0) return ignored(`no run of ${key} awaits approval`);
  const reasons: string[] = [];
  let decided = false;
  for (const run of waiting) {
    const reporter = [run.reporterId, run.reporter].filter((v): v is string => !!v).map((v) => v.toLowerCase());
    if ((author && reporter.includes(author)) || (email && reporter.includes(email))) {
      reasons.push(`run #${run.runId}: the reporter cannot approve or deny their own request`);
      continue;
    }
    const approvers = run.approval?.approvers ?? [];
    if (!approvers.some((a) => a === author || a === email)) {
      reasons.push(`run #${run.runId}: ${who} is not an approver (${approvers.join(', ') || 'none'})`);
      continue;
    }
    const step = { runId: run.runId, decision: decision === 'approve' ? ('approved' as const) : ('denied' as const), by: who, commentId: comment.id, deliveryId };
    if (await db.decideAwaitingRun(step, now)) {
      decided = true;
      reasons.push(`run #${run.runId} (${run.handler}) ${step.decision} by ${who}`);
    }
  }
  return decided ? { decided, reason: reasons.join('; ') } : ignored(reasons.join('; '));
}

/** Stores the rule a newly queued run was routed by (its parsed options and approval settings). */
export async function recordRunRule(db: Store, runId: number, rule: Rule): Promise<void> {
  await db.recordRunRuleSettings(runId, { ruleName: rule.name, options: rule.with ?? {}, approval: rule.approval ?? null, feedback: rule.feedback ?? false });
}
