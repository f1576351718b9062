/**
 * Linear's {@link TicketOps}: the GraphQL calls on one issue that the recorded actions wrap
 * (`trackers/recorded-actions.ts`). Mutations: `commentCreate`, `issueUpdate` (`stateId`, `assigneeId`,
 * `addedLabelIds`/`removedLabelIds`). Source: https://linear.app/developers/graphql and its schema (types
 * `CommentCreateInput`, `IssueUpdateInput`, `WorkflowState`).
 *
 * Idempotency marker: Linear comments have no property or metadata field, and Linear stores a comment as a rich-text
 * document converted from the Markdown it is sent; Markdown that renders nothing (an HTML comment `<!-- … -->`, a link
 * reference definition `[//]: # (…)`) has no node to live in and cannot be relied on to come back from the API. So the
 * marker is a short visible last line, `deflect ref <12 hex>` in italics, the hex being the first 48 bits of the
 * SHA-256 of the action's idempotency key: it survives any conversion, says who wrote the comment, and
 * {@link TicketOps.findComment} finds it again. The key itself (long, internal) is not shown.
 *
 * Statuses: `transition(name)` matches a workflow state of the issue's team by name (case-insensitive), else by state
 * type (`completed`, `canceled`, `started`, `unstarted`, `backlog`, `triage`: the first such state), and fails listing
 * the team's states when none matches. Labels are by name among the team's and the workspace's labels; an unknown name
 * to add is a permanent error (deflect does not create labels); an unknown name to remove is already absent.
 */
import { markdownWithMarker, visibleCommentMarker } from '../markdown-comment.js';
import type { TicketOps } from '../tracker.js';
import { LinearRequestError, type LinearApi } from './linear-api.js';

/** Comments searched by {@link TicketOps.findComment}: 100 per page, at most this many pages. */
const MAX_COMMENT_PAGES = 20;

/** The marker line posted with a comment made under `idempotencyKey` (shared with Trello: `markdown-comment.ts`). */
export const commentMarker = visibleCommentMarker;

/** The comment body sent to Linear: the Markdown of `body`, a blank line, the marker line. */
export const linearCommentBody = markdownWithMarker;

interface State {
  id: string;
  name: string;
  type: string | null;
}
interface IssueStates {
  issue: { id: string; state: State | null; team: { key: string; states: { nodes: State[] } } } | null;
}
interface IssueLabels {
  issue: { id: string; team: { key: string; labels: { nodes: Array<{ id: string; name: string }> } } } | null;
  issueLabels: { nodes: Array<{ id: string; name: string }> };
}

const STATES_QUERY = `query DeflectIssueStates($id: String!) {
  issue(id: $id) { id state { id name type } team { key states { nodes { id name type } } } }
}`;
const LABELS_QUERY = `query DeflectIssueLabels($id: String!) {
  issue(id: $id) { id team { key labels(first: 250) { nodes { id name } } } }
  issueLabels(first: 250, filter: { team: { null: true } }) { nodes { id name } }
}`;
const COMMENTS_QUERY = `query DeflectIssueComments($id: String!, $after: String) {
  issue(id: $id) { id comments(first: 100, after: $after) { nodes { id body } pageInfo { hasNextPage endCursor } } }
}`;
const COMMENT_CREATE = `mutation DeflectCommentCreate($input: CommentCreateInput!) {
  commentCreate(input: $input) { success comment { id } }
}`;
const ISSUE_UPDATE = `mutation DeflectIssueUpdate($id: String!, $input: IssueUpdateInput!) {
  issueUpdate(id: $id, input: $input) { success issue { id state { name } } }
}`;

/**
 * The calls on issue `issueId` (its uuid, or its identifier `ENG-12`: Linear's `issue(id:)` accepts both) through
 * `linear`. Every method throws {@link LinearRequestError} on a failed call, or Error (permanent) for an unknown state,
 * label or issue.
 */
