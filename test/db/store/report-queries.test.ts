/**
 * Conformance of the report's reads (`src/db/report-queries.ts`, `src/db/report-scan.ts`) on both backends: the same
 * fixture (report-fixture.ts), the same answers — aggregates in key order, key pages in the report's byte order with
 * ties, nulls last and any page size, periods in UTC including the pre-1970 integer-division edge, and the one-pass
 * scan decoded to the same tickets.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { weekIndex, type KeyPosition, type MemberKey, type MemberSource, type ReportScope } from '../../../src/db/report-queries.js';
import { aggregateScope, labelTypeOverlaps, memberStats, repeatedPerPeriod, sourceMembers } from '../../../src/reports/report-aggregates.js';
import type { ScopeTickets } from '../../../src/db/report-scan.js';
import { closeStoreBackends, storeBackends } from '../../support/stores.js';
import { AUTOMATED, B, DAY, GROUPS, TICKETS, jiraId, seedReportFixture } from './report-fixture.js';
import { closeSeededStores, openSeededStore } from './seed-report-rows.js';

afterAll(async () => {
  await closeStoreBackends();
  await closeSeededStores();
});

const ALL: ReportScope = { from: null, to: B + 10 * DAY, project: null };
const WINDOW: ReportScope = { from: B - DAY, to: B + 3 * DAY, project: null };
const BOTH: MemberSource = { label: 'access', typeIds: ['type:aaa', 'type:bbb'] };

/** The 13 members of {@link BOTH} in the whole scope, in the report's order (created desc, nulls last, key, id by code point). */
const ORDER: Array<[string, string]> = [
  ['ENG-12', jiraId('ENG-12')],
  ['acme/api#12', 'github:github.com:12'],
  ['B-1', jiraId('B-1')],
  ['B-1', 'other.atlassian.net:B-1'],
  ['PLAT-1', jiraId('PLAT-1')],
  ['PLAT-2', jiraId('PLAT-2')],
  ['a-9', jiraId('a-9')],
  ['Z-1', jiraId('Z-1')],
  ['É-1', jiraId('É-1')],
  ['\uFFFD-1', jiraId('\uFFFD-1')],
  ['𝐀-1', jiraId('𝐀-1')],
  ['N-1', jiraId('N-1')],
  ['N-2', jiraId('N-2')],
];

const position = (m: MemberKey): KeyPosition => ({ created: m.created, key: m.key, id: m.id });

/** The scan's tickets as sorted text records (the columns' order is not fixed). */
function records(t: ScopeTickets): string[] {
  const out: string[] = [];
  for (let i = 0; i < t.size; i++) {
    const labels = t.labelSets[t.labelSet[i]].map((l) => t.labels[l]).sort();
    out.push([t.created[i], t.resolved[i], t.automated[i], t.trackers[t.tracker[i]], t.type[i] < 0 ? '-' : t.types[t.type[i]], t.variant[i] < 0 ? '-' : t.variants[t.variant[i]], labels.join(',')].join('|'));
  }
  return out.sort();
}

