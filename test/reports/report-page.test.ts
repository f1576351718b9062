/**
 * The report page in a real headless Chromium against the real server (real SQLite file, seeded tickets, runs and a
 * stored text grouping): request types with expandable variants, a label and a type as one row, bars in rank order,
 * axes with the year, weekly buckets for 90 days and monthly for all time with no line across empty months, the
 * summary never contradicting the repeat ratio, the empty default window offering all time with the newest ticket's
 * date, ticket text shown as text, the project filter in the URL, the API's message for an invalid query, nothing
 * fetched from outside deflect and a clean console. Screenshots: test/.tmp/report-page*.png.
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
  // Ticket text that looks like markup: the page must show it as text.
  [9, 17].forEach((daysAgo, i) => seeds.push({ project: 'PLAT', summary: `<img src=x onerror="window.__xss=${i}"> broken on the wiki page`, labels: ['<img-src=x-onerror=alert(1)>'], daysAgo }));
  // An old project: nothing in the default window (the page offers all time), months without tickets since.
  [400, 402, 430].forEach((daysAgo, i) => seeds.push({ project: 'OLD', summary: `Restore the legacy ${['ftp', 'smtp', 'ldap'][i]} server backup`, labels: ['legacy-restore'], daysAgo, resolvedAfter: 30 }));
  // A project where nothing repeats.
  seeds.push({ project: 'SOLO', summary: 'Migrate the wiki to the new theme', daysAgo: 6 }, { project: 'SOLO', summary: 'Cost report for the data team', daysAgo: 13 });
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
  upsertTickets(server.db.sqlite!, tickets.map(({ ticket }) => ({ ticket })), 'import', now - 120_000);

  // A succeeded run per automated ticket, as the worker would have left it.
  for (const { ticket, seed } of tickets) {
    if (!seed.automatedBy) continue;
    const [delivery] = insertDeliveries(server.db.sqlite!, [
      { deliveryKey: `seed:${ticket.key}`, webhookIdentifier: null, event: 'jira:issue_created', issueKey: ticket.key, headers: {}, body: '{}', eventTimestamp: ticket.created, receivedAt: ticket.created! },
    ]);
    markDeliveryRouted(server.db.sqlite!, delivery.id, 'routed', 'seeded by the report page test');
    const runId = enqueueRun(server.db.sqlite!, { deliveryId: delivery.id, ticketKey: ticket.key, handler: seed.automatedBy, reason: 'seed', dryRun: false, idempotencyKey: `seed:${ticket.key}`, maxAttempts: 3 });
    finishRun(server.db.sqlite!, runId!, { status: 'succeeded', summary: 'seeded', durationMs: 850 });
  }

  // The text grouping of every ticket, as `deflect group` stores it.
  const all = tickets.map(({ ticket }) => ticket);
  const grouping = groupTickets(all.map((t) => ({ key: t.key, summary: t.summary, labels: t.labels ?? [], created: t.created })));
  saveGrouping(server.db.sqlite!, grouping, new Map(all.map((t) => [t.key, ticketRowId(t).id])), now - 60_000);

  upsertTickets(server.db.sqlite!, late.map(({ ticket }) => ({ ticket })), 'import', now);
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
  /** What Chart.js holds for a canvas: labels, and per dataset its data, spanGaps and (bars) each bar's width. */
  type ChartData = { labels: string[]; datasets: Array<{ label: string; data: Array<number | null>; spanGaps: boolean | undefined; widths: Array<number | null> }> };
  const chartOf = (id: string): Promise<ChartData> =>
    page.evaluate((canvasId) => {
      const chart = (window as unknown as { Chart: { getChart: (c: HTMLElement) => any } }).Chart.getChart(document.getElementById(canvasId)!);
      return {
        labels: chart.data.labels as string[],
        datasets: chart.data.datasets.map((d: any, i: number) => ({
          label: d.label as string,
          data: d.data as Array<number | null>,
          spanGaps: d.spanGaps as boolean | undefined,
          widths: chart.getDatasetMeta(i).data.map((e: any) => (e.width as number | undefined) ?? null) as Array<number | null>,
        })),
      };
    }, id);
  /** The summary never says that nothing repeats while the ratio says something does. */
  const expectSummaryAgreesWithRatio = async () => {
    const ratio = (await page.locator('#stat-ratio').textContent())!.trim();
    const summary = (await page.locator('#summary-line').textContent())!;
    if (ratio !== '0%' && ratio !== '–') expect(summary).not.toMatch(/none of them repeats|nothing repeated|no request repeated/i);
    if (/none of them repeats/i.test(summary)) expect(['0%', '–']).toContain(ratio);
  };

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
    const token = await createTestToken(server.db.sqlite!, 'auditor', 'report-reader');
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
    for (const asset of ['/assets/chart.umd.js', '/assets/report-page.js', '/assets/report-page.css']) expect(html).toContain(asset);
    for (const asset of ['/assets/chart.umd.js', '/assets/report-page.js', '/assets/report-format.js', '/assets/report-charts.js', '/assets/report-table.js', '/assets/report-page.css']) {
      const res = await fetch(server.url + asset);
      expect(res.status, asset).toBe(200);
      expect((await res.text()).length, asset).toBeGreaterThan(1000);
    }
    // The page's scripts are each under 400 lines.
    for (const file of ['report-page.js', 'report-format.js', 'report-charts.js', 'report-table.js']) {
      expect(readFileSync(join(REPO_ROOT, 'src/reports/page', file), 'utf8').split('\n').length, file).toBeLessThan(400);
    }
  });

  it('renders request types with expandable variants, weekly axes with the year, bars in rank order, bursts and the notice', async () => {
    const expected = await api('since=90d&top=20');
    expect(expected.granularity).toBe('week');
    const topType = expected.groups.find((g) => g.kind === 'type' && g.variants.length >= 1)!;
    expect(topType).toBeDefined();

    await page.goto(`${server.url}/reports/top-tickets?top=20`);
    await waitForState('ready');
    expect(new URL(page.url()).searchParams.get('since')).toBe('90d');
    expect(await page.inputValue('#f-top')).toBe('20');

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

    // Bar length matches the order: the steady bars shorten down the ranking.
    const bars = await chartOf('chart-groups');
    const steady = expected.groups.filter((g) => !g.burst);
    const widths = bars.datasets[0].widths.slice(0, steady.length) as number[];
    expect(widths.every((w) => typeof w === 'number' && w >= 0)).toBe(true);
    for (let i = 1; i < widths.length; i++) expect(widths[i], `bar ${i + 1}`).toBeLessThanOrEqual(widths[i - 1] + 0.5);
    expect(widths[0]).toBeGreaterThan(widths[widths.length - 1]);

    // Weekly buckets for a 90-day window; every axis label carries the year.
    expect(await page.locator('#series-heading').textContent()).toBe('Tickets per week, top rows');
    for (const id of ['chart-weekly', 'chart-ratio']) {
      const { labels } = await chartOf(id);
      expect(labels.length).toBe(expected.repeatRatio.length);
      for (const label of labels) expect(label, id).toMatch(/^\d{1,2} [A-Z][a-z]{2,3} \d{4}$/);
    }

    await expect.poll(() => page.locator('#stat-total').textContent()).toBe(String(expected.totalTickets));
    expect(await firstRow()).toEqual({ name: expected.groups[0].name, count: String(expected.groups[0].count) });
    await expectSummaryAgreesWithRatio();
    const top = page.locator('#groups-steady tr').first();
    const links = top.locator('.tickets > .ticket-list a.ticket');
    expect(await links.count()).toBe(5);
    for (const href of await links.evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href))) expect(href).toMatch(/^https:\/\/jira\.example\.test\/browse\/PLAT-\d+$/);
    expect(await links.first().getAttribute('href')).toBe(`${JIRA}/browse/${expected.groups[0].exampleKeys[0]}`);

    // A request type lists its variants, folded until opened.
    const typeRow = page.locator('#groups-table tr[data-group-id]').filter({ has: page.locator(`.group-name`, { hasText: topType.name }) }).first();
    expect(await typeRow.locator('.badge-type').textContent()).toBe('request type');
    const variants = typeRow.locator('details.variants');
    expect(await variants.getAttribute('open')).toBeNull();
    expect(await variants.locator('summary').textContent()).toBe(`${topType.variants.length} variant${topType.variants.length === 1 ? '' : 's'}`);
    expect(await typeRow.locator('.variant-list').isVisible()).toBe(false);

    // The screenshot people look at: the default view, before anything is expanded.
    mkdirSync(join(REPO_ROOT, 'test/.tmp'), { recursive: true });
    await page.mouse.move(0, 0);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const png = readFileSync(SCREENSHOT);
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(20_000);

    await variants.locator('summary').click();
    expect(await typeRow.locator('.variant-list').isVisible()).toBe(true);
    const items = typeRow.locator('.variant-list > li.variant');
    expect(await items.count()).toBe(topType.variants.length);
    expect((await items.first().locator('.variant-template').textContent())?.trim()).toBe(topType.variants[0].template);
    expect(await items.first().locator('.variant-count').textContent()).toBe(String(topType.variants[0].count));

    // A label and a type covering the same tickets are one row that says both.
    const merged = expected.groups.find((g) => g.merged);
    expect(merged).toBeDefined();
    if (merged) {
      const row = page.locator('#groups-table tr[data-group-id]').filter({ has: page.locator('.group-name', { hasText: merged.name }) }).first();
      expect(await row.locator('.badge-also').textContent()).toBe(merged.kind === 'type' ? `label ${merged.label}` : `${merged.merged!.typeIds.length} request types`);
      expect(await row.locator('.merged-note').textContent()).toContain(`share ${merged.merged!.shared} tickets: one row, each ticket counted once`);
      expect(expected.groups.filter((g) => g.id === `label:${merged.label}`)).toEqual([]);
    }

    await top.locator('details.all-tickets summary').click();
    expect(await top.locator('details.all-tickets summary').textContent()).toBe(`all ${expected.groups[0].count}`);
    expect(await top.locator('details.all-tickets a.ticket').count()).toBe(expected.groups[0].count);

    // Bursts are flagged and kept out of the ranking.
    const expectedBursts = expected.groups.filter((g) => g.burst);
    expect(expectedBursts.map((g) => g.label ?? g.name)).toContain('cert-expiry');
    const bursts = page.locator('#groups-bursts tr.is-burst');
    expect(await bursts.count()).toBe(expectedBursts.length);
    expect(await bursts.first().locator('.group-name').textContent()).toBe(expectedBursts[0].name);
    expect(await bursts.first().locator('.badge-burst').isVisible()).toBe(true);
    expect(await page.locator('#groups-steady .badge-burst').count()).toBe(0);

    // The stale-grouping notice shows.
    expect(await page.locator('#notice').isVisible()).toBe(true);
    expect(await page.locator('#notice').textContent()).toContain('2 tickets arrived after the last text grouping');
  });

  it('shows ticket text that looks like markup as text', async () => {
    const label = '<img-src=x-onerror=alert(1)>';
    expect(await page.locator('#groups-table img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    const cells = await page.locator('#groups-table').textContent();
    expect(cells).toContain(label);
  });

  it('buckets all time by month, with the year on the axis and no line across months without tickets', async () => {
    const expected = await api('since=all');
    expect(expected.granularity).toBe('month');
    const emptyMonths = expected.repeatRatio.filter((p) => p.tickets === 0);
    expect(emptyMonths.length).toBeGreaterThan(3);
    await page.goto(`${server.url}/reports/top-tickets?since=all`);
    await waitForState('ready');
    expect(await page.locator('#series-heading').textContent()).toBe('Tickets per month, top rows');
    const ratio = await chartOf('chart-ratio');
    for (const label of ratio.labels) expect(label).toMatch(/^[A-Z][a-z]{2,3} \d{4}$/);
    const line = ratio.datasets.find((d) => d.label === 'Repeat ratio')!;
    expect(line.spanGaps).toBe(false);
    expected.repeatRatio.forEach((p, i) => {
      if (p.tickets === 0) expect(line.data[i], p.period).toBeNull();
      else expect(line.data[i], p.period).toBeCloseTo((p.ratio ?? 0) * 100, 0);
    });
    // The per-row series are zero-filled by the API (a real zero), never left to be bridged.
    const series = await chartOf('chart-weekly');
    for (const d of series.datasets) {
      expect(d.spanGaps).toBe(false);
      expect(d.data.every((v) => typeof v === 'number')).toBe(true);
    }
    await expectSummaryAgreesWithRatio();
    await page.mouse.move(0, 0);
    await page.screenshot({ path: join(REPO_ROOT, 'test/.tmp/report-page-all-time.png'), fullPage: true });
  });

  it('reloads through the API when the project filter changes, keeping the query in the URL', async () => {
    const expected = await api('since=all&project=OPS');
    expect(expected.groups[0].label).toBe('vpn');

    await page.fill('#f-project', 'ops');
    const reloaded = page.waitForResponse((r) => r.url().includes('/api/reports/top-tickets') && r.url().includes('project=OPS'));
    await page.click('button[type="submit"]');
    await reloaded;
    await waitForState('ready');
    const query = new URL(page.url()).searchParams;
    expect(query.get('project')).toBe('OPS');
    expect(query.get('since')).toBe('all');
    await expect.poll(() => page.locator('#stat-total').textContent()).toBe(String(expected.totalTickets));
    expect(await firstRow()).toEqual({ name: expected.groups[0].name, count: String(expected.groups[0].count) });
    expect(await page.locator('#window-line').textContent()).toContain('project OPS');

    // Back restores the unfiltered view.
    const all = await api('since=all');
    await page.goBack();
    await expect.poll(firstRow).toEqual({ name: all.groups[0].name, count: String(all.groups[0].count) });
    expect(await page.inputValue('#f-project')).toBe('');
  });

  it('says nothing repeats only when the ratio agrees', async () => {
    const expected = await api('since=90d&project=SOLO');
    expect(expected.groups).toEqual([]);
    expect(expected.repeatRatio.every((p) => p.repeated === 0)).toBe(true);
    await page.goto(`${server.url}/reports/top-tickets?project=SOLO`);
    await waitForState('ready');
    expect(await page.locator('#summary-line').textContent()).toContain('None of them repeats yet');
    expect(await page.locator('#stat-ratio').textContent()).toBe('0%');
    await expectSummaryAgreesWithRatio();
  });

  it('offers all time, with the date of the newest ticket, when the default window is empty', async () => {
    const expected = await api('since=90d&project=OLD');
    expect(expected.totalTickets).toBe(0);
    expect(expected.newestTicket).not.toBeNull();
    await page.goto(`${server.url}/reports/top-tickets?project=OLD`);
    await waitForState('empty');
    expect(await page.locator('#empty').isVisible()).toBe(true);
    expect(await page.locator('#empty-newest').isVisible()).toBe(true);
    const shown = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }).format(new Date(expected.newestTicket!));
    expect(await page.locator('#empty-newest-date').textContent()).toBe(shown);
    await page.screenshot({ path: join(REPO_ROOT, 'test/.tmp/report-page-empty.png'), fullPage: true });
    await page.click('#empty-all-time');
    await waitForState('ready');
    const query = new URL(page.url()).searchParams;
    expect([query.get('since'), query.get('project')]).toEqual(['all', 'OLD']);
    const all = await api('since=all&project=OLD');
    expect(all.groups[0]).toMatchObject({ label: 'legacy-restore', count: 3 });
    expect(await firstRow()).toEqual({ name: all.groups[0].name, count: '3' });
  });

  it('shows the empty state without the all-time offer when no ticket matches at all', async () => {
    await page.goto(`${server.url}/reports/top-tickets?since=all&project=NOPE`);
    await waitForState('empty');
    expect(await page.locator('#empty').isVisible()).toBe(true);
    expect(await page.locator('#empty-newest').isVisible()).toBe(false);
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
