/**
 * Retention of delivery bodies on a real SQLite file: deliveries older than the window lose body and headers
 * (`body_pruned_at` set) while the delivery row, its runs and actions stay; pending deliveries and deliveries with a
 * queued or running run are kept whole; batches are bounded; the worker of `serve` prunes on its own; `deflect prune`
 * (a real CLI process) prints what it did, and `--dry-run` changes nothing.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { beginAction } from '../../src/db/actions.js';
import { openDatabase, type Db } from '../../src/db/client.js';
import { insertDeliveries } from '../../src/db/deliveries.js';
import { countPrunableDeliveries, pruneDeliveryBodies } from '../../src/db/retention.js';
import { enqueueRun, finishRun } from '../../src/db/runs.js';
import { Worker } from '../../src/worker/worker.js';
import { freshDir, waitFor } from '../support/deflect-under-test.js';
import { runCli } from './helpers.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';

const DAY = 86_400_000;
const opened: Db[] = [];
let seq = 0;

afterAll(() => {
  for (const db of opened) db.$client.close();
});

function freshDb(): { db: Db; path: string } {
  const path = join(freshDir('deflect-retention-'), 'retention.db');
  const db = openDatabase(path);
  opened.push(db);
  return { db, path };
}

/**
 * Stores a delivery received `ageDays` ago with a 1 000-byte body. `run`: none, or a run left in that status (with one
 * applied action when it finished).
 */
function store(db: Db, ageDays: number, state: { status?: 'pending' | 'routed'; run?: 'succeeded' | 'queued' | 'running' } = {}): number {
  seq++;
  const [delivery] = insertDeliveries(db, [
    {
      deliveryKey: `retention:${seq}`, webhookIdentifier: `id-${seq}`, event: 'jira:issue_created', issueKey: `RET-${seq}`,
      headers: { 'x-atlassian-webhook-identifier': `id-${seq}` }, body: JSON.stringify({ pad: 'x'.repeat(990), seq }),
      eventTimestamp: null, receivedAt: Date.now() - ageDays * DAY,
    },
  ]);
  db.$client.prepare('UPDATE deliveries SET status = ? WHERE id = ?').run(state.status ?? 'routed', delivery.id);
  if (state.run) {
    const runId = enqueueRun(db, { deliveryId: delivery.id, ticketKey: `RET-${seq}`, handler: 'reset-ci-token', reason: 'test', dryRun: false, idempotencyKey: `RET-${seq}:r`, maxAttempts: 3 })!;
    if (state.run === 'running') db.$client.prepare("UPDATE runs SET status = 'running', owner = 'x:1:aa', lease_expires_at = ? WHERE id = ?").run(Date.now() + 60_000, runId);
    if (state.run === 'succeeded') {
      beginAction(db, { runId, seq: 1, kind: 'comment', ticketKey: `RET-${seq}`, idempotencyKey: `RET-${seq}:r:1:comment`, request: { markdown: 'done' }, status: 'started' });
      finishRun(db, runId, { status: 'succeeded', summary: 'commented', durationMs: 3 });
    }
  }
  return delivery.id;
}

type Stored = { body: string; headers: string; bodyPrunedAt: number | null; status: string; issueKey: string };
const delivery = (db: Db, id: number) =>
  db.$client.prepare('SELECT body, headers, body_pruned_at AS bodyPrunedAt, status, issue_key AS issueKey FROM deliveries WHERE id = ?').get(id) as Stored;

