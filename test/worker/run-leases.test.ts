/**
 * Run leases with real workers on a real SQLite file, each worker on its own connection (as two processes would be):
 * a starting worker leaves runs under a live lease alone and requeues expired ones; a worker renews the leases of its
 * long runs so another worker never takes them; a worker that lost a lease stops before its next action and writes
 * nothing over the new owner's claim; a graceful stop releases only the worker's own runs.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineHandler, type AnyHandler } from '../../src/automation/define-handler.js';
import { openDatabase, type Db } from '../../src/db/client.js';
import { insertDeliveries } from '../../src/db/deliveries.js';
import { jiraTracker } from '../../src/trackers/jira/jira-tracker.js';
import { enqueueRun } from '../../src/db/runs.js';
import { createJiraApi } from '../../src/jira/jira-client.js';
import type { Rule } from '../../src/rules/rules-file.js';
import { Worker, type WorkerOptions } from '../../src/worker/worker.js';
import { freshDir, waitFor } from '../support/deflect-under-test.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { tokenResetEvent } from '../reliability/helpers.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dbPath = join(freshDir('deflect-leases-'), 'leases.db');
let jira: FakeJira;
const connections: Db[] = [];
const workers: Worker[] = [];
let seq = 0;

const connect = () => {
  const db = openDatabase(dbPath);
  connections.push(db);
  return db;
};
const rule = (handler: string): Rule => ({
  name: handler, index: 1, labels: [handler], handler, trackers: null, projects: null, issueTypes: null, on: ['created'], continue: false,
});
const handler = (name: string, run: AnyHandler['run']) => defineHandler({ name, description: name, input: z.object({}), run });

/** Stores a delivery for `key` routed to `handlerName` and queues its run directly. Returns the run id. */
function queueRun(db: Db, key: string, handlerName: string): number {
  seq++;
  jira.seedIssue({ key });
  const body = tokenResetEvent(key, String(80_000 + seq), { labels: [handlerName] });
  const [delivery] = insertDeliveries(db, [
    { deliveryKey: `lease-test:${seq}`, webhookIdentifier: null, event: body.webhookEvent, issueKey: key, headers: {}, body: JSON.stringify(body), eventTimestamp: body.timestamp, receivedAt: Date.now() },
  ]);
  db.$client.prepare("UPDATE deliveries SET status = 'routed' WHERE id = ?").run(delivery.id);
  return enqueueRun(db, { deliveryId: delivery.id, ticketKey: key, handler: handlerName, reason: 'test', dryRun: false, idempotencyKey: `${key}:${handlerName}:${seq}`, maxAttempts: 3, ticket: jiraTracker.parseEvent(body).ticket })!;
}

async function startWorker(db: Db, handlers: AnyHandler[], options: Partial<WorkerOptions> = {}): Promise<Worker> {
  const worker = new Worker({
    db: sqliteStore(db), rules: handlers.map((h) => rule(h.name)), handlers, logger: pino({ level: 'silent' }), dryRun: false, maxAttempts: 3,
    handlerTimeoutMs: 10_000, concurrency: 4, selfAccountId: 'deflect-bot', pollMs: 30, retryBaseMs: 20, jiraTimeoutMs: 500,
    api: createJiraApi({ baseUrl: jira.url, email: 'bot@example.test', apiToken: 't', timeoutMs: 500 }),
    ...options,
  });
  workers.push(worker);
  await worker.start();
  return worker;
}

type Row = { status: string; owner: string | null; leaseExpiresAt: number | null; attempts: number; summary: string | null };
const runRow = (db: Db, id: number) =>
  db.$client.prepare('SELECT status, owner, lease_expires_at AS leaseExpiresAt, attempts, summary FROM runs WHERE id = ?').get(id) as Row;

beforeAll(async () => {
  jira = await startFakeJira();
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop(200)));
});
afterAll(async () => {
  for (const db of connections) db.$client.close();
  await jira.close();
});

