/**
 * The seeds of audit-runs.ts, multi-tracker-tickets.ts and test/audit/seed-audit-runs.ts, written through a Store of
 * either backend (the same repository functions, awaited), so a test seeds the database of the pass's backend.
 */
import { randomUUID } from 'node:crypto';
import type { RunOutcome } from '../../src/db/runs.js';
import type { Store } from '../../src/db/store.js';
import type { Ticket } from '../../src/ticket.js';
import type { TrackerName } from '../../src/trackers/tracker.js';
import type { SeedRun } from './audit-runs.js';
import { ADD_TO_REPO, GITHUB_SITE, JIRA_SITE, LINEAR_SITE, OTHERS } from './multi-tracker-tickets.js';
import { ticketWith } from './ticket-fixture.js';

/** audit-runs.ts's `seedRun` on a Store: records one run as routing and the worker would; resolves with its id. */
export async function seedRunIn(store: Store, run: SeedRun): Promise<number> {
  const createdAt = run.createdAt ?? Date.now();
  const handler = run.handler ?? 'grant-repo-access';
  const rule = run.rule ?? 'repo-access';
  const key = `seed:${randomUUID()}`;
  const ticket: Ticket = ticketWith(run.description ?? null, {
    key: run.ticketKey,
    summary: run.ticketSummary ?? `Request on ${run.ticketKey}`,
    reporter: run.reporter ?? 'Jane Doe',
    reporterId: run.reporterId ?? 'jane-1',
    siteUrl: run.siteUrl === undefined ? 'https://acme.atlassian.net' : run.siteUrl,
    ...(run.tracker && run.tracker !== 'jira' ? { tracker: run.tracker } : {}),
  });
  const [delivery] = await store.insertDeliveries([
    { source: run.tracker ?? 'jira', deliveryKey: key, webhookIdentifier: null, event: 'jira:issue_created', issueKey: run.ticketKey, headers: {}, body: '{}', eventTimestamp: createdAt, receivedAt: createdAt },
  ]);
  const id = (await store.enqueueRun(
    {
      deliveryId: delivery.id,
      ticketKey: run.ticketKey,
      handler,
      reason: `label access-request → ${handler} (rule ${rule} #1)`,
      dryRun: false,
      shadow: run.shadow,
      rulesVersion: 'abc123def456',
      idempotencyKey: `${run.ticketKey}:${handler}:${key}`,
      maxAttempts: 5,
      ticket,
    },
    createdAt,
  ))!;
  await store.recordRunRuleSettings(id, { ruleName: rule, options: run.options ?? {}, approval: null });
  const status = run.status ?? 'succeeded';
  if (status !== 'queued') {
    await store.finishRun(id, { status, summary: run.summary === undefined ? `done on ${run.ticketKey}` : run.summary, error: run.error ?? null, durationMs: 5 }, createdAt + 5);
  }
  return id;
}

const DAY = 86_400_000;
const siteOf = (tracker: TrackerName) => (tracker === 'github' ? GITHUB_SITE : tracker === 'linear' ? LINEAR_SITE : JIRA_SITE);

/** multi-tracker-tickets.ts's ticket of a seed (Jira tickets leave `tracker` out, as the Jira adapter does). */
function ticketOf(seed: (typeof ADD_TO_REPO)[number], i: number, now: number): Ticket {
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

/** multi-tracker-tickets.ts's `seedSucceededRun` on a Store. */
export async function seedSucceededRunIn(store: Store, ticket: Ticket, handler: string, options: { snapshot?: boolean; at: number }): Promise<number> {
  const [delivery] = await store.insertDeliveries([
    { deliveryKey: `seed:${ticket.tracker ?? 'jira'}:${ticket.key}:${handler}`, webhookIdentifier: null, event: 'issues', issueKey: ticket.key, headers: {}, body: '{}', eventTimestamp: options.at, receivedAt: options.at },
  ]);
  await store.markDeliveryRouted(delivery.id, 'routed', 'seeded');
  const id = await store.enqueueRun(
    { deliveryId: delivery.id, ticketKey: ticket.key, handler, reason: 'seed', dryRun: false, idempotencyKey: `seed:${ticket.key}:${handler}`, maxAttempts: 3, ticket: options.snapshot === false ? null : ticket },
    options.at,
  );
  await store.finishRun(id!, { status: 'succeeded', summary: `done on ${ticket.key}`, durationMs: 10 }, options.at);
  return id!;
}

/** multi-tracker-tickets.ts's `seedMultiTracker` on a Store: every seed ticket and three succeeded runs. */
export async function seedMultiTrackerIn(store: Store, now: number): Promise<{ tickets: Ticket[]; runs: { github: number; linear: number; jira: number } }> {
  const tickets = [...ADD_TO_REPO, ...OTHERS].map((seed, i) => ticketOf(seed, i, now));
  await store.upsertTickets(tickets.map((ticket) => ({ ticket })), 'import', now - 60_000);
  const find = (tracker: TrackerName, key: string) => tickets.find((t) => (t.tracker ?? 'jira') === tracker && t.key === key)!;
  return {
    tickets,
    runs: {
      github: await seedSucceededRunIn(store, find('github', 'acme/api#12'), 'grant-repo-access', { at: now - 3 * DAY }),
      linear: await seedSucceededRunIn(store, find('linear', 'ENG-7'), 'rotate-key', { at: now - 9 * DAY }),
      jira: await seedSucceededRunIn(store, find('jira', 'PLAT-1'), 'grant-repo-access', { snapshot: false, at: now - 2 * DAY }),
    },
  };
}

let auditSeq = 0;

/**
 * test/audit/seed-audit-runs.ts's `seedAuditRun` on a Store: one run of ticket `key` created at `at` with `actions`
 * applied comments, one approval step and rule settings, ended `status` (or left queued when null). Resolves with its id.
 */
export async function seedAuditRunIn(store: Store, key: string, at: number, options: { status?: RunOutcome | null; actions?: number } = {}): Promise<number> {
  const seq = ++auditSeq;
  const [delivery] = await store.insertDeliveries([
    { deliveryKey: `audit-seed:${seq}`, webhookIdentifier: null, event: 'jira:issue_created', issueKey: key, headers: {}, body: '{}', eventTimestamp: at, receivedAt: at },
  ]);
  await store.markDeliveryRouted(delivery.id, 'routed', 'seeded');
  const runId = (await store.enqueueRun({ deliveryId: delivery.id, ticketKey: key, handler: 'seeded', reason: 'seed', dryRun: false, idempotencyKey: `audit-seed:${seq}`, maxAttempts: 3 }, at))!;
  await store.recordRunRuleSettings(runId, { ruleName: 'seeded', options: {}, approval: null });
  await store.recordApprovalStep({ runId, decision: 'approved', by: 'lead-1' }, at);
  for (let i = 1; i <= (options.actions ?? 1); i++) {
    const id = await store.beginAction({ runId, seq: i, kind: 'comment', ticketKey: key, idempotencyKey: `audit-seed:${seq}:${i}:comment`, request: { body: `comment ${i}` }, status: 'started' }, at);
    await store.finishAction(id, { status: 'applied', response: { id: `c-${seq}-${i}` } }, at);
  }
  if (options.status !== null) await store.finishRun(runId, { status: options.status ?? 'succeeded', summary: `done ${key}`, durationMs: 5 }, at);
  return runId;
}
