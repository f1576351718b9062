/**
 * The GitHub REST calls deflect's handlers make, over `@octokit/core` (https://github.com/octokit/core.js).
 *
 * Handlers reach it as `ctx.integrations.github.api` (registered in `./index.ts`; null when `GITHUB_TOKEN` is unset)
 * and wrap every call in `ctx.act(...)`, so each call is an action in the audit trail, applied once per run. Every
 * method is safe to call again after an unknown outcome (crash or timeout mid-call): the add/update endpoints are
 * idempotent on GitHub's side, and
 * {@link GitHubApi.createFromTemplate} recognises a repository it created on an earlier attempt.
 *
 * Failures become a {@link GitHubRequestError}: `transient` (429, 5xx, rate limits, timeouts, connection errors → the
 * run is retried with backoff, never before `retryAfterMs`) or permanent (other 4xx, with a one-line hint).
 * Troubleshooting reference: https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api
 */
import { Octokit } from '@octokit/core';
import type { Logger } from 'pino';
import { parseRetryAfter } from '../jira/jira-client.js';

/** Default per-request timeout, ms. */
export const DEFAULT_GITHUB_TIMEOUT_MS = 10_000;

/** The repository roles deflect's handlers speak (GitHub's UI names). */
export type RepositoryRole = 'read' | 'triage' | 'write' | 'maintain' | 'admin';

/** GitHub's REST `permission` value for each role (the API says `pull`/`push` for the UI's read/write). */
export const GITHUB_PERMISSION: Readonly<Record<RepositoryRole, 'pull' | 'triage' | 'push' | 'maintain' | 'admin'>> = Object.freeze({
  read: 'pull',
  triage: 'triage',
  write: 'push',
  maintain: 'maintain',
  admin: 'admin',
});

export interface GitHubApiOptions {
  /** REST API root: `https://api.github.com`, or `https://<host>/api/v3` for GitHub Enterprise Server. */
  baseUrl: string;
  /** A personal access token or an installation token (sent as `Authorization: token <token>`). */
  token: string;
  /** Per-request timeout, ms (no answer within it → transient error); default {@link DEFAULT_GITHUB_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Receives Octokit's own warnings (deprecated endpoints); silent when absent. */
  log?: Logger;
}

/** What {@link GitHubApi.addCollaborator} did, from GitHub's answer (JSON-serialisable: it is stored on the action). */
export interface CollaboratorResult {
  /** `201`: an invitation was created; `204`: the user already had access (collaborator or org member), role set. */
  status: 201 | 204;
  outcome: 'invited' | 'granted';
  /** The invitation's id (201 only). */
  invitationId: number | null;
  /** Where the invitee accepts it (201 only), e.g. `https://github.com/acme/api/invitations`. */
  invitationUrl: string | null;
  /** GitHub's permission value that was sent (`pull`, `triage`, `push`, `maintain`, `admin`). */
  permission: string;
}

/** A repository as {@link GitHubApi.createFromTemplate} returns it (JSON-serialisable). */
export interface CreatedRepository {
  /** False when an earlier attempt of the same request had already created it (see `createFromTemplate`). */
  created: boolean;
  fullName: string;
  htmlUrl: string;
  sshUrl: string | null;
  private: boolean;
  defaultBranch: string | null;
  /** `owner/name` of the template it was generated from, when GitHub says. */
  template: string | null;
}

