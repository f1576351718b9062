/**
 * The worker with test handlers on a real SQLite file and the fake Jira: runs for one ticket never overlap, transient
 * failures back off (honouring Retry-After) and dead-letter, permanent ones fail at once, a handler failing N times in a
 * row is paused (its runs wait) until resumed, a timed-out handler cannot act any more, stale updates do not overwrite
 * newer ticket state.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineHandler, type AnyHandler } from '../../src/automation/define-handler.js';
import { openDatabase, type Db } from '../../src/db/client.js';
import { insertDeliveries } from '../../src/db/deliveries.js';
import { listHandlerStates, listPausedHandlers, resumeHandler } from '../../src/db/handler-states.js';
import { findTicketByKey } from '../../src/db/tickets.js';
import { JiraRequestError } from '../../src/jira/jira-actions.js';
import { createJiraApi } from '../../src/jira/jira-client.js';
import type { Rule } from '../../src/rules/rules-file.js';
import { Worker, type WorkerOptions } from '../../src/worker/worker.js';
import { freshDir, waitFor } from '../support/deflect-under-test.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { tokenResetEvent } from '../reliability/helpers.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let jira: FakeJira;
let db: Db;
let worker: Worker | null = null;
let deliverySeq = 0;
const issueIds = new Map<string, string>();
const issueIdOf = (key: string) => issueIds.get(key) ?? (issueIds.set(key, String(50_000 + issueIds.size)), issueIds.get(key)!);

const rule = (label: string, handler: string, index: number): Rule => ({
  name: handler, index, labels: [label], handler, trackers: null, projects: null, issueTypes: null, on: ['created'], continue: false,
});

/** Stores a `jira:issue_created` delivery for `key` with `label` (the worker routes it). */
function deliver(key: string, label: string, overrides: { timestamp?: number; summary?: string; updated?: string } = {}): void {
  deliverySeq++;
  const body = tokenResetEvent(key, issueIdOf(key), { labels: [label], timestamp: overrides.timestamp, summary: overrides.summary });
  if (overrides.updated) body.issue.fields.updated = overrides.updated;
  insertDeliveries(db, [
    { deliveryKey: `worker-test:${deliverySeq}`, webhookIdentifier: null, event: body.webhookEvent, issueKey: key, headers: {}, body: JSON.stringify(body), eventTimestamp: body.timestamp, receivedAt: Date.now() },
  ]);
  worker?.wake();
}

async function startWorker(handlers: AnyHandler[], rules: Rule[], options: Partial<WorkerOptions> = {}): Promise<Worker> {
  worker = new Worker({
    db: sqliteStore(db), rules, handlers, logger: pino({ level: 'silent' }), dryRun: false, maxAttempts: 3, handlerTimeoutMs: 5_000, concurrency: 4,
    selfAccountId: 'deflect-bot', pollMs: 50, retryBaseMs: 20, jiraTimeoutMs: 300, pauseAfterFailures: 0,
    api: createJiraApi({ baseUrl: jira.url, email: 'bot@example.test', apiToken: 't', timeoutMs: 300 }),
    ...options,
  });
  await worker.start();
  return worker;
}

const runsOf = (handler: string) =>
  db.$client.prepare('SELECT id, ticket_key AS ticketKey, status, attempts, error FROM runs WHERE handler = ? ORDER BY id').all(handler) as Array<{
    id: number; ticketKey: string; status: string; attempts: number; error: string | null;
  }>;
const allFinished = (handler: string, n: number) => {
  const rows = runsOf(handler);
  return rows.length === n && rows.every((r) => !['queued', 'running'].includes(r.status)) ? rows : null;
};
const handler = (name: string, run: AnyHandler['run']) => defineHandler({ name, description: name, input: z.object({}), run });

beforeAll(async () => {
  jira = await startFakeJira();
  db = openDatabase(join(freshDir(), 'worker.db'));
});
afterEach(async () => {
  await worker?.stop(500);
  worker = null;
  jira.setFault(undefined);
});
afterAll(async () => {
  db.$client.close();
  await jira.close();
});