describe.each(storeBackends())('reportQueries and reportScan on %s', (backend) => {
  it.skipIf(backend.skip !== null)('an empty database: no newest ticket, no aggregates, no members, no periods, an empty scan', async () => {
    const { store } = await openSeededStore(backend);
    expect(await store.newestCreated({ project: null })).toBeNull();
    expect(await store.labelAggregates(ALL)).toEqual([]);
    expect(await store.typeAggregates(ALL)).toEqual([]);
    expect(await store.countMembers(ALL, BOTH)).toBe(0);
    expect(await store.memberKeys(ALL, BOTH, null, 10)).toEqual([]);
    expect([...(await store.repeatedPerPeriod(ALL, 'week', ['access'], []))]).toEqual([]);
    expect(await store.listGroupableTickets()).toEqual([]);
    const scan = await store.scanScopeTickets(ALL);
    expect(scan.size).toBe(0);
    expect(scan.created.length).toBe(0);
    expect(await store.requestTypeNames([])).toEqual(new Map());
  });

  it.skipIf(backend.skip !== null)('newestCreated ignores the window, honours project and trackers (an empty tracker list matches nothing)', async () => {
    const seeded = await openSeededStore(backend);
    await seedReportFixture(seeded);
    const { store } = seeded;
    expect(await store.newestCreated({ project: null })).toBe(B + 2 * DAY);
    expect(await store.newestCreated({ project: 'PLAT' })).toBe(B);
    expect(await store.newestCreated({ project: null, trackers: ['github'] })).toBe(B + DAY);
    expect(await store.newestCreated({ project: 'PLAT', trackers: ['github'] })).toBeNull();
    expect(await store.newestCreated({ project: null, trackers: [] })).toBeNull();
    expect(await store.newestCreated({ project: 'NOPE' })).toBeNull();
  });

  it.skipIf(backend.skip !== null)('label and type aggregates: ≥ 2 tickets, automated by the one definition, in key order', async () => {
    const seeded = await openSeededStore(backend);
    await seedReportFixture(seeded);
    const { store } = seeded;
    expect(await store.labelAggregates(ALL)).toEqual([
      { label: 'access', count: 9, automated: 3 },
      { label: 'vpn', count: 5, automated: 2 },
    ]);
    expect(await store.labelAggregates(WINDOW)).toEqual([
      { label: 'access', count: 8, automated: 3 },
      { label: 'vpn', count: 3, automated: 2 },
    ]);
    expect(await store.labelAggregates({ ...WINDOW, project: 'PLAT' })).toEqual([{ label: 'access', count: 2, automated: 1 }]);
    expect(await store.labelAggregates({ ...ALL, trackers: ['jira'] })).toEqual([
      { label: 'access', count: 8, automated: 2 },
      { label: 'vpn', count: 4, automated: 1 },
    ]);
    expect(await store.labelAggregates({ ...ALL, trackers: [] })).toEqual([]);
    expect(await store.typeAggregates(ALL)).toEqual([
      { typeId: 'type:aaa', name: 'Add user', count: 5, automated: 0 },
      { typeId: 'type:bbb', name: 'Reset VPN', count: 2, automated: 1 },
    ]);
    expect(await store.typeAggregates({ from: B, to: B + 3 * DAY, project: null })).toEqual([
      { typeId: 'type:aaa', name: 'Add user', count: 2, automated: 0 },
      { typeId: 'type:bbb', name: 'Reset VPN', count: 2, automated: 1 },
    ]);
    expect(await store.typeAggregates({ from: B + DAY, to: B + 3 * DAY, project: null })).toEqual([]);
  });

  it.skipIf(backend.skip !== null)('countMembers adds the label and the types not carrying it', async () => {
    const seeded = await openSeededStore(backend);
    await seedReportFixture(seeded);
    const { store } = seeded;
    expect(await store.countMembers(ALL, { label: 'access', typeIds: ['type:aaa'] })).toBe(12);
    expect(await store.countMembers(WINDOW, { label: 'access', typeIds: ['type:aaa'] })).toBe(10);
    expect(await store.countMembers({ ...WINDOW, project: 'PLAT' }, { label: 'access', typeIds: ['type:aaa'] })).toBe(2);
    expect(await store.countMembers(ALL, BOTH)).toBe(13);
    expect(await store.countMembers(ALL, { label: null, typeIds: ['type:aaa'] })).toBe(5);
    expect(await store.countMembers({ ...ALL, trackers: ['github'] }, { label: 'access', typeIds: [] })).toBe(1);
    expect(await store.countMembers(ALL, { label: 'nope', typeIds: [] })).toBe(0);
  });

  it.skipIf(backend.skip !== null)('memberKeys: newest first, ties by key then id in code point order, unknown created last; pages of any size add up', async () => {
    const seeded = await openSeededStore(backend);
    await seedReportFixture(seeded);
    const { store } = seeded;
    const all = await store.memberKeys(ALL, BOTH, null, null);
    expect(all.map((m) => [m.key, m.id])).toEqual(ORDER);
    expect(all[0]).toEqual({ id: jiraId('ENG-12'), key: 'ENG-12', tracker: 'jira', site: 'acme.atlassian.net', created: B + 2 * DAY, variantId: null });
    expect(all.find((m) => m.key === 'a-9')).toMatchObject({ variantId: 'variant:v2', created: B });
    expect(all.find((m) => m.key === 'PLAT-1')).toMatchObject({ variantId: 'variant:v3' });
    expect(all.find((m) => m.key === '𝐀-1')).toMatchObject({ variantId: 'variant:v1' });
    expect(all.at(-2)).toMatchObject({ key: 'N-1', created: null, variantId: null });
    expect(all.at(-1)).toMatchObject({ key: 'N-2', created: null, variantId: 'variant:v2' });
    for (const size of [1, 2, 5, 11, 12, 13]) {
      const pages: MemberKey[] = [];
      let after: KeyPosition | null = null;
      for (let guard = 0; guard < 20; guard++) {
        const page: MemberKey[] = await store.memberKeys(ALL, BOTH, after, size);
        expect(page.length).toBeLessThanOrEqual(size);
        if (page.length === 0) break;
        pages.push(...page);
        after = position(page[page.length - 1]);
      }
      expect(pages).toEqual(all);
    }
    // After the last (created unknown) member: nothing; after a position among the unknowns: the ones after it.
    expect(await store.memberKeys(ALL, BOTH, position(all.at(-1)!), 5)).toEqual([]);
    expect((await store.memberKeys(ALL, BOTH, { created: null, key: 'A', id: '' }, 5)).map((m) => m.key)).toEqual(['N-1', 'N-2']);
    expect((await store.memberKeys(ALL, BOTH, { created: null, key: 'N-1', id: jiraId('N-1') }, 5)).map((m) => m.key)).toEqual(['N-2']);
    expect((await store.memberKeys(ALL, BOTH, { created: B - DAY, key: '𝐀-1', id: jiraId('𝐀-1') }, null)).map((m) => m.key)).toEqual(['N-1', 'N-2']);
    expect((await store.memberKeys(ALL, { label: null, typeIds: ['type:aaa'] }, null, null)).map((m) => m.key)).toEqual(['PLAT-2', 'a-9', '\uFFFD-1', '𝐀-1', 'N-2']);
    expect((await store.memberKeys(ALL, BOTH, { created: B, key: 'B-1', id: jiraId('B-1') }, 3)).map((m) => m.id)).toEqual(['other.atlassian.net:B-1', jiraId('PLAT-1'), jiraId('PLAT-2')]);
    expect((await store.memberKeys(WINDOW, { label: null, typeIds: ['type:aaa'] }, null, null)).map((m) => m.key)).toEqual(['PLAT-2', 'a-9', '\uFFFD-1', '𝐀-1']);
    expect((await store.memberKeys({ ...WINDOW, project: 'PLAT' }, BOTH, null, 10)).map((m) => m.key)).toEqual(['PLAT-1', 'PLAT-2']);
  });

  it.skipIf(backend.skip !== null)('repeatedPerPeriod: UTC weeks from the index arithmetic and months, by creation and by the team’s resolutions', async () => {
    const seeded = await openSeededStore(backend);
    await seedReportFixture(seeded);
    const { store } = seeded;
    // Before 1970 SQLite's integer division truncates toward zero: -5 days + 1 ms is in "week" 1969-12-29, and -1 ms in 1970-01.
    expect([...(await store.repeatedPerPeriod(ALL, 'week', ['access'], ['type:bbb']))]).toEqual([
      ['1969-12-29', { tickets: 2, repeated: 0 }],
      ['2026-11-02', { tickets: 12, repeated: 9 }],
    ]);
    expect([...(await store.repeatedPerPeriod(ALL, 'month', ['access', 'vpn'], []))]).toEqual([
      ['1969-12-01', { tickets: 1, repeated: 1 }],
      ['1970-01-01', { tickets: 1, repeated: 1 }],
      ['2026-11-01', { tickets: 12, repeated: 10 }],
    ]);
    expect([...(await store.repeatedPerPeriod(WINDOW, 'week', [], []))]).toEqual([['2026-11-02', { tickets: 12, repeated: 0 }]]);
    expect([...(await store.repeatedPerPeriod(ALL, 'week', ['access'], ['type:bbb'], 'resolved-by-people'))]).toEqual([
      ['1969-12-29', { tickets: 1, repeated: 0 }],
      ['2026-11-02', { tickets: 2, repeated: 2 }],
    ]);
  });

  it.skipIf(backend.skip !== null)('listGroupableTickets lists every ticket with its text and labels', async () => {
    const seeded = await openSeededStore(backend);
    await seedReportFixture(seeded);
    const rows = await seeded.store.listGroupableTickets();
    const byId = [...rows].sort((x, y) => (x.id < y.id ? -1 : 1));
    const expected = TICKETS.map((t) => ({ id: t.id, key: t.key, summary: t.summary, description: t.description, labels: t.labels, created: t.created })).sort((x, y) => (x.id! < y.id! ? -1 : 1));
    expect(byId).toEqual(expected);
  });

  it.skipIf(backend.skip !== null)('scanScopeTickets reads each ticket of the scope once, with the same fields; requestTypeNames by id', async () => {
    const seeded = await openSeededStore(backend);
    await seedReportFixture(seeded);
    const { store } = seeded;
    const groups = new Map(GROUPS.map(([id, type, variant]) => [id, { type, variant }]));
    const expected = (scope: ReportScope) =>
      TICKETS.filter((t) => (scope.from === null || (t.created !== null && (t.created as number) >= scope.from && (t.created as number) < scope.to)) && (!scope.project || t.project === scope.project))
        .map((t) => {
          const g = groups.get(t.id as string);
          const labels = [...new Set((JSON.parse(t.labels as string) as string[]).map((l) => l.toLowerCase()))].sort();
          return [t.created ?? NaN, t.resolved ?? NaN, AUTOMATED.has(t.id as string) ? 1 : 0, t.tracker, g?.type ?? '-', g?.variant ?? '-', labels.join(',')].join('|');
        })
        .sort();
    const all = await store.scanScopeTickets(ALL);
    expect(all.size).toBe(TICKETS.length);
    expect(records(all)).toEqual(expected(ALL));
    expect(records(await store.scanScopeTickets(WINDOW))).toEqual(expected(WINDOW));
    expect(records(await store.scanScopeTickets({ ...WINDOW, project: 'PLAT' }))).toEqual(expected({ ...WINDOW, project: 'PLAT' }));
    const github = await store.scanScopeTickets({ ...ALL, trackers: ['github'] });
    expect(records(github)).toEqual([`${B + DAY}|NaN|1|github|-|-|access`]);
    expect(github.trackers).toEqual(['github']);
    expect([...(await store.requestTypeNames(['type:bbb', 'type:aaa', 'type:none', 'type:aaa']))]).toEqual([
      ['type:aaa', 'Add user'],
      ['type:bbb', 'Reset VPN'],
    ]);
  });

  it.skipIf(backend.skip !== null)('the report’s figures computed from the scan are the same (and agree with the SQL repeats per period)', async () => {
    const seeded = await openSeededStore(backend);
    await seedReportFixture(seeded);
    const { store } = seeded;
    const aggregates = aggregateScope(await store.scanScopeTickets(WINDOW));
    const totals = (map: typeof aggregates.labels) => [...map].map(([id, t]) => [id, t.count, t.automated, [...t.weeks]]).sort();
    expect(aggregates.firstCreated).toBe(B - DAY);
    expect([...aggregates.byTracker].sort()).toEqual([['github', 1], ['jira', 10], ['linear', 1]]);
    expect(totals(aggregates.labels)).toEqual([['access', 8, 3, [[weekIndex(B), 8]]], ['vpn', 3, 2, [[weekIndex(B), 3]]]]);
    expect(totals(aggregates.types)).toEqual([['type:aaa', 4, 0, [[weekIndex(B), 4]]], ['type:bbb', 2, 1, [[weekIndex(B), 2]]]]);
    expect(labelTypeOverlaps(aggregates.tickets, ['access', 'vpn']).sort((x, y) => `${x.label}${x.typeId}`.localeCompare(`${y.label}${y.typeId}`))).toEqual([
      { label: 'access', typeId: 'type:aaa', count: 2 },
      { label: 'access', typeId: 'type:bbb', count: 1 },
      { label: 'vpn', typeId: 'type:bbb', count: 2 },
    ]);
    const stats = memberStats(aggregates.tickets, sourceMembers(aggregates, BOTH), 'week');
    expect([stats.count, stats.automated, [...stats.trackers].sort(), [...stats.labels].sort(), [...stats.hoursToResolve]]).toEqual([
      11, 3, [['github', 1], ['jira', 10]], [['access', 8], ['vpn', 2]], [1, 24, 48],
    ]);
    expect([...stats.variants].sort()).toEqual([['variant:v1', 2], ['variant:v2', 1], ['variant:v3', 1], [null, 7]].sort());
    const fromScan = repeatedPerPeriod(aggregates.tickets, 'week', ['access'], ['type:bbb']);
    expect([...fromScan]).toEqual([...(await store.repeatedPerPeriod(WINDOW, 'week', ['access'], ['type:bbb']))]);
    expect([...fromScan]).toEqual([['2026-11-02', { tickets: 12, repeated: 9 }]]);
    // A report reads in one snapshot (PostgreSQL: REPEATABLE READ READ ONLY): every read works there.
    const inSnapshot = await store.snapshot(async () => ({
      scan: (await store.scanScopeTickets(WINDOW)).size,
      labels: await store.labelAggregates(WINDOW),
      types: (await store.typeAggregates(WINDOW)).length,
      count: await store.countMembers(WINDOW, BOTH),
      keys: (await store.memberKeys(WINDOW, BOTH, null, 3)).length,
      newest: await store.newestCreated(WINDOW),
      names: (await store.requestTypeNames(['type:aaa'])).size,
      periods: (await store.repeatedPerPeriod(WINDOW, 'month', [], [], 'resolved-by-people')).size,
    }));
    expect(inSnapshot).toEqual({ scan: 12, labels: await store.labelAggregates(WINDOW), types: 2, count: 11, keys: 3, newest: B + 2 * DAY, names: 1, periods: 1 });
  });
});
