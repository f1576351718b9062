/**
 * {@link JiraApi} for Jira Data Center (and Server 8.14+) over jira.js `Version2Client`: REST v2
 * (https://docs.atlassian.com/software/jira/docs/api/REST/latest/), authenticated with a personal access token sent
 * as `Authorization: Bearer <PAT>` (https://confluence.atlassian.com/enterprise/using-personal-access-tokens-1026032365.html).
 * jira.js 5.4 sends `oauth2.accessToken` as exactly that header when no refresh token, cloudId or siteUrl is given
 * (`BaseClient.executeRequest` → `createOAuth2AuthenticationToken`), and then talks to `host` itself.
 *
 * Differences from Cloud (`jira-client.ts`), all inside this module:
 * - comment bodies are wiki-markup strings, not ADF: the ADF document is written by `adfToWiki` (`comment-wiki.ts`),
 *   which escapes every text node so ticket text stays data;
 * - comment entity properties: Data Center accepts `properties` on comment create and returns them with
 *   `expand=properties` (CommentJsonBean, Jira 7.0+), so an unknown-outcome comment is found again exactly as on Cloud;
 * - `/myself` has `name` and `key`, no `accountId`; assignee is set by user `name`;
 * - search is `POST /rest/api/2/search` with `startAt`/`maxResults`/`total` paging (no `/search/jql`, no
 *   `nextPageToken`): the next `startAt` is carried as the page token (a decimal string).
 * Errors: the same {@link JiraRequestError} mapping as Cloud (`toJiraRequestError`: 408/425/429/5xx, timeouts and
 * connection errors are transient; `Retry-After` in ms), with a 401 hint naming `JIRA_PAT`.
 */
import { Version2Client } from 'jira.js';
import { adfToWiki } from './comment-wiki.js';
import type { AdfDocument, JiraApi, JiraComment, JiraSearchPage, JiraTransition } from './jira-actions.js';
import { JiraRequestError } from './jira-actions.js';
import { DEFAULT_JIRA_TIMEOUT_MS, toJiraRequestError } from './jira-client.js';

export interface JiraDcApiOptions {
  /** Base URL with the context path if any, e.g. `https://jira.acme.internal/jira` (`/rest/api/2/...` is appended). */
  baseUrl: string;
  /** Personal access token (profile → Personal Access Tokens). Only ever sent in the `Authorization` header. */
  pat: string;
  /** Per-request timeout in ms; default {@link DEFAULT_JIRA_TIMEOUT_MS}. */
  timeoutMs?: number;
}

/**
 * Creates the Data Center client. Nothing is sent until a method is called; each method throws {@link JiraRequestError}.
 * @throws Error synchronously when `baseUrl` is not an absolute http(s) URL (jira.js validates it).
 */
