/**
 * A small mixed history for the tracker-spanning report and audit tests: the same requests filed in Jira, GitHub Issues
 * and Linear (built as normalised tickets with `tracker` set, so no adapter is needed), a Jira and a Linear ticket that
 * share the display key `ENG-7`, and succeeded runs (queued with their ticket snapshots, as routing stores them) on
 * tickets of each tracker. Everything is created within the last 40 days of `now`, spread so that no row is a burst.
 */
import type { Db } from '../../src/db/client.js';
import { insertDeliveries, markDeliveryRouted } from '../../src/db/deliveries.js';
import { enqueueRun, finishRun } from '../../src/db/runs.js';
import { upsertTickets } from '../../src/db/tickets.js';
import type { Ticket } from '../../src/ticket.js';
import type { TrackerName } from '../../src/trackers/tracker.js';

export const JIRA_SITE = 'https://acme.atlassian.net';
export const GITHUB_SITE = 'https://github.com';
export const LINEAR_SITE = 'https://linear.app/acme';
const DAY = 86_400_000;

/** One seeded ticket: tracker, display key, summary, labels, days before `now`. */
interface Seed {
  tracker: TrackerName;
  key: string;
  summary: string;
  labels?: string[];
  daysAgo: number;
}

/** The request "add someone to a repository": 3 in Jira, 2 in GitHub, 1 in Linear, one a week. */
export const ADD_TO_REPO: readonly Seed[] = [
  { tracker: 'jira', key: 'PLAT-1', summary: 'Please add alice to the payments-api repository', daysAgo: 2 },
  { tracker: 'github', key: 'acme/api#12', summary: 'Add bob to payments-api repository', daysAgo: 9 },
  { tracker: 'jira', key: 'PLAT-2', summary: 'Please add carol to the ledger repository', daysAgo: 16 },
  { tracker: 'github', key: 'acme/api#13', summary: 'Add dave to ledger repository', daysAgo: 23 },
  { tracker: 'linear', key: 'ENG-4', summary: 'Add erin to the search repository', daysAgo: 30 },
  { tracker: 'jira', key: 'PLAT-3', summary: 'Please add frank to the web-shop repository', daysAgo: 37 },
];

/** A label group across two trackers, and two tickets that share the display key ENG-7 (a Jira project ENG, a Linear team ENG). */
export const OTHERS: readonly Seed[] = [
  { tracker: 'jira', key: 'PLAT-4', summary: 'VPN drops every few minutes', labels: ['vpn'], daysAgo: 4 },
  { tracker: 'github', key: 'acme/infra#3', summary: 'Cannot reach the VPN from home', labels: ['VPN'], daysAgo: 6 },
  { tracker: 'github', key: 'acme/infra#4', summary: 'VPN is very slow today', labels: ['vpn'], daysAgo: 9 },
  { tracker: 'jira', key: 'ENG-7', summary: 'Rotate the backup encryption key', daysAgo: 7 },
  { tracker: 'linear', key: 'ENG-7', summary: 'Rotate the database encryption key', daysAgo: 10 },
  { tracker: 'linear', key: 'ENG-9', summary: 'Printer on floor 3 is offline', daysAgo: 12 },
];

const siteOf = (tracker: TrackerName) => (tracker === 'github' ? GITHUB_SITE : tracker === 'linear' ? LINEAR_SITE : JIRA_SITE);

/** The normalised ticket of a seed; Jira tickets leave `tracker` out (absent = jira), as the Jira adapter does. */
function ticketOf(seed: Seed, i: number, now: number): Ticket {
  const created = now - seed.daysAgo * DAY;
  return {
    ...(seed.tracker === 'jira' ? {} : { tracker: seed.tracker }),
    id: seed.tracker === 'linear' ? `0b6c3f1e-0000-4000-8000-${String(i).padStart(12, '0')}` : String(5000 + i),
    key: seed.key,
    project: seed.tracker === 'github' ? seed.key.split('#')[0] : seed.key.split('-')[0],
    issueType: seed.tracker === 'jira' ? 'Task' : null,
    status: 'To Do',
    labels: seed.labels ?? [],
    summary: seed.summary,
    description: null,
    reporter: 'Dev',
    reporterId: 'dev',
    created,
    updated: created,
    resolved: null,
    siteUrl: siteOf(seed.tracker),
  };
}

/** A succeeded, applied run of `handler` on `ticket`, queued with its snapshot (or without one: a run from before snapshots). */
export function seedSucceededRun(db: Db, ticket: Ticket, handler: string, options: { snapshot?: boolean; at: number }): number {
  const [delivery] = insertDeliveries(db, [
    { deliveryKey: `seed:${ticket.tracker ?? 'jira'}:${ticket.key}:${handler}`, webhookIdentifier: null, event: 'issues', issueKey: ticket.key, headers: {}, body: '{}', eventTimestamp: options.at, receivedAt: options.at },
  ]);
  markDeliveryRouted(db, delivery.id, 'routed', 'seeded');
  const id = enqueueRun(
    db,
    { deliveryId: delivery.id, ticketKey: ticket.key, handler, reason: 'seed', dryRun: false, idempotencyKey: `seed:${ticket.key}:${handler}`, maxAttempts: 3, ticket: options.snapshot === false ? null : ticket },
    options.at,
  );
  finishRun(db, id!, { status: 'succeeded', summary: `done on ${ticket.key}`, durationMs: 10 }, options.at);
  return id!;
}

/**
 * Stores every seed ticket and three succeeded runs: on GitHub's acme/api#12, on Linear's ENG-7 (not Jira's ENG-7),
 * and on Jira's PLAT-1 queued without a snapshot (a run from before snapshots: read as Jira).
 */
export function seedMultiTracker(db: Db, now: number): { tickets: Ticket[]; runs: { github: number; linear: number; jira: number } } {
  const tickets = [...ADD_TO_REPO, ...OTHERS].map((seed, i) => ticketOf(seed, i, now));
  upsertTickets(db, tickets.map((ticket) => ({ ticket })), 'import', now - 60_000);
  const find = (tracker: TrackerName, key: string) => tickets.find((t) => (t.tracker ?? 'jira') === tracker && t.key === key)!;
  return {
    tickets,
    runs: {
      github: seedSucceededRun(db, find('github', 'acme/api#12'), 'grant-repo-access', { at: now - 3 * DAY }),
      linear: seedSucceededRun(db, find('linear', 'ENG-7'), 'rotate-key', { at: now - 9 * DAY }),
      jira: seedSucceededRun(db, find('jira', 'PLAT-1'), 'grant-repo-access', { snapshot: false, at: now - 2 * DAY }),
    },
  };
}
