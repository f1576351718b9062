/**
 * The report page in a real headless Chromium against the real server (real SQLite file, seeded tickets, runs and a
 * stored text grouping): the charts draw, the table shows the ranked groups with Jira links, the project filter
 * reloads through the API and keeps the query in the URL, an invalid query shows the API's message, nothing is
 * fetched from outside deflect, and the console stays clean. Leaves a screenshot in test/.tmp/report-page.png.
 * Skipped when /usr/bin/chromium is not installed.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertDeliveries, markDeliveryRouted } from '../../src/db/deliveries.js';
import { enqueueRun, finishRun } from '../../src/db/runs.js';
import { saveGrouping } from '../../src/db/text-groups.js';
import { ticketRowId, upsertTickets } from '../../src/db/tickets.js';
import { groupTickets } from '../../src/grouping/group-tickets.js';
import type { TopTicketsReport } from '../../src/reports/report-types.js';
import type { Ticket } from '../../src/ticket.js';
import { createTestToken } from '../support/api-token.js';
import { REPO_ROOT, startDeflect, type DeflectUnderTest } from '../support/deflect-under-test.js';

const CHROMIUM = '/usr/bin/chromium';
const JIRA = 'https://jira.example.test';
const SCREENSHOT = join(REPO_ROOT, 'test/.tmp/report-page.png');
const SIGNIN_SCREENSHOT = join(REPO_ROOT, 'test/.tmp/signin-page.png');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

if (!existsSync(CHROMIUM)) console.warn(`report page test skipped: ${CHROMIUM} is not installed (apt-get install chromium)`);

interface Seed {
  project: string;
  summary: string;
  labels?: string[];
  daysAgo: number;
  /** Hours from created to resolved; omitted = still open. */
  resolvedAfter?: number;
  /** Handler of a succeeded run for this ticket. */
  automatedBy?: string;
}

/** A platform team's last ~9 weeks: label groups, repeated unlabelled wordings, a burst, one-offs, two projects. */
function seedTickets(): Seed[] {
  const seeds: Seed[] = [];
  const repos = ['payments-api', 'ledger', 'web-shop', 'search', 'auth-gateway', 'billing', 'infra-docs', 'mobile-app', 'data-lake', 'ci-templates', 'ops-tools', 'risk-engine', 'kyc-service', 'notifier', 'feature-flags', 'status-page'];
  // access-request → grant-repo-access (10 min): automated since ~4 weeks ago.
  [2, 5, 8, 12, 15, 19, 23, 26, 30, 34, 38, 41, 45, 49, 52, 56].forEach((daysAgo, i) =>
    seeds.push({ project: 'PLAT', summary: `Access to ${repos[i]} repository`, labels: ['access-request'], daysAgo, resolvedAfter: daysAgo < 28 ? 0.1 : 3 + (i % 5) * 4, automatedBy: daysAgo < 28 ? 'grant-repo-access' : undefined }),
  );
  // new-repo → create-repository (45 min): the biggest unmet demand.
  [3, 9, 16, 22, 31, 39, 47, 58].forEach((daysAgo, i) =>
    seeds.push({ project: 'PLAT', summary: `New repository for ${['fraud-rules', 'pricing', 'edge-cache', 'ml-features', 'loyalty', 'tax-engine', 'etl-jobs', 'sandbox'][i]}`, labels: ['new-repo', ...(i % 3 === 0 ? ['backend'] : [])], daysAgo, resolvedAfter: i < 6 ? 20 + i * 9 : undefined, automatedBy: i < 2 ? 'create-repository' : undefined }),
  );
  // token-reset → reset-ci-token (20 min), mostly automated.
  [4, 11, 18, 33, 44, 55].forEach((daysAgo, i) =>
    seeds.push({ project: 'PLAT', summary: `CI token expired for ${repos[i + 3]}`, labels: ['token-reset'], daysAgo, resolvedAfter: 1 + i, automatedBy: i < 4 ? 'reset-ci-token' : undefined }),
  );
  // vpn: no handler yet, in both projects.
  [6, 14, 21, 29, 43, 53].forEach((daysAgo, i) => seeds.push({ project: 'PLAT', summary: `VPN drops every few minutes (${['Berlin', 'Lisbon', 'home', 'Paris', 'Madrid', 'Oslo'][i]})`, labels: ['vpn'], daysAgo, resolvedAfter: 6 + i * 3 }));
  [7, 24, 40].forEach((daysAgo, i) => seeds.push({ project: 'OPS', summary: `Cannot connect to VPN from ${['Warsaw', 'the office', 'Prague'][i]}`, labels: ['vpn'], daysAgo, resolvedAfter: 5 + i }));
  [10, 27, 37, 50].forEach((daysAgo, i) =>
    seeds.push({ project: 'OPS', summary: `Access to ${repos[i + 8]} repository`, labels: ['access-request'], daysAgo, resolvedAfter: 2, automatedBy: i < 2 ? 'grant-repo-access' : undefined }),
  );
  // cert-expiry: a burst (six in one week, one a month before).
  [20, 20, 21, 21, 21, 22, 48].forEach((daysAgo, i) => seeds.push({ project: 'PLAT', summary: `TLS certificate expired on ${['api', 'shop', 'docs', 'status', 'grafana', 'vault', 'sso'][i]}.example.com`, labels: ['cert-expiry'], daysAgo, resolvedAfter: 2 + i }));
  // Repeated wordings nobody labelled.
  ['grafana to 10.4.1', 'postgres to 16.2', 'redis to 7.2.4', 'nginx ingress to 1.10.0', 'argo-cd to 2.10.3', 'vault to 1.15.6'].forEach((what, i) =>
    seeds.push({ project: 'PLAT', summary: `Upgrade ${what}`, daysAgo: 5 + i * 9, resolvedAfter: i < 4 ? 30 + i * 12 : undefined }),
  );
  ['payments', 'search', 'risk', 'ledger', 'analytics'].forEach((ns, i) =>
    seeds.push({ project: 'PLAT', summary: `Increase disk quota for ${ns} namespace`, daysAgo: 3 + i * 11, resolvedAfter: 4 + i }),
  );
  ['Maya', 'Tomasz', 'Priya', 'Jonas', 'Aiko'].forEach((who, i) =>
    seeds.push({ project: 'PLAT', summary: `Add ${who} to the on-call rotation`, labels: i === 0 ? ['oncall'] : [], daysAgo: 8 + i * 10, resolvedAfter: 1 }),
  );
  // One-offs.
  [
    'Grafana dashboard shows no data for checkout latency',
    'Build agents out of memory during nightly e2e',
    'Terraform plan review: VPC peering',
    'Kafka consumer lag alert is flapping',
    'Staging cluster node pool migration',
    'Sentry is dropping events from the mobile app',
    'Helm chart for notifier fails lint',
    'DNS record for the marketing site',
  ].forEach((summary, i) => seeds.push({ project: 'PLAT', summary, daysAgo: 1 + i * 7, resolvedAfter: i % 2 ? 12 : undefined }));
  seeds.push({ project: 'OPS', summary: 'Printer on floor 3 is offline', daysAgo: 12 }, { project: 'OPS', summary: 'Rotate the backup encryption key', daysAgo: 33, resolvedAfter: 8 });
  return seeds;
}

