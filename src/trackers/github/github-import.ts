/**
 * History import from GitHub Issues (`deflect import github --repo OWNER/NAME [--since ISO]`): every issue of the
 * repository (`GET /repos/{owner}/{repo}/issues?state=all&sort=updated&direction=asc[&since=…]`, 100 per page,
 * following `Link: rel="next"`; https://docs.github.com/en/rest/issues/issues#list-repository-issues), pull requests
 * skipped (the endpoint lists them too, with `pull_request`), mapped by the adapter's `issueToTicket` and stored with
 * `upsertTickets(…, 'import')` in one transaction per page. Safe to run twice (rows are keyed `github:<site>:<id>`).
 */
import type { Store } from '../../db/store.js';
import { upsertTickets } from '../../db/tickets.js';
import type { Ticket } from '../../ticket.js';
import { InvalidIssueError } from '../tracker.js';
import { parseRepository, type GitHubIssuesClient } from './github-client.js';
import { isPullRequest, restIssueToTicket } from './github-issue.js';

export interface GitHubImportOptions {
  /** Only issues updated at or after this time (ms). */
  since?: number | null;
  onBadIssue?: (issue: { number: number | null; error: string }) => void;
}

export interface GitHubImportResult {
  /** `owner/name` as given. */
  repository: string;
  imported: number;
  /** Pull requests the listing returned (not tickets). */
  pullRequests: number;
  /** Items that did not parse as issues. */
  skipped: number;
  ms: number;
}

/**
 * Imports the issues of `repository` (`owner/name`).
 * @throws GitHubRequestError for a bad repository name (permanent, before any request) or a failed listing
 *   (401: bad GITHUB_TOKEN; 404: repository not found or not visible to the token). Nothing is stored then.
 */
export async function importGitHubIssues(db: Store, client: GitHubIssuesClient, repository: string, options: GitHubImportOptions = {}): Promise<GitHubImportResult> {
  const started = Date.now();
  const { owner, repo } = parseRepository(repository);
  const items = await client.paginate<Record<string, unknown>>('GET /repos/{owner}/{repo}/issues', {
    owner,
    repo,
    state: 'all',
    sort: 'updated',
    direction: 'asc',
    ...(options.since != null ? { since: new Date(options.since).toISOString() } : {}),
  });
  const result: GitHubImportResult = { repository, imported: 0, pullRequests: 0, skipped: 0, ms: 0 };
  const tickets: Ticket[] = [];
  for (const item of items) {
    if (isPullRequest(item)) {
      result.pullRequests++;
      continue;
    }
    try {
      tickets.push(restIssueToTicket(item));
    } catch (error) {
      if (!(error instanceof InvalidIssueError)) throw error;
      result.skipped++;
      options.onBadIssue?.({ number: typeof item.number === 'number' ? item.number : null, error: error.message });
    }
  }
  for (let at = 0; at < tickets.length; at += 500) {
    await db.upsertTickets(tickets.slice(at, at + 500).map((ticket) => ({ ticket })), 'import');
  }
  result.imported = tickets.length;
  result.ms = Date.now() - started;
  return result;
}
