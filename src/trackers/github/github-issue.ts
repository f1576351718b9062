/**
 * GitHub's issue object (REST `GET /repos/{owner}/{repo}/issues[/{number}]` items, and `issue` in `issues` /
 * `issue_comment` webhook payloads: the same shape) and its mapping to the normalised {@link Ticket}: the one place
 * that knows GitHub's issue fields. Reference: https://docs.github.com/en/rest/issues/issues#get-an-issue
 *
 * Mapping: `id` = String(issue.id) (the numeric id, stable across transfers of the number), `key` =
 * `<owner>/<name>#<number>`, `project` = `<owner>/<name>`, `issueType` = `issue`, `status` = `state` (`open` /
 * `closed`), `labels` = label names (case kept), `summary` = title, `description` = body (Markdown, as text),
 * `reporter` / `reporterId` = `user.login`, dates from ISO 8601 (ms), `siteUrl` = origin of `html_url`
 * (`https://github.com`, or the GitHub Enterprise Server host).
 */
import { z } from 'zod';
import type { Ticket } from '../../ticket.js';
import { InvalidIssueError } from '../tracker.js';

const login = z.looseObject({ login: z.string() }).nullish();

/** An issue label: GitHub answers objects `{ name, ... }`; a bare string is accepted too (hand-written dumps). */
const labelSchema = z.union([z.string(), z.looseObject({ name: z.string() })]).transform((l) => (typeof l === 'string' ? l : l.name));

/** The issue fields deflect reads; every other field passes through. */
export const githubIssueSchema = z.looseObject({
  id: z.union([z.number().int(), z.string().min(1)]).transform(String),
  number: z.number().int().positive(),
  title: z.string().nullish(),
  body: z.string().nullish(),
  state: z.string().nullish(),
  labels: z.array(labelSchema).nullish(),
  user: login,
  html_url: z.string().nullish(),
  repository_url: z.string().nullish(),
  created_at: z.string().nullish(),
  updated_at: z.string().nullish(),
  closed_at: z.string().nullish(),
  /** Present (an object) when the "issue" is a pull request: pull requests are not tickets. */
  pull_request: z.unknown().optional(),
});
export type GitHubIssue = z.output<typeof githubIssueSchema>;

/** The repository fields deflect reads (webhook `repository`). */
export const githubRepositorySchema = z.looseObject({
  full_name: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'expected "owner/name"'),
  html_url: z.string().nullish(),
});
export type GitHubRepository = z.output<typeof githubRepositorySchema>;

/** Whether a REST issue list item is a pull request (the issues API lists both; pull requests carry `pull_request`). */
export const isPullRequest = (issue: { pull_request?: unknown }) => issue.pull_request !== undefined && issue.pull_request !== null;

/**
 * Converts a validated issue to a {@link Ticket}. `repository` (webhooks) names the repository; without it (REST
 * items) it is read from `repository_url` (`https://api.github.com/repos/<owner>/<name>`) or `html_url`.
 * @throws InvalidIssueError when no repository can be found.
 */
export function githubIssueToTicket(issue: GitHubIssue, repository?: GitHubRepository | null): Ticket {
  const fullName = repository?.full_name ?? repositoryOf(issue);
  if (!fullName) throw new InvalidIssueError('invalid GitHub issue: repository_url: expected a URL ending in /repos/<owner>/<name>');
  return {
    tracker: 'github',
    id: issue.id,
    key: `${fullName}#${issue.number}`,
    project: fullName,
    issueType: 'issue',
    status: issue.state ?? null,
    labels: issue.labels ?? null,
    summary: issue.title ?? null,
    description: issue.body ?? null,
    reporter: issue.user?.login ?? null,
    reporterId: issue.user?.login ?? null,
    created: isoMs(issue.created_at),
    updated: isoMs(issue.updated_at),
    resolved: isoMs(issue.closed_at),
    siteUrl: originOf(repository?.html_url) ?? originOf(issue.html_url),
  };
}

/**
 * Validates a REST issue (an unknown value) and converts it to a {@link Ticket} (the adapter's `issueToTicket`).
 * @throws InvalidIssueError naming the first bad field, or saying it is a pull request.
 */
export function restIssueToTicket(value: unknown): Ticket {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidIssueError('not a GitHub issue: expected a JSON object with "id", "number" and "repository_url"');
  }
  const parsed = githubIssueSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new InvalidIssueError(`invalid GitHub issue: ${first.path.join('.') || '(issue)'}: ${first.message}`);
  }
  if (isPullRequest(parsed.data)) throw new InvalidIssueError(`not a GitHub issue: #${parsed.data.number} is a pull request`);
  return githubIssueToTicket(parsed.data);
}

/** `owner/name` from `repository_url` (`…/repos/owner/name`) or `html_url` (`https://host/owner/name/issues/12`). */
function repositoryOf(issue: GitHubIssue): string | null {
  const fromApi = /\/repos\/([^/]+)\/([^/]+)\/?$/.exec(issue.repository_url ?? '');
  if (fromApi) return `${fromApi[1]}/${fromApi[2]}`;
  const fromHtml = /^https?:\/\/[^/]+\/([^/]+)\/([^/]+)\/(issues|pull)\/\d+/.exec(issue.html_url ?? '');
  return fromHtml ? `${fromHtml[1]}/${fromHtml[2]}` : null;
}

function originOf(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.origin : null;
  } catch {
    return null;
  }
}

function isoMs(value: string | null | undefined): number | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}
