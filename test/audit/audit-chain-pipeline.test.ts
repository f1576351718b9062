/**
 * The audit chain over real pipeline scenarios (decision 011): the worker with test handlers on a real database of the
 * pass's backend (a SQLite file or a PostgreSQL database: test-backend.ts) and
 * the fake Jira (a real HTTP server) takes runs to succeeded, failed, dead (a failing comment retried), shadow,
 * planned (dry run), awaiting approval then approved, an operator's retry, and a retry after a crash mid-call. After
 * each, every final run and action is sealed (its latest chain entry is a seal of its current state) and
 * `verifyAuditChain` finds the chain intact.
 */
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { hashRow, isFinalStatus, type AuditTable } from '../../src/audit/audit-chain.js';
import { verifyAuditChain } from '../../src/audit/verify-chain.js';
import { defineHandler, type AnyHandler } from '../../src/automation/define-handler.js';
import type { Store } from '../../src/db/store.js';
import { JiraRequestError } from '../../src/jira/jira-actions.js';
import { createJiraApi } from '../../src/jira/jira-client.js';
import type { Rule } from '../../src/rules/rules-file.js';
import { Worker, type WorkerOptions } from '../../src/worker/worker.js';
import { waitFor } from '../support/deflect-under-test.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { tokenResetEvent } from '../reliability/helpers.js';
import { freshDatabase, type TestDatabase } from '../support/test-backend.js';

let jira: FakeJira;
let database: TestDatabase;
let db: Store;
let worker: Worker | null = null;
let deliverySeq = 0;

const rule = (label: string, handler: string, extra: Partial<Rule> = {}): Rule => ({
  name: handler, index: 1, labels: [label], handler, trackers: null, projects: null, issueTypes: null, on: ['created'], continue: false, ...extra,
});
const handler = (name: string, run: AnyHandler['run']) => defineHandler({ name, description: name, input: z.object({}), run });
const commenter = handler('audit-commenter', async (ctx) => {
  await ctx.tracker.comment('Done: your request was handled.');
  return { summary: 'commented' };
});

async function deliver(key: string, label: string): Promise<void> {
  deliverySeq++;
  const body = tokenResetEvent(key, String(70_000 + deliverySeq), { labels: [label] });
  await db.insertDeliveries([
    { deliveryKey: `audit-chain:${deliverySeq}`, webhookIdentifier: null, event: body.webhookEvent, issueKey: key, headers: {}, body: JSON.stringify(body), eventTimestamp: body.timestamp, receivedAt: Date.now() },
  ]);
  worker?.wake();
}

async function startWorker(handlers: AnyHandler[], rules: Rule[], options: Partial<WorkerOptions> = {}): Promise<Worker> {
  worker = new Worker({
    db, rules, handlers, logger: pino({ level: 'silent' }), dryRun: false, maxAttempts: 2, handlerTimeoutMs: 5_000, concurrency: 2,
    selfAccountId: 'deflect-bot', pollMs: 30, retryBaseMs: 10, jiraTimeoutMs: 300, pauseAfterFailures: 0,
    api: createJiraApi({ baseUrl: jira.url, email: 'bot@example.test', apiToken: 't', timeoutMs: 300 }),
    ...options,
  });
  await worker.start();
  return worker;
}

const runOf = (key: string) =>
  database.get<{ id: number; status: string; dryRun: number; shadow: number }>(
    'SELECT id, status, dry_run AS "dryRun", shadow FROM runs WHERE ticket_key = ? ORDER BY id DESC LIMIT 1',
    key,
  );
const statusIs = async (key: string, ...statuses: string[]) => {
  const run = await runOf(key);
  return run && statuses.includes(run.status) ? run : null;
};
const actionsOf = (runId: number) => database.all<{ id: number; status: string }>('SELECT id, status FROM actions WHERE run_id = ? ORDER BY seq', runId);

