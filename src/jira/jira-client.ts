/**
 * {@link JiraApi} over jira.js `Version3Client` (Jira Cloud REST v3, basic auth with an account email + API token:
 * https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/).
 *
 * Every failure becomes a {@link JiraRequestError}. jira.js 5 throws an `HttpException` for a non-2xx answer
 * (its `status` is right, but the response headers live only on its `cause`, the axios error) and rethrows the
 * raw axios error for network failures and timeouts; both are read here, never passed on, because axios errors
 * carry the request config, including the `Authorization` header.
 */
import { Version3Client } from 'jira.js';
import type { AdfDocument, JiraApi, JiraComment, JiraSearchPage, JiraTransition } from './jira-actions.js';
import { JiraRequestError } from './jira-actions.js';

/** Default per-request timeout in ms. */
export const DEFAULT_JIRA_TIMEOUT_MS = 10_000;

export interface JiraApiOptions {
  /** Site URL, e.g. `https://your-domain.atlassian.net` (the `/rest/api/3/...` paths are appended). */
  baseUrl: string;
  /** Email of the Atlassian account the API token belongs to. */
  email: string;
  /** API token (https://id.atlassian.com/manage-profile/security/api-tokens). */
  apiToken: string;
  /** Per-request timeout in ms (no answer within it → transient error); default {@link DEFAULT_JIRA_TIMEOUT_MS}. */
  timeoutMs?: number;
}

/** Network error codes worth a retry (Node `net`/`dns` codes and axios' own). */
const TRANSIENT_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND',
  'ENETUNREACH', 'ENETDOWN', 'EHOSTUNREACH', 'EHOSTDOWN', 'ERR_NETWORK', 'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/** Statuses worth a retry: timeout, too early, rate limited, and every 5xx. */
const isTransientStatus = (status: number) => status === 408 || status === 425 || status === 429 || status >= 500;

/**
 * Creates the Jira REST client deflect uses. Nothing is sent until a method is called.
 *
 * Each method throws {@link JiraRequestError}: `status` is the HTTP status (null for network errors and timeouts),
 * `transient` is true for 408/425/429/5xx, timeouts and connection errors, `retryAfterMs` is the `Retry-After`
 * header in ms (https://developer.atlassian.com/cloud/jira/platform/rate-limiting/).
 *
 * @throws Error synchronously when `baseUrl` is not an absolute http(s) URL (jira.js validates it).
 * @example
 * const jira = createJiraApi({ baseUrl: 'https://acme.atlassian.net', email: 'bot@acme.com', apiToken });
 * await jira.addComment('OPS-1', markdownToAdf('Restarted **api**.'));
 */
