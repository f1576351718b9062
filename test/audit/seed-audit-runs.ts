/** Runs seeded through deflect's own write functions (so the audit chain seals them), for the audit-chain tests. */
import { beginAction, finishAction } from '../../src/db/actions.js';
import { recordApprovalStep, recordRunRuleSettings } from '../../src/db/approvals.js';
import type { Db } from '../../src/db/client.js';
import { insertDeliveries, markDeliveryRouted } from '../../src/db/deliveries.js';
import { enqueueRun, finishRun, type RunOutcome } from '../../src/db/runs.js';

let seq = 0;

/**
 * One run of ticket `key` created at `at` (ms) with `actions` applied comments, one approval step and rule settings,
 * ended `status` (or left `queued` when status is null). Returns the run id.
 */
export function seedAuditRun(db: Db, key: string, at: number, options: { status?: RunOutcome | null; actions?: number } = {}): number {
  seq++;
  const [delivery] = insertDeliveries(db, [
    { deliveryKey: `audit-seed:${seq}`, webhookIdentifier: null, event: 'jira:issue_created', issueKey: key, headers: {}, body: '{}', eventTimestamp: at, receivedAt: at },
  ]);
  markDeliveryRouted(db, delivery.id, 'routed', 'seeded');
  const runId = enqueueRun(db, { deliveryId: delivery.id, ticketKey: key, handler: 'seeded', reason: 'seed', dryRun: false, idempotencyKey: `audit-seed:${seq}`, maxAttempts: 3 }, at)!;
  recordRunRuleSettings(db, runId, { ruleName: 'seeded', options: {}, approval: null });
  recordApprovalStep(db, { runId, decision: 'approved', by: 'lead-1' }, at);
  for (let i = 1; i <= (options.actions ?? 1); i++) {
    const id = beginAction(db, { runId, seq: i, kind: 'comment', ticketKey: key, idempotencyKey: `audit-seed:${seq}:${i}:comment`, request: { body: `comment ${i}` }, status: 'started' }, at);
    finishAction(db, id, { status: 'applied', response: { id: `c-${seq}-${i}` } }, at);
  }
  if (options.status !== null) finishRun(db, runId, { status: options.status ?? 'succeeded', summary: `done ${key}`, durationMs: 5 }, at);
  return runId;
}