/** Every final row of both tables has a latest entry that seals exactly its current state; returns how many. */
async function expectEveryFinalRowSealed(): Promise<number> {
  let sealed = 0;
  for (const table of ['runs', 'actions'] as AuditTable[]) {
    for (const { id } of await database.all<{ id: number }>(`SELECT id FROM ${table} ORDER BY id`)) {
      const row = (await db.findRecordedRow(table, id))!;
      const latest = await db.findLatestEntry(table, id);
      if (!isFinalStatus(table, row.status)) {
        expect(latest?.kind ?? 'none', `${table} ${id} (${row.status}) is not final: unsealed or reopened`).not.toBe('seal');
        continue;
      }
      expect(latest, `${table} ${id} (${row.status}) has a chain entry`).toBeDefined();
      expect(latest!.kind).toBe('seal');
      expect(latest!.rowHash, `${table} ${id} sealed in its current state`).toBe(hashRow(table, row));
      sealed++;
    }
  }
  return sealed;
}

async function expectChainIntact(): Promise<void> {
  const report = await verifyAuditChain(db);
  expect(report.firstBad).toBeNull();
  expect(report.state).toBe('intact');
}

beforeAll(async () => {
  jira = await startFakeJira();
  database = await freshDatabase('deflect-audit-chain-');
  db = await database.open();
});
afterEach(async () => {
  await worker?.stop(500);
  worker = null;
  jira.setFault(undefined);
  // After every scenario: every final row is sealed and the whole chain verifies.
  expect(await expectEveryFinalRowSealed()).toBeGreaterThan(0);
  await expectChainIntact();
});
afterAll(async () => {
  await jira.close();
});

