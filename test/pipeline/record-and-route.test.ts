/**
 * record-and-route on a real database of the pass's backend (a SQLite file or a PostgreSQL database: test-backend.ts),
 * read back on a connection of the test's own: an accepted delivery is stored with its ticket snapshot and queued runs in
 * one group-commit transaction; a commit failure stores nothing of the batch; a failure inside routing leaves the
 * delivery stored `pending` for the worker (never lost), which then routes it.
 */
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NewDelivery } from '../../src/db/deliveries.js';
import type { Store } from '../../src/db/store.js';
import { RecordAndRoute } from '../../src/pipeline/record-and-route.js';
import type { RoutingOptions } from '../../src/pipeline/route-event.js';
import type { Rule } from '../../src/rules/rules-file.js';
import { jiraTracker } from '../../src/trackers/jira/jira-tracker.js';
import { routePendingDeliveries } from '../../src/worker/route-deliveries.js';
import { failInserts } from '../support/conv-c-faults.js';
import { freshDatabase, type TestDatabase } from '../support/test-backend.js';
import { SITE, tokenResetEvent } from '../reliability/helpers.js';

const rule: Rule = { name: 'tokens', index: 1, labels: ['ci-token'], handler: 'reset-ci-token', trackers: null, projects: null, issueTypes: null, on: ['created'], continue: false };
const routing: RoutingOptions = { rules: [rule], dryRun: true, maxAttempts: 3, selfAccountId: null, logger: pino({ level: 'silent' }), siteUrl: SITE };

let database: TestDatabase;
let db: Store;
let seq = 0;
let commits = 0;
const intake = () => new RecordAndRoute(db, { routing, onCommitted: () => commits++ });

/** A delivery and its parsed event for issue `key`, as the receiver hands them over. */
function received(key: string, overrides: Parameters<typeof tokenResetEvent>[2] = {}): [NewDelivery, ReturnType<typeof jiraTracker.parseEvent>] {
  seq++;
  const body = tokenResetEvent(key, String(70_000 + seq), overrides);
  const text = JSON.stringify(body);
  const now = Date.now();
  return [
    { deliveryKey: `rr-test:${seq}`, webhookIdentifier: null, event: body.webhookEvent, issueKey: key, headers: {}, body: text, eventTimestamp: body.timestamp, receivedAt: now, dedupeBodySince: now - 60_000 },
    jiraTracker.parseEvent(body),
  ];
}

/** Counted on the test's own connection, as another process would see the database: only what was committed. */
const count = async (table: string) => (await database.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))!.n;

beforeAll(async () => {
  database = await freshDatabase('deflect-record-route-');
  db = await database.open();
  await count('deliveries'); // the reader's connection is open before the first case
});

describe('record-and-route', () => {
  it('stores the delivery, its ticket snapshot and its run together, committed before the caller hears back', async () => {
    const [delivery, event] = received('RR-1');
    const pending = intake().record(delivery, event);
    // Asked before the group commit (the next turn of the event loop) began: nothing of it is visible.
    expect(await count('deliveries')).toBe(0);
    const recorded = await pending;
    expect(recorded.duplicate).toBe(false);
    expect(await database.get('SELECT status, reason FROM deliveries WHERE id = ?', recorded.id)).toEqual({
      status: 'routed',
      reason: expect.stringContaining('reset-ci-token'),
    });
    expect(await db.findTicketByKey('RR-1', SITE)).toMatchObject({ site: new URL(SITE).host, labels: ['ci-token'] });
    const [run] = await db.listRuns({ ticketKey: 'RR-1' });
    expect(run).toMatchObject({ deliveryId: recorded.id, handler: 'reset-ci-token', status: 'queued', dryRun: true });
    expect(await db.findRunTicketSnapshot(run.id)).toEqual(event.ticket);
  });

  it('commits many concurrent deliveries in one transaction: one failing insert stores none of the batch', async () => {
    const intakeA = intake();
    const batch = ['RR-2', 'RR-3', 'RR-4'].map((key) => received(key));
    const before = await count('deliveries');
    // A fault on the third insert only (the disk failing mid-batch).
    const heal = await failInserts(database, 'fail_rr4', 'deliveries', "NEW.issue_key = 'RR-4'", 'disk I/O error (test)');
    try {
      const results = await Promise.allSettled(batch.map(([d, e]) => intakeA.record(d, e)));
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(await count('deliveries')).toBe(before);
      expect(await count("runs WHERE ticket_key IN ('RR-2', 'RR-3')")).toBe(0);
    } finally {
      await heal();
    }
    // The same batch again (Jira's retry of the 5xx): all stored, one commit for the three.
    const commitsBefore = commits;
    const results = await Promise.all(batch.map(([d, e]) => intakeA.record(d, e)));
    expect(results.map((r) => r.duplicate)).toEqual([false, false, false]);
    expect(commits - commitsBefore).toBe(1);
    expect(await count("runs WHERE ticket_key IN ('RR-2', 'RR-3', 'RR-4')")).toBe(3);
  });

  it('a failure inside routing keeps the delivery stored pending, with no partial routing; the worker routes it later', async () => {
    const [delivery, event] = received('RR-5');
    const heal = await failInserts(database, 'fail_runs', 'runs', "NEW.ticket_key = 'RR-5'", 'runs table unwritable (test)');
    let recorded;
    try {
      recorded = await intake().record(delivery, event);
    } finally {
      await heal();
    }
    expect(recorded.duplicate).toBe(false);
    expect(await database.get('SELECT status, body FROM deliveries WHERE id = ?', recorded.id)).toEqual({ status: 'pending', body: delivery.body });
    expect(await db.findTicketByKey('RR-5')).toBeUndefined(); // the snapshot update was rolled back with the routing
    expect(await db.listRuns({ ticketKey: 'RR-5' })).toHaveLength(0);

    expect(await routePendingDeliveries(db, routing)).toBe(1);
    expect((await db.findDelivery(recorded.id))?.status).toBe('routed');
    const [run] = await db.listRuns({ ticketKey: 'RR-5' });
    expect(await db.findRunTicketSnapshot(run.id)).toEqual(event.ticket);
  });

  it('answers a redelivery as a duplicate and queues nothing more', async () => {
    const [delivery, event] = received('RR-6');
    const first = await intake().record(delivery, event);
    const again = await intake().record({ ...delivery, deliveryKey: `${delivery.deliveryKey}:retry` }, event);
    expect(again).toEqual({ id: first.id, duplicate: true });
    expect(await db.listRuns({ ticketKey: 'RR-6' })).toHaveLength(1);
  });

  it('records only, leaving deliveries pending, when it has no routing options', async () => {
    const [delivery, event] = received('RR-7');
    const recorded = await new RecordAndRoute(db).record(delivery, event);
    expect((await db.findDelivery(recorded.id))?.status).toBe('pending');
    expect(await db.listRuns({ ticketKey: 'RR-7' })).toHaveLength(0);
  });
});
