/**
 * Verification signals on a real database of the pass's backend (a SQLite file or a PostgreSQL database: test-backend.ts): which events decide a watched resolution (reopen, override, re-file,
 * `/reopen`), which never do (deflect's own, stale, older than the resolution), the window's end (`verified`, lazily
 * on read), the grouping's re-file, and demotion only once the last N resolutions cannot reach the threshold.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/store.js';
import { evaluateDemotion, restoreHandlerLive } from '../../src/automation/demotion.js';
import { applyVerificationSignals, isDoneStatus } from '../../src/pipeline/verification-signals.js';
import type { TrackerEvent } from '../../src/trackers/tracker.js';
import type { Ticket } from '../../src/ticket.js';
import { testTicket } from '../../src/automation/test-context.js';
import { freshDatabase, type TestDatabase } from '../support/test-backend.js';

const DAY = 86_400_000;
let database: TestDatabase;
let db: Store;
let seq = 0;
beforeAll(async () => {
  database = await freshDatabase('deflect-verify-');
  db = await database.open();
});
const ticketRowId = async (key: string) => (await database.get<{ id: string }>('SELECT id FROM tickets WHERE key = ?', key))!.id;

/** A resolved run of `handler` on `key` at `at`, watched for 14 days. */
async function resolved(key: string, at: number, options: { handler?: string; reporter?: string; labels?: string[]; ticketRowId?: string } = {}): Promise<number> {
  seq++;
  const [d] = await db.insertDeliveries([{ deliveryKey: `v:${seq}`, webhookIdentifier: null, event: 'jira:issue_created', issueKey: key, headers: {}, body: '{}', eventTimestamp: null, receivedAt: at }]);
  const runId = (await db.enqueueRun({ deliveryId: d.id, ticketKey: key, handler: options.handler ?? 'answer-with-runbook', reason: 't', dryRun: false, idempotencyKey: `v:${seq}`, maxAttempts: 1 }, at))!;
  await db.recordResolution({ runId, handler: options.handler ?? 'answer-with-runbook', ticketKey: key, ticketRowId: options.ticketRowId ?? null, reporter: options.reporter ?? 'dev-a', resolvedStatus: 'Done', labelsAdded: options.labels ?? [], feedbackInvited: false }, 14 * DAY, at);
  return runId;
}

const event = (ticket: Partial<Ticket>, over: Partial<TrackerEvent> = {}): TrackerEvent => ({
  event: 'jira:issue_updated', kind: 'updated', eventType: null, timestamp: null, actor: 'lead-1', ticket: testTicket(ticket), labelsAdded: [], labelsRemoved: [], siteHost: null, selfHosts: [], ...over,
});
const signal = async (e: TrackerEvent, at: number, over: { stale?: boolean; matched?: string[] } = {}) =>
  await applyVerificationSignals(db, e, { deliveryId: 1, eventAt: at, ticket: e.ticket, stale: over.stale ?? false, matchedHandlers: over.matched ?? [], selfAccountId: 'deflect-bot' }, at);
const stateOf = async (runId: number, at = Date.now()) => (await db.findRunVerificationStates([runId], at)).get(runId);