describe('run leases', () => {
  it('a starting worker requeues runs whose lease expired and leaves live leases alone', async () => {
    const db = connect();
    const live = queueRun(db, 'LSE-1', 'noop-a');
    const expired = queueRun(db, 'LSE-2', 'noop-a');
    const legacy = queueRun(db, 'LSE-7', 'noop-a'); // claimed by a process from before leases: no owner, no lease
    db.$client.prepare("UPDATE runs SET status = 'running', attempts = 1 WHERE id = ?").run(legacy);
    const now = Date.now();
    const claim = db.$client.prepare("UPDATE runs SET status = 'running', attempts = 1, owner = ?, lease_expires_at = ?, locked_at = ? WHERE id = ?");
    claim.run('other-host:111:aaaaaaaa', now + 60_000, now, live);
    claim.run('crashed-host:222:bbbbbbbb', now - 1, now - 60_000, expired);

    let calls = 0;
    const worker = await startWorker(connect(), [handler('noop-a', async () => void calls++)]);
    await waitFor('the expired runs to be taken over and finished', () => runRow(db, expired).status === 'succeeded' && runRow(db, legacy).status === 'succeeded');
    await sleep(200);
    expect(runRow(db, live)).toMatchObject({ status: 'running', owner: 'other-host:111:aaaaaaaa', attempts: 1 });
    expect(runRow(db, expired)).toMatchObject({ status: 'succeeded', owner: null, leaseExpiresAt: null, attempts: 1 });
    expect(runRow(db, legacy)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(calls).toBe(2);
    expect(worker.owner).toMatch(/^[^:]+:\d+:[0-9a-f]{8}$/);
  });

  it('renews the lease of a run longer than a lease, so a second worker never takes it over', async () => {
    const db = connect();
    let calls = 0;
    const slow = handler('slow-b', async (ctx) => {
      calls++;
      await sleep(1_200); // four leases of 300 ms
      await ctx.jira.comment('done after a long while');
      return { summary: 'slow but single' };
    });
    const id = queueRun(db, 'LSE-3', 'slow-b');
    const first = await startWorker(connect(), [slow], { leaseMs: 300 });
    await waitFor('the first worker to claim it', () => runRow(db, id).owner === first.owner);
    const leaseAtClaim = runRow(db, id).leaseExpiresAt!;
    await startWorker(connect(), [slow], { leaseMs: 300 });
    await sleep(600);
    const during = runRow(db, id);
    expect(during).toMatchObject({ status: 'running', owner: first.owner });
    expect(during.leaseExpiresAt!).toBeGreaterThan(leaseAtClaim);
    await waitFor('the run to succeed', () => runRow(db, id).status === 'succeeded');
    expect(runRow(db, id)).toMatchObject({ attempts: 1, summary: 'slow but single' });
    expect(calls).toBe(1);
    expect(jira.commentsFor('LSE-3')).toHaveLength(1);
  });

  it('a worker that lost its lease stops before its next action and does not overwrite the new owner', async () => {
    const db = connect();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let actionError: unknown = null;
    const gated = handler('gated-c', async (ctx) => {
      await gate;
      await ctx.jira.comment('must not be sent').catch((error: unknown) => {
        actionError = error;
        throw error;
      });
      return { summary: 'must not be recorded' };
    });
    const id = queueRun(db, 'LSE-4', 'gated-c');
    const worker = await startWorker(connect(), [gated], { leaseMs: 300 });
    await waitFor('the worker to claim it', () => runRow(db, id).owner === worker.owner);
    // Another process takes the run over (as after this worker stalled for longer than its lease).
    db.$client.prepare('UPDATE runs SET owner = ?, lease_expires_at = ? WHERE id = ?').run('new-owner:333:cccccccc', Date.now() + 60_000, id);
    // The next renewal finds the lease gone: the attempt ends at once, recording nothing.
    await waitFor('the worker to give the run up', () => worker.busy === 0);
    release();
    await waitFor('the handler to try its action', () => actionError !== null);
    expect(actionError).toMatchObject({ name: 'LeaseLostError' });
    expect(jira.commentsFor('LSE-4')).toHaveLength(0);
    expect(runRow(db, id)).toMatchObject({ status: 'running', owner: 'new-owner:333:cccccccc', summary: null });
  });

  it('a graceful stop releases the worker’s own unfinished runs, not another owner’s', async () => {
    const db = connect();
    const mine = queueRun(db, 'LSE-5', 'hang-d');
    const theirs = queueRun(db, 'LSE-6', 'hang-d');
    db.$client
      .prepare("UPDATE runs SET status = 'running', attempts = 1, owner = ?, lease_expires_at = ? WHERE id = ?")
      .run('other-host:444:dddddddd', Date.now() + 60_000, theirs);
    const worker = await startWorker(connect(), [handler('hang-d', (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))))]);
    await waitFor('the worker to claim its run', () => runRow(db, mine).owner === worker.owner);
    workers.splice(workers.indexOf(worker), 1);
    expect(await worker.stop(100)).toEqual({ finished: 0, released: 1 });
    expect(runRow(db, mine)).toMatchObject({ status: 'queued', owner: null, leaseExpiresAt: null, attempts: 0 });
    expect(runRow(db, theirs)).toMatchObject({ status: 'running', owner: 'other-host:444:dddddddd' });
  });
});