describe('delivery retention', () => {
  it('prunes old bodies and headers, keeps rows, runs and actions, and never touches work in progress', () => {
    const { db } = freshDb();
    const old = store(db, 40, { run: 'succeeded' });
    const oldIgnored = store(db, 31);
    const oldPending = store(db, 40, { status: 'pending' });
    const oldQueued = store(db, 40, { run: 'queued' });
    const oldRunning = store(db, 40, { run: 'running' });
    const recent = store(db, 29, { run: 'succeeded' });
    const before = Date.now() - 30 * DAY;

    expect(countPrunableDeliveries(db, before)).toMatchObject({ deliveries: 2 });
    const result = pruneDeliveryBodies(db, before);
    expect(result.deliveries).toBe(2);
    expect(result.bytes).toBeGreaterThan(2 * 1_000);
    for (const id of [old, oldIgnored]) expect(delivery(db, id)).toMatchObject({ body: '', headers: '{}', status: 'routed' });
    expect(delivery(db, old).bodyPrunedAt).toBeGreaterThan(0);
    expect(delivery(db, old).issueKey).toMatch(/^RET-/);
    for (const id of [oldPending, oldQueued, oldRunning, recent]) {
      expect(delivery(db, id).bodyPrunedAt).toBeNull();
      expect(delivery(db, id).body.length).toBeGreaterThan(1_000);
    }
    const audit = db.$client
      .prepare('SELECT r.status, a.status AS action FROM runs r JOIN actions a ON a.run_id = r.id WHERE r.delivery_id = ?')
      .get(old);
    expect(audit).toEqual({ status: 'succeeded', action: 'started' });
    expect(pruneDeliveryBodies(db, before).deliveries).toBe(0);
  });

  it('prunes in bounded batches, oldest first', () => {
    const { db } = freshDb();
    const ids = [45, 44, 43, 42, 41].map((age) => store(db, age));
    const before = Date.now() - 30 * DAY;
    expect([pruneDeliveryBodies(db, before, 2), pruneDeliveryBodies(db, before, 2), pruneDeliveryBodies(db, before, 2)].map((r) => r.deliveries)).toEqual([2, 2, 1]);
    expect(ids.map((id) => delivery(db, id).bodyPrunedAt !== null)).toEqual([true, true, true, true, true]);
  });

  it('the serve worker prunes on its own once started', async () => {
    const { db } = freshDb();
    const old = store(db, 10);
    const kept = store(db, 1);
    const worker = new Worker({
      db: sqliteStore(db), rules: [], handlers: [], api: null, logger: pino({ level: 'silent' }), dryRun: true, maxAttempts: 3, handlerTimeoutMs: 1_000,
      concurrency: 1, selfAccountId: null, pollMs: 50, deliveryRetentionMs: 7 * DAY,
    });
    await worker.start();
    try {
      await waitFor('the worker to prune', () => delivery(db, old).bodyPrunedAt !== null, 5_000);
      expect(delivery(db, kept).bodyPrunedAt).toBeNull();
    } finally {
      await worker.stop(100);
    }
  });

  it('deflect prune --dry-run changes nothing; deflect prune prints what it pruned', { timeout: 60_000 }, async () => {
    const { db, path } = freshDb();
    const old = [store(db, 40), store(db, 35)];
    const kept = store(db, 2);
    const env = { DEFLECT_DB: path, DEFLECT_DELIVERY_RETENTION: '30d' };

    const dry = await runCli(['prune', '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^Dry run: would prune 2 delivery bodies \(\d+ bytes, .+\) received before .+; nothing changed\.\n$/);
    expect(old.map((id) => delivery(db, id).bodyPrunedAt)).toEqual([null, null]);

    const real = await runCli(['prune'], env);
    expect(real.code).toBe(0);
    expect(real.stdout).toMatch(/^Pruned 2 delivery bodies \(\d+ bytes, .+\) received before .+; delivery rows, runs and actions kept\.\n$/);
    expect(old.every((id) => delivery(db, id).bodyPrunedAt !== null)).toBe(true);
    expect(delivery(db, kept).bodyPrunedAt).toBeNull();

    const narrower = await runCli(['prune', '--older-than', '1d'], env);
    expect(narrower.stdout).toMatch(/^Pruned 1 delivery bodies/);
    const bad = await runCli(['prune', '--older-than', 'soon'], env);
    // A bad duration is bad usage (exit 2), reported with the one grammar (src/duration.ts).
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid --older-than "soon": use a whole number above 0 and a unit \(s, m, h, d, w\)/);
    console.log(`deflect prune: dry run → ${dry.stdout.trim()} | run → ${real.stdout.trim()}`);
  });
});
