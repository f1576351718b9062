/**
 * A report row's member keys paged from `GET /api/reports/top-tickets/groups/:id/keys` (a real deflect on a loopback
 * socket, its real SQLite file): the report lists the newest 1,000 keys of a row with more, and its `keysNext` leads
 * through pages whose union is the row's member set — a label and the request type folded into it, tickets sharing
 * one `created` across page boundaries included; bad cursors, limits and rows are 4xx. Then `deflect report`: every
 * key by default (locally and through `--url`, following the pages), the first page with `--keys first`. And the
 * report page in a headless Chromium (skipped without /usr/bin/chromium): "more tickets" appends the next pages.
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertTickets } from '../../src/db/tickets.js';
import { regroupTickets } from '../../src/reports/regroup.js';
import type { ReportKeysPage } from '../../src/reports/report-keys-page.js';
import type { ReportGroup, TopTicketsReport } from '../../src/reports/report-types.js';
import type { Ticket } from '../../src/ticket.js';
import { createTestToken } from '../support/api-token.js';
import { EXAMPLE_RULES, startDeflect, type DeflectUnderTest } from '../support/deflect-under-test.js';
import { runCli } from '../support/run-cli.js';

const DAY = 86_400_000;
let deflect: DeflectUnderTest;
let token: string;
/** Keys of the access requests: labelled ones (1,900) and unlabelled ones of the same wording (400). */
const labelled: string[] = [];
const unlabelled: string[] = [];
/** 1,200 labelled tickets share this `created` (near the newest), so the first page and the next split ties. */
const SAME_TIME = Date.now() - 2 * 3_600_000;

const ticket = (n: number, summary: string, labels: string[], created: number): Ticket => ({
  id: String(50_000 + n), key: `ACC-${n}`, project: 'ACC', issueType: 'Task', status: 'Done', labels, summary, description: null,
  reporter: 'Dev', reporterId: 'dev', created, updated: created, resolved: created + 3_600_000, siteUrl: 'https://acme.atlassian.net',
});

beforeAll(async () => {
  deflect = await startDeflect();
  token = await createTestToken(deflect.db.sqlite!, 'auditor');
  const tickets: Ticket[] = [];
  const repos = ['api', 'web', 'infra', 'docs', 'cli'];
  for (let n = 1; n <= 2300; n++) {
    const created = n <= 1200 ? SAME_TIME : Date.now() - ((n * 37) % 80) * DAY - n * 1000;
    const t = ticket(n, `Please grant me access to the ${repos[n % repos.length]} repository`, n <= 1900 ? ['access-request'] : [], created);
    tickets.push(t);
    (n <= 1900 ? labelled : unlabelled).push(t.key);
  }
  for (let n = 1; n <= 40; n++) tickets.push(ticket(10_000 + n, `DNS record for host ${n}`, ['dns-change'], Date.now() - n * DAY));
  upsertTickets(deflect.db.sqlite!, tickets.map((t) => ({ ticket: t })), 'import');
  await regroupTickets(deflect.db);
});
afterAll(async () => deflect?.close(1000));