/** Stores the tickets (and a succeeded run for each automated one), then a text grouping of the unlabelled pool. */
function seedDatabase(server: DeflectUnderTest, now: number): { byProject: Map<string, Seed[]> } {
  const seeds = seedTickets();
  const counters = new Map<string, number>();
  const tickets: Array<{ ticket: Ticket; seed: Seed }> = seeds.map((seed, i) => {
    const n = (counters.get(seed.project) ?? 100) + 1;
    counters.set(seed.project, n);
    const created = now - seed.daysAgo * DAY - (i % 7) * HOUR;
    const resolved = seed.resolvedAfter === undefined ? null : created + seed.resolvedAfter * HOUR;
    return {
      seed,
      ticket: {
        id: String(40_000 + i),
        key: `${seed.project}-${n}`,
        project: seed.project,
        issueType: 'Task',
        status: resolved ? 'Done' : 'To Do',
        labels: seed.labels ?? [],
        summary: seed.summary,
        description: null,
        reporter: 'Sam Okafor',
        reporterId: 'acc-1',
        created,
        updated: resolved ?? created,
        resolved,
        siteUrl: JIRA,
      },
    };
  });
  const late = tickets.splice(-2); // arrive after the grouping: the page shows the staleness notice
  upsertTickets(server.db, tickets.map(({ ticket }) => ({ ticket })), 'import', now - 120_000);

  // A succeeded run per automated ticket, as the worker would have left it.
  for (const { ticket, seed } of tickets) {
    if (!seed.automatedBy) continue;
    const [delivery] = insertDeliveries(server.db, [
      { deliveryKey: `seed:${ticket.key}`, webhookIdentifier: null, event: 'jira:issue_created', issueKey: ticket.key, headers: {}, body: '{}', eventTimestamp: ticket.created, receivedAt: ticket.created! },
    ]);
    markDeliveryRouted(server.db, delivery.id, 'routed', 'seeded by the report page test');
    const runId = enqueueRun(server.db, { deliveryId: delivery.id, ticketKey: ticket.key, handler: seed.automatedBy, reason: 'seed', dryRun: false, idempotencyKey: `seed:${ticket.key}`, maxAttempts: 3 });
    finishRun(server.db, runId!, { status: 'succeeded', summary: 'seeded', durationMs: 850 });
  }

  // Text grouping of the tickets no repeated label covers (what `deflect group` does for unlabelled requests).
  const labelUse = new Map<string, number>();
  for (const { ticket } of tickets) for (const l of ticket.labels ?? []) labelUse.set(l, (labelUse.get(l) ?? 0) + 1);
  const pool = tickets.filter(({ ticket }) => (ticket.labels ?? []).every((l) => labelUse.get(l)! < 2)).map(({ ticket }) => ticket);
  const grouping = groupTickets(pool.map((t) => ({ key: t.key, summary: t.summary, labels: t.labels ?? [], created: t.created })));
  saveGrouping(server.db, grouping, new Map(pool.map((t) => [t.key, ticketRowId(t).id])), now - 60_000);

  upsertTickets(server.db, late.map(({ ticket }) => ({ ticket })), 'import', now);
  const byProject = new Map<string, Seed[]>();
  for (const seed of seeds) byProject.set(seed.project, [...(byProject.get(seed.project) ?? []), seed]);
  return { byProject };
}