export function createJiraApi(options: JiraApiOptions): JiraApi {
  const timeoutMs = options.timeoutMs ?? DEFAULT_JIRA_TIMEOUT_MS;
  const client = new Version3Client({
    host: options.baseUrl,
    authentication: { basic: { email: options.email, apiToken: options.apiToken } },
    // axios: no response within `timeout` ms → ETIMEDOUT (clarifyTimeoutError; ECONNABORTED otherwise).
    baseRequestConfig: { timeout: timeoutMs, transitional: { clarifyTimeoutError: true } },
  });

  async function call<T>(method: string, path: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toJiraRequestError(error, { method, path, timeoutMs });
    }
  }
  const issuePath = (issueKey: string, suffix = '') => `/rest/api/3/issue/${encodeURIComponent(issueKey)}${suffix}`;

  return {
    // https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-myself/#api-rest-api-3-myself-get
    async getMyself() {
      const user = await call('GET', '/rest/api/3/myself', () => client.myself.getCurrentUser());
      return { accountId: user.accountId ?? null, name: user.name ?? null, displayName: user.displayName ?? null };
    },

    // https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-get
    async getIssue(issueKey) {
      const issueIdOrKey = encodeURIComponent(issueKey);
      const issue = await call('GET', issuePath(issueKey), () => client.issues.getIssue({ issueIdOrKey }));
      return { id: issue.id, key: issue.key, fields: (issue.fields ?? {}) as unknown as Record<string, unknown> };
    },

    // https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/#api-rest-api-3-issue-issueidorkey-comment-post
    async addComment(issueKey, body: AdfDocument, properties) {
      const path = issuePath(issueKey, '/comment');
      const comment = await call('POST', path, () =>
        client.issueComments.addComment({
          issueIdOrKey: encodeURIComponent(issueKey),
          // jira.js sends `comment` as the request's `body` field (a string would be wrapped in a paragraph).
          comment: body as unknown as Parameters<typeof client.issueComments.addComment>[0]['comment'],
          properties: properties && properties.length > 0 ? properties : undefined,
        }),
      );
      if (typeof comment?.id !== 'string') {
        throw new JiraRequestError(`Jira POST ${path} → answered without a comment id`, { status: null, transient: false });
      }
      return { id: comment.id };
    },

    // https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-transitions-get
    async getTransitions(issueKey): Promise<JiraTransition[]> {
      const issueIdOrKey = encodeURIComponent(issueKey);
      const answer = await call('GET', issuePath(issueKey, '/transitions'), () => client.issues.getTransitions({ issueIdOrKey }));
      return (answer.transitions ?? [])
        .filter((t) => typeof t.id === 'string')
        .map((t) => ({ id: t.id as string, name: t.name ?? '', toStatus: t.to?.name ?? null }));
    },

    // https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-transitions-post
    async doTransition(issueKey, transitionId) {
      const issueIdOrKey = encodeURIComponent(issueKey);
      await call('POST', issuePath(issueKey, '/transitions'), () =>
        client.issues.doTransition({ issueIdOrKey, transition: { id: transitionId } }),
      );
    },

    // https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-assignee-put
    async assignIssue(issueKey, accountId) {
      const issueIdOrKey = encodeURIComponent(issueKey);
      await call('PUT', issuePath(issueKey, '/assignee'), () => client.issues.assignIssue({ issueIdOrKey, accountId }));
    },

    /** No request at all when both lists are empty. */
    // https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-put
    async editLabels(issueKey, add, remove) {
      if (add.length === 0 && remove.length === 0) return;
      const issueIdOrKey = encodeURIComponent(issueKey);
      const labels = [...add.map((label) => ({ add: label })), ...remove.map((label) => ({ remove: label }))];
      await call('PUT', issuePath(issueKey), () => client.issues.editIssue({ issueIdOrKey, update: { labels } }));
    },

    // https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/#api-rest-api-3-issue-issueidorkey-comment-get
    async listComments(issueKey, maxComments = 5000): Promise<JiraComment[]> {
      const issueIdOrKey = encodeURIComponent(issueKey);
      const path = issuePath(issueKey, '/comment');
      const comments: JiraComment[] = [];
      for (let startAt = 0; comments.length < maxComments; ) {
        const page = await call('GET', path, () =>
          client.issueComments.getComments({ issueIdOrKey, startAt, maxResults: 100, orderBy: '-created', expand: 'properties' }),
        );
        const batch = page.comments ?? [];
        for (const c of batch) {
          if (typeof c.id !== 'string') continue;
          comments.push({
            id: c.id,
            created: c.created ?? null,
            authorAccountId: c.author?.accountId ?? null,
            properties: (c.properties ?? []).filter((p) => typeof p.key === 'string').map((p) => ({ key: p.key as string, value: p.value })),
          });
        }
        startAt += batch.length;
        // Stop on an empty page too: a server that ignores startAt must not loop forever.
        if (batch.length === 0 || startAt >= (page.total ?? 0)) break;
      }
      return comments.slice(0, maxComments);
    },

    // https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-post
    async createIssue(issue) {
      const created = await call('POST', '/rest/api/3/issue', () =>
        client.issues.createIssue({
          fields: {
            project: { key: issue.project },
            issuetype: { name: issue.issueType },
            summary: issue.summary,
            description: issue.description as unknown as Parameters<typeof client.issues.createIssue>[0]['fields']['description'],
            labels: issue.labels,
          },
        }),
      );
      return { id: String(created.id), key: created.key };
    },

    // https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-post
    async searchIssues(jql, options): Promise<JiraSearchPage> {
      const page = await call('POST', '/rest/api/3/search/jql', () =>
        client.issueSearch.searchForIssuesUsingJqlEnhancedSearchPost({
          jql,
          fields: options.fields,
          maxResults: options.maxResults ?? 100,
          nextPageToken: options.nextPageToken ?? undefined,
        }),
      );
      return {
        issues: (page.issues ?? [])
          .filter((i) => typeof i.id === 'string' && typeof i.key === 'string')
          .map((i) => ({ id: i.id, key: i.key, self: i.self, fields: (i.fields ?? {}) as unknown as Record<string, unknown> })),
        nextPageToken: page.nextPageToken ?? null,
      };
    },
  };
}

/**
 * One line for logs and the audit: the message of a {@link JiraRequestError} (method, path, status, Jira's
 * messages, hint), a jira.js/axios error mapped the same way, or any other error's message.
 * Never includes credentials.
 */