/** The GitHub calls handlers need. Each method throws {@link GitHubRequestError}. */
export interface GitHubApi {
  /** The timeout each request gets, ms. */
  readonly timeoutMs: number;
  /**
   * Adds `username` to `repository` (`owner/name`) with `role`, or sets the role of an existing collaborator.
   * `PUT /repos/{owner}/{repo}/collaborators/{username}` `{ permission }` →
   * 201 (invitation created; the user must accept it within 7 days) or 204 (already had access; role updated).
   * Idempotent. https://docs.github.com/en/rest/collaborators/collaborators#add-a-repository-collaborator
   */
  addCollaborator(repository: string, username: string, role: RepositoryRole): Promise<CollaboratorResult>;
  /**
   * Creates `owner/name` from the template repository `template` (`owner/name`, which must be marked as a template).
   * `POST /repos/{template_owner}/{template_repo}/generate` `{ owner, name, private, description }` → 201.
   * https://docs.github.com/en/rest/repos/repos#create-a-repository-using-a-template
   *
   * Idempotent when `marker` is given: it is appended to the description, and when GitHub answers 422 because the name
   * exists, the existing repository (`GET /repos/{owner}/{repo}`,
   * https://docs.github.com/en/rest/repos/repos#get-a-repository) is returned with `created: false` if its description
   * carries the marker (an earlier attempt created it). Otherwise the 422 is thrown (a different repository has the name).
   */
  createFromTemplate(request: {
    template: string;
    owner: string;
    name: string;
    private: boolean;
    description?: string;
    marker?: string;
  }): Promise<CreatedRepository>;
  /**
   * Gives the team `teamSlug` of `org` `role` on `repository` (`owner/name`).
   * `PUT /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}` `{ permission }` → 204. Idempotent.
   * https://docs.github.com/en/rest/teams/teams#add-or-update-team-repository-permissions
   */
  addTeamToRepository(org: string, teamSlug: string, repository: string, role: RepositoryRole): Promise<{ team: string; permission: string }>;
}

/**
 * A failed GitHub REST call. `status` is null when no answer came (timeout, connection error). `transient` is true for
 * 408/429/5xx, rate limits (403/429 with `retry-after` or `x-ratelimit-remaining: 0`), timeouts and connection errors.
 * `retryAfterMs` comes from `retry-after` (seconds) or `x-ratelimit-reset` (epoch seconds); 60 s for a secondary rate
 * limit that gives neither. `hint` is one line on how to fix a permanent failure (for a 422: GitHub's validation message).
 */
export class GitHubRequestError extends Error {
  readonly status: number | null;
  readonly transient: boolean;
  readonly retryAfterMs: number | null;
  readonly hint: string | null;

  constructor(message: string, options: { status: number | null; transient: boolean; retryAfterMs?: number | null; hint?: string | null; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'GitHubRequestError';
    this.status = options.status;
    this.transient = options.transient;
    this.retryAfterMs = options.retryAfterMs ?? null;
    this.hint = options.hint ?? null;
  }
}

const splitRepository = (repository: string): { owner: string; repo: string } => {
  const [owner, repo, ...rest] = repository.split('/');
  if (!owner || !repo || rest.length > 0) throw new GitHubRequestError(`"${repository}" is not a repository name like owner/name`, { status: null, transient: false });
  return { owner, repo };
};

/**
 * Creates the GitHub client. Nothing is sent until a method is called.
 * @example
 * const github = createGitHubApi({ baseUrl: 'https://api.github.com', token: process.env.GITHUB_TOKEN! });
 * await github.addCollaborator('acme/api', 'octocat', 'write'); // { status: 201, outcome: 'invited', ... }
 */
export function createGitHubApi(options: GitHubApiOptions): GitHubApi {
  const timeoutMs = options.timeoutMs ?? DEFAULT_GITHUB_TIMEOUT_MS;
  const octokit = new Octokit(octokitOptions({ ...options, timeoutMs }));

  async function call<T>(method: string, path: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toGitHubRequestError(error, { method, path, timeoutMs });
    }
  }

