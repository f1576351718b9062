/**
 * Conformance of the audit view's run search (`src/db/run-search.ts`) on both backends: every filter (the free text and
 * the older runs' rule reasons case-insensitive for ASCII only, LIKE wildcards taken literally), newest-first keyset
 * pages with ties on `created_at` in both directions, the page size clamp, and the trace extras.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { RunCursor, RunFilter, SearchedRun } from '../../../src/db/run-search.js';
import { closeStoreBackends, storeBackends } from '../../support/stores.js';
import { closeSeededStores, deliveryRow, openSeededStore, runRow, type Row, type SeededStore } from './seed-report-rows.js';

afterAll(async () => {
  await closeStoreBackends();
  await closeSeededStores();
});

const snapshot = (fields: Record<string, unknown>) => JSON.stringify({ key: 'X-1', ...fields });

/** 12 runs; runs 3, 4 and 5 share `created_at` 3_000 (the keyset's id tie-break). */
const RUNS: Row[] = [
  runRow(1, 'PLAT-1', { created_at: 1_000, summary: 'Granted ACCESS to Repo', reason: 'label access → grant-access', ticket_snapshot: snapshot({ tracker: 'jira', reporter: 'Ann Lee', reporterId: 'ACC-1', summary: 'Need access', siteUrl: 'https://acme.atlassian.net' }) }),
  runRow(2, 'PLAT-2', { created_at: 2_000, reason: 'label access → grant-access (rule Repo-Access #2)', status: 'failed', error: 'Jira 401: check JIRA_EMAIL' }),
  runRow(3, 'PLAT-3', { created_at: 3_000, handler: 'reset-vpn', summary: '100% done_ok', ticket_snapshot: snapshot({ tracker: 'github', summary: 'Ünïcode Ärger' }) }),
  runRow(4, 'PLAT-4', { created_at: 3_000, handler: 'reset-vpn', status: 'dead', reason: 'x (rule vpnXreset #1)', summary: '100 percent' }),
  runRow(5, 'PLAT-5', { created_at: 3_000, status: 'queued', ticket_snapshot: snapshot({ tracker: 'linear', reporter: 'BOB' }) }),
  ...Array.from({ length: 7 }, (_, i) => runRow(6 + i, `OPS-${6 + i}`, { created_at: 4_000 + i * 1_000, handler: 'reset-vpn', dry_run: i === 0, shadow: i === 1, applied: i !== 2 })),
];
const SETTINGS: Row[] = [
  { run_id: 1, rule_name: 'repo-access', options: '{"team":"core"}', approval: null, feedback: true },
  { run_id: 4, rule_name: 'other-rule', options: '{}', approval: null, feedback: false },
];

async function seed(backend: Parameters<typeof openSeededStore>[0]): Promise<SeededStore> {
  const seeded = await openSeededStore(backend);
  await seeded.insert('deliveries', RUNS.map((r) => deliveryRow(r.id as number)));
  await seeded.insert('runs', RUNS);
  await seeded.insert('run_rule_settings', SETTINGS);
  return seeded;
}

const ids = (runs: SearchedRun[]) => runs.map((r) => r.id);

