/**
 * The tickets repository on the pass's backend (a real SQLite file or PostgreSQL database: test-backend.ts): site-keyed rows, event-time ordering of snapshots, fields a payload
 * does not carry, the label rows, and site-less rows adopted by a sited snapshot.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/store.js';
import { siteHostOf, ticketRowId } from '../../src/db/tickets.js';
import { freshDatabase, type TestDatabase } from '../support/test-backend.js';
import { ticketWith } from '../support/ticket-fixture.js';

const SITE = 'https://acme.atlassian.net';
let database: TestDatabase;
let store: Store;
const labelsOf = async (id: string) =>
  (await database.all<{ label: string }>('SELECT label FROM ticket_labels WHERE ticket_id = ? ORDER BY label', id)).map((r) => r.label);

beforeAll(async () => {
  database = await freshDatabase('deflect-db-tickets-');
  store = await database.open();
});

describe('ticket row ids', () => {
  it('keys a ticket by the host of its own site, else the default site, else the bare issue id', () => {
    expect(siteHostOf('https://Acme.atlassian.net/')).toBe('acme.atlassian.net');
    expect(siteHostOf('not a url')).toBeNull();
    expect(ticketRowId({ id: '10400', siteUrl: SITE })).toEqual({ id: 'acme.atlassian.net:10400', site: 'acme.atlassian.net' });
    expect(ticketRowId({ id: '10400', siteUrl: null }, 'https://other.atlassian.net')).toEqual({ id: 'other.atlassian.net:10400', site: 'other.atlassian.net' });
    expect(ticketRowId({ id: '10400', siteUrl: null })).toEqual({ id: '10400', site: '' });
  });
});

describe('upsertTickets', () => {
  it('keeps the newest event: an older one is counted stale and changes nothing', async () => {
    const id = 'T1-1';
    const ticket = ticketWith('new form', { id: '501', key: id, labels: ['Repo-Access', 'vpn'] });
    expect(await store.upsertTickets([{ ticket, eventAt: 2_000 }], 'webhook', 10)).toEqual({ written: 1, stale: 0 });
    expect(await store.upsertTickets([{ ticket: { ...ticket, description: 'old form', labels: ['old'] }, eventAt: 1_000 }], 'webhook', 20)).toEqual({ written: 0, stale: 1 });
    const stored = (await store.findTicketByKey(id))!;
    expect(stored).toMatchObject({ id: 'acme.atlassian.net:501', site: 'acme.atlassian.net', description: 'new form', labels: ['Repo-Access', 'vpn'], lastEventAt: 2_000 });
    expect(await labelsOf(stored.id)).toEqual(['repo-access', 'vpn']);
  });

  it('keeps stored fields a payload does not carry (a comment event has no labels)', async () => {
    const ticket = ticketWith('form', { id: '502', key: 'T1-2', labels: ['vpn'] });
    await store.upsertTickets([{ ticket, eventAt: 1_000 }], 'webhook');
    await store.upsertTickets([{ ticket: { ...ticket, labels: null, summary: null, status: 'Done' }, eventAt: 2_000 }], 'webhook');
    expect(await store.findTicketByKey('T1-2')).toMatchObject({ labels: ['vpn'], summary: ticket.summary, status: 'Done', lastEventAt: 2_000 });
    expect(await labelsOf('acme.atlassian.net:502')).toEqual(['vpn']);
  });

  it('a snapshot with labels but no created time keeps the stored created on its label rows (the report reads both)', async () => {
    const ticket = ticketWith('form', { id: '503', key: 'T1-3', labels: ['vpn'], created: 5_000 });
    await store.upsertTickets([{ ticket, eventAt: 1_000 }], 'webhook');
    await store.upsertTickets([{ ticket: { ...ticket, labels: ['vpn', 'repo-access'], created: null }, eventAt: 2_000 }], 'webhook');
    expect(await store.findTicketByKey('T1-3')).toMatchObject({ created: 5_000 });
    const rows = await database.all('SELECT label, created FROM ticket_labels WHERE ticket_id = ? ORDER BY label', 'acme.atlassian.net:503');
    expect(rows).toEqual([{ label: 'repo-access', created: 5_000 }, { label: 'vpn', created: 5_000 }]);
  });

  it('never lets one site overwrite another, and prefers the asked site when keys collide', async () => {
    await store.upsertTickets([{ ticket: ticketWith('a', { id: '503', key: 'T1-3', siteUrl: SITE }) }], 'import', 1);
    await store.upsertTickets([{ ticket: ticketWith('b', { id: '503', key: 'T1-3', siteUrl: 'https://other.atlassian.net' }) }], 'import', 2);
    expect((await store.findTicketByKey('T1-3', SITE))?.description).toBe('a');
    expect((await store.findTicketByKey('T1-3', 'https://other.atlassian.net'))?.description).toBe('b');
  });

  it('adopts a site-less row (a CSV import) when the first sited snapshot of that issue arrives', async () => {
    await store.upsertTickets([{ ticket: ticketWith('csv', { id: '504', key: 'T1-4', siteUrl: null, labels: ['csv-label'] }) }], 'import', 1);
    expect((await store.findTicketByKey('T1-4'))?.id).toBe('504');
    await store.upsertTickets([{ ticket: ticketWith('hook', { id: '504', key: 'T1-4', siteUrl: SITE, labels: ['csv-label', 'new'] }), eventAt: 5 }], 'webhook', 2);
    const rows = await database.all<{ id: string }>("SELECT id FROM tickets WHERE issue_id = '504'");
    expect(rows.map((r) => r.id)).toEqual(['acme.atlassian.net:504']);
    expect(await labelsOf('acme.atlassian.net:504')).toEqual(['csv-label', 'new']);
    expect(await labelsOf('504')).toEqual([]);
  });
});
