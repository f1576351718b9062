/**
 * Conformance of the impact report's reads (`src/db/impact-queries.ts`) and the stored text grouping
 * (`src/db/text-groups.ts`) on both backends: the same rows give the same answers, `saveGrouping` replaces the grouping
 * atomically (a failure, or a rolled-back outer transaction, leaves the previous one whole), and two regroupings at
 * once both succeed, one after the other.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Grouping, RequestType, TicketAssignment } from '../../../src/grouping/grouping-contract.js';
import type { ImpactTicketRow } from '../../../src/db/impact-queries.js';
import { closeStoreBackends, storeBackends } from '../../support/stores.js';
import { B, DAY, jiraId, seedReportFixture } from './report-fixture.js';
import { actionRow, closeSeededStores, deliveryRow, openSeededStore, runRow, ticketRow } from './seed-report-rows.js';

afterAll(async () => {
  await closeStoreBackends();
  await closeSeededStores();
});

const sortRows = (rows: ImpactTicketRow[]) => [...rows].sort((x, y) => `${x.tracker} ${x.key} ${x.team}`.localeCompare(`${y.tracker} ${y.key} ${y.team}`) || (x.created ?? 0) - (y.created ?? 0));

function type(id: string, count: number, variants: Array<[string, number]>): RequestType {
  return {
    id,
    kind: 'type',
    name: `name of ${id}`,
    keyWords: ['add', id],
    count,
    keys: [],
    exampleKeys: ['PLAT-1'],
    labels: [{ label: 'access', count }],
    dominantLabel: count > 2 ? 'access' : null,
    variants: variants.map(([vid, n]) => ({ id: vid, template: `template ${vid}`, count: n, keys: [] })),
  };
}
const assign = (typeId: string | null, variantId: string | null, extra: Partial<TicketAssignment> = {}): TicketAssignment => ({
  typeId,
  variantId,
  reason: `because ${typeId}`,
  decidingWords: typeId ? ['add'] : [],
  nearest: null,
  summary: null,
  ...extra,
});

/** Types `type:a` (3), `type:B` (3), `type:c` (1); assignments by key; `GONE-1` has no ticket id and is skipped. */
const FIRST: Grouping = {
  algorithm: 'text-v2',
  parameters: {},
  types: [type('type:a', 3, [['variant:2', 2], ['variant:1', 1]]), type('type:B', 3, [['variant:3', 3]]), type('type:c', 1, [['variant:4', 1]])],
  assignments: new Map([
    ['PLAT-1', assign('type:a', 'variant:2')],
    ['PLAT-2', assign('type:a', 'variant:2')],
    ['a-9', assign('type:a', 'variant:1')],
    ['B-1', assign('type:B', 'variant:3')],
    ['N-1', assign('type:B', 'variant:3')],
    ['Z-1', assign(null, null, { reason: 'alone', nearest: { typeId: 'type:a', name: 'name of type:a', similarity: 0.4, why: 'too far' } })],
    ['GONE-1', assign('type:c', 'variant:4')],
  ]),
};
const IDS = new Map(['PLAT-1', 'PLAT-2', 'a-9', 'B-1', 'N-1', 'Z-1'].map((k) => [k, jiraId(k)]));
const SECOND: Grouping = { algorithm: 'text-v2', parameters: {}, types: [type('type:z', 2, [['variant:9', 2]])], assignments: new Map([['PLAT-1', assign('type:z', 'variant:9')], ['PLAT-2', assign('type:z', 'variant:9')]]) };

