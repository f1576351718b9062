/**
 * Conformance of the tickets repository (src/db/tickets.ts, src/db/postgres/repositories/tickets.ts): snapshots,
 * their stale ordering, site-less rows, ticket_labels and the member queries give the same answers on SQLite and
 * PostgreSQL, and concurrent writers of one ticket keep the newest snapshot.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Ticket } from '../../../src/ticket.js';
import { closeStoreBackends, storeBackends } from '../../support/stores.js';
import { closeRawStores, openWithSql } from './raw-sql.js';

const ticket = (overrides: Partial<Ticket> = {}): Ticket => ({
  id: '10400',
  key: 'PLAT-7',
  project: 'PLAT',
  issueType: 'Task',
  status: 'To Do',
  labels: ['Repo-Access', 'vpn', 'repo-access'],
  summary: 'Access to the API repo',
  description: 'please',
  reporter: 'Jane Doe',
  reporterId: 'acc-1',
  created: 1_000,
  updated: 2_000,
  resolved: null,
  siteUrl: 'https://Acme.atlassian.net',
  ...overrides,
});

/** A ticket_groups row (no Store function on both backends writes one on its own). */
const groupRow = 'INSERT INTO ticket_groups (ticket_id, type_id, variant_id, algorithm, reason, deciding_words, nearest, computed_at, created) VALUES (?, ?, NULL, ?, ?, ?, NULL, ?, ?)';

afterAll(async () => {
  await closeRawStores();
  await closeStoreBackends();
});