  return {
    timeoutMs,

    async addCollaborator(repository, username, role) {
      const { owner, repo } = splitRepository(repository);
      const permission = GITHUB_PERMISSION[role];
      const path = `/repos/${owner}/${repo}/collaborators/${username}`;
      const response = await call('PUT', path, () =>
        octokit.request('PUT /repos/{owner}/{repo}/collaborators/{username}', { owner, repo, username, permission }),
      );
      if (response.status === 201) {
        const invitation = response.data as { id?: number; html_url?: string } | undefined;
        return {
          status: 201,
          outcome: 'invited',
          invitationId: typeof invitation?.id === 'number' ? invitation.id : null,
          invitationUrl: invitation?.html_url ?? `https://github.com/${owner}/${repo}/invitations`,
          permission,
        };
      }
      return { status: 204, outcome: 'granted', invitationId: null, invitationUrl: null, permission };
    },

    async createFromTemplate(request) {
      const template = splitRepository(request.template);
      const description = [request.description, request.marker ? `(${request.marker})` : null].filter(Boolean).join(' ') || undefined;
      const path = `/repos/${template.owner}/${template.repo}/generate`;
      try {
        const response = await call('POST', path, () =>
          octokit.request('POST /repos/{template_owner}/{template_repo}/generate', {
            template_owner: template.owner,
            template_repo: template.repo,
            owner: request.owner,
            name: request.name,
            private: request.private,
            description,
          }),
        );
        return toRepository(response.data, true);
      } catch (error) {
        if (!(error instanceof GitHubRequestError) || error.status !== 422 || !request.marker) throw error;
        // An earlier attempt may have created it (crash or timeout after GitHub answered): is it ours?
        const existing = await call('GET', `/repos/${request.owner}/${request.name}`, () =>
          octokit.request('GET /repos/{owner}/{repo}', { owner: request.owner, repo: request.name }),
        ).catch(() => null);
        const data = existing?.data as { description?: string | null } | undefined;
        if (data?.description?.includes(request.marker)) return toRepository(existing!.data, false);
        throw error;
      }
    },

    async addTeamToRepository(org, teamSlug, repository, role) {
      const { owner, repo } = splitRepository(repository);
      const permission = GITHUB_PERMISSION[role];
      await call('PUT', `/orgs/${org}/teams/${teamSlug}/repos/${owner}/${repo}`, () =>
        octokit.request('PUT /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}', { org, team_slug: teamSlug, owner, repo, permission }),
      );
      return { team: `${org}/${teamSlug}`, permission };
    },
  };
}

/**
 * The Octokit constructor options deflect uses for every GitHub client (this integration and the GitHub Issues tracker
 * adapter, `trackers/github/`): token auth, API root, user agent `deflect`, Octokit's warnings to `log`, and a
 * per-request timeout (Octokit has none of its own: each request gets an AbortSignal firing after `timeoutMs`).
 */
