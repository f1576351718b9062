/**
 * The report page's kill-switch panel in a real headless Chromium against the real server (real SQLite file): an
 * auditor sees that every handler is paused but gets no button; an operator presses "Pause every handler" (after a
 * confirmation), sees the paused state, and resumes; dismissing the confirmation changes nothing; the console stays
 * clean. Screenshots: test/.tmp/kill-switch-*.png. Skipped when /usr/bin/chromium is not installed.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlers } from '../../handlers/index.js';
import { listPausedHandlers } from '../../src/db/handler-states.js';
import { authHeader, createTestToken } from '../support/api-token.js';
import { REPO_ROOT, startDeflect, type DeflectUnderTest } from '../support/deflect-under-test.js';

const CHROMIUM = '/usr/bin/chromium';
const shot = (name: string) => join(REPO_ROOT, `test/.tmp/kill-switch-${name}.png`);

if (!existsSync(CHROMIUM)) console.warn(`kill-switch page test skipped: ${CHROMIUM} is not installed (apt-get install chromium)`);

describe.skipIf(!existsSync(CHROMIUM))('report page: kill switch', () => {
  let server: DeflectUnderTest;
  let browser: Browser;
  const consoleErrors: string[] = [];

  /** A new browser context signed in with a token of `role`, on the report page, the panel settled. */
  async function signedIn(role: 'auditor' | 'operator'): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(`${server.url}/reports/top-tickets`);
    await page.fill('#token', await createTestToken(server.db.sqlite!, role));
    const settled = page.waitForResponse((r) => r.url().endsWith('/api/handlers/kill-switch'));
    await Promise.all([page.waitForURL(/\/reports\/top-tickets/), page.click('button[type="submit"]')]);
    await settled;
    return page;
  }

  beforeAll(async () => {
    server = await startDeflect({ env: { DEFLECT_DRY_RUN: 'true' } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    mkdirSync(join(REPO_ROOT, 'test/.tmp'), { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close(1000);
  });

  it('an auditor sees nothing while every handler is live, and the paused state without a button', async () => {
    const page = await signedIn('auditor');
    expect(await page.locator('#kill-switch').isHidden()).toBe(true);

    const operator = await authHeader(server.db.sqlite!, 'operator');
    expect((await fetch(`${server.url}/api/handlers/pause-all`, { method: 'POST', headers: operator })).status).toBe(200);
    await page.reload();
    await page.locator('#kill-switch').waitFor({ state: 'visible' });
    expect(await page.textContent('#kill-switch-text')).toBe('Every handler is paused: new runs wait in the queue, nothing acts.');
    expect(await page.locator('#kill-switch-button').isHidden()).toBe(true);
    await page.screenshot({ path: shot('auditor') });
    expect((await fetch(`${server.url}/api/handlers/resume-all`, { method: 'POST', headers: operator })).status).toBe(200);
  });

  it('an operator pauses every handler from the page after confirming, then resumes; a dismissed confirmation does nothing', async () => {
    const page = await signedIn('operator');
    const button = page.locator('#kill-switch-button');
    await button.waitFor({ state: 'visible' });
    expect(await page.textContent('#kill-switch-text')).toBe(`All ${handlers.length} handlers are live.`);
    expect(await button.textContent()).toBe('Pause every handler');

    page.once('dialog', (d) => void d.dismiss());
    await button.click();
    await page.waitForTimeout(300);
    expect(listPausedHandlers(server.db.sqlite!).size).toBe(0);

    const questions: string[] = [];
    page.once('dialog', (d) => (questions.push(d.message()), void d.accept()));
    await Promise.all([page.waitForResponse((r) => r.url().endsWith('/api/handlers/kill-switch')), button.click()]);
    expect(questions).toEqual(['Pause every handler? Runs wait in the queue until they are resumed.']);
    expect([...listPausedHandlers(server.db.sqlite!)].sort()).toEqual(handlers.map((h) => h.name).sort());
    // The panel re-renders once the state's body is read, just after the response arrives: wait for it.
    await textOf(page, (text) => text.startsWith('Every handler is paused'));
    expect(await page.textContent('#kill-switch-text')).toMatch(/^Every handler is paused/);
    expect(await button.textContent()).toBe('Resume every handler');
    expect(await page.getAttribute('#kill-switch', 'data-state')).toBe('paused');
    await page.screenshot({ path: shot('operator-paused') });

    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForResponse((r) => r.url().endsWith('/api/handlers/kill-switch')), button.click()]);
    expect(listPausedHandlers(server.db.sqlite!).size).toBe(0);
    await textOf(page, (text) => text.startsWith('All '));
    expect(await page.textContent('#kill-switch-text')).toBe(`All ${handlers.length} handlers are live.`);
    await page.screenshot({ path: shot('operator-live') });
    expect(consoleErrors).toEqual([]);
  });
});

/** Waits (at most 5 s) until the kill-switch panel's text satisfies `done`. */
async function textOf(page: Page, done: (text: string) => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!done((await page.textContent('#kill-switch-text')) ?? '')) {
    if (Date.now() > deadline) return; // the assertion that follows reports the text
    await page.waitForTimeout(50);
  }
}