export function linearTicketOps(linear: LinearApi, issueId: string): TicketOps {
  const missing = () => new Error(`Linear issue ${issueId} not found (deleted, or not visible to LINEAR_API_KEY)`);
  const update = async (input: Record<string, unknown>) => {
    const data = await linear.request<{ issueUpdate: { success: boolean; issue: { state: { name: string } | null } | null } }>(ISSUE_UPDATE, { id: issueId, input });
    if (!data.issueUpdate.success) throw new Error(`Linear refused to update ${issueId} (issueUpdate success: false)`);
    return data.issueUpdate.issue;
  };
  const states = async () => {
    const data = await linear.request<IssueStates>(STATES_QUERY, { id: issueId });
    if (!data.issue) throw missing();
    return data.issue;
  };
  return {
    async comment(body, marker) {
      const data = await linear.request<{ commentCreate: { success: boolean; comment: { id: string } | null } }>(COMMENT_CREATE, {
        input: { issueId, body: linearCommentBody(body, marker.idempotencyKey) },
      });
      if (!data.commentCreate.success || !data.commentCreate.comment) throw new Error(`Linear refused the comment on ${issueId} (commentCreate success: false)`);
      return { id: data.commentCreate.comment.id };
    },
    async findComment(idempotencyKey) {
      const wanted = commentMarker(idempotencyKey);
      let after: string | null = null;
      for (let page = 0; page < MAX_COMMENT_PAGES; page++) {
        type Page = { issue: { comments: { nodes: Array<{ id: string; body: string }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } | null };
        const data: Page = await linear.request<Page>(COMMENTS_QUERY, { id: issueId, after });
        if (!data.issue) throw missing();
        const found = data.issue.comments.nodes.find((c) => c.body.trimEnd().endsWith(wanted));
        if (found) return { id: found.id };
        if (!data.issue.comments.pageInfo.hasNextPage) return null;
        after = data.issue.comments.pageInfo.endCursor;
      }
      return null;
    },
    async transition(statusName) {
      const wanted = statusName.trim().toLowerCase();
      const issue = await states();
      const all = issue.team.states.nodes;
      const match = all.find((s) => s.name.toLowerCase() === wanted) ?? all.find((s) => s.type?.toLowerCase() === wanted);
      if (!match) {
        const available = all.map((s) => `${s.name} (${s.type ?? '?'})`).join(', ') || 'none';
        throw new Error(`no workflow state "${statusName}" on Linear team ${issue.team.key} (states: ${available})`);
      }
      if (issue.state?.id === match.id) return { alreadyIn: match.name };
      await update({ stateId: match.id });
      return { stateId: match.id, name: match.name, type: match.type };
    },
    async currentStatus() {
      return (await states()).state?.name ?? null;
    },
    async assign(assignee) {
      await update({ assigneeId: assignee });
    },
    async editLabels(add, remove) {
      const data = await linear.request<IssueLabels>(LABELS_QUERY, { id: issueId });
      if (!data.issue) throw missing();
      const byName = new Map<string, string>();
      for (const l of [...data.issueLabels.nodes, ...data.issue.team.labels.nodes]) byName.set(l.name.toLowerCase(), l.id);
      const unknown = add.filter((name) => !byName.has(name.toLowerCase()));
      if (unknown.length > 0) {
        const known = [...byName.keys()].slice(0, 30).join(', ') || 'none';
        throw new Error(`unknown Linear label(s) ${unknown.map((n) => `"${n}"`).join(', ')} for team ${data.issue.team.key} (labels: ${known}); create them in Linear first`);
      }
      const ids = (names: string[]) => [...new Set(names.map((n) => byName.get(n.toLowerCase())).filter((id): id is string => !!id))];
      const addedLabelIds = ids(add);
      const removedLabelIds = ids(remove);
      if (addedLabelIds.length === 0 && removedLabelIds.length === 0) return;
      await update({ addedLabelIds, removedLabelIds });
    },
    isAmbiguous: (error) => error instanceof LinearRequestError && error.transient && (error.status === null || error.status >= 500),
  };
}