describe.each(storeBackends())('tickets on %s', (backend) => {
  it.skipIf(backend.skip !== null)('inserts snapshots and reads one back by key, labels lower-cased once each', async () => {
    const { store } = await openWithSql(backend);
    expect(await store.upsertTickets([], 'webhook', 5_000)).toEqual({ written: 0, stale: 0 });
    expect(await store.upsertTickets([{ ticket: ticket(), eventAt: 3_000 }], 'webhook', 5_000)).toEqual({ written: 1, stale: 0 });
    expect(await store.findTicketByKey('PLAT-7')).toEqual({
      id: 'acme.atlassian.net:10400',
      tracker: 'jira',
      issueId: '10400',
      site: 'acme.atlassian.net',
      key: 'PLAT-7',
      project: 'PLAT',
      issueType: 'Task',
      status: 'To Do',
      labels: ['Repo-Access', 'vpn', 'repo-access'],
      summary: 'Access to the API repo',
      description: 'please',
      reporter: 'Jane Doe',
      reporterId: 'acc-1',
      created: 1_000,
      updated: 2_000,
      resolved: null,
      origin: 'webhook',
      lastEventAt: 3_000,
      recordedAt: 5_000,
    });
    expect([...(await store.labelSizes())]).toEqual([['repo-access', 1], ['vpn', 1]]);
    expect(await store.findTicketByKey('PLAT-8')).toBeUndefined();

    // Other trackers: `<tracker>:<host/path>:<id>`; the default `now` is the clock.
    await store.upsertTickets([{ ticket: ticket({ tracker: 'github', id: '1347', key: 'acme/api#12', siteUrl: 'https://github.com', labels: [] }) }], 'import');
    const gh = await store.findTicketByKey('acme/api#12');
    expect([gh?.id, gh?.site, gh?.origin, gh?.labels, gh?.lastEventAt]).toEqual(['github:github.com:1347', 'github.com', 'import', [], null]);
    expect(gh?.recordedAt).toBeGreaterThan(1_700_000_000_000);
  });

  it.skipIf(backend.skip !== null)('an older snapshot is stale (by event time, else by updated); missing fields keep their stored value', async () => {
    const { store } = await openWithSql(backend);
    await store.upsertTickets([{ ticket: ticket({ resolved: 9_000 }), eventAt: 3_000 }], 'webhook', 5_000);
    const result = await store.upsertTickets(
      [
        { ticket: ticket({ summary: 'older event' }), eventAt: 2_999 },
        // Same event time: not older, so written; labels null and summary null keep the stored ones.
        { ticket: ticket({ summary: null, labels: null, status: 'Done', resolved: null, created: null }), eventAt: 3_000 },
      ],
      'webhook',
      6_000,
    );
    expect(result).toEqual({ written: 1, stale: 1 });
    const row = await store.findTicketByKey('PLAT-7');
    expect([row?.summary, row?.labels, row?.status, row?.resolved, row?.created, row?.recordedAt]).toEqual([
      'Access to the API repo', ['Repo-Access', 'vpn', 'repo-access'], 'Done', null, 1_000, 6_000,
    ]);
    expect([...(await store.labelSizes())]).toEqual([['repo-access', 1], ['vpn', 1]]);

    // Without an event time, `updated` decides; a stored row without updated never makes a snapshot stale.
    expect(await store.upsertTickets([{ ticket: ticket({ updated: 1_999, summary: 'older update' }) }], 'import', 7_000)).toEqual({ written: 0, stale: 1 });
    expect(await store.upsertTickets([{ ticket: ticket({ updated: 2_500, summary: 'newer update', labels: ['Only'] }) }], 'import', 7_000)).toEqual({ written: 1, stale: 0 });
    const updated = await store.findTicketByKey('PLAT-7');
    expect([updated?.summary, updated?.labels, updated?.origin, updated?.lastEventAt]).toEqual(['newer update', ['Only'], 'import', 3_000]);
    expect([...(await store.labelSizes())]).toEqual([['only', 1]]);
  });

  it.skipIf(backend.skip !== null)('a sited snapshot adopts the site-less row of its issue id, with its labels and group', async () => {
    const { store, sql } = await openWithSql(backend);
    // A CSV import: no site, no default site → the bare issue id.
    await store.upsertTickets([{ ticket: ticket({ siteUrl: null, labels: ['csv'], created: 1_500 }) }], 'import', 4_000);
    expect((await store.findTicketByKey('PLAT-7'))?.id).toBe('10400');
    await sql(groupRow, ['10400', 'type:aaa', 'text-v2', 'imported', '[]', 4_000, 1_500]);

    await store.upsertTickets([{ ticket: ticket({ labels: null, summary: null, created: 1_600 }), eventAt: 5_000 }], 'webhook', 6_000);
    const adopted = await store.findTicketByKey('PLAT-7');
    expect([adopted?.id, adopted?.site, adopted?.labels, adopted?.summary, adopted?.created]).toEqual([
      'acme.atlassian.net:10400', 'acme.atlassian.net', ['csv'], 'Access to the API repo', 1_600,
    ]);
    expect((await store.listGroupMembers('type', 'type:aaa')).map((t) => [t.id, t.siteUrl])).toEqual([['10400', 'https://acme.atlassian.net']]);
    expect((await store.listGroupMembers('label', 'csv')).map((t) => t.key)).toEqual(['PLAT-7']);
    // Listed by the adopted row's new created time.
    expect((await store.listTicketsCreatedIn({ from: 1_600, to: 1_601 }, 'type:aaa')).map((t) => t.key)).toEqual(['PLAT-7']);

    // A snapshot without a site (and no default) updates the most recently recorded row of its issue id.
    await store.upsertTickets([{ ticket: ticket({ siteUrl: 'https://other.atlassian.net', key: 'OPS-1', labels: [] }) }], 'webhook', 7_000);
    await store.upsertTickets([{ ticket: ticket({ siteUrl: null, key: 'OPS-1', summary: 'no site' }) }], 'import', 8_000);
    const other = await store.findTicketByKey('OPS-1');
    expect([other?.id, other?.summary, other?.recordedAt]).toEqual(['other.atlassian.net:10400', 'no site', 8_000]);
    // With a default site, a site-less snapshot goes to that site's row.
    await store.upsertTickets([{ ticket: ticket({ siteUrl: null, summary: 'default site' }) }], 'import', 9_000, { defaultSiteUrl: 'https://ACME.atlassian.net/' });
    expect((await store.findTicketByKey('PLAT-7'))?.summary).toBe('default site');
  });

  it.skipIf(backend.skip !== null)('by key: the asked site first, else the most recently recorded', async () => {
    const { store } = await openWithSql(backend);
    await store.upsertTickets([{ ticket: ticket({ summary: 'acme' }) }], 'webhook', 1_000);
    await store.upsertTickets([{ ticket: ticket({ summary: 'beta', siteUrl: 'https://beta.atlassian.net' }) }], 'webhook', 2_000);
    expect((await store.findTicketByKey('PLAT-7'))?.summary).toBe('beta');
    expect((await store.findTicketByKey('PLAT-7', 'https://ACME.atlassian.net'))?.summary).toBe('acme');
    expect((await store.findTicketByKey('PLAT-7', 'https://gamma.atlassian.net'))?.summary).toBe('beta');
    expect((await store.findTicketByKey('PLAT-7', 'not a url'))?.summary).toBe('beta');
  });

  it.skipIf(backend.skip !== null)('label sizes and group members: oldest first (no created time first), then by key bytewise', async () => {
    const { store, sql } = await openWithSql(backend);
    expect(await store.labelSizes()).toEqual(new Map());
    expect(await store.listGroupMembers('label', 'vpn')).toEqual([]);
    await store.upsertTickets(
      [
        { ticket: ticket({ id: '1', key: 'b-2', created: 2_000, labels: ['VPN', 'b'] }) },
        { ticket: ticket({ id: '2', key: 'a-2', created: 2_000, labels: ['vpn'] }) },
        { ticket: ticket({ id: '3', key: 'C-9', created: 3_000, labels: ['vpn', 'Zeta', 'a'] }) },
        { ticket: ticket({ id: '4', key: 'z-1', created: null, labels: ['vpn'] }) },
        { ticket: ticket({ id: '5', key: 'A-1', created: 1_000, labels: [] }) },
      ],
      'import',
      5_000,
    );
    expect([...(await store.labelSizes())]).toEqual([['a', 1], ['b', 1], ['vpn', 4], ['zeta', 1]]);
    const members = await store.listGroupMembers('label', 'vpn');
    expect(members.map((t) => t.key)).toEqual(['z-1', 'a-2', 'b-2', 'C-9']);
    expect(members[1]).toEqual({ ...ticket({ id: '2', key: 'a-2', created: 2_000, labels: ['vpn'] }), tracker: 'jira', siteUrl: 'https://acme.atlassian.net' });
    for (const id of ['1', '3', '5']) await sql(groupRow, [`acme.atlassian.net:${id}`, 'type:t1', 'text-v2', 'r', '[]', 5_000, null]);
    expect((await store.listGroupMembers('type', 'type:t1')).map((t) => t.key)).toEqual(['A-1', 'b-2', 'C-9']);
    expect(await store.listGroupMembers('type', 'type:none')).toEqual([]);

    expect((await store.listTicketsCreatedIn({ from: 2_000, to: 3_000 })).map((t) => t.key)).toEqual(['a-2', 'b-2']);
    expect((await store.listTicketsCreatedIn({ from: null, to: 2_000 })).map((t) => t.key)).toEqual(['z-1', 'A-1']);
    expect((await store.listTicketsCreatedIn({ from: null, to: 10_000 }, 'type:t1')).map((t) => t.key)).toEqual(['A-1', 'b-2', 'C-9']);
    expect((await store.listTicketsCreatedIn({ from: 1_500, to: 10_000 }, 'type:t1')).map((t) => t.key)).toEqual(['b-2', 'C-9']);
    expect(await store.listTicketsCreatedIn({ from: 10_000, to: 20_000 })).toEqual([]);
  });

  it.skipIf(backend.skip !== null)('concurrent writers of one ticket keep the newest snapshot, whichever commits first', async () => {
    const { store } = await openWithSql(backend);
    const order = [4, 9, 1, 7, 3, 8, 2, 6, 5];
    const results = await Promise.all(order.map((n) => store.upsertTickets([{ ticket: ticket({ summary: `event ${n}`, labels: [`l${n}`] }), eventAt: n * 1_000 }], 'webhook', 10_000 + n)));
    expect(results.reduce((sum, r) => sum + r.written + r.stale, 0)).toBe(order.length);
    const row = await store.findTicketByKey('PLAT-7');
    expect([row?.summary, row?.lastEventAt, row?.labels]).toEqual(['event 9', 9_000, ['l9']]);
    expect([...(await store.labelSizes())]).toEqual([['l9', 1]]);
  });
});
