/**
 * Reconciliation for GitHub Issues (`deflect reconcile --tracker github --repo OWNER/NAME`). GitHub does not
 * redeliver a failed webhook by itself (only a person can, from the webhook's "Recent deliveries";
 * https://docs.github.com/en/webhooks/testing-and-troubleshooting-webhooks/redelivering-webhooks), so deflect asks:
 * the issues of each repository updated since the newest GitHub delivery stored (or a given time)
 * (`GET /repos/{owner}/{repo}/issues?state=all&sort=updated&direction=asc&since=…`, pull requests skipped), and feeds
 * each missed one through the webhook path: a stored `pending` delivery (source `github`, header
 * `X-GitHub-Event: issues`) that the worker routes like one from GitHub. The same decisions as Jira's reconcile
 * (`worker/reconcile.ts`):
 * - no snapshot, created inside the window → `issues.opened` (fires `created` rules on all its labels);
 * - a snapshot lacking labels GitHub now has → one `issues.labeled` per added label (as GitHub itself sends one
 *   event per label; fires `label-added` rules);
 * - anything else missed (no snapshot and created before the window; other changes) → `issues.deflect_reconciled`,
 *   which refreshes the snapshot and routes nothing: the listing does not say who changed what or when.
 * Keys are `reconcile:github:<issue id>:<updated ms>[:<label>]`, so running reconcile twice stores nothing new.
 * Issues updated in the last `settleMs` are left alone: their webhook may still be on its way.
 */
import type { Logger } from 'pino';
import type { Store } from '../../db/store.js';
import { type NewDelivery } from '../../db/deliveries.js';
import { reconcileWindowStart, type WindowedReconcileResult } from '../reconcile-window.js';
import type { Ticket } from '../../ticket.js';
import { InvalidIssueError } from '../tracker.js';
import { parseRepository, type GitHubIssuesClient } from './github-client.js';
import { RECONCILED_ACTION } from './github-event.js';
import { isPullRequest, restIssueToTicket } from './github-issue.js';

/** Default settle time, ms: a webhook is normally delivered within seconds. */
export const DEFAULT_GITHUB_SETTLE_MS = 60_000;
/** How far before the newest stored delivery the default window starts, ms (deliveries arrive out of order). */
export { DEFAULT_OVERLAP_MS } from '../reconcile-window.js';

export interface GitHubReconcileOptions {
  db: Store;
  client: GitHubIssuesClient;
  /** Repositories to check, `owner/name`. */
  repositories: readonly string[];
  /** Window start, ms; absent = newest GitHub delivery stored minus {@link DEFAULT_OVERLAP_MS}. */
  since?: number | null;
  settleMs?: number;
  dryRun?: boolean;
  logger?: Logger;
  now?: number;
}

export type GitHubReconcileEvent = 'issues.opened' | 'issues.labeled' | `issues.${typeof RECONCILED_ACTION}`;

export interface GitHubMissed {
  key: string;
  event: GitHubReconcileEvent;
  /** The added label (`issues.labeled`), else null. */
  label: string | null;
  why: string;
  deliveryId: number | null;
  duplicate: boolean;
}

export type GitHubReconcileResult = WindowedReconcileResult<GitHubMissed>;

/**
 * Runs one reconciliation; writes only `deliveries`.
 * @throws Error when no window start is given and no GitHub delivery is stored yet; GitHubRequestError for a bad
 *   repository name or a failed listing (deliveries of repositories listed before it stay stored).
 */