describe.skipIf(!existsSync(CHROMIUM))('GET /reports/top-tickets in headless Chromium', () => {
  let server: DeflectUnderTest;
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const consoleErrors: Array<{ text: string; url: string }> = [];

  let auth: { authorization: string };
  const api = async (query: string) => (await (await fetch(`${server.url}/api/reports/top-tickets?${query}`, { headers: auth })).json()) as TopTicketsReport & { message?: string };
  const waitForState = (state: string) => page.waitForSelector(`html[data-state="${state}"]`, { state: 'attached', timeout: 15_000 });
  const firstRow = async () => ({
    name: (await page.locator('#groups-steady tr').first().locator('.group-name').textContent())?.trim(),
    count: (await page.locator('#groups-steady tr').first().locator('.count').textContent())?.trim(),
  });

  beforeAll(async () => {
    server = await startDeflect({
      env: { JIRA_BASE_URL: JIRA, JIRA_EMAIL: 'bot@example.test', JIRA_API_TOKEN: 'test-token', JIRA_ACCOUNT_ID: 'deflect-bot', DEFLECT_DRY_RUN: 'true' },
    });
    seedDatabase(server, Date.now());
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push({ text: message.text(), url: message.location().url });
    });
    page.on('pageerror', (error) => consoleErrors.push({ text: `pageerror: ${error.message}`, url: page.url() }));
    // Sign in as a lead would: the page sends the browser to the sign-in form, which comes back to the page.
    const token = createTestToken(server.db, 'auditor', 'report-reader');
    auth = { authorization: `Bearer ${token}` };
    await page.goto(`${server.url}/reports/top-tickets?since=all`);
    expect(new URL(page.url()).pathname).toBe('/signin');
    mkdirSync(join(REPO_ROOT, 'test/.tmp'), { recursive: true });
    await page.screenshot({ path: SIGNIN_SCREENSHOT });
    await page.fill('#token', token);
    await Promise.all([page.waitForURL(/\/reports\/top-tickets\?since=all$/), page.click('button[type="submit"]')]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close(1000);
  });

  it('serves the page with a strict CSP and every asset from deflect itself', async () => {
    expect((await fetch(`${server.url}/reports/top-tickets`, { redirect: 'manual' })).status).toBe(303);
    const response = await fetch(`${server.url}/reports/top-tickets`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await response.text();
    expect(html).not.toMatch(/https?:\/\//);
    for (const asset of ['/assets/chart.umd.js', '/assets/report-page.js', '/assets/report-page.css']) {
      expect(html).toContain(asset);
      const res = await fetch(server.url + asset);
      expect(res.status, asset).toBe(200);
      expect((await res.text()).length, asset).toBeGreaterThan(1000);
    }
  });

  it('renders the charts, the ranked table with Jira links, the bursts and the grouping notice', async () => {
    const expected = await api('since=all');
    expect(expected.groups[0]).toMatchObject({ key: 'new-repo', count: 8, burst: false });

    await page.goto(`${server.url}/reports/top-tickets?since=all`);
    await waitForState('ready');
    expect(new URL(page.url()).searchParams.get('since')).toBe('all');

    // The bar chart drew: its canvas holds a good number of painted pixels.
    const painted = await page.evaluate(() => {
      const canvas = document.getElementById('chart-groups') as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
      return { n, width: canvas.width, height: canvas.height };
    });
    expect(painted.width).toBeGreaterThan(300);
    expect(painted.n).toBeGreaterThan(5000);
    for (const id of ['chart-weekly', 'chart-ratio']) expect(await page.locator(`#${id}`).isVisible(), id).toBe(true);

    await expect.poll(() => page.locator('#stat-total').textContent()).toBe(String(expected.totalTickets));
    expect(await firstRow()).toEqual({ name: 'new-repo', count: '8' });
    const top = page.locator('#groups-steady tr').first();
    const links = top.locator('.tickets > .ticket-list a.ticket');
    expect(await links.count()).toBe(5);
    for (const href of await links.evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href))) expect(href).toMatch(/^https:\/\/jira\.example\.test\/browse\/PLAT-\d+$/);
    expect(await links.first().getAttribute('href')).toBe(`${JIRA}/browse/${expected.groups[0].exampleKeys[0]}`);
    // The screenshot people look at: the default view, before anything is expanded.
    mkdirSync(join(REPO_ROOT, 'test/.tmp'), { recursive: true });
    await page.mouse.move(0, 0);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const png = readFileSync(SCREENSHOT);
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(20_000);

    await top.locator('details.all-tickets summary').click();
    expect(await top.locator('details.all-tickets summary').textContent()).toBe('all 8');
    expect(await top.locator('details.all-tickets a.ticket').count()).toBe(8);

    // Bursts are flagged and kept out of the ranking.
    const bursts = page.locator('#groups-bursts tr.is-burst');
    expect(await bursts.count()).toBe(1);
    expect(await bursts.locator('.group-name').textContent()).toBe('cert-expiry');
    expect(await bursts.locator('.badge-burst').isVisible()).toBe(true);
    expect(await page.locator('#groups-steady .badge-burst').count()).toBe(0);

    // A text group made it into the table, and the stale-grouping notice shows.
    expect(await page.locator('#groups-steady .badge-text').count()).toBeGreaterThan(0);
    expect(await page.locator('#notice').isVisible()).toBe(true);
    expect(await page.locator('#notice').textContent()).toContain('2 tickets arrived after the last text grouping');
  });

  it('reloads through the API when the project filter changes, keeping the query in the URL', async () => {
    const expected = await api('since=all&project=OPS');
    expect(expected.groups[0]).toMatchObject({ key: 'vpn', count: 3 });

    await page.fill('#f-project', 'ops');
    const reloaded = page.waitForResponse((r) => r.url().includes('/api/reports/top-tickets') && r.url().includes('project=OPS'));
    await page.click('button[type="submit"]');
    await reloaded;
    await waitForState('ready');
    const query = new URL(page.url()).searchParams;
    expect(query.get('project')).toBe('OPS');
    expect(query.get('since')).toBe('all');
    await expect.poll(() => page.locator('#stat-total').textContent()).toBe(String(expected.totalTickets));
    expect(await firstRow()).toEqual({ name: 'vpn', count: '3' });
    expect(await page.locator('#window-line').textContent()).toContain('project OPS');

    // Back restores the unfiltered view.
    await page.goBack();
    await expect.poll(firstRow).toEqual({ name: 'new-repo', count: '8' });
    expect(await page.inputValue('#f-project')).toBe('');
  });

  it('shows the empty state when no ticket matches', async () => {
    await page.goto(`${server.url}/reports/top-tickets?since=all&project=NOPE`);
    await waitForState('empty');
    expect(await page.locator('#empty').isVisible()).toBe(true);
    expect(await page.locator('#report').isVisible()).toBe(false);
  });

  it("shows the API's message for an invalid query", async () => {
    const expected = await api('since=banana');
    expect(expected.message).toMatch(/^invalid query: since/);
    await page.goto(`${server.url}/reports/top-tickets?since=banana`);
    await waitForState('error');
    expect(await page.locator('#error-message').textContent()).toBe(expected.message);
    expect(await page.locator('#report').isVisible()).toBe(false);
  });

  it('fetched nothing outside deflect and logged no console error', () => {
    expect(requests.length).toBeGreaterThan(5);
    expect(requests.filter((url) => !url.startsWith(server.url + '/'))).toEqual([]);
    // Chromium logs every 4xx fetch ("Failed to load resource"); the one the invalid query asked for is expected.
    const expected = (e: { text: string; url: string }) => e.text.includes('status of 400') && e.url.includes('since=banana');
    expect(consoleErrors.filter((e) => !expected(e))).toEqual([]);
  });
});
