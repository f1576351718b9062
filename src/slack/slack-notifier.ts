/**
 * (Slack, issue 15) Tells the requester of a Slack-filed ticket how each of its runs ended: done, needs approval, not
 * applied and why, failed. A run-outcome listener the server registers with the worker (`WorkerOptions.runListeners`),
 * so the worker knows nothing about Slack; tickets not filed from Slack are left alone. Never throws: a Slack failure
 * is logged (the outcome is in the audit either way).
 */
import type { Logger } from 'pino';
import type { Store } from '../db/store.js';
import type { RunRow } from '../db/schema.js';
import { SCOPE_MESSAGE_HANDLER } from '../scope/scope-message-handler.js';
import { askApproversInSlack } from './slack-approvals.js';
import type { SlackApi } from './slack-api.js';
import { plainMessage } from './slack-messages.js';

/** A listener called with a run's id and the status its attempt ended with (`succeeded`, `queued`, ...). */
export type RunListener = (runId: number, status: string) => void;

/** The message for an outcome, or null for a status that is not an outcome yet (requeued, interrupted, lost). */
export function outcomeText(run: RunRow, status: string, ticketUrl: string | null): string | null {
  const about = `${run.ticketKey} (${run.handler})`;
  const link = ticketUrl ? `\n${ticketUrl}` : '';
  const summary = run.summary ?? '';
  switch (status) {
    case 'succeeded':
      return run.applied ? `Done: ${about}: ${summary || 'finished'}.${link}` : `Not applied: ${about}: ${summary || 'a person must apply it'}. See the ticket for what happens next.${link}`;
    case 'planned':
    case 'shadow':
      return `Dry run: ${about}: ${summary || 'nothing was changed'}.${link}`;
    case 'skipped':
      return `Not applied: ${about}: ${summary || 'see the ticket'}.${link}`;
    case 'awaiting-approval':
      return `Needs approval: ${about}: ${summary.replace(/^awaiting approval: /, '') || 'the rule asks for approval'}. The approvers were asked; you will hear the decision here.${link}`;
    case 'denied':
    case 'expired':
      return `Not applied: ${about}: ${summary || status}.${link}`;
    case 'failed':
    case 'dead':
      return `Failed: ${about}: ${run.error ?? 'see the ticket'}. The platform team can see it in the audit and retry it.${link}`;
    default:
      return null;
  }
}

/** The listener: messages the requester (DM) and, for `awaiting-approval`, sends the approvers their buttons. */
export function createSlackNotifier(options: { db: Store; slack: SlackApi; logger: Logger }): RunListener {
  return async (runId, status) => {
    const run = await options.db.findRun(runId);
    if (!run || run.handler === SCOPE_MESSAGE_HANDLER) return;
    const request = await options.db.findSlackRequestByTicket(run.ticketKey);
    if (!request) return;
    const text = outcomeText(run, status, request.ticketUrl);
    if (!text) return;
    void (async () => {
      try {
        await options.slack.postMessage(request.userId, text, plainMessage(text));
        if (status === 'awaiting-approval') await askApproversInSlack(options.slack, options, run, request.ticketUrl);
      } catch (error) {
        options.logger.warn({ err: error, runId, slackUser: request.userId }, 'Slack: could not send the outcome to the requester');
      }
    })();
  };
}