export function describeJiraError(error: unknown): string {
  if (error instanceof JiraRequestError) return error.message;
  const axiosError = findAxiosError(error);
  if (axiosError) {
    const config = axiosError.config;
    const method = (config?.method ?? 'request').toUpperCase();
    return toJiraRequestError(error, { method, path: config?.url ?? '(unknown path)' }).message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

interface AxiosLikeError {
  isAxiosError: true;
  code?: string;
  message: string;
  config?: { method?: string; url?: string; timeout?: number };
  response?: { status: number; statusText?: string; headers?: unknown; data?: unknown };
  cause?: unknown;
}

/** The axios error in `error` or its `cause` chain (jira.js wraps HTTP errors in an HttpException). */
function findAxiosError(error: unknown): AxiosLikeError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    if ((current as { isAxiosError?: unknown }).isAxiosError === true) return current as AxiosLikeError;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Maps anything a jira.js call threw to a {@link JiraRequestError} (shared by the Cloud and Data Center clients).
 * `where.authHint` names the credential variables for the 401 hint (default the Cloud ones).
 */
export function toJiraRequestError(error: unknown, where: { method: string; path: string; timeoutMs?: number; authHint?: string }): JiraRequestError {
  if (error instanceof JiraRequestError) return error;
  const prefix = `Jira ${where.method} ${where.path}`;
  const axiosError = findAxiosError(error);
  const response = axiosError?.response;

  if (response) {
    const status = response.status;
    const retryAfterMs = parseRetryAfter(readHeader(response.headers, 'retry-after'));
    const jira = jiraMessages(response.data);
    const hint = hintFor(status, where.path, where.authHint);
    const message =
      `${prefix} → ${status}${response.statusText ? ` ${response.statusText}` : ''}` +
      (jira ? `: ${jira}` : '') +
      (retryAfterMs !== null ? ` (Retry-After ${retryAfterMs} ms)` : '') +
      (hint ? ` — hint: ${hint}` : '');
    return new JiraRequestError(message, { status, transient: isTransientStatus(status), retryAfterMs, cause: sanitizedCause(axiosError) });
  }

  if (axiosError) {
    const code = axiosError.code ?? (axiosError.cause as { code?: string } | undefined)?.code;
    const timedOut = code === 'ETIMEDOUT' || code === 'ECONNABORTED' || /timeout/i.test(axiosError.message);
    const transient = timedOut || (code !== undefined && TRANSIENT_CODES.has(code)) || /socket hang up/i.test(axiosError.message);
    const what = timedOut
      ? `timed out after ${where.timeoutMs ?? axiosError.config?.timeout ?? '?'} ms`
      : `failed: ${code ? `${code} ` : ''}${axiosError.message}`;
    const hint = code === 'ENOTFOUND' || code === 'ECONNREFUSED' ? ' — hint: check JIRA_BASE_URL' : '';
    return new JiraRequestError(`${prefix} ${what}${hint}`, { status: null, transient, cause: sanitizedCause(axiosError) });
  }

  // Not from the HTTP layer: a bug or a bad option (e.g. jira.js rejecting the host URL). Retrying will not help.
  const message = error instanceof Error ? error.message : String(error);
  return new JiraRequestError(`${prefix} failed: ${message}`, { status: null, transient: false, cause: error });
}

/** A cause that keeps the axios code and message but not its config (which holds the Authorization header). */
function sanitizedCause(axiosError: AxiosLikeError): Error {
  return Object.assign(new Error(axiosError.message), { name: 'AxiosError', code: axiosError.code });
}

function readHeader(headers: unknown, name: string): string | null {
  if (!headers || typeof headers !== 'object') return null;
  const getter = (headers as { get?: unknown }).get;
  const value = typeof getter === 'function' ? getter.call(headers, name) : (headers as Record<string, unknown>)[name];
  if (Array.isArray(value)) return value.length > 0 ? String(value[0]) : null;
  return value === undefined || value === null ? null : String(value);
}

/**
 * `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP date → ms to wait (≥ 0), or null when absent/invalid.
 * @param now current time in ms, for the HTTP-date form.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | null {
  if (value === null || value === undefined) return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** Jira's error body `{ errorMessages: string[], errors: { field: message } }` as one line; other bodies trimmed. */
function jiraMessages(data: unknown): string {
  if (typeof data === 'string') return data.replace(/\s+/g, ' ').trim().slice(0, 200);
  if (!data || typeof data !== 'object') return '';
  const { errorMessages, errors } = data as { errorMessages?: unknown; errors?: unknown };
  const parts = Array.isArray(errorMessages) ? errorMessages.map(String) : [];
  if (errors && typeof errors === 'object') {
    for (const [field, text] of Object.entries(errors as Record<string, unknown>)) parts.push(`${field}: ${String(text)}`);
  }
  return parts.join('; ');
}

/** A one-line fix hint for the statuses a misconfiguration causes. */
function hintFor(status: number, path: string, authHint = 'JIRA_EMAIL / JIRA_API_TOKEN'): string {
  if (status === 401) return `check ${authHint}`;
  if (status === 403) return 'the account lacks permission on this project';
  if (status === 404) return path.includes('/issue/') ? 'issue not found or not visible to the account' : 'check JIRA_BASE_URL';
  return '';
}