describe.each(storeBackends())('impactQueries and textGroups on %s', (backend) => {
  it.skipIf(backend.skip !== null)('impactTicketRows: every site’s ticket of each ref, its first automated run and deflect’s resolution', async () => {
    const seeded = await openSeededStore(backend);
    await seedReportFixture(seeded);
    await seeded.insert('tickets', [ticketRow('R-1', { reporter: 'Ann', reporter_id: 'acc-1', created: B }), ticketRow('R-2', { reporter: 'Bob', created: B })]);
    // Two more automated runs of PLAT-1, finished at the same time before run 1: the lower id is first; a transition
    // finished before the ticket was created does not count as deflect's resolution.
    await seeded.insert('deliveries', [deliveryRow(9), deliveryRow(10)]);
    await seeded.insert('runs', [runRow(9, 'PLAT-1', { handler: 'zz-handler', finished_at: 900, idempotency_key: 'k9' }), runRow(10, 'PLAT-1', { handler: 'aa-handler', finished_at: 900, idempotency_key: 'k10' })]);
    await seeded.insert('actions', [actionRow(4, 9, 'PLAT-1', { finished_at: B - 1 })]);
    const { store } = seeded;
    expect(await store.impactTicketRows([])).toEqual([]);
    const rows = await store.impactTicketRows([
      { tracker: 'jira', key: 'PLAT-1' },
      { tracker: 'linear', key: 'ENG-12' },
      { tracker: 'jira', key: 'ENG-12' },
      { tracker: 'github', key: 'acme/api#12' },
      { tracker: 'jira', key: 'B-1' },
      { tracker: 'jira', key: 'NOPE-1' },
      { tracker: 'github', key: 'PLAT-1' },
      { tracker: 'jira', key: 'R-1' },
      { tracker: 'jira', key: 'R-2' },
    ]);
    const row = (tracker: string, key: string, fields: Partial<ImpactTicketRow>): ImpactTicketRow => ({
      tracker, key, team: key.split('-')[0], reporter: null, created: null, resolved: null, automatedAt: null, automatedBy: null, deflectResolvedAt: null, ...fields,
    });
    expect(sortRows(rows)).toEqual(
      sortRows([
        row('jira', 'PLAT-1', { created: B, resolved: B + 3_600_000, automatedAt: 900, automatedBy: 'zz-handler', deflectResolvedAt: B + 7_200_000 }),
        row('linear', 'ENG-12', { created: B + 2 * DAY, resolved: B + 3 * DAY, automatedAt: 1_005, automatedBy: 'grant-access', deflectResolvedAt: B + 2.5 * DAY }),
        row('jira', 'ENG-12', { created: B + 2 * DAY, resolved: B + 4 * DAY }),
        row('github', 'acme/api#12', { team: 'acme/api', created: B + DAY, automatedAt: 1_004, automatedBy: 'grant-access' }),
        row('jira', 'B-1', { created: B }),
        row('jira', 'B-1', { created: B }),
        row('jira', 'R-1', { reporter: 'acc-1', created: B }),
        row('jira', 'R-2', { reporter: 'Bob', created: B }),
      ]),
    );
    // A ref named twice gives its rows twice; refs are read 500 per statement, and every chunk answers.
    const many = [...Array.from({ length: 700 }, (_, i) => ({ tracker: 'jira', key: `NONE-${i}` })), { tracker: 'jira', key: 'Z-1' }, { tracker: 'jira', key: 'Z-1' }];
    expect((await store.impactTicketRows(many)).map((r) => [r.key, r.automatedAt, r.deflectResolvedAt])).toEqual([
      ['Z-1', 1_007, null],
      ['Z-1', 1_007, null],
    ]);
  });

  it.skipIf(backend.skip !== null)('an empty grouping: no types, nothing grouped, every ticket is new', async () => {
    const seeded = await openSeededStore(backend);
    const { store } = seeded;
    expect(await store.groupingMeta()).toEqual({ algorithm: null, computedAt: null, ticketsSince: 0, types: 0 });
    await seedReportFixture(seeded, false);
    expect(await store.groupingMeta()).toEqual({ algorithm: null, computedAt: null, ticketsSince: 16, types: 0 });
    expect(await store.listRequestTypes()).toEqual([]);
    expect(await store.listVariants()).toEqual([]);
    expect(await store.listVariants([])).toEqual([]);
    expect(await store.variantTemplates([])).toEqual(new Map());
    expect(await store.memberVariants('type:a')).toEqual(new Map());
    expect(await store.findTicketGroup('PLAT-1')).toBeUndefined();
  });

  it.skipIf(backend.skip !== null)('saveGrouping stores types, variants and assignments (with the ticket’s created); the readers answer from them', async () => {
    const seeded = await openSeededStore(backend);
    await seedReportFixture(seeded, false);
    const { store } = seeded;
    await store.saveGrouping(FIRST, IDS, 2_000);
    expect(await store.groupingMeta()).toEqual({ algorithm: 'text-v2', computedAt: 2_000, ticketsSince: 0, types: 3 });
    await seeded.insert('tickets', [ticketRow('NEW-1', { recorded_at: 3_000 })]);
    expect((await store.groupingMeta()).ticketsSince).toBe(1);
    // Largest first, ties by id bytewise (`type:B` before `type:a`).
    expect(await store.listRequestTypes()).toEqual([
      { id: 'type:B', name: 'name of type:B', size: 3, algorithm: 'text-v2', dominantLabel: 'access' },
      { id: 'type:a', name: 'name of type:a', size: 3, algorithm: 'text-v2', dominantLabel: 'access' },
      { id: 'type:c', name: 'name of type:c', size: 1, algorithm: 'text-v2', dominantLabel: null },
    ]);
    expect(await store.listVariants()).toEqual([
      { id: 'variant:3', typeId: 'type:B', template: 'template variant:3', size: 3 },
      { id: 'variant:2', typeId: 'type:a', template: 'template variant:2', size: 2 },
      { id: 'variant:1', typeId: 'type:a', template: 'template variant:1', size: 1 },
      { id: 'variant:4', typeId: 'type:c', template: 'template variant:4', size: 1 },
    ]);
    expect((await store.listVariants(['type:c', 'type:a', 'type:none'])).map((v) => v.id)).toEqual(['variant:2', 'variant:1', 'variant:4']);
    expect([...(await store.variantTemplates(['variant:4', 'variant:1', 'variant:nope']))]).toEqual([
      ['variant:1', 'template variant:1'],
      ['variant:4', 'template variant:4'],
    ]);
    expect([...(await store.memberVariants('type:a'))].sort()).toEqual([
      ['PLAT-1', 'variant:2'],
      ['PLAT-2', 'variant:2'],
      ['a-9', 'variant:1'],
    ]);
    expect(await store.memberVariants('type:c')).toEqual(new Map());
    expect(await store.findTicketGroup('PLAT-1')).toEqual({
      ticketId: jiraId('PLAT-1'),
      summary: 'summary of PLAT-1',
      algorithm: 'text-v2',
      reason: 'because type:a',
      decidingWords: ['add'],
      type: { id: 'type:a', name: 'name of type:a', size: 3 },
      variant: { id: 'variant:2', template: 'template variant:2', size: 2 },
      nearest: null,
    });
    expect(await store.findTicketGroup('Z-1')).toEqual({
      ticketId: jiraId('Z-1'),
      summary: 'summary of Z-1',
      algorithm: 'text-v2',
      reason: 'alone',
      decidingWords: [],
      type: null,
      variant: null,
      nearest: { typeId: 'type:a', name: 'name of type:a', similarity: 0.4, why: 'too far' },
    });
    expect(await store.findTicketGroup('GONE-1')).toBeUndefined();
    // The report reads the copies of `created`: a type's members in a window.
    expect(await store.countMembers({ from: B, to: B + DAY, project: null }, { label: null, typeIds: ['type:a'] })).toBe(3);
    expect(await store.countMembers({ from: null, to: B + DAY, project: null }, { label: null, typeIds: ['type:B'] })).toBe(2);
  });

  it.skipIf(backend.skip !== null)('saveGrouping replaces the whole grouping; two keys of one ticket: the later assignment wins', async () => {
    const seeded = await openSeededStore(backend);
    await seedReportFixture(seeded, false);
    const { store } = seeded;
    await store.saveGrouping(FIRST, IDS, 2_000);
    const both = new Map([...IDS, ['plat-1', jiraId('PLAT-1')]]);
    await store.saveGrouping({ ...SECOND, assignments: new Map([...SECOND.assignments, ['plat-1', assign(null, null, { reason: 'later' })]]) }, both, 4_000);
    expect((await store.listRequestTypes()).map((t) => t.id)).toEqual(['type:z']);
    expect((await store.listVariants()).map((v) => v.id)).toEqual(['variant:9']);
    expect(await store.findTicketGroup('a-9')).toBeUndefined();
    expect(await store.findTicketGroup('PLAT-1')).toMatchObject({ reason: 'later', type: null });
    expect([...(await store.memberVariants('type:z'))]).toEqual([['PLAT-2', 'variant:9']]);
    expect(await store.groupingMeta()).toMatchObject({ algorithm: 'text-v2', computedAt: 4_000, types: 1 });
  });

  it.skipIf(backend.skip !== null)('saveGrouping is atomic: a failing one, or one in a transaction that rolls back, leaves the previous grouping whole', async () => {
    const seeded = await openSeededStore(backend);
    await seedReportFixture(seeded, false);
    const { store } = seeded;
    await store.saveGrouping(FIRST, IDS, 2_000);
    const before = { types: await store.listRequestTypes(), variants: await store.listVariants(), plat1: await store.findTicketGroup('PLAT-1') };
    // An assignment to a ticket id that is not stored breaks the foreign key after the old rows were deleted.
    await expect(store.saveGrouping(SECOND, new Map([['PLAT-1', 'no-such-ticket']]), 4_000)).rejects.toThrow();
    // Two types with one id break the primary key.
    await expect(store.saveGrouping({ ...SECOND, types: [...SECOND.types, type('type:z', 1, [])] }, IDS, 4_000)).rejects.toThrow();
    await expect(
      store.transaction(async () => {
        await store.saveGrouping(SECOND, IDS, 4_000);
        throw new Error('caller fails');
      }),
    ).rejects.toThrow('caller fails');
    expect({ types: await store.listRequestTypes(), variants: await store.listVariants(), plat1: await store.findTicketGroup('PLAT-1') }).toEqual(before);
    expect(await store.groupingMeta()).toMatchObject({ computedAt: 2_000, types: 3 });
  });

  it.skipIf(backend.skip !== null)('two regroupings at once both succeed, one after the other: the stored grouping is one of them, whole', async () => {
    const seeded = await openSeededStore(backend);
    await seedReportFixture(seeded, false);
    const { store } = seeded;
    await store.saveGrouping(FIRST, IDS, 1_000);
    const times = [2_000, 3_000, 4_000, 5_000, 6_000, 7_000];
    await Promise.all(times.map((at, i) => store.saveGrouping(i % 2 ? SECOND : FIRST, IDS, at)));
    const meta = await store.groupingMeta();
    const types = (await store.listRequestTypes()).map((t) => t.id);
    if (types.length === 1) expect(types).toEqual(['type:z']);
    else expect(types).toEqual(['type:B', 'type:a', 'type:c']);
    expect(meta.types).toBe(types.length);
    expect(times).toContain(meta.computedAt);
    expect((await store.listVariants()).length).toBe(types.length === 1 ? 1 : 4);
  });
});
