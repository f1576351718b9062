/**
 * The tracker filter through the real server on a loopback socket (real SQLite file seeded with Jira, GitHub and
 * Linear tickets and runs): `GET /api/reports/top-tickets?tracker=` and `GET /api/runs?tracker=` (repeated or comma
 * list; an unknown name answers 400 naming the valid ones), then the report page in a real headless Chromium: each row
 * says how many tickets came from each tracker, each ticket links to its own tracker, the Tracker control reloads the
 * report through the API and keeps the filter in the URL, a GitHub repository project keeps its case, and an unknown
 * tracker in the URL shows the API's message. Screenshots: test/.tmp/report-page-trackers*.png.
 * Skipped when /usr/bin/chromium is not installed.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRun } from '../../src/reports/audit.js';
import { regroupTickets } from '../../src/reports/regroup.js';
import type { TopTicketsReport } from '../../src/reports/report-types.js';
import { createTestToken } from '../support/api-token.js';
import { REPO_ROOT, startDeflect, type DeflectUnderTest } from '../support/deflect-under-test.js';
import { JIRA_SITE, seedMultiTracker } from '../support/multi-tracker-tickets.js';

const CHROMIUM = '/usr/bin/chromium';

if (!existsSync(CHROMIUM)) console.warn(`tracker report page test: browser part skipped, ${CHROMIUM} is not installed (apt-get install chromium)`);

describe('the tracker filter over HTTP and on the report page', () => {
  let server: DeflectUnderTest;
  let auth: { authorization: string };
  let token: string;
  let runs: { github: number; linear: number; jira: number };
  const get = async (path: string) => {
    const response = await fetch(`${server.url}${path}`, { headers: auth });
    return { status: response.status, body: (await response.json()) as any };
  };
  const report = async (query: string) => (await get(`/api/reports/top-tickets?${query}`)).body as TopTicketsReport;

  beforeAll(async () => {
    server = await startDeflect({ env: { JIRA_BASE_URL: JIRA_SITE, JIRA_EMAIL: 'bot@example.test', JIRA_API_TOKEN: 'test-token', JIRA_ACCOUNT_ID: 'deflect-bot', DEFLECT_DRY_RUN: 'true' } });
    ({ runs } = seedMultiTracker(server.db.sqlite!, Date.now()));
    await regroupTickets(server.db);
    token = await createTestToken(server.db.sqlite!, 'auditor', 'tracker-page-reader');
    auth = { authorization: `Bearer ${token}` };
  });
  afterAll(async () => {
    await server?.close(1000);
  });

  it('filters the report by tracker, repeated or as a comma list, and splits the counts', async () => {
    const all = await report('since=all');
    const row = all.groups.find((g) => g.keys.includes('PLAT-1'))!;
    expect(row.trackers).toEqual({ jira: 3, github: 2, linear: 1 });
    const github = await report('since=all&tracker=github');
    expect(github.trackers).toEqual(['github']);
    expect(github.groups.find((g) => g.id === row.id)).toMatchObject({ count: row.trackers.github, trackers: { github: row.trackers.github } });
    const repeated = await report('since=all&tracker=linear&tracker=jira');
    const comma = await report('since=all&tracker=JIRA,%20linear');
    expect(repeated.trackers).toEqual(['jira', 'linear']);
    expect(comma.trackers).toEqual(['jira', 'linear']);
    expect(repeated.totalTickets).toBe(comma.totalTickets);
    expect(repeated.totalTickets + github.totalTickets).toBe(all.totalTickets);
    // An empty value is no filter.
    expect((await report('since=all&tracker=')).totalTickets).toBe(all.totalTickets);
  });

  it('answers 400 naming the valid trackers for an unknown one, on the report and the runs', async () => {
    for (const path of ['/api/reports/top-tickets?tracker=gitlab', '/api/runs?tracker=jira,gitlab']) {
      const { status, body } = await get(path);
      expect(status, path).toBe(400);
      expect(body.message, path).toBe('invalid query: tracker: unknown tracker "gitlab": use jira, github, linear or trello');
    }
    const { status } = await get(`/api/runs?${Array.from({ length: 11 }, () => 'tracker=jira').join('&')}`);
    expect(status).toBe(400);
  });

  it('lists runs with their display key and tracker, filtered by tracker', async () => {
    const all = (await get('/api/runs')).body as { runs: AuditRun[] };
    expect(all.runs.map((r) => [r.id, r.ticketKey, r.tracker]).sort()).toEqual(
      [
        [runs.github, 'acme/api#12', 'github'],
        [runs.linear, 'ENG-7', 'linear'],
        [runs.jira, 'PLAT-1', 'jira'],
      ].sort(),
    );
    const github = (await get('/api/runs?tracker=github')).body as { runs: AuditRun[] };
    expect(github.runs.map((r) => r.ticketKey)).toEqual(['acme/api#12']);
  });

  describe.skipIf(!existsSync(CHROMIUM))('in headless Chromium', () => {
    let browser: Browser;
    let page: Page;
    const requests: string[] = [];
    const consoleErrors: Array<{ text: string; url: string }> = [];
    const waitForState = (state: string) => page.waitForSelector(`html[data-state="${state}"]`, { state: 'attached', timeout: 15_000 });
    /** The table row whose tickets include `key`. */
    const rowWith = (key: string) => page.locator('#groups-table tr[data-group-id]').filter({ has: page.locator('.ticket', { hasText: key }) }).first();

    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
      page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      page.on('request', (request) => requests.push(request.url()));
      page.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push({ text: message.text(), url: message.location().url });
      });
      page.on('pageerror', (error) => consoleErrors.push({ text: `pageerror: ${error.message}`, url: page.url() }));
      await page.goto(`${server.url}/reports/top-tickets?since=all`);
      await page.fill('#token', token);
      await Promise.all([page.waitForURL(/\/reports\/top-tickets\?since=all$/), page.click('button[type="submit"]')]);
      await waitForState('ready');
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('says per row how many tickets came from each tracker, and links each ticket to its own tracker', async () => {
      const expected = await report('since=all');
      const addRow = expected.groups.find((g) => g.keys.includes('PLAT-1'))!;
      const row = rowWith('PLAT-1');
      expect(await row.locator('.count').textContent()).toBe(String(addRow.count));
      const chips = await row.locator('.tracker-chip').allTextContents();
      expect(chips).toEqual(Object.entries(addRow.trackers).map(([t, n]) => `${{ jira: 'Jira', github: 'GitHub', linear: 'Linear' }[t]} ${n}`));
      expect(await page.inputValue('#f-tracker')).toBe('');
      expect(await page.locator('#window-line').textContent()).toContain('all trackers');
      expect(await page.locator('#summary-line').textContent()).toContain(
        `(Jira ${expected.ticketsByTracker.jira} · GitHub ${expected.ticketsByTracker.github} · Linear ${expected.ticketsByTracker.linear})`,
      );

      await row.locator('details.all-tickets summary').click();
      const hrefs = new Map(
        await row.locator('details.all-tickets a.ticket').evaluateAll((as) => as.map((a) => [a.textContent!, (a as HTMLAnchorElement).href] as [string, string])),
      );
      expect(hrefs.get('acme/api#12')).toBe('https://github.com/acme/api/issues/12');
      expect(hrefs.get('ENG-4')).toBe('https://linear.app/acme/issue/ENG-4');
      expect(hrefs.get('PLAT-1')).toBe(`${JIRA_SITE}/browse/PLAT-1`);
      expect(hrefs.size).toBe(addRow.count);
      await row.locator('details.all-tickets summary').click();

      // Jira's ENG-7 and Linear's ENG-7 in one row: each names its tracker and links to its own ticket.
      const shared = new Map(
        await rowWith('ENG-7').locator('.tickets > .ticket-list a.ticket').evaluateAll((as) => as.map((a) => [a.textContent!, (a as HTMLAnchorElement).href] as [string, string])),
      );
      expect(shared).toEqual(new Map([['ENG-7 (Jira)', `${JIRA_SITE}/browse/ENG-7`], ['ENG-7 (Linear)', 'https://linear.app/acme/issue/ENG-7']]));

      mkdirSync(join(REPO_ROOT, 'test/.tmp'), { recursive: true });
      await page.mouse.move(0, 0);
      await page.screenshot({ path: join(REPO_ROOT, 'test/.tmp/report-page-trackers.png'), fullPage: true });
    });

    it('reloads through the API when the Tracker control changes, keeping the filter in the URL', async () => {
      const expected = await report('since=all&tracker=github');
      const reloaded = page.waitForResponse((r) => r.url().includes('/api/reports/top-tickets') && r.url().includes('tracker=github'));
      await page.selectOption('#f-tracker', 'github');
      await reloaded;
      await waitForState('ready');
      expect(new URL(page.url()).searchParams.get('tracker')).toBe('github');
      expect(new URL(page.url()).searchParams.get('since')).toBe('all');
      await expect.poll(() => page.locator('#stat-total').textContent()).toBe(String(expected.totalTickets));
      expect(await page.locator('#window-line').textContent()).toContain('GitHub only');
      const addRow = expected.groups.find((g) => g.keys.includes('acme/api#12'))!;
      expect(await rowWith('acme/api#12').locator('.count').textContent()).toBe(String(addRow.count));
      expect(await page.locator('#groups-table .ticket', { hasText: 'PLAT-1' }).count()).toBe(0);
      // One tracker in the view: no per-row tracker chips.
      expect(await page.locator('#groups-table .tracker-chip').count()).toBe(0);
      await page.mouse.move(0, 0);
      await page.screenshot({ path: join(REPO_ROOT, 'test/.tmp/report-page-trackers-github.png'), fullPage: true });

      // Back restores every tracker.
      await page.goBack();
      await expect.poll(() => page.inputValue('#f-tracker')).toBe('');
      await expect.poll(() => page.locator('#groups-table .tracker-chip').count()).toBeGreaterThan(0);
    });

    it('keeps the case of a GitHub repository in the project filter', async () => {
      const expected = await report('since=all&project=acme/api');
      expect(expected.totalTickets).toBe(2);
      await page.fill('#f-project', 'acme/api');
      const reloaded = page.waitForResponse((r) => r.url().includes('/api/reports/top-tickets') && r.url().includes('project=acme%2Fapi'));
      await page.click('button[type="submit"]');
      await reloaded;
      await waitForState('ready');
      expect(new URL(page.url()).searchParams.get('project')).toBe('acme/api');
      await expect.poll(() => page.locator('#stat-total').textContent()).toBe(String(expected.totalTickets));
    });

    it("shows the API's message for an unknown tracker in the URL", async () => {
      await page.goto(`${server.url}/reports/top-tickets?since=all&tracker=gitlab`);
      await waitForState('error');
      expect(await page.locator('#error-message').textContent()).toBe('invalid query: tracker: unknown tracker "gitlab": use jira, github, linear or trello');
      expect(await page.inputValue('#f-tracker')).toBe('gitlab');
    });

    it('fetched nothing outside deflect and logged no console error', () => {
      expect(requests.filter((url) => !url.startsWith(server.url + '/'))).toEqual([]);
      const expected = (e: { text: string; url: string }) => e.text.includes('status of 400') && e.url.includes('tracker=gitlab');
      expect(consoleErrors.filter((e) => !expected(e))).toEqual([]);
    });
  });
});