export async function reconcileGitHub(options: GitHubReconcileOptions): Promise<GitHubReconcileResult> {
  const now = options.now ?? Date.now();
  const settleMs = options.settleMs ?? DEFAULT_GITHUB_SETTLE_MS;
  const since = await reconcileWindowStart(options.db, { name: 'github', title: 'GitHub' }, options.since);
  const result: GitHubReconcileResult = { since, scanned: 0, upToDate: 0, skipped: 0, missed: [] };
  for (const repository of options.repositories) {
    const { owner, repo } = parseRepository(repository);
    const items = await options.client.paginate<Record<string, unknown>>('GET /repos/{owner}/{repo}/issues', {
      owner,
      repo,
      state: 'all',
      sort: 'updated',
      direction: 'asc',
      since: new Date(since).toISOString(),
    });
    const batch: Array<{ missed: Omit<GitHubMissed, 'deliveryId' | 'duplicate'>; delivery: NewDelivery }> = [];
    for (const item of items) {
      if (isPullRequest(item)) continue;
      result.scanned++;
      let ticket: Ticket;
      try {
        ticket = restIssueToTicket(item);
      } catch (error) {
        if (!(error instanceof InvalidIssueError)) throw error;
        options.logger?.warn({ issue: item.number, problem: error.message }, 'reconcile: GitHub issue skipped, does not parse');
        result.skipped++;
        continue;
      }
      if (ticket.updated === null || ticket.updated < since || ticket.updated > now - settleMs) {
        result.skipped++;
        continue;
      }
      const missed = await classifyMissed(options.db, ticket, since);
      if (missed.length === 0) result.upToDate++;
      for (const m of missed) batch.push({ missed: m, delivery: toDelivery(item, ticket, m.event, m.label, now) });
    }
    if (options.dryRun) {
      for (const b of batch) result.missed.push({ ...b.missed, deliveryId: null, duplicate: false });
    } else if (batch.length > 0) {
      const stored = await options.db.insertDeliveries(batch.map((b) => b.delivery));
      batch.forEach((b, i) => result.missed.push({ ...b.missed, deliveryId: stored[i].id, duplicate: stored[i].duplicate }));
    }
  }
  options.logger?.info({ scanned: result.scanned, missed: result.missed.length, upToDate: result.upToDate }, 'GitHub reconcile finished');
  return result;
}

/** What was missed of `ticket` (empty when its snapshot is current). */
async function classifyMissed(db: Store, ticket: Ticket, since: number): Promise<Array<Omit<GitHubMissed, 'deliveryId' | 'duplicate'>>> {
  const stored = await db.findTicketByKey(ticket.key, ticket.siteUrl);
  const iso = (ms: number | null) => (ms === null ? '?' : new Date(ms).toISOString());
  if (!stored || stored.tracker !== 'github') {
    const inWindow = ticket.created !== null && ticket.created >= since;
    return [{
      key: ticket.key,
      event: inWindow ? 'issues.opened' : `issues.${RECONCILED_ACTION}`,
      label: null,
      why: `no snapshot; created ${iso(ticket.created)}${inWindow ? '' : ', before the window'}`,
    }];
  }
  if (stored.updated !== null && ticket.updated !== null && stored.updated >= ticket.updated) return [];
  const have = new Set(stored.labels.map((l) => l.toLowerCase()));
  const added = (ticket.labels ?? []).filter((l) => !have.has(l.toLowerCase()));
  const why = `snapshot updated ${iso(stored.updated)} < GitHub ${iso(ticket.updated)}`;
  if (added.length === 0) return [{ key: ticket.key, event: `issues.${RECONCILED_ACTION}`, label: null, why }];
  return added.map((label) => ({ key: ticket.key, event: 'issues.labeled' as const, label, why: `${why}; label added: ${label}` }));
}

/** A synthetic `issues` delivery in GitHub's payload shape, so routing treats it exactly like one from GitHub. */
function toDelivery(issue: Record<string, unknown>, ticket: Ticket, event: GitHubReconcileEvent, label: string | null, now: number): NewDelivery {
  const action = event.slice('issues.'.length);
  const body = {
    action,
    issue,
    repository: { full_name: ticket.project, html_url: `${ticket.siteUrl ?? 'https://github.com'}/${ticket.project}` },
    ...(label ? { label: { name: label } } : {}),
    sender: null,
    deflectReconcile: { at: now },
  };
  return {
    source: 'github',
    deliveryKey: `reconcile:github:${ticket.id}:${ticket.updated ?? now}${label ? `:${label.toLowerCase()}` : ''}`,
    webhookIdentifier: null,
    event,
    issueKey: ticket.key,
    headers: { 'content-type': 'application/json', 'user-agent': 'deflect-reconcile', 'x-github-event': 'issues' },
    body: JSON.stringify(body),
    eventTimestamp: null,
    receivedAt: now,
  };
}
