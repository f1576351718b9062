/**
 * (Slack, issue 15) Approvals in Slack (decision 009, "Roll out …"): when a run of a Slack-filed ticket waits for
 * approval, its approvers get Approve / Deny buttons in a DM; a click decides it exactly like an `/approve` or `/deny`
 * comment on the ticket.
 *
 * - Approvers are the rule's `approval.approvers`: emails are mapped with `users.lookupByEmail`, entries that are Slack
 *   user ids (`U…`/`W…`) are used as they are; tracker account ids have no Slack user and are skipped (they decide in
 *   the tracker).
 * - A click (a verified `block_actions` payload, https://api.slack.com/reference/interaction-payloads/block-actions)
 *   becomes a comment event (`comment_created`, body `/approve` or `/deny`, author = the Slack user id with their
 *   email) recorded through record-and-route, so `applyApprovalDecision` applies it with the same checks (an approver,
 *   not the reporter, not counted twice) and the same audit row (`approvals.by`, the delivery). The event's time is the
 *   ticket snapshot's, so it never overwrites a newer ticket state.
 * - The buttons message is then updated to say who decided (or why the click did not count).
 */
import type { RunRow } from '../db/schema.js';
import { parseJiraEvent } from '../trackers/jira/jira-event.js';
import type { FrontDoorOptions } from './slack-front-door.js';
import type { SlackApi } from './slack-api.js';
import { plainMessage } from './slack-messages.js';
import { approvalBlocks } from './slack-modal.js';

const SLACK_USER_ID = /^[uw][a-z0-9]{6,}$/i;

/** Sends Approve / Deny buttons for `run` to each approver of its rule that has a Slack user. Returns how many got them. */
export async function askApproversInSlack(slack: SlackApi, options: Pick<FrontDoorOptions, 'db' | 'logger'>, run: RunRow, ticketUrl: string | null): Promise<number> {
  const approvers = (await options.db.findRunRuleSettings(run.id))?.approval?.approvers ?? [];
  const text = `Approval needed for ${run.ticketKey} (${run.handler}): ${run.summary ?? 'the rule asks for approval'}.${ticketUrl ? ` ${ticketUrl}` : ''}`;
  let sent = 0;
  for (const approver of approvers) {
    try {
      const id = approver.includes('@') ? await slack.userIdByEmail(approver) : SLACK_USER_ID.test(approver) ? approver.toUpperCase() : null;
      if (!id) continue;
      await slack.postMessage(id, text, approvalBlocks(text, run.id));
      sent++;
    } catch (error) {
      options.logger.warn({ err: error, runId: run.id }, 'Slack: could not send the approval buttons to an approver');
    }
  }
  return sent;
}

/** Handles an Approve / Deny click (after the acknowledgement). */
export async function decideFromSlack(options: FrontDoorOptions, payload: Record<string, any>, decision: 'approve' | 'deny'): Promise<void> {
  const slack = options.slack!;
  const runId = Number(payload.actions?.[0]?.value);
  const channel = String(payload.channel?.id ?? payload.container?.channel_id ?? '');
  const ts = String(payload.message?.ts ?? payload.container?.message_ts ?? '');
  const update = async (text: string) => {
    if (channel && ts) await slack.updateMessage(channel, ts, text, plainMessage(text)).catch((error) => options.logger.warn({ err: error }, 'Slack: could not update the approval message'));
  };
  try {
    const user = await slack.user(String(payload.user?.id ?? ''));
    const run = Number.isSafeInteger(runId) ? await options.db.findRun(runId) : undefined;
    const ticket = run ? await options.db.findRunTicketSnapshot(run.id) : null;
    if (!run || !ticket) return update(`Run #${payload.actions?.[0]?.value} is not known to deflect.`);
    if (run.status !== 'awaiting-approval') return update(`${run.ticketKey}: this request no longer waits for approval (it is ${run.status}).`);
    const commentId = `slack:${String(payload.actions?.[0]?.action_ts ?? Date.now())}:${user.id}`;
    const body = {
      webhookEvent: 'comment_created',
      timestamp: ticket.updated ?? 0,
      user: { accountId: user.id, displayName: user.name, emailAddress: user.email },
      issue: { id: ticket.id, key: ticket.key, fields: { summary: ticket.summary } },
      comment: { id: commentId, body: `/${decision} (from Slack)`, author: { accountId: user.id, displayName: user.name, emailAddress: user.email } },
    };
    const now = Date.now();
    const recorded = await options.intake.record(
      { source: 'jira', deliveryKey: `slack:${commentId}`, webhookIdentifier: null, event: 'comment_created', issueKey: ticket.key, headers: { 'x-deflect-origin': 'slack' }, body: JSON.stringify(body), eventTimestamp: now, timestampSource: 'event', receivedAt: now },
      parseJiraEvent(body),
    );
    const latest = await options.db.findLatestApprovalStep(run.id);
    if (latest && latest.deliveryId === recorded.id) {
      await update(`${run.ticketKey} (${run.handler}): ${latest.decision} by ${user.name} in Slack at ${new Date(latest.at).toISOString()}.`);
    } else {
      const reason = (await options.db.findDelivery(recorded.id))?.reason ?? 'not counted';
      await update(`${run.ticketKey}: your ${decision} was not counted: ${reason}`);
    }
  } catch (error) {
    options.logger.warn({ err: error, runId }, 'Slack: approval click could not be handled');
    await update('deflect could not record this decision; try again, or comment /approve or /deny on the ticket.');
  }
}