describe.each(storeBackends())('runSearch on %s', (backend) => {
  it.skipIf(backend.skip !== null)('an empty database: an empty first page without cursors, no trace extras', async () => {
    const { store } = await openSeededStore(backend);
    expect(await store.findRunPage({}, null, 10)).toEqual({ runs: [], older: null, newer: null });
    expect(await store.selectRunStep({}, null, 10)).toEqual([]);
    expect(await store.findRunTraceExtras(1)).toBeUndefined();
  });

  it.skipIf(backend.skip !== null)('a listed run has every run column but the snapshot, its tracker and its site URL', async () => {
    const { store } = await seed(backend);
    const [one] = (await store.findRunPage({ ticketKey: 'PLAT-1' }, null, 10)).runs;
    expect(one).toEqual({
      id: 1, deliveryId: 1, ticketKey: 'PLAT-1', handler: 'grant-access', reason: 'label access → grant-access', status: 'succeeded', dryRun: false,
      idempotencyKey: 'PLAT-1:grant-access:d1', attempts: 1, maxAttempts: 5, runAfter: 0, lockedAt: null, owner: null, leaseExpiresAt: null,
      startedAt: null, finishedAt: null, durationMs: null, applied: true, summary: 'Granted ACCESS to Repo', error: null, manualRetries: 0,
      shadow: false, rulesVersion: null, createdAt: 1_000, tracker: 'jira', siteUrl: 'https://acme.atlassian.net',
    });
    const flags = (await store.findRunPage({ ticketKey: 'OPS-6' }, null, 1)).runs[0];
    expect([flags.dryRun, flags.shadow, flags.applied, flags.tracker, flags.siteUrl]).toEqual([true, false, true, 'jira', null]);
    expect((await store.findRunPage({ ticketKey: 'OPS-8' }, null, 1)).runs[0].applied).toBe(false);
  });

  it.skipIf(backend.skip !== null)('filters: time window, statuses, handler, ticket, rule (settings or an older reason), reporter, trackers', async () => {
    const { store } = await seed(backend);
    const find = async (filter: RunFilter) => ids((await store.findRunPage(filter, null, 100)).runs);
    expect(await find({})).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(await find({ from: 3_000, to: 5_000 })).toEqual([6, 5, 4, 3]);
    expect(await find({ from: null, to: null, statuses: [] })).toHaveLength(12);
    expect(await find({ statuses: ['failed'] })).toEqual([2]);
    expect(await find({ statuses: ['dead', 'queued'] })).toEqual([5, 4]);
    expect(await find({ handler: 'grant-access' })).toEqual([5, 2, 1]);
    expect(await find({ ticketKey: 'PLAT-3' })).toEqual([3]);
    expect(await find({ ticketKey: 'plat-3' })).toEqual([]);
    expect(await find({ rule: 'repo-access' })).toEqual([2, 1]);
    expect(await find({ rule: 'other-rule' })).toEqual([4]);
    // The older reason `(rule vpnXreset #1)`: matched case-insensitively, with `_` taken literally.
    expect(await find({ rule: 'VPNxRESET' })).toEqual([4]);
    expect(await find({ rule: 'vpn_reset' })).toEqual([]);
    expect(await find({ rule: 'vpn%' })).toEqual([]);
    expect(await find({ reporter: 'ann lee' })).toEqual([1]);
    expect(await find({ reporter: 'acc-1' })).toEqual([1]);
    expect(await find({ reporter: 'Bob' })).toEqual([5]);
    expect(await find({ trackers: ['github', 'linear'] })).toEqual([5, 3]);
    expect(await find({ trackers: ['jira'] })).toEqual([12, 11, 10, 9, 8, 7, 6, 4, 2, 1]);
    expect(await find({ trackers: [] })).toHaveLength(12);
    expect(await find({ handler: 'reset-vpn', statuses: ['succeeded'], from: 5_000 })).toEqual([12, 11, 10, 9, 8, 7]);
  });

  it.skipIf(backend.skip !== null)('free text: a substring of the summary, the error or the ticket’s summary, case-insensitive for ASCII only, wildcards literal', async () => {
    const { store } = await seed(backend);
    const find = async (text: string) => ids((await store.findRunPage({ text }, null, 100)).runs);
    expect(await find('access')).toEqual([1]);
    expect(await find('GRANTED access TO repo')).toEqual([1]);
    expect(await find('jira_email')).toEqual([2]);
    expect(await find('need ACCESS')).toEqual([1]);
    expect(await find('RGER')).toEqual([3]);
    expect(await find('Ärger')).toEqual([3]);
    expect(await find('ärger')).toEqual([]);
    expect(await find('ÜNÏCODE')).toEqual([]);
    expect(await find('0% d')).toEqual([3]);
    expect(await find('%')).toEqual([3]);
    expect(await find('100')).toEqual([4, 3]);
    expect(await find('e_o')).toEqual([3]);
    expect(await find('_')).toEqual([3, 2]);
    expect(await find('\\')).toEqual([]);
    expect(await find('nothing like it')).toEqual([]);
  });

  it.skipIf(backend.skip !== null)('keyset pages: older pages to the end, newer pages back, ties on created_at by id, the size clamped to 1..1000', async () => {
    const { store } = await seed(backend);
    const seen: number[][] = [];
    let page = await store.findRunPage({}, null, 5);
    expect(page.newer).toBeNull();
    seen.push(ids(page.runs));
    while (page.older) {
      page = await store.findRunPage({}, page.older, 5);
      seen.push(ids(page.runs));
    }
    expect(seen).toEqual([[12, 11, 10, 9, 8], [7, 6, 5, 4, 3], [2, 1]]);
    expect(page.newer).toEqual({ direction: 'newer', createdAt: 2_000, id: 2 });
    const back = await store.findRunPage({}, page.newer!, 5);
    expect(ids(back.runs)).toEqual([7, 6, 5, 4, 3]);
    expect(back.older).toEqual({ direction: 'older', createdAt: 3_000, id: 3 });
    expect(back.newer).toEqual({ direction: 'newer', createdAt: 5_000, id: 7 });
    const top = await store.findRunPage({}, back.newer!, 5);
    expect(ids(top.runs)).toEqual([12, 11, 10, 9, 8]);
    expect(top.newer).toBeNull();
    // Inside the tie: after (3000, 4) comes 3; before it, 5.
    expect(ids((await store.findRunPage({}, { direction: 'older', createdAt: 3_000, id: 4 }, 2)).runs)).toEqual([3, 2]);
    expect(ids(await store.selectRunStep({}, { direction: 'newer', createdAt: 3_000, id: 4 }, 2))).toEqual([5, 6]);
    // A newer page past the newest run: empty, and the cursor it came with points back down.
    const past: RunCursor = { direction: 'newer', createdAt: 99_000, id: 1 };
    expect(await store.findRunPage({}, past, 5)).toEqual({ runs: [], older: { direction: 'older', createdAt: 99_000, id: 1 }, newer: null });
    expect(ids((await store.findRunPage({}, null, 0)).runs)).toEqual([12]);
    expect(ids((await store.findRunPage({}, null, 2.9)).runs)).toEqual([12, 11]);
    expect((await store.findRunPage({}, null, 5_000)).runs).toHaveLength(12);
  });

  it.skipIf(backend.skip !== null)('findRunTraceExtras: the snapshot and the rule settings row, nulls without them, undefined for no run', async () => {
    const { store } = await seed(backend);
    expect(await store.findRunTraceExtras(1)).toEqual({ ticketSnapshot: RUNS[0].ticket_snapshot, ruleName: 'repo-access', ruleOptions: '{"team":"core"}' });
    expect(await store.findRunTraceExtras(2)).toEqual({ ticketSnapshot: null, ruleName: null, ruleOptions: null });
    expect(await store.findRunTraceExtras(99)).toBeUndefined();
  });
});
