/**
 * record-and-route on a real SQLite file: an accepted delivery is stored with its ticket snapshot and queued runs in
 * one group-commit transaction; a commit failure stores nothing of the batch; a failure inside routing leaves the
 * delivery stored `pending` for the worker (never lost), which then routes it.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/client.js';
import { findDelivery, type NewDelivery } from '../../src/db/deliveries.js';
import { findRunTicketSnapshot, listRuns } from '../../src/db/runs.js';
import { findTicketByKey } from '../../src/db/tickets.js';
import { RecordAndRoute } from '../../src/pipeline/record-and-route.js';
import type { RoutingOptions } from '../../src/pipeline/route-event.js';
import type { Rule } from '../../src/rules/rules-file.js';
import { jiraTracker } from '../../src/trackers/jira/jira-tracker.js';
import { routePendingDeliveries } from '../../src/worker/route-deliveries.js';
import { freshDir } from '../support/deflect-under-test.js';
import { SITE, tokenResetEvent } from '../reliability/helpers.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';

const rule: Rule = { name: 'tokens', index: 1, labels: ['ci-token'], handler: 'reset-ci-token', trackers: null, projects: null, issueTypes: null, on: ['created'], continue: false };
const routing: RoutingOptions = { rules: [rule], dryRun: true, maxAttempts: 3, selfAccountId: null, logger: pino({ level: 'silent' }), siteUrl: SITE };

let path: string;
let db: Db;
let reader: Database.Database;
let seq = 0;
let commits = 0;
const intake = () => new RecordAndRoute(sqliteStore(db), { routing, onCommitted: () => commits++ });

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

const count = (table: string) => (reader.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

beforeAll(() => {
  path = join(freshDir('deflect-record-route-'), 'rr.db');
  db = openDatabase(path);
  // A second connection, as another process would see the file: it sees only what was committed.
  reader = new Database(path, { readonly: true });
});
afterAll(() => {
  reader.close();
  db.$client.close();
});

describe('record-and-route', () => {
  it('stores the delivery, its ticket snapshot and its run together, committed before the caller hears back', async () => {
    const [delivery, event] = received('RR-1');
    const pending = intake().record(delivery, event);
    expect(count('deliveries')).toBe(0); // nothing is written before the group commit
    const recorded = await pending;
    expect(recorded.duplicate).toBe(false);
    expect(reader.prepare('SELECT status, reason FROM deliveries WHERE id = ?').get(recorded.id)).toEqual({
      status: 'routed',
      reason: expect.stringContaining('reset-ci-token'),
    });
    expect(findTicketByKey(db, 'RR-1', SITE)).toMatchObject({ site: new URL(SITE).host, labels: ['ci-token'] });
    const [run] = listRuns(db, { ticketKey: 'RR-1' });
    expect(run).toMatchObject({ deliveryId: recorded.id, handler: 'reset-ci-token', status: 'queued', dryRun: true });
    expect(findRunTicketSnapshot(db, run.id)).toEqual(event.ticket);
  });

  it('commits many concurrent deliveries in one transaction: one failing insert stores none of the batch', async () => {
    const intakeA = intake();
    const batch = ['RR-2', 'RR-3', 'RR-4'].map((key) => received(key));
    const before = count('deliveries');
    // A fault on the third insert only (the disk failing mid-batch).
    db.$client.exec(`CREATE TEMP TRIGGER fail_rr4 BEFORE INSERT ON deliveries WHEN NEW.issue_key = 'RR-4' BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END`);
    try {
      const results = await Promise.allSettled(batch.map(([d, e]) => intakeA.record(d, e)));
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(count('deliveries')).toBe(before);
      expect(count("runs WHERE ticket_key IN ('RR-2', 'RR-3')")).toBe(0);
    } finally {
      db.$client.exec('DROP TRIGGER fail_rr4');
    }
    // The same batch again (Jira's retry of the 5xx): all stored, one commit for the three.
    const commitsBefore = commits;
    const results = await Promise.all(batch.map(([d, e]) => intakeA.record(d, e)));
    expect(results.map((r) => r.duplicate)).toEqual([false, false, false]);
    expect(commits - commitsBefore).toBe(1);
    expect(count("runs WHERE ticket_key IN ('RR-2', 'RR-3', 'RR-4')")).toBe(3);
  });

  it('a failure inside routing keeps the delivery stored pending, with no partial routing; the worker routes it later', async () => {
    const [delivery, event] = received('RR-5');
    db.$client.exec(`CREATE TEMP TRIGGER fail_runs BEFORE INSERT ON runs WHEN NEW.ticket_key = 'RR-5' BEGIN SELECT RAISE(ABORT, 'runs table unwritable (test)'); END`);
    let recorded;
    try {
      recorded = await intake().record(delivery, event);
    } finally {
      db.$client.exec('DROP TRIGGER fail_runs');
    }
    expect(recorded.duplicate).toBe(false);
    expect(reader.prepare('SELECT status, body FROM deliveries WHERE id = ?').get(recorded.id)).toEqual({ status: 'pending', body: delivery.body });
    expect(findTicketByKey(db, 'RR-5')).toBeUndefined(); // the snapshot update was rolled back with the routing
    expect(listRuns(db, { ticketKey: 'RR-5' })).toHaveLength(0);

    expect(await routePendingDeliveries(sqliteStore(db), routing)).toBe(1);
    expect(findDelivery(db, recorded.id)?.status).toBe('routed');
    const [run] = listRuns(db, { ticketKey: 'RR-5' });
    expect(findRunTicketSnapshot(db, run.id)).toEqual(event.ticket);
  });

  it('answers a redelivery as a duplicate and queues nothing more', async () => {
    const [delivery, event] = received('RR-6');
    const first = await intake().record(delivery, event);
    const again = await intake().record({ ...delivery, deliveryKey: `${delivery.deliveryKey}:retry` }, event);
    expect(again).toEqual({ id: first.id, duplicate: true });
    expect(listRuns(db, { ticketKey: 'RR-6' })).toHaveLength(1);
  });

  it('records only, leaving deliveries pending, when it has no routing options', async () => {
    const [delivery, event] = received('RR-7');
    const recorded = await new RecordAndRoute(sqliteStore(db)).record(delivery, event);
    expect(findDelivery(db, recorded.id)?.status).toBe('pending');
    expect(listRuns(db, { ticketKey: 'RR-7' })).toHaveLength(0);
  });
});
