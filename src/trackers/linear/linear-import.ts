/**
 * History import from Linear (`deflect import linear --team KEY [--since ISO]`): pages through the team's issues with
 * the GraphQL `issues` connection (cursor pagination, `first`/`after`, https://linear.app/developers/pagination),
 * filtered by team key and, with `since`, `updatedAt >= since`; maps each with {@link restLinearIssueToTicket} and
 * stores each page with `upsertTickets(…, 'import')` in one transaction together with the import's checkpoint
 * (`import_checkpoints`, source `linear:<TEAM>[:since=<ISO>]`, cursor = the page's `endCursor`), so it is safe to run
 * twice (rows are keyed by tracker, workspace and issue id) and an interrupted import resumes after its last written
 * page (issues that moved in the `updatedAt` order meanwhile may be missed by the resumed run; a later full run, which
 * starts afresh once the checkpoint is `done`, picks them up). A transient failure (rate limit, 5xx, no answer) is retried with backoff, honouring the rate limit's reset
 * time; after `maxRetries` the import stops with the error, keeping the pages it wrote.
 */
import type { Store } from '../../db/store.js';
import { upsertTickets } from '../../db/tickets.js';
import type { Ticket } from '../../ticket.js';
import { retryDelayMs } from '../../worker/backoff.js';
import { InvalidIssueError } from '../tracker.js';
import { LinearRequestError, type LinearApi } from './linear-api.js';
import { restLinearIssueToTicket } from './linear-issue.js';

/** The issue fields the import selects: what {@link restLinearIssueToTicket} reads. */
export const LINEAR_ISSUE_FIELDS = `id identifier number title description url createdAt updatedAt completedAt canceledAt
  team { key } state { name type } labels(first: 100) { nodes { id name } } creator { id name }`;

/** The import's page query; with `since`, only issues updated at or after it. */
export function teamIssuesQuery(withSince: boolean): string {
  const since = withSince ? ', updatedAt: { gte: $since }' : '';
  return `query DeflectTeamIssues($team: String!, $first: Int!, $after: String${withSince ? ', $since: DateTimeOrDuration!' : ''}) {
  teams(filter: { key: { eqIgnoreCase: $team } }) { nodes { id key } }
  issues(first: $first, after: $after, orderBy: updatedAt, filter: { team: { key: { eqIgnoreCase: $team } }${since} }) {
    nodes { ${LINEAR_ISSUE_FIELDS} }
    pageInfo { hasNextPage endCursor }
  }
}`;
}

export interface LinearImportOptions {
  /** The team key (`ENG`), case-insensitive. */
  team: string;
  /** Only issues updated at or after this time, epoch ms. */
  since?: number | null;
  /** Issues per request (default 50, Linear's default page size; at most 250). */
  pageSize?: number;
  /** Attempts per page on transient failures (default 6). */
  maxRetries?: number;
  sleep?: (ms: number) => Promise<void>;
  onPage?: (progress: { imported: number; skipped: number; pages: number }) => void;
  onBadIssue?: (issue: { index: number; key: string | null; error: string }) => void;
}

export interface LinearImportResult {
  imported: number;
  skipped: number;
  pages: number;
  retries: number;
  /** The cursor an interrupted import resumed after, or null for a fresh start. */
  resumedAfter: string | null;
  ms: number;
}

interface Page {
  teams: { nodes: Array<{ id: string; key: string }> };
  issues: { nodes: Array<Record<string, unknown>>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

/**
 * Imports every issue of team `options.team`.
 * @throws Error when the team does not exist (naming it), or the last {@link LinearRequestError} of a page that kept
 *   failing (401: a bad LINEAR_API_KEY).
 */
export async function importLinearTeam(db: Store, linear: LinearApi, options: LinearImportOptions): Promise<LinearImportResult> {
  const started = performance.now();
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const query = teamIssuesQuery(options.since != null);
  const first = Math.min(250, Math.max(1, options.pageSize ?? 50));
  let imported = 0;
  let skipped = 0;
  let pages = 0;
  let retries = 0;
  let index = 0;
  const source = `linear:${options.team.toUpperCase()}${options.since != null ? `:since=${new Date(options.since).toISOString()}` : ''}`;
  const previous = await db.findImportCheckpoint(source);
  const resumedAfter = previous?.status === 'running' && previous.cursor ? previous.cursor : null;
  const carried = resumedAfter !== null ? previous! : { imported: 0, skipped: 0 };
  let after: string | null = resumedAfter;
  const save = async (status: 'running' | 'done') =>
    await db.saveImportCheckpoint(source, { cursor: after, imported: carried.imported + imported, skipped: carried.skipped + skipped, status, fingerprint: null });
  for (;;) {
    const variables: Record<string, unknown> = { team: options.team, first, after };
    if (options.since != null) variables.since = new Date(options.since).toISOString();
    const page = await fetchPage(linear, query, variables, options, sleep, () => retries++);
    if (page.teams.nodes.length === 0) throw new Error(`no Linear team with key "${options.team}" (or LINEAR_API_KEY cannot see it)`);
    const tickets: Ticket[] = [];
    for (const issue of page.issues.nodes) {
      index++;
      try {
        tickets.push(restLinearIssueToTicket(issue));
      } catch (error) {
        if (!(error instanceof InvalidIssueError)) throw error;
        skipped++;
        options.onBadIssue?.({ index, key: typeof issue.identifier === 'string' ? issue.identifier : null, error: error.message });
      }
    }
    const more = page.issues.pageInfo.hasNextPage && !!page.issues.pageInfo.endCursor;
    await db.transaction(async () => {
      await db.upsertTickets(tickets.map((ticket) => ({ ticket })), 'import');
      imported += tickets.length;
      if (more) after = page.issues.pageInfo.endCursor;
      await save(more ? 'running' : 'done');
    });
    pages++;
    options.onPage?.({ imported, skipped, pages });
    if (!more) break;
  }
  return { imported, skipped, pages, retries, resumedAfter, ms: Math.round(performance.now() - started) };
}

async function fetchPage(
  linear: LinearApi,
  query: string,
  variables: Record<string, unknown>,
  options: LinearImportOptions,
  sleep: (ms: number) => Promise<void>,
  onRetry: () => void,
): Promise<Page> {
  const maxRetries = options.maxRetries ?? 6;
  for (let attempt = 1; ; attempt++) {
    try {
      return await linear.request<Page>(query, variables);
    } catch (error) {
      if (!(error instanceof LinearRequestError) || !error.transient || attempt >= maxRetries) throw error;
      onRetry();
      await sleep(retryDelayMs(attempt, error.retryAfterMs));
    }
  }
}
