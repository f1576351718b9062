/**
 * The runs repository's ticket snapshot column on the pass's backend (test-backend.ts): written with the run, read on
 * its own, absent on legacy runs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/store.js';
import { freshDatabase } from '../support/test-backend.js';
import { ticketWith } from '../support/ticket-fixture.js';

let store: Store;
beforeAll(async () => {
  store = await (await freshDatabase('deflect-db-runs-')).open();
});

const queue = async (key: string, ticket?: ReturnType<typeof ticketWith>) => {
  const [d] = await store.insertDeliveries([{ deliveryKey: `snap:${key}`, webhookIdentifier: null, event: 'jira:issue_created', issueKey: key, headers: {}, body: '{}', eventTimestamp: null, receivedAt: Date.now() }]);
  return (await store.enqueueRun({ deliveryId: d.id, ticketKey: key, handler: 'reset-ci-token', reason: 'test', dryRun: false, idempotencyKey: `${key}:r`, maxAttempts: 3, ticket }))!;
};

describe('run ticket snapshots', () => {
  it('round-trips the ticket a run was queued with, and keeps it out of run listings', async () => {
    const ticket = ticketWith('Token: DEPLOY_TOKEN\nSystem: github-actions', { key: 'SNAP-1', labels: ['ci-token'], created: 1_700_000_000_000 });
    const id = await queue('SNAP-1', ticket);
    expect(await store.findRunTicketSnapshot(id)).toEqual(ticket);
    expect(await store.findRun(id)).not.toHaveProperty('ticketSnapshot');
    const [listed] = await store.listRuns({ ticketKey: 'SNAP-1' });
    expect(listed).toBeDefined();
    expect(listed).not.toHaveProperty('ticketSnapshot');
  });

  it('answers null for a run queued without one (before migration run_ticket_snapshot) and for an unknown run', async () => {
    expect(await store.findRunTicketSnapshot(await queue('SNAP-2'))).toBeNull();
    expect(await store.findRunTicketSnapshot(999_999)).toBeNull();
  });
});