describe('verification signals', () => {
  const t0 = Date.now() - 20 * DAY;

  it('knows done statuses across trackers', () => {
    expect(['Done', 'closed', "Won't Do", 'Canceled'].every(isDoneStatus)).toBe(true);
    expect(['To Do', 'open', 'In Progress', 'Reopened'].some(isDoneStatus)).toBe(false);
  });

  it('a not-done status by a person reopens; by deflect, stale, or older than the resolution it does not', async () => {
    const run = await resolved('V-1', t0);
    expect(await signal(event({ key: 'V-1', status: 'To Do' }, { actor: 'deflect-bot' }), t0 + 1000)).toBeNull();
    await signal(event({ key: 'V-1', status: 'To Do' }), t0 + 1000, { stale: true });
    await signal(event({ key: 'V-1', status: 'To Do' }), t0 - 1000);
    expect((await stateOf(run, t0 + 2000))!.state).toBe('pending');
    expect(await signal(event({ key: 'V-1', status: 'Reopened' }), t0 + 3000)).toContain('reopened: status Done → Reopened by lead-1');
    expect(await stateOf(run)).toMatchObject({ state: 'reopened', evidence: 'status Done → Reopened by lead-1' });
  });

  it('a reconcile delivery (no actor) counts as a person', async () => {
    const run = await resolved('V-2', t0);
    await signal(event({ key: 'V-2', status: 'Open' }, { actor: null }), t0 + 1000);
    expect(await stateOf(run)).toMatchObject({ state: 'reopened', evidence: 'status Done → Open seen by reconcile' });
  });

  it("another done status, or removing deflect's label, is an override", async () => {
    const a = await resolved('V-3', t0);
    const b = await resolved('V-4', t0, { labels: ['answered-by-runbook'] });
    await signal(event({ key: 'V-3', status: "Won't Do" }), t0 + 1000);
    await signal(event({ key: 'V-4', status: 'Done' }, { labelsRemoved: ['answered-by-runbook'] }), t0 + 1000);
    expect(await stateOf(a)).toMatchObject({ state: 'overridden', evidence: "status changed from Done to Won't Do by lead-1" });
    expect(await stateOf(b)).toMatchObject({ state: 'overridden', evidence: 'label answered-by-runbook set by deflect removed by lead-1' });
  });

  it('a closed GitHub issue is what deflect set (one done state), an open one is a reopen', async () => {
    const run = await resolved('acme/web#7', t0);
    await signal(event({ key: 'acme/web#7', tracker: 'github', status: 'closed' }), t0 + 1000);
    expect((await stateOf(run, t0 + 2000))!.state).toBe('pending');
    await signal(event({ key: 'acme/web#7', tracker: 'github', status: 'open' }), t0 + 3000);
    expect(await stateOf(run)).toMatchObject({ state: 'reopened', evidence: 'status Done → open by lead-1' });
  });

  it('/reopen by the reporter reopens and counts as feedback; by someone else it is ignored', async () => {
    const run = await resolved('V-5', t0);
    const said = (author: string) => event({ key: 'V-5', status: null }, { event: 'comment_created', kind: 'other', actor: author, comment: { id: `c-${author}`, authorId: author, authorEmail: null, body: '/reopen still broken' } as never });
    expect(await signal(said('stranger'), t0 + 1000)).toContain("only the reporter's answer counts");
    expect((await stateOf(run, t0 + 1500))!.state).toBe('pending');
    await signal(said('dev-a'), t0 + 2000);
    expect(await stateOf(run)).toMatchObject({ state: 'reopened', evidence: 'the reporter commented /reopen', feedback: 'reopen' });
  });

  it('the same request filed again by the same reporter for the same handler is a re-file; another request is not', async () => {
    await db.upsertTickets([{ ticket: testTicket({ id: 'v-6', key: 'V-6', reporterId: 'dev-z', summary: 'How do I connect to the VPN?', created: t0 }), eventAt: t0 }], 'import', t0);
    const rowId = await ticketRowId('V-6');
    const run = await resolved('V-6', t0, { reporter: 'dev-z', ticketRowId: rowId });
    const created = async (key: string, handler: string, reporterId: string, summary = 'How do I connect to the VPN?') =>
      await signal(event({ key, status: 'To Do', reporterId, summary }, { event: 'jira:issue_created', kind: 'created' }), t0 + DAY, { matched: [handler] });
    await created('V-7', 'grant-repo-access', 'dev-z');
    await created('V-8', 'answer-with-runbook', 'someone-else');
    await created('V-10', 'answer-with-runbook', 'dev-z', 'How do I rotate my SSH key?');
    expect((await stateOf(run, t0 + DAY))!.state).toBe('pending');
    await created('V-9', 'answer-with-runbook', 'dev-z', '  how do I connect  to the VPN? ');
    expect(await stateOf(run)).toMatchObject({ state: 'refiled', evidence: 're-filed as V-9 by the same reporter (routed to answer-with-runbook again)' });
  });

  it('a window that ends with no signal reads verified (lazily, decided at its end)', async () => {
    const run = await resolved('V-10', t0);
    expect((await stateOf(run, t0 + 13 * DAY))!.state).toBe('pending');
    expect(await stateOf(run, t0 + 15 * DAY)).toMatchObject({ state: 'verified', decidedAt: t0 + 14 * DAY });
  });

  it('a re-file of the same request type (the grouping) is found when states are read', async () => {
    const first = testTicket({ id: 'g-1', key: 'G-1', reporterId: 'dev-g', created: t0 });
    const again = testTicket({ id: 'g-2', key: 'G-2', reporterId: 'dev-g', created: t0 + 2 * DAY, summary: 'vpn again' });
    await db.upsertTickets([{ ticket: first, eventAt: t0 }, { ticket: again, eventAt: t0 + 2 * DAY }], 'import', t0 + 2 * DAY);
    const rowId = await ticketRowId('G-1');
    const rowId2 = await ticketRowId('G-2');
    const insert = (ticketId: string, created: number) =>
      database.run("INSERT INTO ticket_groups (ticket_id, type_id, algorithm, reason, created, computed_at) VALUES (?, 'type-vpn', 'text-v2', 'r', ?, ?)", ticketId, created, t0);
    await insert(rowId, t0);
    await insert(rowId2, t0 + 2 * DAY);
    seq++;
    const [d] = await db.insertDeliveries([{ deliveryKey: `v:${seq}`, webhookIdentifier: null, event: 'x', issueKey: 'G-1', headers: {}, body: '{}', eventTimestamp: null, receivedAt: t0 }]);
    const runId = (await db.enqueueRun({ deliveryId: d.id, ticketKey: 'G-1', handler: 'answer-with-runbook', reason: 't', dryRun: false, idempotencyKey: `v:${seq}`, maxAttempts: 1 }, t0))!;
    await db.recordResolution({ runId, handler: 'answer-with-runbook', ticketKey: 'G-1', ticketRowId: rowId, reporter: 'dev-g', resolvedStatus: 'Done', labelsAdded: [], feedbackInvited: false }, 14 * DAY, t0 + 1);
    expect(await stateOf(runId)).toMatchObject({ state: 'refiled', evidence: 're-filed as G-2 by the same reporter (same request type type-vpn, by the grouping)' });
  });
});

