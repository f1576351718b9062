/**
 * The Jira operations deflect performs, at two levels:
 *
 * - {@link JiraApi}: the raw REST calls, implemented over jira.js in `jira-client.ts` (Cloud, REST v3) and
 *   `jira-dc-client.ts` (Data Center, REST v2: same calls under `/rest/api/2/`, wiki-markup comment bodies, user
 *   names instead of accountIds, `startAt` search paging); `jira-api-for.ts` picks one from the config.
 * - {@link JiraActions}: what a handler sees, bound to one ticket and one run. Each call is an *action*:
 *   recorded before the call, its result after, skipped on retry when already applied, planned-only in dry run
 *   (implemented in `recorded-actions.ts`).
 */
import type { TicketActions } from '../trackers/tracker.js';
import type { Markdown } from './comment-markdown.js';

/** A transition available on an issue, as `GET /rest/api/3/issue/{key}/transitions` lists it. */
export interface JiraTransition {
  id: string;
  /** Transition name, e.g. `Resolve`. */
  name: string;
  /** Target status name, e.g. `Done`. */
  toStatus: string | null;
}

/** Raw Jira REST calls used by deflect. Every method throws {@link JiraRequestError} on a non-2xx answer. */
export interface JiraApi {
  /** `GET /rest/api/3/myself` → the service account (to ignore its own events); Data Center: `accountId` null, `name` set. */
  getMyself(): Promise<{ accountId: string | null; name: string | null; displayName: string | null }>;
  /** `GET /rest/api/3/issue/{key}` → the issue in REST shape (`{ id, key, fields }`). */
  getIssue(issueKey: string): Promise<{ id: string; key: string; fields: Record<string, unknown> }>;
  /**
   * `POST /rest/api/3/issue/{key}/comment` with an ADF body (201) → the new comment id. Data Center writes the same
   * ADF document as a wiki-markup string (`comment-wiki.ts`) and posts it to `/rest/api/2/…`.
   */
  addComment(issueKey: string, body: AdfDocument, properties?: Array<{ key: string; value: unknown }>): Promise<{ id: string }>;
  /** `GET /rest/api/3/issue/{key}/transitions` → the transitions the account may perform now. */
  getTransitions(issueKey: string): Promise<JiraTransition[]>;
  /** `POST /rest/api/3/issue/{key}/transitions` `{ transition: { id } }` (204). */
  doTransition(issueKey: string, transitionId: string): Promise<void>;
  /** `PUT /rest/api/3/issue/{key}/assignee` `{ accountId }` (204); null unassigns. Data Center: the user's `name`. */
  assignIssue(issueKey: string, accountId: string | null): Promise<void>;
  /** `PUT /rest/api/3/issue/{key}` `{ update: { labels: [{ add }, { remove }] } }` (204). */
  editLabels(issueKey: string, add: string[], remove: string[]): Promise<void>;
  /**
   * `GET /rest/api/3/issue/{key}/comment?expand=properties&orderBy=-created`, every page (`startAt`/`maxResults`/`total`),
   * newest first → the comments with their entity properties. Used to check whether a comment whose outcome is unknown
   * (crash or timeout mid-call) was in fact created.
   * https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/#api-rest-api-3-issue-issueidorkey-comment-get
   * @param maxComments stop after this many comments (default 5000, Jira Cloud's per-issue comment limit).
   */
  listComments(issueKey: string, maxComments?: number): Promise<JiraComment[]>;
  /**
   * One page of the enhanced JQL search, `POST /rest/api/3/search/jql` `{ jql, fields, maxResults, nextPageToken }`.
   * Pass the returned `nextPageToken` to get the next page; it is null on the last page. Data Center:
   * `POST /rest/api/2/search` `{ startAt }`, the token being the next `startAt` (opaque to callers either way).
   * https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-post
   */
  searchIssues(jql: string, options: { fields: string[]; maxResults?: number; nextPageToken?: string | null }): Promise<JiraSearchPage>;
  /**
   * (Slack, issue 15) `POST /rest/api/3/issue` `{ fields: { project: { key }, issuetype: { name }, summary, description, labels } }`
   * (201) → the new issue's id and key. Data Center writes the description as wiki markup to `/rest/api/2/issue`.
   * https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-post
   */
  createIssue(issue: NewJiraIssue): Promise<{ id: string; key: string }>;
}

/** What {@link JiraApi.createIssue} files: the description is ADF (each line of a form one paragraph). */
export interface NewJiraIssue {
  project: string;
  issueType: string;
  summary: string;
  description: AdfDocument;
  labels: string[];
}

/** A comment as {@link JiraApi.listComments} returns it (only what deflect reads). */
export interface JiraComment {
  id: string;
  /** As Jira writes it, e.g. `2026-01-02T03:04:05.678+0000`. */
  created: string | null;
  /** accountId of the author, when present. */
  authorAccountId: string | null;
  /** Comment entity properties (`expand=properties`). */
  properties: Array<{ key: string; value: unknown }>;
}

/** One page of a JQL search: issues in REST shape (`{ id, key, self, fields }`) and the token of the next page. */
export interface JiraSearchPage {
  issues: Array<{ id: string; key: string; self?: string; fields: Record<string, unknown> }>;
  nextPageToken: string | null;
}

/** An Atlassian Document Format document (https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/). */
export interface AdfDocument {
  type: 'doc';
  version: 1;
  content: AdfNode[];
}

/** One ADF node; deflect only produces the subset its Markdown conversion needs. */
export interface AdfNode {
  type: string;
  attrs?: Record<string, unknown>;
  content?: AdfNode[];
  text?: string;
  marks?: Array<{ type: string; attrs?: Record<string, unknown> }>;
}

/**
 * A failed Jira REST call. `transient` is true for 429, 5xx, timeouts and connection errors (worth a retry);
 * `retryAfterMs` comes from the `Retry-After` header (seconds in the header, ms here).
 * Source for 429/Retry-After: https://developer.atlassian.com/cloud/jira/platform/rate-limiting/
 */
export class JiraRequestError extends Error {
  readonly status: number | null;
  readonly transient: boolean;
  readonly retryAfterMs: number | null;

  constructor(message: string, options: { status: number | null; transient: boolean; retryAfterMs?: number | null; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'JiraRequestError';
    this.status = options.status;
    this.transient = options.transient;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
}

/** The recorded ticket actions of a Jira run: the tracker-neutral {@link TicketActions} (documented there). */
export type JiraActions = TicketActions;
