/** The runs repository's ticket snapshot column: written with the run, read on its own, absent on legacy runs. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/client.js';
import { insertDeliveries } from '../../src/db/deliveries.js';
import { enqueueRun, findRun, findRunTicketSnapshot, listRuns } from '../../src/db/runs.js';
import { freshDir } from '../support/deflect-under-test.js';
import { ticketWith } from '../support/ticket-fixture.js';

let db: Db;
beforeAll(() => {
  db = openDatabase(join(freshDir('deflect-db-runs-'), 'runs.db'));
});
afterAll(() => db.$client.close());

const queue = (key: string, ticket?: ReturnType<typeof ticketWith>) => {
  const [d] = insertDeliveries(db, [{ deliveryKey: `snap:${key}`, webhookIdentifier: null, event: 'jira:issue_created', issueKey: key, headers: {}, body: '{}', eventTimestamp: null, receivedAt: Date.now() }]);
  return enqueueRun(db, { deliveryId: d.id, ticketKey: key, handler: 'reset-ci-token', reason: 'test', dryRun: false, idempotencyKey: `${key}:r`, maxAttempts: 3, ticket })!;
};

describe('run ticket snapshots', () => {
  it('round-trips the ticket a run was queued with, and keeps it out of run listings', () => {
    const ticket = ticketWith('Token: DEPLOY_TOKEN\nSystem: github-actions', { key: 'SNAP-1', labels: ['ci-token'], created: 1_700_000_000_000 });
    const id = queue('SNAP-1', ticket);
    expect(findRunTicketSnapshot(db, id)).toEqual(ticket);
    expect(findRun(db, id)).not.toHaveProperty('ticketSnapshot');
    expect(listRuns(db, { ticketKey: 'SNAP-1' })[0]).not.toHaveProperty('ticketSnapshot');
  });

  it('answers null for a run queued without one (before migration run_ticket_snapshot) and for an unknown run', () => {
    expect(findRunTicketSnapshot(db, queue('SNAP-2'))).toBeNull();
    expect(findRunTicketSnapshot(db, 999_999)).toBeNull();
  });
});
