/**
 * The /audit page in a real headless Chromium against the real server (real SQLite file): sign-in redirect; the list
 * with filters applied (kept in the URL) and paging by cursor; one run opened to its trace; the empty state; the audit
 * chain panel saying "intact", and "broken" naming the row after a direct UPDATE in SQLite; an operator gets "Retry run" and
 * "Pause handler" (after a confirmation) and an auditor does not; ticket text is rendered as text; the console stays
 * clean. Screenshots: test/.tmp/audit-*.png. Skipped when /usr/bin/chromium is not installed.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginAction, finishAction } from '../../src/db/actions.js';
import { listPausedHandlers } from '../../src/db/handler-states.js';
import { claimDueRuns, finishOwnedRun } from '../../src/db/runs.js';
import { createTestToken } from '../support/api-token.js';
import { seedRun } from '../support/audit-runs.js';
import { REPO_ROOT, startDeflect, type DeflectUnderTest } from '../support/deflect-under-test.js';

const CHROMIUM = '/usr/bin/chromium';
const shot = (name: string) => join(REPO_ROOT, `test/.tmp/audit-${name}.png`);
const HOUR = 3_600_000;

if (!existsSync(CHROMIUM)) console.warn(`audit page test skipped: ${CHROMIUM} is not installed (apt-get install chromium)`);

describe.skipIf(!existsSync(CHROMIUM))('the /audit page', () => {
  let server: DeflectUnderTest;
  let empty: DeflectUnderTest;
  let tampered: DeflectUnderTest;
  let tamperedRun = 0;
  let browser: Browser;
  let failedRun = 0;
  const consoleErrors: string[] = [];

  /** A new browser context signed in on `target` with a token of `role`, at `path`, the runs loaded. */
  async function signedIn(target: DeflectUnderTest, role: 'auditor' | 'operator', path = '/audit'): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1360, height: 900 } })).newPage();
    page.on('console', (m) => m.type() === 'error' && !m.text().includes('404') && consoleErrors.push(m.text()));
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(`${target.url}${path}`);
    expect(page.url()).toContain('/signin?next=');
    await page.fill('#token', await createTestToken(target.db.sqlite!, role));
    await Promise.all([page.waitForURL(/\/audit/), page.click('button[type="submit"]')]);
    await page.waitForSelector('html[data-state="ready"]');
    await page.waitForFunction(() => document.getElementById('chain')?.dataset.state !== 'loading');
    return page;
  }

  beforeAll(async () => {
    server = await startDeflect({ env: { DEFLECT_DRY_RUN: 'true' } });
    empty = await startDeflect();
    // A run recorded by deflect, then edited directly in SQLite: the chain must name it.
    tampered = await startDeflect({ env: { DEFLECT_DRY_RUN: 'true' } });
    tamperedRun = seedRun(tampered.db.sqlite!, { ticketKey: 'PLAT-42', status: 'succeeded', summary: 'granted read on acme/payments-api' });
    tampered.db.sqlite!.$client.prepare("UPDATE runs SET summary = 'granted admin on acme/payments-api' WHERE id = ?").run(tamperedRun);
    const now = Date.now();
    for (let i = 0; i < 60; i++) seedRun(server.db.sqlite!, { ticketKey: `PLAT-${100 + i}`, createdAt: now - (60 - i) * HOUR - 10 * 24 * HOUR, summary: `granted read on acme/repo-${i}` });
    seedRun(server.db.sqlite!, { ticketKey: 'PLAT-7', createdAt: now - 5 * HOUR, status: 'succeeded', summary: 'granted write on acme/payments-api', ticketSummary: '<img src=x onerror=alert(1)> need access' });
    seedRun(server.db.sqlite!, { ticketKey: 'acme/api#12', tracker: 'github', siteUrl: 'https://github.com', createdAt: now - 4 * HOUR, handler: 'reset-ci-token', rule: 'ci-token-reset', status: 'dead', error: 'CI answered 503 three times' });
    seedRun(server.db.sqlite!, { ticketKey: 'ENG-3', tracker: 'linear', siteUrl: 'https://linear.app/acme', createdAt: now - 3 * HOUR, status: 'shadow', shadow: true, summary: 'shadow: would grant write' });
    // PLAT-9 runs like the worker runs it: claimed (attempt 1), two actions, finished failed.
    const at = now - 2 * HOUR;
    failedRun = seedRun(server.db.sqlite!, { ticketKey: 'PLAT-9', createdAt: at, handler: 'create-repository', rule: 'new-repository', status: 'queued', options: { apiToken: 'page-canary-secret' } });
    expect(claimDueRuns(server.db.sqlite!, 1, new Set(), { owner: 'page-test', leaseMs: 60_000 }, at + 100).map((r) => r.id)).toEqual([failedRun]);
    const key = `PLAT-9:create-repository:page`;
    const first = beginAction(server.db.sqlite!, { runId: failedRun, seq: 1, kind: 'comment', ticketKey: 'PLAT-9', idempotencyKey: `${key}:1:comment`, request: { markdown: 'Creating **acme/new-svc** <script>alert(1)</script>' }, status: 'started' }, at + 200);
    finishAction(server.db.sqlite!, first, { status: 'applied', response: { commentId: '10001' } }, at + 450);
    const second = beginAction(server.db.sqlite!, { runId: failedRun, seq: 2, kind: 'github.create_repository', ticketKey: 'PLAT-9', idempotencyKey: `${key}:2:github.create_repository`, request: { name: 'new-svc', token: 'page-canary-secret' }, status: 'started' }, at + 500);
    finishAction(server.db.sqlite!, second, { status: 'failed', error: 'GitHub answered 422: name already exists' }, at + 900);
    expect(finishOwnedRun(server.db.sqlite!, failedRun, 'page-test', { status: 'failed', error: 'GitHub answered 422: name already exists', durationMs: 850 }, at + 950)).toBe(true);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    mkdirSync(join(REPO_ROOT, 'test/.tmp'), { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close(1000);
    await empty?.close(1000);
    await tampered?.close(1000);
  });

  it('lists runs newest first and pages older and back by cursor; the chain panel says the records are intact', { timeout: 60_000 }, async () => {
    const page = await signedIn(server, 'auditor');
    const rows = page.locator('tr.run-row');
    expect(await rows.count()).toBe(50);
    expect(await rows.first().locator('.ticket-key').textContent()).toBe('PLAT-9');
    expect(await page.textContent('#list-line')).toBe('50 runs, the newest.');
    expect(await page.textContent('#chain-text')).toMatch(/^Intact: \d+ records verified, none changed/);
    expect(await page.locator('#page-newer').isHidden()).toBe(true);
    await Promise.all([page.waitForURL(/cursor=/), page.click('#page-older')]);
    await page.waitForSelector('html[data-state="ready"]');
    expect(await rows.count()).toBe(14);
    expect(await page.textContent('#list-line')).toBe('14 runs on this page.');
    await Promise.all([page.waitForURL(/cursor=/), page.click('#page-newer')]);
    await page.waitForSelector('html[data-state="ready"]');
    expect(await rows.first().locator('.ticket-key').textContent()).toBe('PLAT-9');
  });

  it('applies filters from the bar, keeps them in the URL, and renders ticket text as text', { timeout: 60_000 }, async () => {
    const page = await signedIn(server, 'auditor');
    await page.fill('#f-q', 'acme/');
    await page.selectOption('#f-since', '7d');
    await page.selectOption('#f-tracker', 'jira');
    await Promise.all([page.waitForURL(/q=acme/), page.click('#filters button[type="submit"]')]);
    await page.waitForSelector('html[data-state="ready"]');
    expect(new URL(page.url()).searchParams.toString()).toBe('since=7d&tracker=jira&q=acme%2F');
    expect(await page.locator('tr.run-row .ticket-key').allTextContents()).toEqual(['PLAT-7']);
    expect(await page.inputValue('#f-q')).toBe('acme/');
    expect(await page.textContent('#list-line')).toBe('1 run matching the filters.');
    expect(await page.textContent('#cli-export')).toBe('deflect audit --since 7d --tracker jira --search acme/ --format csv');
    await page.screenshot({ path: shot('list-filtered'), fullPage: true });

    // The same view from its link, with an outcome filter.
    await page.goto(`${server.url}/audit?outcome=dead,failed&since=7d`);
    await page.waitForSelector('html[data-state="ready"]');
    expect(await page.locator('tr.run-row .ticket-key').allTextContents()).toEqual(['PLAT-9', 'acme/api#12']);
    expect(await page.locator('tr.run-row .ticket-key').nth(1).getAttribute('href')).toBe('https://github.com/acme/api/issues/12');
    expect(await page.locator('img').count()).toBe(0);
  });

  it('an auditor opens a run to its trace: delivery, decision, input, actions, errors; no operator buttons; secrets masked', { timeout: 60_000 }, async () => {
    const page = await signedIn(server, 'auditor', '/audit?ticket=PLAT-9');
    await Promise.all([page.waitForResponse((r) => r.url().endsWith(`/api/runs/${failedRun}`)), page.click('tr.run-row .trace-toggle')]);
    const trace = page.locator('.trace');
    await trace.waitFor();
    const titles = await trace.locator('.step-title').allTextContents();
    expect(titles).toEqual(['Delivery', 'Routing decision', 'Input', 'Actions', 'Attempts and errors']);
    expect(await trace.locator('.action').count()).toBe(2);
    expect(await trace.locator('.action .badge').allTextContents()).toEqual(['applied', 'failed']);
    const text = (await trace.textContent()) ?? '';
    expect(text).toContain('rule new-repository #1');
    expect(text).toContain('<script>alert(1)</script>');
    expect(text).not.toContain('page-canary-secret');
    expect(text).toContain('«masked»');
    expect(await trace.locator('.retry-button, .pause-button').count()).toBe(0);
    expect(await page.locator('script:not([src])').count()).toBe(0);
    await page.screenshot({ path: shot('trace-auditor'), fullPage: true });
  });

  it('an operator gets Retry run and Pause handler, each after a confirmation', { timeout: 60_000 }, async () => {
    const page = await signedIn(server, 'operator', '/audit?ticket=PLAT-9');
    await Promise.all([page.waitForResponse((r) => r.url().endsWith(`/api/runs/${failedRun}`)), page.click('tr.run-row .trace-toggle')]);
    await page.locator('.trace .retry-button').waitFor();
    await page.screenshot({ path: shot('trace-operator'), fullPage: true });

    page.once('dialog', (d) => void d.dismiss());
    await page.click('.trace .pause-button');
    await page.waitForTimeout(200);
    expect(listPausedHandlers(server.db.sqlite!).has('create-repository')).toBe(false);

    const questions: string[] = [];
    page.once('dialog', (d) => (questions.push(d.message()), void d.accept()));
    await Promise.all([page.waitForResponse((r) => r.url().endsWith('/api/handlers/create-repository/pause')), page.click('.trace .pause-button')]);
    expect(questions).toEqual(['Pause handler create-repository? Its new runs wait in the queue until it is resumed.']);
    expect(listPausedHandlers(server.db.sqlite!).has('create-repository')).toBe(true);

    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForResponse((r) => r.url().endsWith(`/api/runs/${failedRun}/retry`)), page.click('.trace .retry-button')]);
    await page.waitForFunction(() => /queued again/.test(document.querySelector('.operate-status')?.textContent ?? ''));
    expect(await page.textContent('.operate-status')).toBe(`Run #${failedRun} is queued again, but its handler is paused: it waits until the handler is resumed.`);
    expect((server.db.sqlite!.$client.prepare('SELECT status FROM runs WHERE id = ?').get(failedRun) as { status: string }).status).toBe('queued');
  });

  it('shows an empty state that says what to do, and one for filters that match nothing', { timeout: 60_000 }, async () => {
    const page = await signedIn(empty, 'auditor');
    expect(await page.locator('#empty').isVisible()).toBe(true);
    expect(await page.textContent('#empty-heading')).toBe('No runs yet');
    expect(await page.textContent('#empty-text')).toMatch(/Runs appear here when a rule routes a ticket to a handler/);
    await page.screenshot({ path: shot('empty'), fullPage: true });
    const other = await signedIn(server, 'auditor', '/audit?handler=nobody');
    expect(await other.textContent('#empty-heading')).toBe('No run matches these filters');
    expect(await other.locator('#empty-reset').isVisible()).toBe(true);
    expect(consoleErrors).toEqual([]);
  });

  it('opens a trace from its link', { timeout: 60_000 }, async () => {
    const page = await signedIn(server, 'auditor');
    await Promise.all([page.waitForResponse((r) => r.url().endsWith(`/api/runs/${failedRun}`)), page.goto(`${server.url}/audit?ticket=PLAT-9&run=${failedRun}`)]);
    await page.locator('.trace').waitFor();
    expect(await page.getAttribute('tr.run-row .trace-toggle', 'aria-expanded')).toBe('true');
    // Retried in the operator test: queued again, so its error is the previous attempt's.
    expect(await page.textContent('tr.run-row td.summary')).toBe('previous attempt: GitHub answered 422: name already exists');
  });

  it('shows a broken audit chain naming the run that was edited directly in SQLite', { timeout: 60_000 }, async () => {
    const page = await signedIn(tampered, 'auditor');
    await page.waitForFunction(() => document.getElementById('chain')?.dataset.state === 'broken');
    expect(await page.textContent('#chain-text')).toMatch(new RegExp(`^BROKEN: the audit records were changed after they were written — first bad row: runs #${tamperedRun} \\(changed`));
    await page.screenshot({ path: shot('chain-broken') });
  });

  it('links the report page to the audit page and back', { timeout: 60_000 }, async () => {
    const page = await signedIn(server, 'auditor');
    expect(await page.getAttribute('.page-nav a:not([aria-current])', 'href')).toBe('/reports/top-tickets');
    await page.click('.page-nav a[href="/reports/top-tickets"]');
    await page.waitForURL(/\/reports\/top-tickets/);
    expect(await page.getAttribute('.page-nav a[href="/audit"]', 'href')).toBe('/audit');
  });
});