describe('the audit chain over the pipeline', () => {
  it('is empty and verifies on a fresh database', async () => {
    const fresh = await (await freshDatabase('deflect-audit-chain-empty-')).open();
    expect(await verifyAuditChain(fresh)).toMatchObject({ state: 'empty', checkedRows: 0, firstBad: null });
    await fresh.close();
    // The afterEach needs one sealed row: a succeeded run.
    jira.seedIssue({ key: 'AUD-0' });
    await startWorker([commenter], [rule('audit-ok', 'audit-commenter')]);
    await deliver('AUD-0', 'audit-ok');
    return waitFor('AUD-0 to succeed', () => statusIs('AUD-0', 'succeeded'));
  });

  it('seals a succeeded run and its applied comment', async () => {
    jira.seedIssue({ key: 'AUD-1' });
    await startWorker([commenter], [rule('audit-ok', 'audit-commenter')]);
    await deliver('AUD-1', 'audit-ok');
    const run = await waitFor('AUD-1 to succeed', () => statusIs('AUD-1', 'succeeded'));
    expect((await actionsOf(run.id)).map((a) => a.status)).toEqual(['applied']);
  });

  it('seals a failed comment, reopens it on the retry, and seals the dead run', async () => {
    jira.seedIssue({ key: 'AUD-2' });
    jira.setFault((req) => (req.method === 'POST' && req.path.includes('/comment') ? { status: 503, body: { errorMessages: ['down'] } } : undefined));
    await startWorker([commenter], [rule('audit-ok', 'audit-commenter')]);
    await deliver('AUD-2', 'audit-ok');
    const run = await waitFor('AUD-2 to be dead-lettered', () => statusIs('AUD-2', 'dead', 'failed'));
    const [action] = await actionsOf(run.id);
    expect(action.status).toBe('failed');
    const kinds = (await database.all<{ kind: string }>("SELECT kind FROM audit_chain WHERE row_table = 'actions' AND row_id = ? ORDER BY seq", action.id)).map((e) => e.kind);
    expect(kinds).toContain('reopen');
    expect(kinds.at(-1)).toBe('seal');
  });

  it('reopens a dead run on an operator retry and seals its new outcome', async () => {
    const dead = (await runOf('AUD-2'))!;
    expect(await db.retryRun(dead.id)).toBe(true);
    expect((await db.findLatestEntry('runs', dead.id))!.kind).toBe('reopen');
    await startWorker([commenter], [rule('audit-ok', 'audit-commenter')]);
    worker!.wake();
    await waitFor('AUD-2 to succeed on the retry', () => statusIs('AUD-2', 'succeeded'));
  });

  it('seals a permanent failure and a transient one that ends dead', async () => {
    const broken = handler('audit-broken', async () => {
      throw new TypeError('bug in handler');
    });
    const flaky = handler('audit-flaky', async () => {
      throw new JiraRequestError('Jira POST /x → 503', { status: 503, transient: true });
    });
    await startWorker([broken, flaky], [rule('audit-broken', 'audit-broken'), rule('audit-flaky', 'audit-flaky')]);
    await deliver('AUD-3', 'audit-broken');
    await deliver('AUD-4', 'audit-flaky');
    await waitFor('AUD-3 to fail', () => statusIs('AUD-3', 'failed'));
    await waitFor('AUD-4 to be dead', () => statusIs('AUD-4', 'dead'));
  });

  it('seals a shadow run and a dry run with their planned actions', async () => {
    await startWorker([commenter], [rule('audit-shadow', 'audit-commenter', { mode: 'shadow' })]);
    await deliver('AUD-5', 'audit-shadow');
    const shadow = await waitFor('AUD-5 to end shadow', () => statusIs('AUD-5', 'shadow'));
    expect((await actionsOf(shadow.id)).map((a) => a.status)).toEqual(['planned']);
    await worker!.stop(500);
    await startWorker([commenter], [rule('audit-dry', 'audit-commenter')], { dryRun: true });
    await deliver('AUD-6', 'audit-dry');
    const planned = await waitFor('AUD-6 to end planned', () => statusIs('AUD-6', 'planned'));
    expect((await actionsOf(planned.id)).map((a) => a.status)).toEqual(['planned']);
  });

  it('leaves a run awaiting approval unsealed, and seals it once approved and done', async () => {
    jira.seedIssue({ key: 'AUD-7' });
    const approval = { approvers: ['lead-1'], when: 'always' as const, expiresAfterMs: 60_000 };
    await startWorker([commenter], [rule('audit-approve', 'audit-commenter', { approval })]);
    await deliver('AUD-7', 'audit-approve');
    const waiting = await waitFor('AUD-7 to await approval', () => statusIs('AUD-7', 'awaiting-approval'));
    expect(await db.findLatestEntry('runs', waiting.id)).toBeUndefined();
    expect(await db.decideAwaitingRun({ runId: waiting.id, decision: 'approved', by: 'lead-1' })).toBe(true);
    worker!.wake();
    await waitFor('AUD-7 to succeed', () => statusIs('AUD-7', 'succeeded'));
  });

  it('after a crash mid-call, the run taken over sends the comment once and seals the action and the run', async () => {
    jira.seedIssue({ key: 'AUD-8' });
    // Routing queues the run while its handler is paused; then a process claims it, records the comment as started,
    // and dies before the answer (its lease expires at once).
    await db.pauseHandler('audit-commenter', 'test: hold the run in the queue');
    const router = await startWorker([commenter], [rule('audit-crash', 'audit-commenter')]);
    await deliver('AUD-8', 'audit-crash');
    await waitFor('AUD-8 to be queued', () => statusIs('AUD-8', 'queued'));
    await router.stop(500);
    worker = null;
    await db.resumeHandler('audit-commenter');
    const [claimed] = await db.claimDueRuns(1, new Set(), { owner: 'crashed-host:1:dead', leaseMs: 1 });
    expect(claimed?.ticketKey).toBe('AUD-8');
    const idem = `${claimed.idempotencyKey}:1:comment`;
    await db.beginAction({ runId: claimed.id, seq: 1, kind: 'comment', ticketKey: 'AUD-8', idempotencyKey: idem, request: {}, status: 'started' });
    await new Promise((resolve) => setTimeout(resolve, 10)); // the 1 ms lease is over: the next worker takes the run back
    await startWorker([commenter], [rule('audit-crash', 'audit-commenter')]);
    await waitFor('AUD-8 to succeed after the takeover', () => statusIs('AUD-8', 'succeeded'));
    expect((await actionsOf(claimed.id)).map((a) => a.status)).toEqual(['applied']);
    expect(jira.commentsFor('AUD-8')).toHaveLength(1);
  });
});
