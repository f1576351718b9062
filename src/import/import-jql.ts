/**
 * History import from Jira through the enhanced JQL search (`POST /rest/api/3/search/jql`, paged by `nextPageToken`;
 * https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-post).
 *
 * The query runs as `(<jql>) ORDER BY updated ASC`, each page is written in one transaction with the checkpoint
 * (the newest `updated` seen), so an interrupted import resumes with `(<jql>) AND updated >= "<checkpoint>"`
 * (JQL has minute precision; the overlap is re-upserted, which is harmless). 429 answers are retried after
 * `Retry-After` (https://developer.atlassian.com/cloud/jira/platform/rate-limiting/), 5xx and connection errors
 * with backoff; after `maxRetries` the import stops with the error, keeping what it wrote.
 */
import type { Store } from '../db/store.js';
import { JiraRequestError, type JiraApi } from '../jira/jira-actions.js';
import type { Ticket } from '../ticket.js';
import { retryDelayMs } from '../worker/backoff.js';
import { jiraTracker } from '../trackers/jira/jira-tracker.js';
import { InvalidIssueError } from '../trackers/tracker.js';

/** The fields a ticket snapshot needs (keeps pages small). */
export const JQL_IMPORT_FIELDS = ['summary', 'description', 'labels', 'issuetype', 'status', 'project', 'reporter', 'created', 'updated', 'resolutiondate'];

export interface JqlImportOptions {
  /** Issues per page (Jira caps it; default 100). */
  pageSize?: number;
  /** Attempts per page on 429/5xx/connection errors (default 6). */
  maxRetries?: number;
  onPage?: (progress: { imported: number; skipped: number; pages: number }) => void;
  onBadRow?: (row: { index: number; key: string | null; error: string }) => void;
  /** Waits `ms`; injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
}

export interface JqlImportResult {
  imported: number;
  skipped: number;
  pages: number;
  /** The `updated` (ms) the import resumed from, or null for a fresh start. */
  resumedFrom: number | null;
  /** Times a page was retried after 429/5xx. */
  retries: number;
  ms: number;
}

/** JQL date literal (`"yyyy/MM/dd HH:mm"`, UTC), for resuming. */
export function jqlDate(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `"${iso.slice(0, 10).replace(/-/g, '/')} ${iso.slice(11, 16)}"`;
}

/**
 * Imports every issue matching `jql` into the database.
 * @throws Error when the JQL has its own ORDER BY (deflect orders by updated to be able to resume), or the last
 *   error of a page that kept failing (everything before it stays imported and the checkpoint allows resuming).
 */
export async function importFromJql(db: Store, api: JiraApi, jql: string, options: JqlImportOptions = {}): Promise<JqlImportResult> {
  if (/\border\s+by\b/i.test(jql)) throw new Error('leave ORDER BY out of --jql: deflect orders by updated so that an interrupted import can resume');
  const started = performance.now();
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const source = `jql:${jql.trim()}`;
  const previous = await db.findImportCheckpoint(source);
  const resumedFrom = previous?.status === 'running' && previous.cursor ? Number(previous.cursor) : null;
  const query = `(${jql.trim()})${resumedFrom === null ? '' : ` AND updated >= ${jqlDate(resumedFrom)}`} ORDER BY updated ASC`;
  let imported = 0;
  let skipped = 0;
  let pages = 0;
  let retries = 0;
  let index = 0;
  let newest = resumedFrom ?? 0;
  let token: string | null = null;
  const save = async (status: 'running' | 'done') =>
    await db.saveImportCheckpoint(source, { cursor: newest ? String(newest) : null, imported: (resumedFrom !== null ? previous!.imported : 0) + imported, skipped, status, fingerprint: null });
  await save('running');
  do {
    const page = await fetchPage(api, query, token, options, sleep, () => retries++);
    const tickets: Ticket[] = [];
    for (const issue of page.issues) {
      index++;
      try {
        const ticket = jiraTracker.issueToTicket(issue);
        tickets.push(ticket);
        if (ticket.updated !== null && ticket.updated > newest) newest = ticket.updated;
      } catch (error) {
        if (!(error instanceof InvalidIssueError)) throw error;
        skipped++;
        options.onBadRow?.({ index, key: typeof issue.key === 'string' ? issue.key : null, error: error.message });
      }
    }
    await db.transaction(async () => {
      await db.upsertTickets(tickets.map((ticket) => ({ ticket })), 'import');
      imported += tickets.length;
      await save('running');
    });
    pages++;
    options.onPage?.({ imported, skipped, pages });
    token = page.nextPageToken;
  } while (token);
  await save('done');
  return { imported, skipped, pages, resumedFrom, retries, ms: Math.round(performance.now() - started) };
}

async function fetchPage(
  api: JiraApi,
  jql: string,
  nextPageToken: string | null,
  options: JqlImportOptions,
  sleep: (ms: number) => Promise<void>,
  onRetry: () => void,
) {
  const maxRetries = options.maxRetries ?? 6;
  for (let attempt = 1; ; attempt++) {
    try {
      return await api.searchIssues(jql, { fields: JQL_IMPORT_FIELDS, maxResults: options.pageSize ?? 100, nextPageToken });
    } catch (error) {
      if (!(error instanceof JiraRequestError) || !error.transient || attempt >= maxRetries) throw error;
      onRetry();
      await sleep(retryDelayMs(attempt, error.retryAfterMs));
    }
  }
}