describe('worker reliability', () => {
  it('never runs two runs of one ticket at once, while running different tickets in parallel', async () => {
    const active = new Map<string, number>();
    let maxPerTicket = 0;
    let maxOverall = 0;
    const probe = handler('overlap-probe', async (ctx) => {
      const n = (active.get(ctx.ticket.key) ?? 0) + 1;
      active.set(ctx.ticket.key, n);
      maxPerTicket = Math.max(maxPerTicket, n);
      maxOverall = Math.max(maxOverall, [...active.values()].reduce((a, b) => a + b, 0));
      await sleep(40);
      active.set(ctx.ticket.key, n - 1);
    });
    await startWorker([probe], [rule('overlap', 'overlap-probe', 1)]);
    for (let i = 0; i < 6; i++) for (const key of ['OVL-1', 'OVL-2', 'OVL-3']) deliver(key, 'overlap');
    const rows = await waitFor('18 runs', () => allFinished('overlap-probe', 18));
    expect(rows.every((r) => r.status === 'succeeded')).toBe(true);
    expect(maxPerTicket).toBe(1);
    expect(maxOverall).toBeGreaterThanOrEqual(2);
  });

  it('retries transient errors with backoff no shorter than Retry-After, then dead-letters with the last error', async () => {
    const attemptsAt: number[] = [];
    const flaky = handler('always-rate-limited', async () => {
      attemptsAt.push(Date.now());
      throw new JiraRequestError(`Jira POST /x → 429 (attempt ${attemptsAt.length})`, { status: 429, transient: true, retryAfterMs: 250 });
    });
    await startWorker([flaky], [rule('flaky', 'always-rate-limited', 1)]);
    deliver('DLQ-1', 'flaky');
    const [run] = await waitFor('the run to be dead-lettered', () => allFinished('always-rate-limited', 1));
    expect(run).toMatchObject({ status: 'dead', attempts: 3 });
    expect(run.error).toBe('Jira POST /x → 429 (attempt 3) (gave up after 3 attempts)');
    expect(attemptsAt).toHaveLength(3);
    for (let i = 1; i < attemptsAt.length; i++) expect(attemptsAt[i] - attemptsAt[i - 1]).toBeGreaterThanOrEqual(250);
  });

  it('fails a permanent error at once, without retrying', async () => {
    let calls = 0;
    const buggy = handler('buggy', async () => {
      calls++;
      throw new TypeError("Cannot read properties of undefined (reading 'name')");
    });
    await startWorker([buggy], [rule('buggy', 'buggy', 1)]);
    deliver('BUG-1', 'buggy');
    const [run] = await waitFor('the run to fail', () => allFinished('buggy', 1));
    expect(run).toMatchObject({ status: 'failed', attempts: 1, error: "Cannot read properties of undefined (reading 'name')" });
    expect(calls).toBe(1);
  });

  it('pauses a handler after N failed runs in a row; its runs wait until it is resumed', async () => {
    let broken = true;
    const fragile = handler('fragile', async () => {
      if (broken) throw new Error('upstream API rejected the request');
      return { summary: 'ok' };
    });
    await startWorker([fragile], [rule('fragile', 'fragile', 1)], { pauseAfterFailures: 2 });
    deliver('PAU-1', 'fragile');
    deliver('PAU-2', 'fragile');
    await waitFor('two failed runs', () => allFinished('fragile', 2));
    await waitFor('the handler to be paused', () => listPausedHandlers(db).has('fragile'));
    expect(listHandlerStates(db).find((s) => s.handler === 'fragile')).toMatchObject({ consecutiveFailures: 2 });
    expect(listHandlerStates(db).find((s) => s.handler === 'fragile')!.pausedReason).toMatch(/2 runs in a row failed; last error: upstream API rejected/);

    deliver('PAU-3', 'fragile');
    await sleep(400); // several worker turns
    expect(runsOf('fragile')[2]).toMatchObject({ ticketKey: 'PAU-3', status: 'queued', attempts: 0 });

    broken = false;
    expect(resumeHandler(db, 'fragile')).toBe(true);
    const rows = await waitFor('the waiting run to succeed', () => allFinished('fragile', 3));
    expect(rows[2]).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(listHandlerStates(db).find((s) => s.handler === 'fragile')).toMatchObject({ consecutiveFailures: 0, pausedAt: null });
  });

  it('a handler that outlives its timeout cannot act any more; the retry acts once', async () => {
    jira.seedIssue({ key: 'TMO-1' });
    let attempt = 0;
    let zombieError: unknown = null;
    const slow = handler('slow-then-fast', async (ctx) => {
      attempt++;
      if (attempt === 1) {
        await sleep(300); // ignores ctx.signal; the timeout is 100 ms
        await ctx.jira.comment('from the timed-out attempt').catch((e: unknown) => {
          zombieError = e;
          throw e;
        });
        return;
      }
      await ctx.jira.comment('from the retry');
    });
    await startWorker([slow], [rule('slow', 'slow-then-fast', 1)], { handlerTimeoutMs: 100, retryBaseMs: 600 });
    deliver('TMO-1', 'slow');
    const [run] = await waitFor('the run to succeed', () => allFinished('slow-then-fast', 1));
    expect(run).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(zombieError).toMatchObject({ name: 'HandlerTimeoutError' });
    expect(jira.commentsFor('TMO-1')).toHaveLength(1);
  });

  it('an update older than the stored snapshot does not overwrite it', async () => {
    await startWorker([], []);
    deliver('ORD-1', 'none', { timestamp: 2_000, summary: 'newer summary', updated: '2026-11-21T10:00:00.000+0000' });
    deliver('ORD-1', 'none', { timestamp: 1_000, summary: 'older summary', updated: '2026-11-21T09:00:00.000+0000' });
    const rows = await waitFor('both deliveries routed', () => {
      const r = db.$client.prepare("SELECT status, reason FROM deliveries WHERE issue_key = 'ORD-1' AND status != 'pending' ORDER BY id").all();
      return r.length === 2 ? (r as Array<{ status: string; reason: string }>) : null;
    });
    expect(rows[1].reason).toMatch(/older than the stored snapshot; ticket state not overwritten/);
    expect(findTicketByKey(db, 'ORD-1')).toMatchObject({ summary: 'newer summary', lastEventAt: 2_000 });
  });
});