const get = async <T>(path: string, auth = true): Promise<{ status: number; body: T }> => {
  const response = await fetch(`${deflect.url}${path}`, { headers: auth ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, body: (await response.json()) as T };
};

async function rowOf(label: string): Promise<ReportGroup> {
  const { status, body } = await get<TopTicketsReport>('/api/reports/top-tickets?since=90d');
  expect(status).toBe(200);
  return body.groups.find((g) => g.label === label)!;
}
const accessRow = () => rowOf('access-request');

describe('GET /api/reports/top-tickets/groups/:id/keys', () => {
  it('the report lists a row’s newest 1,000 keys; its pages add up to the row’s members, each once, newest first', async () => {
    const row = await accessRow();
    // The unlabelled tickets of the same wording are in the row too: a type folded into its label.
    expect(row.count).toBe(2300);
    expect(row.keyCount).toBe(2300);
    expect(row.keys).toHaveLength(1000);
    expect(row.links.map((l) => l.key)).toEqual(row.keys);
    expect(row.variants.flatMap((v) => v.keys).sort()).toEqual([...row.keys].sort());
    expect(row.keysNext).toMatch(/^\/api\/reports\/top-tickets\/groups\/[^/]+\/keys\?cursor=[\w-]+$/);

    const keys = [...row.keys];
    let pages = 0;
    for (let next: string | null = row.keysNext; next; pages++) {
      const page = await get<ReportKeysPage>(`${next}&limit=700`);
      expect(page.status).toBe(200);
      expect(page.body).toMatchObject({ id: row.id, keyCount: 2300 });
      expect(page.body.links.map((l) => l.key)).toEqual(page.body.keys);
      expect(page.body.variants.flatMap((v) => v.keys).sort()).toEqual([...page.body.keys].sort());
      keys.push(...page.body.keys);
      next = page.body.next;
    }
    expect(pages).toBe(2); // 1,000 + 700 + 600
    expect(keys).toHaveLength(2300);
    expect(new Set(keys)).toEqual(new Set([...labelled, ...unlabelled]));
    // Newest first across pages: the created times the tickets were given never rise.
    const created = new Map([...labelled, ...unlabelled].map((k) => [k, deflect.db.sqlite!.$client.prepare('SELECT created FROM tickets WHERE key = ?').pluck().get(k) as number]));
    for (let i = 1; i < keys.length; i++) expect(created.get(keys[i])!).toBeLessThanOrEqual(created.get(keys[i - 1])!);
  });

  it('without a cursor, the first page of the row in the report the parameters ask for', async () => {
    const row = await accessRow();
    const first = await get<ReportKeysPage>(`/api/reports/top-tickets/groups/${encodeURIComponent(row.id)}/keys?since=90d&limit=5`);
    expect(first.status).toBe(200);
    expect(first.body.keys).toEqual(row.keys.slice(0, 5));
    expect(first.body.next).toMatch(/cursor=/);
    const dns = await get<ReportKeysPage>(`/api/reports/top-tickets/groups/${encodeURIComponent((await rowOf('dns-change')).id)}/keys?since=90d`);
    expect(dns.status).toBe(200);
    expect(dns.body).toMatchObject({ keyCount: 40, next: null });
    expect(dns.body.keys).toHaveLength(40);
  });

  it('answers 400 for a bad cursor or limit and for another row’s cursor, 404 for a row the report does not have, 401 without a token', async () => {
    const row = await accessRow();
    const path = `/api/reports/top-tickets/groups/${encodeURIComponent(row.id)}/keys`;
    const garbage = await get<{ message: string }>(`${path}?cursor=bm90LWEtY3Vyc29y`);
    expect(garbage.status).toBe(400);
    expect(garbage.body.message).toMatch(/^invalid query: invalid cursor/);
    const cursor = new URL(row.keysNext!, deflect.url).searchParams.get('cursor')!;
    const elsewhere = await get<{ message: string }>(`/api/reports/top-tickets/groups/${encodeURIComponent((await rowOf('dns-change')).id)}/keys?cursor=${cursor}`);
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.message).toContain('continues the keys of row');
    for (const limit of ['0', '10001', 'many']) {
      const bad = await get<{ message: string }>(`${path}?limit=${limit}`);
      expect(bad.status, limit).toBe(400);
      expect(bad.body.message).toMatch(/^invalid query: limit/);
    }
    const unknown = await get<{ message: string }>(`/api/reports/top-tickets/groups/${encodeURIComponent('label:no-such-label')}/keys?since=90d`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toContain('no row "label:no-such-label"');
    expect((await get(`${path}?since=90d`, false)).status).toBe(401);
  });
});

describe('deflect report and the keys', () => {
  const env = () => ({ DEFLECT_DB: deflect.dbPath, DEFLECT_RULES: EXAMPLE_RULES });
  const rowOf = (stdout: string) => (JSON.parse(stdout) as TopTicketsReport).groups.find((g) => g.label === 'access-request')!;

  it('--format json lists every key, sorted by key, locally and through --url (following the pages); --keys first the API’s page', async () => {
    const local = await runCli(['report', '--since', '90d', '--format', 'json'], env());
    expect(local.code, local.stderr).toBe(0);
    const all = rowOf(local.stdout);
    expect(all).toMatchObject({ keyCount: 2300, keysNext: null });
    expect(all.keys).toEqual([...labelled, ...unlabelled].sort((a, b) => Number(a.slice(4)) - Number(b.slice(4))));
    expect(all.links.map((l) => l.key)).toEqual(all.keys);
    expect(all.variants.flatMap((v) => v.keys)).toHaveLength(2300);

    const remote = await runCli(['report', '--since', '90d', '--format', 'json', '--url', deflect.url], { ...env(), DEFLECT_TOKEN: token });
    expect(remote.code, remote.stderr).toBe(0);
    const viaApi = rowOf(remote.stdout);
    expect(viaApi.keys).toEqual(all.keys);
    expect(viaApi.links).toEqual(all.links);
    expect(viaApi.variants).toEqual(all.variants);

    const first = await runCli(['report', '--since', '90d', '--format', 'json', '--keys', 'first'], env());
    expect(first.code, first.stderr).toBe(0);
    const page = rowOf(first.stdout);
    expect(page.keys).toHaveLength(1000);
    expect(page.keysNext).toMatch(/cursor=/);
    const bad = await runCli(['report', '--keys', 'some'], env());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid --keys "some": use all or first');
  });
});

const CHROMIUM = '/usr/bin/chromium';

describe.skipIf(!existsSync(CHROMIUM))('the report page', () => {
  it('lists a row’s first 1,000 tickets under "all 2,300" and appends the rest with "more tickets"', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${deflect.url}/reports/top-tickets?since=90d`);
      await page.fill('#token', token);
      await Promise.all([page.waitForURL(/\/reports\/top-tickets\?since=90d$/), page.click('button[type="submit"]')]);
      await page.waitForSelector('html[data-state="ready"]', { state: 'attached', timeout: 15_000 });
      const row = page.locator(`#groups-table tr[data-group-id="${(await accessRow()).id}"]`);
      const all = row.locator('details.all-tickets');
      await all.locator('summary').click();
      expect(await all.locator('summary').textContent()).toBe('all 2,300');
      const listed = all.locator('ul.ticket-list > li');
      expect(await listed.count()).toBe(1000);
      await all.locator('button.more-tickets').click();
      await page.waitForFunction((n) => document.querySelectorAll('details.all-tickets[open] ul.ticket-list > li').length >= n, 2000);
      await all.locator('button.more-tickets').click();
      await page.waitForFunction((n) => document.querySelectorAll('details.all-tickets[open] ul.ticket-list > li').length >= n, 2300);
      expect(await listed.count()).toBe(2300);
      expect(await all.locator('button.more-tickets').count()).toBe(0);
      expect(new Set(await listed.allTextContents())).toEqual(new Set([...labelled, ...unlabelled]));
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
