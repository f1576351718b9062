/**
 * Reconciliation (`deflect reconcile --since 2h`): finds tickets whose webhook never arrived and feeds them through the
 * same path as a webhook — a stored `pending` delivery that the worker routes (ticket snapshot, rules, runs).
 *
 * Jira is asked with the enhanced JQL search (`POST /rest/api/3/search/jql`, paged by `nextPageToken`;
 * https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-post)
 * for issues updated in the window. An issue is *missed* when deflect has no snapshot of it, or its snapshot's
 * `updated` is older than Jira's. For each missed issue one delivery is stored, keyed
 * `reconcile:<site>:<issue id>:<updated ms>` (running reconcile twice stores nothing new):
 * - never seen and created inside the window → `jira:issue_created` (fires `created` rules);
 * - seen, and Jira now has labels the snapshot lacks → `jira:issue_updated` with a labels changelog (fires
 *   `label-added` rules for exactly those labels);
 * - anything else → `deflect:reconciled`, which refreshes the snapshot and fires no rule. Search results do not say who
 *   made the change, so a missed update could be deflect's own; replaying it as an update could start a loop.
 *
 * Jira itself retries a failed delivery for about 30 minutes (../shared/docs/jira-webhooks.md §3), so by default issues
 * updated in the last `settleMs` are left alone: their webhook may still come, and processing both would run twice.
 */
import type { Logger } from 'pino';
import type { Store } from '../db/store.js';
import { type NewDelivery } from '../db/deliveries.js';
import type { JiraApi } from '../jira/jira-actions.js';
import type { Ticket } from '../ticket.js';
import { jiraTracker } from '../trackers/jira/jira-tracker.js';
import { InvalidIssueError } from '../trackers/tracker.js';

/** The issue fields reconcile asks for: what the ticket snapshot and routing use. */
export const RECONCILE_FIELDS = ['summary', 'description', 'labels', 'issuetype', 'status', 'project', 'reporter', 'created', 'updated', 'resolutiondate'];

/** Default settle time, ms: Jira's own retry window. */
export const DEFAULT_SETTLE_MS = 30 * 60_000;

export interface ReconcileOptions {
  db: Store;
  api: JiraApi;
  /** Start of the window (ms): issues updated at or after it are checked. */
  since: number;
  /** Issues updated in the last `settleMs` are skipped (default {@link DEFAULT_SETTLE_MS}). */
  settleMs?: number;
  /** Extra JQL ANDed to the window, e.g. `project = PLAT`. */
  jql?: string;
  /** Site host for delivery keys when an issue has no `self` (from JIRA_BASE_URL). */
  siteHost: string;
  /** Only report what would be stored. */
  dryRun?: boolean;
  /** Stop after this many issues (default 10,000). */
  maxIssues?: number;
  logger?: Logger;
  now?: number;
}

/** One missed ticket and what reconcile did about it. */
export interface MissedTicket {
  key: string;
  event: 'jira:issue_created' | 'jira:issue_updated' | 'deflect:reconciled';
  /** Why it counts as missed, e.g. `no snapshot` or `snapshot updated 2026-… < Jira 2026-…`. */
  why: string;
  /** The stored delivery's id; null in a dry run. */
  deliveryId: number | null;
  /** True when an earlier reconcile already stored this exact delivery. */
  duplicate: boolean;
}

export interface ReconcileResult {
  /** The JQL sent to Jira. */
  jql: string;
  /** Issues Jira returned. */
  scanned: number;
  /** Issues whose snapshot is current. */
  upToDate: number;
  /** Issues inside the settle time (left for Jira's own retries) or outside the window. */
  skipped: number;
  missed: MissedTicket[];
}

