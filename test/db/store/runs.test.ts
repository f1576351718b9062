/**
 * Conformance of the `runs` repository (src/db/runs.ts, src/db/postgres/repositories/runs.ts): the same assertions on
 * SQLite and PostgreSQL, plus concurrent claims (no run claimed twice, no ticket run twice at once).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { RunRow } from '../../../src/db/schema.js';
import { ticketWith } from '../../support/ticket-fixture.js';
import { addDelivery, closeRunsBackends, newRun, pauseHandler, queueRun, runsBackends, type Opened } from './run-fixtures.js';

afterAll(closeRunsBackends);

const NOW = 1_700_000_000_000;
const A = { owner: 'web-1:1:a', leaseMs: 60_000 };
const B = { owner: 'web-2:2:b', leaseMs: 60_000 };

/** A running run's expected shape right after a claim by `claimant` at `now`. */
const claimedShape = (o: { id: number; ticketKey: string }, claimant: typeof A, now: number): Partial<RunRow> => ({
  id: o.id,
  ticketKey: o.ticketKey,
  status: 'running',
  attempts: 1,
  owner: claimant.owner,
  lockedAt: now,
  startedAt: now,
  leaseExpiresAt: now + claimant.leaseMs,
});

describe.each(runsBackends())('runs on %s', (backend) => {
  const open = () => backend.open();
  it.skipIf(backend.skip !== null)('enqueueRun stores the run once; findRun and findRunTicketSnapshot read it back', async () => {
    const o = await open();
    const deliveryId = await addDelivery(o, 'd1', NOW);
    const ticket = ticketWith('please add me', { key: 'PLAT-1' });
    const id = await o.store.enqueueRun({ ...newRun(deliveryId, 'PLAT-1'), ticket, rulesVersion: 'abc123abc123' }, NOW);
    expect(id).toBe(1);
    // Same (delivery, handler), or same idempotency key: ignored.
    expect(await o.store.enqueueRun(newRun(deliveryId, 'PLAT-1'), NOW)).toBeNull();
    const other = await addDelivery(o, 'd2', NOW);
    expect(await o.store.enqueueRun({ ...newRun(other, 'PLAT-1'), idempotencyKey: `run:${deliveryId}:grant-repo-access` }, NOW)).toBeNull();
    const shadowId = await o.store.enqueueRun({ ...newRun(other, 'PLAT-2', { handler: 'close-stale' }), shadow: true }, NOW + 1);
    expect(await o.store.findRun(id!)).toEqual({
      id: 1, deliveryId, ticketKey: 'PLAT-1', handler: 'grant-repo-access', reason: 'label access-request', status: 'queued', dryRun: false,
      idempotencyKey: `run:${deliveryId}:grant-repo-access`, attempts: 0, maxAttempts: 3, runAfter: NOW, lockedAt: null, owner: null,
      leaseExpiresAt: null, startedAt: null, finishedAt: null, durationMs: null, summary: null, applied: true, error: null, manualRetries: 0,
      shadow: false, rulesVersion: 'abc123abc123', createdAt: NOW,
    });
    expect(await o.store.findRun(shadowId!)).toMatchObject({ dryRun: true, shadow: true, rulesVersion: null });
    expect(await o.store.findRunTicketSnapshot(id!)).toEqual(ticket);
    expect(await o.store.findRunTicketSnapshot(shadowId!)).toBeNull();
    expect(await o.store.findRunTicketSnapshot(99)).toBeNull();
    expect(await o.store.findRun(99)).toBeUndefined();
  });

  it.skipIf(backend.skip !== null)('claimDueRuns: due runs oldest first, one per ticket, skipping busy tickets, paused handlers and running tickets', async () => {
    const o = await open();
    expect(await o.store.claimDueRuns(5, new Set(), A, NOW)).toEqual([]);
    const t1a = await queueRun(o, 'T-1', NOW - 50);
    const t1b = await queueRun(o, 'T-1', NOW - 60); // older, same ticket
    const t2 = await queueRun(o, 'T-2', NOW - 40);
    const t3 = await queueRun(o, 'T-3', NOW - 30);
    const future = await queueRun(o, 'T-4', NOW + 1_000);
    const paused = await queueRun(o, 'T-5', NOW - 70, { handler: 'close-stale' });
    const tie = await queueRun(o, 'T-6', NOW - 40); // same run_after as t2: id breaks the tie
    expect(await o.store.claimDueRuns(0, new Set(), A, NOW)).toEqual([]);

    const claimed = await o.store.claimDueRuns(10, new Set(['T-3']), A, NOW, new Set(['close-stale']));
    expect(claimed.map((r) => r.id)).toEqual([t1b, t2, tie]);
    expect(claimed[0]).toMatchObject(claimedShape({ id: t1b, ticketKey: 'T-1' }, A, NOW));
    expect(claimed[0]).toMatchObject({ dryRun: false, applied: true, shadow: false });
    expect(await o.store.findRun(t1b)).toEqual(claimed[0]);

    // T-1 now has a running run: its other run waits, in every process. The limit holds.
    const second = await o.store.claimDueRuns(1, new Set(), B, NOW, new Set(['close-stale']));
    expect(second.map((r) => r.id)).toEqual([t3]);
    expect(await o.store.claimDueRuns(10, new Set(), B, NOW, new Set(['close-stale']))).toEqual([]);
    expect((await o.store.findRun(t1a))!.status).toBe('queued');
    expect((await o.store.findRun(future))!.status).toBe('queued');
    expect((await o.store.claimDueRuns(10, new Set(), B, NOW, new Set())).map((r) => r.id)).toEqual([paused]);
  });

  it.skipIf(backend.skip !== null)('renewRunLeases and requeueExpiredRuns: only the owner renews; only expired leases go back to the queue', async () => {
    const o = await open();
    const r1 = await queueRun(o, 'T-1', NOW);
    const r2 = await queueRun(o, 'T-2', NOW);
    const r3 = await queueRun(o, 'T-3', NOW);
    await o.store.claimDueRuns(2, new Set(), A, NOW);
    await o.store.claimDueRuns(1, new Set(), B, NOW);
    expect(await o.store.renewRunLeases(A.owner, [], NOW + 90_000)).toEqual(new Set());
    expect(await o.store.renewRunLeases(A.owner, [r1, r2, r3, 99], NOW + 90_000)).toEqual(new Set([r1, r2]));
    expect((await o.store.findRun(r3))!.leaseExpiresAt).toBe(NOW + 60_000);
    expect(await o.store.requeueExpiredRuns(NOW + 60_000)).toEqual([]); // not before it expires
    expect(await o.store.requeueExpiredRuns(NOW + 70_000)).toEqual([{ id: r3, owner: B.owner }]);
    expect(await o.store.findRun(r3)).toMatchObject({ status: 'queued', attempts: 0, owner: null, lockedAt: null, leaseExpiresAt: null });
    expect(await o.store.requeueExpiredRuns(NOW + 100_000)).toEqual([
      { id: r1, owner: A.owner },
      { id: r2, owner: A.owner },
    ]);
    expect(await o.store.renewRunLeases(A.owner, [r1], NOW + 200_000)).toEqual(new Set());
  });

  it.skipIf(backend.skip !== null)('requeueExpiredRuns takes back a running run without a lease (claimed before leases), attempts never below 0', async () => {
    const o = await open();
    const old = await queueRun(o, 'T-1', NOW);
    const live = await queueRun(o, 'T-2', NOW);
    await o.store.claimDueRuns(2, new Set(), A, NOW);
    // As a run claimed before leases existed left it: running, no owner, no lease, its attempt not counted.
    const params = [old];
    if (o.backend === 'sqlite') await o.sql('UPDATE runs SET lease_expires_at = NULL, owner = NULL, attempts = 0 WHERE id = ?', params);
    else await o.sql('UPDATE runs SET lease_expires_at = NULL, owner = NULL, attempts = 0 WHERE id = $1', params);
    expect(await o.store.requeueExpiredRuns(NOW)).toEqual([{ id: old, owner: null }]);
    expect(await o.store.findRun(old)).toMatchObject({ status: 'queued', attempts: 0 });
    expect(await o.store.findRun(live)).toMatchObject({ status: 'running', owner: A.owner });
  });

  it.skipIf(backend.skip !== null)('finishOwnedRun, finishRun, requeueOwnedRun, releaseOwnedRuns check the owner', async () => {
    const o = await open();
    const r1 = await queueRun(o, 'T-1', NOW);
    const r2 = await queueRun(o, 'T-2', NOW);
    const r3 = await queueRun(o, 'T-3', NOW);
    const r4 = await queueRun(o, 'T-4', NOW);
    await o.store.claimDueRuns(4, new Set(), A, NOW);
    expect(await o.store.finishOwnedRun(r1, B.owner, { status: 'succeeded', durationMs: 5 }, NOW + 10)).toBe(false);
    expect(await o.store.findLatestEntry('runs', r1)).toBeUndefined();
    expect(await o.store.finishOwnedRun(r1, A.owner, { status: 'succeeded', summary: 'done', durationMs: 5, applied: false }, NOW + 10)).toBe(true);
    expect(await o.store.findRun(r1)).toMatchObject({
      status: 'succeeded', summary: 'done', error: null, durationMs: 5, applied: false, finishedAt: NOW + 10, owner: null, lockedAt: null, leaseExpiresAt: null,
    });
    expect(await o.store.findLatestEntry('runs', r1)).toMatchObject({ seq: 1, kind: 'seal', rowTable: 'runs', rowId: r1, runId: r1, sealedAt: NOW + 10 });
    expect(await o.store.finishOwnedRun(r1, A.owner, { status: 'failed', durationMs: 5 }, NOW + 20)).toBe(false); // no longer running

    expect(await o.store.requeueOwnedRun(r2, B.owner, NOW + 500, 'boom', 7)).toBe(false);
    expect(await o.store.requeueOwnedRun(r2, A.owner, NOW + 500, 'boom', 7)).toBe(true);
    expect(await o.store.findRun(r2)).toMatchObject({ status: 'queued', runAfter: NOW + 500, error: 'boom', durationMs: 7, attempts: 1, owner: null });

    expect(await o.store.releaseOwnedRuns(A.owner, [])).toBe(0);
    expect(await o.store.releaseOwnedRuns(B.owner, [r3, r4])).toBe(0);
    expect(await o.store.releaseOwnedRuns(A.owner, [r3, r1, 99])).toBe(1);
    expect(await o.store.findRun(r3)).toMatchObject({ status: 'queued', attempts: 0, owner: null, leaseExpiresAt: null });

    // finishRun: whatever the state or owner.
    await o.store.finishRun(r3, { status: 'dead', error: 'gave up', durationMs: 1 }, NOW + 30);
    expect(await o.store.findRun(r3)).toMatchObject({ status: 'dead', error: 'gave up', applied: true, finishedAt: NOW + 30 });
    expect(await o.store.findLatestEntry('runs', r3)).toMatchObject({ seq: 2, kind: 'seal', prevHash: (await o.store.findLatestEntry('runs', r1))!.hash });
  });

  it.skipIf(backend.skip !== null)('listRuns filters and orders newest first, with the tracker of each ticket', async () => {
    const o = await open();
    const jira = await queueRun(o, 'PLAT-1', NOW, { ticket: ticketWith(null, { key: 'PLAT-1' }) });
    const github = await queueRun(o, 'acme/app#2', NOW + 10, { ticket: { ...ticketWith(null, { key: 'acme/app#2' }), tracker: 'github' } });
    const bare = await queueRun(o, 'PLAT-3', NOW + 20, { handler: 'close-stale' });
    // A NUL, a lone surrogate and a literal backslash-u in the ticket's text (JSON.stringify escapes the first two):
    // still listed with its tracker.
    const text = 'nul \u0000 here, half \ud800 a pair, and \\u0041';
    const linear = await queueRun(o, 'ENG-4', NOW + 30, { ticket: { ...ticketWith(text, { key: 'ENG-4' }), tracker: 'linear' } });
    await o.store.finishRun(github, { status: 'failed', error: 'x', durationMs: 1 }, NOW + 40);

    const all = await o.store.listRuns();
    expect(all.map((r) => [r.id, r.tracker])).toEqual([[linear, 'linear'], [bare, 'jira'], [github, 'github'], [jira, 'jira']]);
    expect(all[2]).toMatchObject({ status: 'failed', dryRun: false, applied: true, shadow: false });
    expect(all[2]).not.toHaveProperty('ticketSnapshot');
    expect((await o.store.listRuns({ limit: 2 })).map((r) => r.id)).toEqual([linear, bare]);
    expect((await o.store.listRuns({ since: NOW + 10 })).map((r) => r.id)).toEqual([linear, bare, github]);
    expect((await o.store.listRuns({ status: 'failed' })).map((r) => r.id)).toEqual([github]);
    expect((await o.store.listRuns({ handler: 'close-stale' })).map((r) => r.id)).toEqual([bare]);
    expect((await o.store.listRuns({ ticketKey: 'PLAT-1' })).map((r) => r.id)).toEqual([jira]);
    expect((await o.store.listRuns({ trackers: ['jira', 'linear'] })).map((r) => r.id)).toEqual([linear, bare, jira]);
    expect((await o.store.listRuns({ trackers: [] })).map((r) => r.id)).toEqual([linear, bare, github, jira]);
    expect(await o.store.listRuns({ trackers: ['github'], status: 'queued' })).toEqual([]);
    expect((await o.store.findRunTicketSnapshot(linear))!.description).toBe(text);
  });

  it.skipIf(backend.skip !== null)('countRuns and nextRunDueAt leave paused handlers out', async () => {
    const o = await open();
    expect(await o.store.countRuns(NOW)).toEqual({ byStatus: {}, due: 0 });
    expect(await o.store.nextRunDueAt(NOW)).toBeNull();
    await queueRun(o, 'T-1', NOW - 10);
    await queueRun(o, 'T-2', NOW + 500);
    await queueRun(o, 'T-3', NOW + 300, { handler: 'close-stale' });
    await queueRun(o, 'T-4', NOW - 10, { handler: 'close-stale' });
    const done = await queueRun(o, 'T-5', NOW - 10);
    await o.store.finishRun(done, { status: 'succeeded', durationMs: 1 }, NOW);
    expect(await o.store.countRuns(NOW)).toEqual({ byStatus: { queued: 4, succeeded: 1 }, due: 2 });
    expect(await o.store.nextRunDueAt(NOW)).toBe(NOW + 300);
    expect(await o.store.nextRunDueAt(NOW + 500)).toBeNull();
    await pauseHandler(o, 'close-stale', NOW);
    expect(await o.store.countRuns(NOW)).toEqual({ byStatus: { queued: 4, succeeded: 1 }, due: 1 });
    expect(await o.store.nextRunDueAt(NOW)).toBe(NOW + 500);
    expect(Object.keys((await o.store.countRuns(NOW)).byStatus)).toEqual(['queued', 'succeeded']);
  });

  it.skipIf(backend.skip !== null)('retryRun re-queues failed and dead runs only; findRetryableRuns lists them oldest first', async () => {
    const o = await open();
    const failed = await queueRun(o, 'T-1', NOW);
    const dead = await queueRun(o, 'T-2', NOW + 10);
    const ok = await queueRun(o, 'T-3', NOW + 20);
    const queued = await queueRun(o, 'T-4', NOW + 30);
    await o.store.finishRun(failed, { status: 'failed', error: 'boom', durationMs: 1 }, NOW + 40);
    await o.store.finishRun(dead, { status: 'dead', error: 'boom', durationMs: 1 }, NOW + 41);
    await o.store.finishRun(ok, { status: 'succeeded', durationMs: 1 }, NOW + 42);
    expect((await o.store.findRetryableRuns(null)).map((r) => r.id)).toEqual([failed, dead]);
    expect((await o.store.findRetryableRuns(NOW + 5)).map((r) => r.id)).toEqual([dead]);
    expect((await o.store.findRetryableRuns(null))[0]).toMatchObject({ dryRun: false, applied: true, shadow: false, error: 'boom' });

    expect(await o.store.retryRun(ok, NOW + 50)).toBe(false);
    expect(await o.store.retryRun(queued, NOW + 50)).toBe(false);
    expect(await o.store.retryRun(99, NOW + 50)).toBe(false);
    expect(await o.store.retryRun(failed, NOW + 50)).toBe(true);
    expect(await o.store.findRun(failed)).toMatchObject({ status: 'queued', attempts: 0, runAfter: NOW + 50, finishedAt: null, manualRetries: 1, error: 'boom' });
    expect(await o.store.findLatestEntry('runs', failed)).toMatchObject({ kind: 'reopen', seq: 4, sealedAt: NOW + 50 });
    expect(await o.store.retryRun(failed, NOW + 60)).toBe(false);
    expect((await o.store.findRetryableRuns(null)).map((r) => r.id)).toEqual([dead]);
  });

  it.skipIf(backend.skip !== null)('two claimers at once never take the same run, nor two runs of one ticket', async () => {
    const o = await open();
    const ids: number[] = [];
    for (let i = 0; i < 24; i += 1) ids.push(await queueRun(o, `T-${i % 8}`, NOW - 100 + i));
    const claimants = [A, B, { owner: 'web-3:3:c', leaseMs: 60_000 }];
    const rounds = await Promise.all(claimants.map((c) => o.store.claimDueRuns(4, new Set(), c, NOW)));
    const claimed = rounds.flat();
    expect(new Set(claimed.map((r) => r.id)).size).toBe(claimed.length);
    expect(new Set(claimed.map((r) => r.ticketKey)).size).toBe(claimed.length);
    expect(claimed.length).toBeGreaterThan(0);
    expect(claimed.length).toBeLessThanOrEqual(8);
    // What each claimer returned is what the database holds.
    for (const [i, round] of rounds.entries()) {
      for (const run of round) expect(await o.store.findRun(run.id)).toMatchObject({ status: 'running', owner: claimants[i].owner, attempts: 1 });
    }
    const running = (await o.store.listRuns({ status: 'running' })).length;
    expect(running).toBe(claimed.length);
    // Every ticket's other runs stay queued until its running one ends; another turn takes the tickets left.
    const more = await Promise.all(claimants.map((c) => o.store.claimDueRuns(8, new Set(), c, NOW)));
    const all = [...claimed, ...more.flat()];
    expect(new Set(all.map((r) => r.ticketKey)).size).toBe(all.length);
    expect(all.length).toBe(8);
  });

  it.skipIf(backend.skip !== null)('a claim made while another claimer has not committed yet leaves that claimer\'s tickets alone', async () => {
    const o = await open();
    for (let i = 0; i < 24; i += 1) await queueRun(o, `T-${i % 8}`, NOW - 100 + i);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let claimedInside!: (runs: RunRow[]) => void;
    const insideA = new Promise<RunRow[]>((resolve) => (claimedInside = resolve));
    const first = o.store.transaction(async () => {
      const runs = await o.store.claimDueRuns(4, new Set(), A, NOW);
      claimedInside(runs);
      await gate;
      return runs;
    });
    const a = await insideA;
    let b: RunRow[];
    if (backend.name === 'postgres') {
      // A's transaction is still open: its runs are not visibly `running` yet, its candidate rows are locked.
      b = await o.store.claimDueRuns(8, new Set(), B, NOW);
      release();
      await first;
    } else {
      // SQLite: the second claim waits for the first transaction to end.
      const second = o.store.claimDueRuns(8, new Set(), B, NOW);
      release();
      await first;
      b = await second;
    }
    expect(a.map((r) => r.ticketKey)).toEqual(['T-0', 'T-1', 'T-2', 'T-3']);
    expect(b.map((r) => r.ticketKey).sort()).toEqual(['T-4', 'T-5', 'T-6', 'T-7']);
    expect((await o.store.listRuns({ status: 'running' })).length).toBe(8);
  });
});

