/**
 * The GitHub REST client of the GitHub Issues adapter: Octokit (`@octokit/core` with `@octokit/plugin-paginate-rest`),
 * built with the same options as the GitHub integration (`integrations/github.ts` `octokitOptions`: token, API root,
 * per-request timeout `GITHUB_TIMEOUT_MS`), and the same error mapping ({@link GitHubRequestError}: `transient` for
 * 408/429/5xx, rate limits — 403 with `x-ratelimit-remaining: 0`, `retryAfterMs` from `x-ratelimit-reset` —, timeouts
 * and connection errors). Reference: https://docs.github.com/en/rest/issues
 */
import { Octokit } from '@octokit/core';
import { paginateRest } from '@octokit/plugin-paginate-rest';
import { DEFAULT_GITHUB_TIMEOUT_MS, GitHubRequestError, octokitOptions, toGitHubRequestError, type GitHubApiOptions } from '../../integrations/github.js';

const PaginatingOctokit = Octokit.plugin(paginateRest);

/** A GitHub REST client for issues; every call throws {@link GitHubRequestError}. */
export interface GitHubIssuesClient {
  /** The timeout each request gets, ms. */
  readonly timeoutMs: number;
  /**
   * One REST call, e.g. `request('PATCH /repos/{owner}/{repo}/issues/{issue_number}', { owner, repo, issue_number, state })`.
   * @returns GitHub's answer: status and parsed JSON body.
   */
  request<T = unknown>(route: string, params?: Record<string, unknown>): Promise<{ status: number; data: T }>;
  /** Every item of a paged list (`Link: rel="next"`), optionally stopping when `until(item)` is true (that item included). */
  paginate<T = unknown>(route: string, params?: Record<string, unknown>, until?: (item: T) => boolean): Promise<T[]>;
}

/** An `owner/name` repository and an issue number, read from a display key `owner/name#12`. */
export type IssueRef = {
  owner: string;
  repo: string;
  issue_number: number;
};

/** Builds the client; sends nothing until called. */
export function createGitHubIssuesClient(options: GitHubApiOptions): GitHubIssuesClient {
  const timeoutMs = options.timeoutMs ?? DEFAULT_GITHUB_TIMEOUT_MS;
  const octokit = new PaginatingOctokit(octokitOptions({ ...options, timeoutMs }));
  const where = (route: string, params: Record<string, unknown>) => {
    const [method, path] = route.split(' ');
    return { method, path: path.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? `{${name}}`)), timeoutMs };
  };
  return {
    timeoutMs,
    async request<T>(route: string, params: Record<string, unknown> = {}) {
      try {
        const response = await octokit.request(route, params);
        return { status: response.status, data: response.data as T };
      } catch (error) {
        throw toGitHubRequestError(error, where(route, params));
      }
    },
    async paginate<T>(route: string, params: Record<string, unknown> = {}, until?: (item: T) => boolean) {
      try {
        // The route is a runtime string, so the typed endpoint overloads do not apply (the cast is the whole price).
        const paginate = octokit.paginate as unknown as (r: string, p: object, map: (response: { data: unknown }, done: () => void) => T[]) => Promise<T[]>;
        return await paginate(route, { per_page: 100, ...params }, (response, done) => {
          const items = response.data as T[];
          const stop = until ? items.findIndex(until) : -1;
          if (stop >= 0) {
            done();
            return items.slice(0, stop + 1);
          }
          return items;
        });
      } catch (error) {
        throw toGitHubRequestError(error, where(route, params));
      }
    },
  };
}

/** `{ owner, repo }` of `owner/name`. @throws GitHubRequestError (permanent) for anything else. */
export function parseRepository(fullName: string): { owner: string; repo: string } {
  const match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(fullName.trim());
  if (!match) throw new GitHubRequestError(`"${fullName}" is not a GitHub repository name like owner/name`, { status: null, transient: false });
  return { owner: match[1], repo: match[2] };
}

/** The issue a display key `owner/name#12` names. @throws GitHubRequestError (permanent) for another shape. */
export function parseIssueKey(key: string): IssueRef {
  const at = key.lastIndexOf('#');
  const number = Number(key.slice(at + 1));
  if (at < 0 || !Number.isInteger(number) || number <= 0) {
    throw new GitHubRequestError(`"${key}" is not a GitHub issue key like owner/name#12`, { status: null, transient: false });
  }
  return { ...parseRepository(key.slice(0, at)), issue_number: number };
}