describe('demotion', () => {
  const settings = { minResolutions: 4, demoteBelow: 0.75 };
  const now = Date.now();

  it('waits for N resolutions, demotes once the rate cannot reach the threshold, and counts afresh after a restore', async () => {
    const h = 'reset-ci-token';
    const runs: number[] = [];
    for (const i of [0, 1, 2, 3]) runs.push(await resolved(`D-${i}`, now - 10 * DAY + i, { handler: h }));
    const reopen = async (i: number) => await signal(event({ key: `D-${i}`, status: 'To Do' }), now - 5 * DAY);
    await reopen(0);
    expect(await evaluateDemotion(db, h, settings, undefined, now)).toBeNull(); // 3 of 4 may still hold: 0.75 is not below
    await reopen(1);
    expect(await evaluateDemotion(db, h, settings, undefined, now)).toMatch(/at most 0\.50 \(2 reopened, 0 re-filed, 0 overridden\)/);
    expect((await db.currentHandlerModes()).get(h)).toMatchObject({ mode: 'shadow', by: 'deflect' });
    expect(await evaluateDemotion(db, h, settings, undefined, now)).toBeNull(); // already demoted
    expect(await restoreHandlerLive(db, h, 'maya', now + 1)).toBe(true);
    expect(await restoreHandlerLive(db, h, 'maya', now + 2)).toBe(false);
    expect(await evaluateDemotion(db, h, settings, undefined, now + 3)).toBeNull(); // the old resolutions no longer count
    expect(runs).toHaveLength(4);
  });

  it('never demotes when DEFLECT_VERIFY_DEMOTE_BELOW is off', async () => {
    expect(await evaluateDemotion(db, 'answer-with-runbook', { minResolutions: 1, demoteBelow: null })).toBeNull();
  });
});
