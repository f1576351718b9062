/**
 * GitHub's {@link TicketOps}: the REST calls on one issue that the recorded actions wrap (`trackers/recorded-actions.ts`).
 * - comment: `POST /repos/{owner}/{repo}/issues/{n}/comments` `{ body }`, the Markdown of the comment followed by the
 *   hidden marker `<!-- deflect:action <idempotency key> -->` (HTML comments do not render), which `findComment`
 *   looks for in the issue's comments (`GET …/comments`, every page) after an unknown outcome;
 * - transition: GitHub issues have two states, so `closed` / `close` / `done` / `resolved` → `PATCH …/issues/{n}`
 *   `{ state: 'closed', state_reason: 'completed' }`, `open` / `reopen` / `reopened` → `{ state: 'open' }`;
 * - assign: `PATCH …/issues/{n}` `{ assignees: [login] }` (replaces the set: idempotent; null → `[]`, unassigns all);
 * - labels: `POST …/issues/{n}/labels` `{ labels }` (adds), `DELETE …/issues/{n}/labels/{name}` (404 = already absent).
 * Sources: https://docs.github.com/en/rest/issues/comments#create-an-issue-comment,
 * https://docs.github.com/en/rest/issues/issues#update-an-issue, https://docs.github.com/en/rest/issues/labels
 */
import { GitHubRequestError } from '../../integrations/github.js';
import { commentToMarkdown } from '../markdown-comment.js';
import type { TicketOps } from '../tracker.js';
import { parseIssueKey, type GitHubIssuesClient } from './github-client.js';

/** Status names that close an issue / reopen it (compared lower-case). */
export const CLOSE_NAMES = ['closed', 'close', 'done', 'resolved', 'completed'];
export const OPEN_NAMES = ['open', 'reopen', 'reopened'];

/**
 * The hidden marker carrying an action's idempotency key. The key is percent-encoded outside `[A-Za-z0-9:._-]` (and a
 * `-` followed by another), so it can never end the HTML comment (`-->`) or add markup.
 */
export function actionMarker(idempotencyKey: string): string {
  const safe = idempotencyKey.replace(/-(?=-)|[^A-Za-z0-9:._-]/g, (c) => [...Buffer.from(c)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
  return `<!-- deflect:action ${safe} -->`;
}

/**
 * The calls on the issue `issueKey` (`owner/name#12`) through `client`. Every method throws
 * {@link GitHubRequestError} on a failed call (and for a key of another shape, permanent).
 */
export function githubTicketOps(client: GitHubIssuesClient, issueKey: string): TicketOps {
  const ref = () => parseIssueKey(issueKey);
  const issuePath = 'PATCH /repos/{owner}/{repo}/issues/{issue_number}';
  const currentStatus = async () => {
    const { data } = await client.request<{ state?: string }>('GET /repos/{owner}/{repo}/issues/{issue_number}', ref());
    return data.state ?? null;
  };
  return {
    async comment(body, marker) {
      const text = `${commentToMarkdown(body)}\n\n${actionMarker(marker.idempotencyKey)}`;
      const { data } = await client.request<{ id: number }>('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...ref(), body: text });
      return { id: String(data.id) };
    },
    async findComment(idempotencyKey) {
      const marker = actionMarker(idempotencyKey);
      const comments = await client.paginate<{ id: number; body?: string | null }>(
        'GET /repos/{owner}/{repo}/issues/{issue_number}/comments',
        ref(),
        (c) => (c.body ?? '').includes(marker),
      );
      const match = comments.find((c) => (c.body ?? '').includes(marker));
      return match ? { id: String(match.id) } : null;
    },
    async transition(statusName) {
      const wanted = statusName.trim().toLowerCase();
      const state = CLOSE_NAMES.includes(wanted) ? 'closed' : OPEN_NAMES.includes(wanted) ? 'open' : null;
      if (!state) {
        throw new Error(
          `no transition to "${statusName}" on ${issueKey}: GitHub issues are open or closed (use one of: ${[...CLOSE_NAMES, ...OPEN_NAMES].join(', ')})`,
        );
      }
      const current = await currentStatus();
      if (current === state) return { alreadyIn: current };
      await client.request(issuePath, { ...ref(), state, ...(state === 'closed' ? { state_reason: 'completed' } : {}) });
      return { state, ...(state === 'closed' ? { stateReason: 'completed' } : {}) };
    },
    currentStatus,
    async assign(login) {
      await client.request(issuePath, { ...ref(), assignees: login === null ? [] : [login] });
    },
    async editLabels(add, remove) {
      if (add.length > 0) await client.request('POST /repos/{owner}/{repo}/issues/{issue_number}/labels', { ...ref(), labels: add });
      for (const name of remove) {
        try {
          await client.request('DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}', { ...ref(), name });
        } catch (error) {
          // 404: the label is not on the issue (or does not exist): already removed.
          if (!(error instanceof GitHubRequestError && error.status === 404)) throw error;
        }
      }
    },
    isAmbiguous: (error) => error instanceof GitHubRequestError && error.transient && (error.status === null || error.status >= 500),
  };
}