export function createJiraDcApi(options: JiraDcApiOptions): JiraApi {
  const timeoutMs = options.timeoutMs ?? DEFAULT_JIRA_TIMEOUT_MS;
  const client = new Version2Client({
    host: options.baseUrl,
    authentication: { oauth2: { accessToken: options.pat } },
    baseRequestConfig: { timeout: timeoutMs, transitional: { clarifyTimeoutError: true } },
  });

  async function call<T>(method: string, path: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toJiraRequestError(error, { method, path, timeoutMs, authHint: 'JIRA_PAT (and that the token has not expired)' });
    }
  }
  const issuePath = (issueKey: string, suffix = '') => `/rest/api/2/issue/${encodeURIComponent(issueKey)}${suffix}`;
  const fieldsOf = (fields: unknown) => (fields ?? {}) as Record<string, unknown>;

  return {
    // GET /rest/api/2/myself → { name, key, displayName } (Server/DC users have no accountId).
    async getMyself() {
      const user = (await call('GET', '/rest/api/2/myself', () => client.myself.getCurrentUser())) as { name?: string; key?: string; displayName?: string };
      return { accountId: null, name: user.name ?? user.key ?? null, displayName: user.displayName ?? null };
    },

    async getIssue(issueKey) {
      const issueIdOrKey = encodeURIComponent(issueKey);
      const issue = await call('GET', issuePath(issueKey), () => client.issues.getIssue({ issueIdOrKey }));
      return { id: issue.id, key: issue.key, fields: fieldsOf(issue.fields) };
    },

    // POST /rest/api/2/issue/{key}/comment { body: "<wiki markup>", properties: [{ key, value }] } → 201 { id }.
    async addComment(issueKey, body: AdfDocument, properties) {
      const path = issuePath(issueKey, '/comment');
      const comment = await call('POST', path, () =>
        client.issueComments.addComment({
          issueIdOrKey: encodeURIComponent(issueKey),
          comment: adfToWiki(body),
          properties: properties && properties.length > 0 ? properties : undefined,
        }),
      );
      if (typeof comment?.id !== 'string') {
        throw new JiraRequestError(`Jira POST ${path} → answered without a comment id`, { status: null, transient: false });
      }
      return { id: comment.id };
    },

    // POST /rest/api/2/issue { fields: { ..., description: "<wiki markup>" } } → 201 { id, key }.
    async createIssue(issue) {
      const created = await call('POST', '/rest/api/2/issue', () =>
        client.issues.createIssue({
          fields: { project: { key: issue.project }, issuetype: { name: issue.issueType }, summary: issue.summary, description: adfToWiki(issue.description), labels: issue.labels },
        }),
      );
      return { id: String(created.id), key: created.key };
    },

    async getTransitions(issueKey): Promise<JiraTransition[]> {
      const issueIdOrKey = encodeURIComponent(issueKey);
      const answer = await call('GET', issuePath(issueKey, '/transitions'), () => client.issues.getTransitions({ issueIdOrKey }));
      return (answer.transitions ?? [])
        .filter((t) => typeof t.id === 'string')
        .map((t) => ({ id: t.id as string, name: t.name ?? '', toStatus: t.to?.name ?? null }));
    },

    async doTransition(issueKey, transitionId) {
      const issueIdOrKey = encodeURIComponent(issueKey);
      await call('POST', issuePath(issueKey, '/transitions'), () => client.issues.doTransition({ issueIdOrKey, transition: { id: transitionId } }));
    },

    // PUT /rest/api/2/issue/{key}/assignee { name } (204); Data Center identifies users by name. `{ name: null }` unassigns.
    async assignIssue(issueKey, userName) {
      const issueIdOrKey = encodeURIComponent(issueKey);
      await call('PUT', issuePath(issueKey, '/assignee'), () =>
        client.issues.assignIssue({ issueIdOrKey, name: userName as string } as Parameters<typeof client.issues.assignIssue>[0]),
      );
    },

    async editLabels(issueKey, add, remove) {
      if (add.length === 0 && remove.length === 0) return;
      const issueIdOrKey = encodeURIComponent(issueKey);
      const labels = [...add.map((label) => ({ add: label })), ...remove.map((label) => ({ remove: label }))];
      await call('PUT', issuePath(issueKey), () => client.issues.editIssue({ issueIdOrKey, update: { labels } }));
    },

    // GET /rest/api/2/issue/{key}/comment?expand=properties (startAt/maxResults/total; DC has no orderBy, so every page
    // is read and the newest are returned first).
    async listComments(issueKey, maxComments = 5000): Promise<JiraComment[]> {
      const issueIdOrKey = encodeURIComponent(issueKey);
      const path = issuePath(issueKey, '/comment');
      const comments: JiraComment[] = [];
      for (let startAt = 0; comments.length < maxComments; ) {
        const page = await call('GET', path, () => client.issueComments.getComments({ issueIdOrKey, startAt, maxResults: 100, expand: 'properties' }));
        const batch = page.comments ?? [];
        for (const c of batch) {
          if (typeof c.id !== 'string') continue;
          const author = c.author as { accountId?: string; name?: string } | undefined;
          comments.push({
            id: c.id,
            created: c.created ?? null,
            authorAccountId: author?.accountId ?? author?.name ?? null,
            properties: (c.properties ?? []).filter((p) => typeof p.key === 'string').map((p) => ({ key: p.key as string, value: p.value })),
          });
        }
        startAt += batch.length;
        if (batch.length === 0 || startAt >= (page.total ?? 0)) break;
      }
      return comments.reverse().slice(0, maxComments);
    },

    // POST /rest/api/2/search { jql, fields, startAt, maxResults } → { startAt, maxResults, total, issues }.
    async searchIssues(jql, options): Promise<JiraSearchPage> {
      const startAt = parseStartAt(options.nextPageToken);
      const page = await call('POST', '/rest/api/2/search', () =>
        client.issueSearch.searchForIssuesUsingJqlPost({ jql, fields: options.fields, startAt, maxResults: options.maxResults ?? 100 }),
      );
      const batch = page.issues ?? [];
      const next = startAt + batch.length;
      return {
        issues: batch
          .filter((i) => typeof i.id === 'string' && typeof i.key === 'string')
          .map((i) => ({ id: i.id, key: i.key, self: i.self, fields: fieldsOf(i.fields) })),
        // Last page: an empty page, or past `total` (a server that ignores startAt must not loop forever).
        nextPageToken: batch.length > 0 && next < (page.total ?? 0) ? String(next) : null,
      };
    },
  };
}

/** The page token of {@link JiraApi.searchIssues} on Data Center: the next `startAt`, as a decimal string. */
function parseStartAt(token: string | null | undefined): number {
  if (token === null || token === undefined || token === '') return 0;
  if (!/^\d{1,9}$/.test(token)) throw new JiraRequestError(`Jira search: bad page token "${token.slice(0, 20)}" (expected a startAt number)`, { status: null, transient: false });
  return Number(token);
}
