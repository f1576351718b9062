/**
 * Jira's {@link TicketOps}: the REST calls on one issue that the recorded actions wrap (`trackers/recorded-actions.ts`).
 * - comment: `POST /rest/api/3/issue/{key}/comment` with an ADF body and the comment entity property
 *   {@link ACTION_PROPERTY_KEY} `{ idempotencyKey, runId }`, so a comment whose outcome is unknown can be found again
 *   (`GET …/comment?expand=properties`);
 * - transition: by target status or transition name (ids differ per workflow), `POST …/transitions`;
 * - assign and labels: `PUT …/assignee`, `PUT /issue/{key}` `update.labels` (set semantics).
 * The same calls serve Jira Data Center: its {@link JiraApi} (`jira/jira-dc-client.ts`) posts the ADF body as wiki
 * markup to `/rest/api/2/…` with the same comment property, and `assign` takes the user's name there.
 * Sources: https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/,
 * https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-transitions-post
 */
import { commentToAdf } from '../../jira/comment-markdown.js';
import { JiraRequestError, type JiraApi } from '../../jira/jira-actions.js';
import type { TicketOps } from '../tracker.js';

/** Comment entity property deflect attaches to each comment it posts: `{ idempotencyKey, runId }`. */
export const ACTION_PROPERTY_KEY = 'deflect.action';

/** The calls on issue `issueKey` through `jira`. Every method throws {@link JiraRequestError} on a non-2xx answer. */
export function jiraTicketOps(jira: JiraApi, issueKey: string): TicketOps {
  const currentStatus = async () => {
    const issue = await jira.getIssue(issueKey);
    return (issue.fields.status as { name?: string } | undefined)?.name ?? null;
  };
  return {
    comment: (body, marker) => jira.addComment(issueKey, commentToAdf(body), [{ key: ACTION_PROPERTY_KEY, value: marker }]),
    async findComment(idempotencyKey) {
      const comments = await jira.listComments(issueKey);
      const match = comments.find((c) =>
        c.properties.some((p) => p.key === ACTION_PROPERTY_KEY && (p.value as { idempotencyKey?: unknown } | null)?.idempotencyKey === idempotencyKey),
      );
      return match ? { id: match.id } : null;
    },
    async transition(statusName) {
      const wanted = statusName.trim().toLowerCase();
      const transitions = await jira.getTransitions(issueKey);
      const match = transitions.find((t) => t.toStatus?.toLowerCase() === wanted) ?? transitions.find((t) => t.name.toLowerCase() === wanted);
      if (!match) {
        const current = await currentStatus();
        if (current?.toLowerCase() === wanted) return { alreadyIn: current };
        const available = transitions.map((t) => `${t.name} → ${t.toStatus ?? '?'}`).join(', ') || 'none';
        throw new Error(`no transition to "${statusName}" from status "${current ?? '?'}" on ${issueKey} (available: ${available})`);
      }
      await jira.doTransition(issueKey, match.id);
      return { transitionId: match.id, name: match.name };
    },
    currentStatus,
    assign: (accountId) => jira.assignIssue(issueKey, accountId),
    editLabels: (add, remove) => jira.editLabels(issueKey, add, remove),
    isAmbiguous: (error) => error instanceof JiraRequestError && error.transient && (error.status === null || error.status >= 500),
  };
}