export function octokitOptions(options: GitHubApiOptions) {
  const timeoutMs = options.timeoutMs ?? DEFAULT_GITHUB_TIMEOUT_MS;
  const log = options.log;
  return {
    auth: options.token,
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    userAgent: 'deflect',
    log: {
      debug: () => undefined,
      info: () => undefined,
      warn: (message: string) => log?.warn(`GitHub: ${message}`),
      error: (message: string) => log?.error(`GitHub: ${message}`),
    },
    request: {
      fetch: (url: string | URL, init?: RequestInit) => {
        const timeout = AbortSignal.timeout(timeoutMs);
        return fetch(url, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
      },
    },
  };
}

function toRepository(data: unknown, created: boolean): CreatedRepository {
  const r = (data ?? {}) as {
    full_name?: string; html_url?: string; ssh_url?: string; private?: boolean; default_branch?: string; template_repository?: { full_name?: string } | null;
  };
  return {
    created,
    fullName: r.full_name ?? '',
    htmlUrl: r.html_url ?? '',
    sshUrl: r.ssh_url ?? null,
    private: r.private ?? true,
    defaultBranch: r.default_branch ?? null,
    template: r.template_repository?.full_name ?? null,
  };
}

/** The shape of Octokit's `RequestError` that is read here (its `request` holds the token, so it is never passed on). */
interface OctokitErrorLike {
  name: string;
  status: number;
  message: string;
  response?: { status: number; headers: Record<string, string | undefined>; data: unknown };
  cause?: unknown;
}

/**
 * Maps anything a call threw to a {@link GitHubRequestError} (exported for tests).
 * @param where the method and path for the message, the timeout for the timeout message.
 * @param now current time in ms, for `x-ratelimit-reset`.
 */
export function toGitHubRequestError(error: unknown, where: { method: string; path: string; timeoutMs?: number }, now = Date.now()): GitHubRequestError {
  if (error instanceof GitHubRequestError) return error;
  const prefix = `GitHub ${where.method} ${where.path}`;
  const e = error as Partial<OctokitErrorLike> | null;
  const response = e && typeof e === 'object' && e.name === 'HttpError' ? e.response : undefined;

  if (response) {
    const status = response.status;
    const headers = response.headers ?? {};
    const message = githubMessage(response.data);
    const rateLimited =
      (status === 403 || status === 429) && (headers['retry-after'] !== undefined || headers['x-ratelimit-remaining'] === '0' || /rate limit/i.test(message));
    let retryAfterMs = parseRetryAfter(headers['retry-after'] ?? null, now);
    if (retryAfterMs === null && headers['x-ratelimit-remaining'] === '0' && headers['x-ratelimit-reset']) {
      const reset = Number(headers['x-ratelimit-reset']) * 1000;
      if (Number.isFinite(reset)) retryAfterMs = Math.max(0, reset - now);
    }
    if (retryAfterMs === null && rateLimited) retryAfterMs = 60_000; // GitHub: "wait for at least one minute"
    const transient = rateLimited || status === 408 || status === 429 || status >= 500;
    const hint = transient ? null : hintFor(status, where.path, message);
    const text =
      `${prefix} → ${status}` +
      (message ? `: ${message}` : '') +
      (retryAfterMs !== null ? ` (retry after ${retryAfterMs} ms)` : '') +
      (hint && status !== 422 ? ` — hint: ${hint}` : '');
    return new GitHubRequestError(text, { status, transient, retryAfterMs, hint, cause: new Error(`HTTP ${status}`) });
  }

  // No answer: Octokit wraps fetch failures in a RequestError (status 500, no response) whose cause is the fetch error.
  const cause = (e?.cause ?? error) as { name?: string; message?: string; cause?: { code?: string; message?: string } } | undefined;
  const fromFetch = e?.name === 'HttpError' || cause?.name === 'TimeoutError' || cause?.name === 'AbortError' || cause?.name === 'TypeError';
  if (fromFetch) {
    const timedOut = cause?.name === 'TimeoutError';
    const code = cause?.cause?.code;
    const what = timedOut ? `timed out after ${where.timeoutMs ?? '?'} ms` : `failed: ${code ? `${code} ` : ''}${cause?.cause?.message ?? e?.message ?? 'network error'}`;
    const hint = code === 'ENOTFOUND' || code === 'ECONNREFUSED' ? 'check GITHUB_API_URL' : null;
    return new GitHubRequestError(`${prefix} ${what}${hint ? ` — hint: ${hint}` : ''}`, {
      status: null,
      transient: true,
      hint,
      cause: Object.assign(new Error(cause?.message ?? 'network error'), { name: cause?.name ?? 'Error', code }),
    });
  }

  // Not from the HTTP layer: a bug or a bad argument. Retrying will not help.
  const message = error instanceof Error ? error.message : String(error);
  return new GitHubRequestError(`${prefix} failed: ${message}`, { status: null, transient: false, cause: error });
}

/** GitHub's error body `{ message, errors?: [{ message | code, field }], documentation_url }` as one line. */
function githubMessage(data: unknown): string {
  if (typeof data === 'string') return data.replace(/\s+/g, ' ').trim().slice(0, 200);
  if (!data || typeof data !== 'object') return '';
  const { message, errors } = data as { message?: unknown; errors?: unknown };
  const details = Array.isArray(errors)
    ? errors.map((item) => (typeof item === 'string' ? item : ((item as { message?: string; code?: string; field?: string }).message ?? [(item as { field?: string }).field, (item as { code?: string }).code].filter(Boolean).join(' '))))
    : [];
  const main = typeof message === 'string' ? message : '';
  const detail = details.filter(Boolean).join('; ');
  return main && detail ? `${main} (${detail})` : main || detail;
}

/** One line on how to fix a permanent failure. */
function hintFor(status: number, path: string, message: string): string | null {
  if (status === 401) return 'check GITHUB_TOKEN (missing, expired or revoked)';
  if (status === 403) return 'the token lacks a scope or permission for this (classic token: `repo`, `admin:org`; fine-grained: Administration and Members read/write)';
  if (status === 404) {
    return path.endsWith('/generate')
      ? 'template repository not found or not visible to the token (check the template name and the token\'s access)'
      : 'repository, user or team not found or not visible to the token';
  }
  if (status === 422) return message || 'GitHub refused the request as invalid';
  return null;
}
