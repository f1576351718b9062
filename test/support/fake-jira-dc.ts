/**
 * The Jira Data Center differences of the fake Jira (`fake-jira.ts`, option `deployment: 'datacenter'`), after the
 * Jira Server/DC REST v2 reference (https://docs.atlassian.com/software/jira/docs/api/REST/latest/):
 * - paths under `/rest/api/2/`, optionally behind a context path (`contextPath: '/jira'`);
 * - `Authorization: Bearer <PAT>` (personal access tokens,
 *   https://confluence.atlassian.com/enterprise/using-personal-access-tokens-1026032365.html), 401 otherwise;
 * - comment `body` is a wiki-markup **string** (an ADF object is refused with 400, as a DC server's JSON binding does);
 * - `/myself` answers `{ name, key, displayName, emailAddress }`, no accountId; assignee is set by `{ name }`;
 * - `POST|GET /rest/api/2/search` pages by `startAt`/`maxResults` and answers `{ startAt, maxResults, total, issues }`.
 */

/** What the fake needs to know to behave as Data Center. */
export interface FakeJiraDcOptions {
  /** The PAT requests must carry as `Authorization: Bearer <pat>`; none = no auth check. */
  pat?: string;
  /** Context path the server is mounted under, e.g. `/jira` (no trailing slash). */
  contextPath?: string;
}

/** The service account as DC's `/myself` shows it (`name`/`key`, no accountId). */
export function dcMyself(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'deflect-bot', key: 'JIRAUSER10100', emailAddress: 'bot@acme.internal', displayName: 'Deflect Bot', active: true, timeZone: 'UTC', locale: 'en_US', ...overrides };
}

/** A user reference to `myself` as DC writes it in comments (`self` by username). */
export function dcAuthor(url: string, myself: Record<string, unknown>): Record<string, unknown> {
  return { ...myself, self: `${url}/rest/api/2/user?username=${encodeURIComponent(String(myself.name))}` };
}

/** DC's validation of a comment body: a non-empty string. Returns the error message, or null when valid. */
export function dcCommentBodyError(body: unknown): string | null {
  if (body === undefined || body === null || body === '') return 'Comment body can not be empty!';
  if (typeof body !== 'string') return 'Can not deserialize instance of java.lang.String out of START_OBJECT token';
  return null;
}

/** DC's `PUT …/assignee` body: `{ name }` (null or "-1" unassigns / automatic); returns the new assignee field. */
export function dcAssignee(body: Record<string, unknown>): Record<string, unknown> | null | 'invalid' {
  if (!('name' in body)) return 'invalid';
  return body.name === null ? null : { name: String(body.name) };
}

/**
 * One page of `/rest/api/2/search` over `matches`: `startAt` (default 0) and `maxResults` (default 50, at most 1000
 * as DC's `jira.search.views.default.max`), with `total`.
 */
export function dcSearchPage<T>(matches: T[], params: { startAt?: unknown; maxResults?: unknown }, toJson: (issue: T) => unknown) {
  const startAt = Math.max(0, Number(params.startAt ?? 0) || 0);
  const maxResults = Math.min(Math.max(Number(params.maxResults ?? 50) || 50, 1), 1000);
  return { expand: 'schema,names', startAt, maxResults, total: matches.length, issues: matches.slice(startAt, startAt + maxResults).map(toJson) };
}
