/**
 * The impact page in a real headless Chromium against the real server (real SQLite file seeded by impact-seed.ts
 * through deflect's repository functions): sign-in redirect, a panel per automated request type whose charts hold the
 * API's numbers (tickets per week before/after with the start marked, TTR p50/p90, adoption), the across-type charts
 * (hours returned, share resolved by deflect), the repeat share, the empty state, the API's 400 shown, links between
 * the report pages, nothing fetched from outside deflect and a clean console. Screenshot: test/.tmp/impact-page.png.
 * Skipped when /usr/bin/chromium is not installed.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImpactReport } from '../../src/reports/impact-types.js';
import { createTestToken } from '../support/api-token.js';
import { REPO_ROOT, startDeflect, type DeflectUnderTest } from '../support/deflect-under-test.js';
import { seedImpact } from './impact-seed.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(REPO_ROOT, 'test/.tmp/impact-page.png');

if (!existsSync(CHROMIUM)) console.warn(`impact page test skipped: ${CHROMIUM} is not installed (apt-get install chromium)`);

describe.skipIf(!existsSync(CHROMIUM))('impact page (headless Chromium)', () => {
  let server: DeflectUnderTest;
  let browser: Browser;
  let page: Page;
  let auth: { authorization: string };
  const requests: string[] = [];
  const consoleErrors: string[] = [];

  const waitForState = (state: string) => page.waitForSelector(`html[data-state="${state}"]`, { state: 'attached', timeout: 15_000 });
  type ChartData = { labels: string[]; datasets: Array<{ label: string; data: Array<number | null> }>; start: number | null };
  const chartData = (id: string): Promise<ChartData> =>
    page.evaluate((canvasId) => {
      const chart = (window as unknown as { Chart: { getChart: (c: HTMLElement) => any } }).Chart.getChart(document.getElementById(canvasId)!);
      return {
        labels: chart.data.labels as string[],
        datasets: chart.data.datasets.map((d: any) => ({ label: d.label as string, data: d.data as Array<number | null> })),
        start: (chart.options.plugins.deflectStart?.index ?? null) as number | null,
      };
    }, id);
  const api = async (query: string) => (await (await fetch(`${server.url}/api/reports/impact?${query}`, { headers: auth })).json()) as ImpactReport;
  const sum = (xs: Array<number | null>) => xs.reduce<number>((n, x) => n + (x ?? 0), 0);

  beforeAll(async () => {
    server = await startDeflect();
    await seedImpact(server.db.sqlite!);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(`pageerror: ${error.message}`));
    const token = await createTestToken(server.db.sqlite!, 'auditor', 'impact-reader');
    auth = { authorization: `Bearer ${token}` };
    await page.goto(`${server.url}/reports/impact?since=70d`);
    expect(new URL(page.url()).pathname).toBe('/signin');
    await page.fill('#token', token);
    await Promise.all([page.waitForURL(/\/reports\/impact\?since=70d$/), page.click('button[type="submit"]')]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close(1000);
  });

  it('serves the page with a strict CSP, its scripts from deflect, and no markup built from data', async () => {
    expect((await fetch(`${server.url}/reports/impact`, { redirect: 'manual' })).status).toBe(303);
    const response = await fetch(`${server.url}/reports/impact`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await response.text();
    expect(html).not.toMatch(/https?:\/\/|<script>|\son[a-z]+=/);
    for (const asset of ['/assets/impact-page.js', '/assets/impact-charts.js']) expect((await fetch(server.url + asset)).status, asset).toBe(200);
    for (const file of ['impact-page.js', 'impact-charts.js']) {
      const source = readFileSync(join(REPO_ROOT, 'src/reports/page', file), 'utf8');
      expect(source, file).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
      expect(source.split('\n').length, file).toBeLessThan(400);
    }
  });

  it('charts each automated type before and after its start with the API numbers', async () => {
    const expected = await api('since=70d');
    expect(expected.types.length).toBe(2);
    await waitForState('ready');
    const panels = page.locator('#types section.impact-type');
    expect(await panels.count()).toBe(2);
    expect(await panels.first().locator('h3').textContent()).toBe(expected.types[0].name);
    const access = expected.types[0];
    const figures = (await panels.first().locator('.impact-figures').textContent())!;
    expect(figures).toContain('7 h → 1 h'); // TTR p50 before → after
    expect(figures).toContain('75%');
    expect(figures).toContain('21 h');
    expect(figures).toContain('3 of 4 reporters');

    const weekly = await chartData('chart-weekly-0');
    expect(weekly.labels.length).toBe(access.weekly.length);
    for (const label of weekly.labels) expect(label).toMatch(/^\d{1,2} [A-Z][a-z]{2,3} \d{4}$/);
    expect(weekly.start).toBe(access.weekly.findIndex((w) => w.week === access.automationStartWeek));
    expect(weekly.datasets.map((d) => sum(d.data))).toEqual([6, 3, 1]); // before by people, carried out by deflect, after by people
    expect(weekly.datasets[0].data.slice(weekly.start!).every((v) => v === null)).toBe(true);
    expect(weekly.datasets[2].data.slice(0, weekly.start!).every((v) => v === null)).toBe(true);
    // Before the start's week deflect carried out only tickets that were waiting at the start.
    expect(sum(weekly.datasets[1].data.slice(0, weekly.start!))).toBeLessThanOrEqual(access.waitingAtStart);

    const ttr = await chartData('chart-ttr-0');
    expect(ttr.datasets.map((d) => d.data)).toEqual([[7, 11], [1, 16.2]]);
    const adoption = await chartData('chart-adoption-0');
    expect(adoption.datasets.find((d) => d.label.startsWith('Reporters so far'))!.data.at(-1)).toBe(3);
    expect(adoption.datasets.find((d) => d.label.startsWith('Teams so far'))!.data.at(-1)).toBe(2);

    expect((await chartData('chart-hours')).datasets[0].data).toEqual([21, 1.5]);
    expect((await chartData('chart-share')).datasets[0].data).toEqual([75, 100]);
    const repeat = await chartData('chart-repeat');
    expect(repeat.labels.length).toBe(expected.repeatShare.length);
    expect(repeat.datasets[0].data).toEqual(expected.repeatShare.map((w) => (w.share === null ? null : Math.round(w.share * 1000) / 10)));
    expect(await page.locator('#stat-hours').textContent()).toBe('22.5 h');
    expect(await panels.nth(1).locator('.basis-estimate').textContent()).toContain('fixed estimate');

    mkdirSync(join(REPO_ROOT, 'test/.tmp'), { recursive: true });
    await page.mouse.move(0, 0);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(20_000);
  });

  it('links to the top-tickets report and back', async () => {
    expect(await page.locator('#top-tickets-link').getAttribute('href')).toBe('/reports/top-tickets?since=70d');
    await page.goto(`${server.url}/reports/top-tickets?since=70d`);
    await waitForState('ready');
    await Promise.all([page.waitForURL(/\/reports\/impact$/), page.click('#impact-link')]);
    await waitForState('ready');
  });

  it('shows the empty state when the window holds no automated run, and the API message for a bad query', async () => {
    await page.goto(`${server.url}/reports/impact?since=1d`);
    await waitForState('empty');
    expect(await page.locator('#empty-hint').textContent()).toMatch(/^no automated runs yet: /);
    expect(await page.locator('#empty-all-time').isVisible()).toBe(true);
    await page.goto(`${server.url}/reports/impact?since=forever`);
    await waitForState('error');
    expect(await page.locator('#error-message').textContent()).toContain('since');
  });

  it('fetched nothing from outside deflect and logged no error but the 400 it was asked for', () => {
    for (const url of requests) expect(url.startsWith(server.url) || url.startsWith('data:'), url).toBe(true);
    expect(consoleErrors.filter((e) => !/status of 400/.test(e))).toEqual([]);
  });
});
