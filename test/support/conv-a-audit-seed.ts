/**
 * Runs seeded through deflect's own write functions on a Store of either backend (so the audit chain seals them): the
 * Store forms of test/audit/seed-audit-runs.ts and test/support/audit-runs.ts, for the audit tests that run on the
 * pass's backend.
 */
import { randomUUID } from 'node:crypto';
import type { RunOutcome } from '../../src/db/runs.js';
import type { Store } from '../../src/db/store.js';
import type { Ticket } from '../../src/ticket.js';
import type { SeedRun } from './audit-runs.js';
import { ticketWith } from './ticket-fixture.js';

let seq = 0;

/**
 * One run of ticket `key` created at `at` (ms) with `actions` applied comments, one approval step and rule settings,
 * ended `status` (or left `queued` when status is null). Resolves with the run id.
 */
export async function seedAuditRunIn(
  store: Store,
  key: string,
  at: number,
  options: { status?: RunOutcome | null; actions?: number } = {},
): Promise<number> {
  seq++;
  const [delivery] = await store.insertDeliveries([
    { deliveryKey: `audit-seed-store:${seq}`, webhookIdentifier: null, event: 'jira:issue_created', issueKey: key, headers: {}, body: '{}', eventTimestamp: at, receivedAt: at },
  ]);
  await store.markDeliveryRouted(delivery.id, 'routed', 'seeded');
  const runId = (await store.enqueueRun(
    { deliveryId: delivery.id, ticketKey: key, handler: 'seeded', reason: 'seed', dryRun: false, idempotencyKey: `audit-seed-store:${seq}`, maxAttempts: 3 },
    at,
  ))!;
  await store.recordRunRuleSettings(runId, { ruleName: 'seeded', options: {}, approval: null });
  await store.recordApprovalStep({ runId, decision: 'approved', by: 'lead-1' }, at);
  for (let i = 1; i <= (options.actions ?? 1); i++) {
    const id = await store.beginAction(
      { runId, seq: i, kind: 'comment', ticketKey: key, idempotencyKey: `audit-seed-store:${seq}:${i}:comment`, request: { body: `comment ${i}` }, status: 'started' },
      at,
    );
    await store.finishAction(id, { status: 'applied', response: { id: `c-${seq}-${i}` } }, at);
  }
  if (options.status !== null) await store.finishRun(runId, { status: options.status ?? 'succeeded', summary: `done ${key}`, durationMs: 5 }, at);
  return runId;
}

/**
 * The Store form of `seedRun` (test/support/audit-runs.ts): records one run as routing and the worker would, on a
 * Store of either backend; resolves with its id.
 */
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
