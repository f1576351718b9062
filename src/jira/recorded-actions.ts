/**
 * The {@link JiraActions} a handler gets: every call is an *action* row in the audit trail.
 *
 * For each call: the action's idempotency key is `<run idempotency key>:<seq>:<kind>` (seq counts calls within
 * the run, from 1, so a retry of the same run produces the same keys in the same order). If an action with that key
 * was already `applied` (a previous attempt got that far), the call is skipped. Otherwise the row is written as
 * `started` **before** the request and finished as `applied` / `failed` after it. In a dry run the row is written
 * as `planned` and nothing is sent.
 */
import type { Logger } from 'pino';
import { beginAction, findAction, finishAction } from '../db/actions.js';
import type { Db } from '../db/client.js';
import type { JiraActions, JiraApi } from './jira-actions.js';
import { markdownToAdf } from './markdown-to-adf.js';

export interface RecordedActionsOptions {
  db: Db;
  /** null in dry run (no credentials). */
  api: JiraApi | null;
  runId: number;
  /** The run's idempotency key. */
  runKey: string;
  ticketKey: string;
  dryRun: boolean;
  log: Logger;
}

/**
 * Builds the ticket-bound Jira actions for one run attempt.
 * @throws from each method: the {@link JiraRequestError} of a failed call (after recording it as `failed`).
 */
export function createRecordedActions(options: RecordedActionsOptions): JiraActions {
  const { db, api, runId, runKey, ticketKey, dryRun, log } = options;
  let seq = 0;

  async function perform(kind: string, request: Record<string, unknown>, call: (api: JiraApi) => Promise<unknown>): Promise<void> {
    seq += 1;
    const idempotencyKey = `${runKey}:${seq}:${kind}`;
    const previous = findAction(db, idempotencyKey);
    if (previous?.status === 'applied') {
      log.info({ action: kind, idempotencyKey }, 'action already applied by an earlier attempt; skipped');
      return;
    }
    if (dryRun || api === null) {
      beginAction(db, { runId, seq, kind, ticketKey, idempotencyKey, request, status: 'planned' });
      log.info({ action: kind, request }, 'dry run: action planned, nothing sent');
      return;
    }
    const id = beginAction(db, { runId, seq, kind, ticketKey, idempotencyKey, request, status: 'started' });
    try {
      const response = await call(api);
      finishAction(db, id, { status: 'applied', response: response ?? undefined });
      log.info({ action: kind }, 'action applied');
    } catch (error) {
      finishAction(db, id, { status: 'failed', error: (error as Error).message });
      throw error;
    }
  }

  return {
    comment: (markdown) => perform('comment', { markdown }, (jira) => jira.addComment(ticketKey, markdownToAdf(markdown))),
    transition: (statusName) =>
      perform('transition', { status: statusName }, async (jira) => {
        const wanted = statusName.trim().toLowerCase();
        const transitions = await jira.getTransitions(ticketKey);
        const match =
          transitions.find((t) => t.toStatus?.toLowerCase() === wanted) ?? transitions.find((t) => t.name.toLowerCase() === wanted);
        if (!match) {
          const issue = await jira.getIssue(ticketKey);
          const current = (issue.fields.status as { name?: string } | undefined)?.name;
          if (current?.toLowerCase() === wanted) return { alreadyIn: current };
          const available = transitions.map((t) => `${t.name} → ${t.toStatus ?? '?'}`).join(', ') || 'none';
          throw new Error(`no transition to "${statusName}" from status "${current ?? '?'}" on ${ticketKey} (available: ${available})`);
        }
        await jira.doTransition(ticketKey, match.id);
        return { transitionId: match.id, name: match.name };
      }),
    assign: (accountId) => perform('assign', { accountId }, (jira) => jira.assignIssue(ticketKey, accountId)),
    addLabels: (...labels) => perform('add_labels', { labels }, (jira) => jira.editLabels(ticketKey, labels, [])),
    removeLabels: (...labels) => perform('remove_labels', { labels }, (jira) => jira.editLabels(ticketKey, [], labels)),
  };
}