/**
 * Runs one reconciliation. Reads Jira, writes only `deliveries` (the worker of a running deflect routes them within
 * its poll interval; otherwise the next `deflect serve` does).
 * @throws JiraRequestError when the search fails (nothing is stored for pages not read).
 */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileResult> {
  const now = options.now ?? Date.now();
  const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  const windowMinutes = Math.max(1, Math.ceil((now - options.since) / 60_000));
  // Relative dates (https://support.atlassian.com/jira-software-cloud/docs/jql-functions/ — "-120m") avoid time zones.
  const upper = settleMs >= 60_000 ? ` AND updated <= -${Math.floor(settleMs / 60_000)}m` : '';
  const jql = `${options.jql ? `(${options.jql}) AND ` : ''}updated >= -${windowMinutes}m${upper} ORDER BY updated ASC`;
  const result: ReconcileResult = { jql, scanned: 0, upToDate: 0, skipped: 0, missed: [] };
  const maxIssues = options.maxIssues ?? 10_000;

  let nextPageToken: string | null = null;
  do {
    const page = await options.api.searchIssues(jql, { fields: RECONCILE_FIELDS, maxResults: 100, nextPageToken });
    const batch: Array<{ delivery: NewDelivery; missed: Omit<MissedTicket, 'deliveryId' | 'duplicate'> }> = [];
    for (const raw of page.issues) {
      result.scanned++;
      let ticket: Ticket;
      try {
        ticket = jiraTracker.issueToTicket(raw);
      } catch (error) {
        if (!(error instanceof InvalidIssueError)) throw error;
        options.logger?.warn({ issue: raw.key, problem: error.message }, 'reconcile: issue skipped, does not parse');
        result.skipped++;
        continue;
      }
      // JQL relative dates are minute-granular and a server may ignore them: check the window here too.
      if (ticket.updated === null || ticket.updated < options.since || ticket.updated > now - settleMs) {
        result.skipped++;
        continue;
      }
      const missed = await classifyMissed(options.db, ticket, options.since);
      if (!missed) {
        result.upToDate++;
        continue;
      }
      batch.push({ missed, delivery: toDelivery(raw, ticket, missed.event, missed.labelsFrom, options.siteHost, now) });
    }
    if (options.dryRun) {
      for (const b of batch) result.missed.push({ key: b.missed.key, event: b.missed.event, why: b.missed.why, deliveryId: null, duplicate: false });
    } else if (batch.length > 0) {
      const stored = await options.db.insertDeliveries(
        batch.map((b) => b.delivery),
      );
      batch.forEach((b, i) =>
        result.missed.push({ key: b.missed.key, event: b.missed.event, why: b.missed.why, deliveryId: stored[i].id, duplicate: stored[i].duplicate }),
      );
    }
    nextPageToken = page.nextPageToken;
  } while (nextPageToken && result.scanned < maxIssues);
  options.logger?.info({ scanned: result.scanned, missed: result.missed.length, upToDate: result.upToDate }, 'reconcile finished');
  return result;
}

/** Whether (and how) `ticket` was missed; null when the stored snapshot is current. */
async function classifyMissed(
  db: Store,
  ticket: Ticket,
  since: number,
): Promise<{ key: string; event: MissedTicket['event']; why: string; labelsFrom: string[] | null } | null> {
  const stored = await db.findTicketByKey(ticket.key);
  const iso = (ms: number | null) => (ms === null ? '?' : new Date(ms).toISOString());
  if (!stored) {
    const createdInWindow = ticket.created !== null && ticket.created >= since;
    return {
      key: ticket.key,
      event: createdInWindow ? 'jira:issue_created' : 'deflect:reconciled',
      why: createdInWindow ? `no snapshot; created ${iso(ticket.created)}` : `no snapshot; created ${iso(ticket.created)}, before the window`,
      labelsFrom: null,
    };
  }
  if (stored.updated !== null && ticket.updated !== null && stored.updated >= ticket.updated) return null;
  const have = new Set(stored.labels.map((l) => l.toLowerCase()));
  const added = (ticket.labels ?? []).filter((l) => !have.has(l.toLowerCase()));
  return {
    key: ticket.key,
    event: added.length > 0 ? 'jira:issue_updated' : 'deflect:reconciled',
    why: `snapshot updated ${iso(stored.updated)} < Jira ${iso(ticket.updated)}${added.length > 0 ? `; labels added: ${added.join(', ')}` : ''}`,
    labelsFrom: stored.labels,
  };
}

/** A synthetic delivery in the admin-webhook envelope, so routing treats it exactly like one from Jira. */
function toDelivery(
  raw: { id: string; key: string; self?: string; fields: Record<string, unknown> },
  ticket: Ticket,
  event: MissedTicket['event'],
  labelsFrom: string[] | null,
  fallbackHost: string,
  now: number,
): NewDelivery {
  // The search shows Jira's state as of `now`, newer than any event stored before it: stamped `now`, it is never taken
  // for a stale update, and a webhook for an older change arriving later does not overwrite it.
  const timestamp = now;
  const body: Record<string, unknown> = {
    timestamp,
    webhookEvent: event,
    ...(event === 'jira:issue_created' ? { issue_event_type_name: 'issue_created' } : {}),
    issue: raw,
    ...(event === 'jira:issue_updated'
      ? {
          issue_event_type_name: 'issue_updated',
          changelog: {
            items: [
              { field: 'labels', fieldtype: 'jira', fieldId: 'labels', from: null, to: null, fromString: (labelsFrom ?? []).join(' '), toString: (ticket.labels ?? []).join(' ') },
            ],
          },
        }
      : {}),
    deflectReconcile: { at: now },
  };
  let host = fallbackHost;
  try {
    if (raw.self) host = new URL(raw.self).host;
  } catch {
    // keep the configured site
  }
  return {
    // Keyed by Jira's `updated`: the same issue state is stored once however often reconcile runs.
    deliveryKey: `reconcile:${host}:${ticket.id}:${ticket.updated ?? now}`,
    webhookIdentifier: null,
    event,
    issueKey: ticket.key,
    headers: { 'content-type': 'application/json', 'user-agent': 'deflect-reconcile' },
    body: JSON.stringify(body),
    eventTimestamp: timestamp,
    receivedAt: now,
  };
}
