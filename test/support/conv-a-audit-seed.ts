/**
 * Runs seeded through deflect's own write functions on a Store of either backend (so the audit chain seals them): the
 * Store form of test/audit/seed-audit-runs.ts, for the audit tests that run on the pass's backend.
 */
import type { RunOutcome } from '../../src/db/runs.js';
import type { Store } from '../../src/db/store.js';

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