/** Seeds the same finished run on `o`; resolves with its id. */
async function finishSameRun(o: Opened): Promise<number> {
  const id = await queueRun(o, 'PLAT-9', NOW, { ticket: ticketWith('same fields', { key: 'PLAT-9' }), rulesVersion: '0123456789ab', dryRun: true });
  await o.store.claimDueRuns(1, new Set(), A, NOW);
  expect(await o.store.finishOwnedRun(id, A.owner, { status: 'planned', summary: 'would comment', durationMs: 12, applied: false }, NOW + 5)).toBe(true);
  return id;
}

describe('audit row hashes across backends', () => {
  const [sqlite, postgres] = runsBackends();
  it.skipIf(postgres.skip !== null)('a run finished on SQLite and one finished on PostgreSQL with the same fields hash the same', async () => {
    const s = await sqlite.open();
    const p = await postgres.open();
    const [sid, pid] = [await finishSameRun(s), await finishSameRun(p)];
    expect(pid).toBe(sid);
    const [sRow, pRow] = [await s.store.findRecordedRow('runs', sid), await p.store.findRecordedRow('runs', pid)];
    // Values as SQLite stores them: booleans 0/1, integers as numbers.
    expect(pRow).toEqual(sRow);
    expect(pRow).toMatchObject({ dry_run: 1, shadow: 0, applied: 0, attempts: 1, created_at: NOW });
    const [sEntry, pEntry] = [await s.store.findLatestEntry('runs', sid), await p.store.findLatestEntry('runs', pid)];
    expect(pEntry!.rowHash).toBe(sEntry!.rowHash);
    expect(pEntry).toEqual(sEntry);
  });
});
