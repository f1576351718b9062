/**
 * A run executes from the ticket stored with it when it was queued, not from the delivery body: after retention
 * pruned the body (`db/retention.ts`) and a later event changed the ticket, an operator's `deflect runs retry` still
 * runs the handler on the ticket the run was routed with. A real worker on a real SQLite file.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineHandler } from '../../src/automation/define-handler.js';
import { openDatabase, type Db } from '../../src/db/client.js';
import { findDelivery, insertDeliveries } from '../../src/db/deliveries.js';
import { pruneDeliveryBodies } from '../../src/db/retention.js';
import { findRun, listRuns, retryRun } from '../../src/db/runs.js';
import { findTicketByKey } from '../../src/db/tickets.js';
import type { Rule } from '../../src/rules/rules-file.js';
import type { Ticket } from '../../src/ticket.js';
import { routePendingDeliveries } from '../../src/worker/route-deliveries.js';
import { Worker } from '../../src/worker/worker.js';
import { freshDir, waitFor } from '../support/deflect-under-test.js';
import { SITE, tokenResetEvent } from '../reliability/helpers.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';

const seen: Ticket[] = [];
let failNext = true;
const probe = defineHandler({
  name: 'snapshot-probe',
  description: 'records the ticket it was given; fails its first call',
  input: z.object({}),
  async run(ctx) {
    seen.push(ctx.ticket);
    if (failNext) {
      failNext = false;
      throw new Error('first attempt fails (permanent)');
    }
    return { summary: 'saw the ticket' };
  },
});
const rule: Rule = { name: 'probe', index: 1, labels: ['probe'], handler: probe.name, trackers: null, projects: null, issueTypes: null, on: ['created', 'label-added'], continue: false };
const logger = pino({ level: 'silent' });

let db: Db;
let worker: Worker;
beforeAll(async () => {
  db = openDatabase(join(freshDir('deflect-run-snapshot-'), 'snapshot.db'));
  worker = new Worker({ db: sqliteStore(db), rules: [rule], handlers: [probe], api: null, logger, dryRun: true, maxAttempts: 3, handlerTimeoutMs: 5_000, concurrency: 1, selfAccountId: null, pollMs: 30, siteUrl: SITE });
  await worker.start();
});
afterAll(async () => {
  await worker.stop(200);
  db.$client.close();
});

const store = (body: ReturnType<typeof tokenResetEvent>, key: string) =>
  insertDeliveries(db, [{ deliveryKey: key, webhookIdentifier: null, event: body.webhookEvent, issueKey: body.issue.key, headers: {}, body: JSON.stringify(body), eventTimestamp: body.timestamp, receivedAt: Date.now() }])[0];

describe('runs read their stored ticket', () => {
  it('a retried run whose delivery body was pruned runs on the ticket it was routed with', async () => {
    const created = tokenResetEvent('SNP-1', '90001', { labels: ['probe'], summary: 'as routed', timestamp: Date.now() - 60_000 });
    const delivery = store(created, 'snap:1');
    worker.wake();
    const run = await waitFor('the first attempt to fail', () => listRuns(db, { ticketKey: 'SNP-1', status: 'failed' })[0]);
    expect(run.error).toBe('first attempt fails (permanent)');
    expect(seen).toHaveLength(1);

    // Later: the ticket changes (a newer event that routes nothing), and retention prunes the first delivery's body.
    store(tokenResetEvent('SNP-1', '90001', { labels: ['other'], summary: 'changed later' }), 'snap:2');
    await routePendingDeliveries(sqliteStore(db), { rules: [rule], dryRun: true, maxAttempts: 3, selfAccountId: null, logger, siteUrl: SITE });
    expect(findTicketByKey(db, 'SNP-1')).toMatchObject({ summary: 'changed later', labels: ['other'] });
    expect(pruneDeliveryBodies(db, Date.now() + 1).deliveries).toBeGreaterThanOrEqual(1);
    expect(findDelivery(db, delivery.id)).toMatchObject({ body: '', bodyPrunedAt: expect.any(Number) });

    expect(retryRun(db, run.id)).toBe(true);
    worker.wake();
    await waitFor('the retried run to finish', () => findRun(db, run.id)?.status === 'planned');
    expect(seen).toHaveLength(2);
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[1]).toMatchObject({ key: 'SNP-1', summary: 'as routed', labels: ['probe'], siteUrl: SITE });
  });
});
