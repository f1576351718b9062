/**
 * `/docs` in headless Chromium against the real server: Swagger UI renders the operations of `/docs/json` under
 * deflect's strict Content-Security-Policy (`default-src 'self'`, no inline script; one style allowed by hash) with no console error or CSP
 * violation and no request leaving the server; "Authorize" takes an API token and "Try it out" then calls a
 * protected route with it (200). Screenshots: test/.tmp/openapi-docs-top.png (the list), openapi-docs.png (Try it out). Skipped when /usr/bin/chromium is absent.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestToken } from '../support/api-token.js';
import { REPO_ROOT, startDeflect, type DeflectUnderTest } from '../support/deflect-under-test.js';

const CHROMIUM = '/usr/bin/chromium';

if (!existsSync(CHROMIUM)) console.warn(`/docs page test skipped: ${CHROMIUM} is not installed (apt-get install chromium)`);

describe.skipIf(!existsSync(CHROMIUM))('/docs (Swagger UI)', () => {
  let server: DeflectUnderTest;
  let browser: Browser;

  beforeAll(async () => {
    server = await startDeflect();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    mkdirSync(join(REPO_ROOT, 'test/.tmp'), { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close(1000);
  });

  it('shows every operation under the strict CSP, and Try it out works with a token', async () => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const problems: string[] = [];
    const foreign: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('request', (r) => !r.url().startsWith(server.url) && !r.url().startsWith('data:') && foreign.push(r.url()));

    const answer = await page.goto(`${server.url}/docs`);
    expect(answer!.status()).toBe(200);
    const csp = answer!.headers()['content-security-policy'];
    expect(csp).toMatch(/^default-src 'self';script-src 'self';style-src 'self' 'sha256-[A-Za-z0-9+/=]+';/);
    expect(csp).not.toMatch(/unsafe|https:/);
    // The hash is for the /docs routes only: the report page keeps the plain policy.
    expect((await fetch(`${server.url}/signin`)).headers.get('content-security-policy')).toMatch(/style-src 'self';/);
    await page.locator('.opblock').first().waitFor({ state: 'visible', timeout: 20_000 });
    const doc = (await (await fetch(`${server.url}/docs/json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    expect(await page.locator('.opblock').count()).toBe(operations);
    expect(await page.locator('.opblock-summary-path', { hasText: /^\/api\/reports\/top-tickets$/ }).count()).toBe(1);
    expect(await page.locator('.opblock-summary-path', { hasText: /^\/api\/reports\/top-tickets\/groups\/\{id\}\/keys$/ }).count()).toBe(1);
    expect(await page.textContent('.info .title')).toMatch(/deflect/);
    await page.screenshot({ path: join(REPO_ROOT, 'test/.tmp/openapi-docs-top.png') });

    // Authorize with a token, then Try it out on GET /api/handlers.
    await page.click('button.authorize');
    await page.locator('.modal-ux input[type="text"]').first().fill(await createTestToken(server.db.sqlite!, 'auditor'));
    await page.locator('.modal-ux button.authorize').first().click();
    await page.locator('.modal-ux button.close-modal').click();
    const handlers = page.locator('.opblock-get', { has: page.locator('.opblock-summary-path', { hasText: /^\/api\/handlers$/ }) });
    await handlers.locator('.opblock-summary').click();
    await handlers.locator('button.try-out__btn').click();
    const called = page.waitForResponse((r) => r.url() === `${server.url}/api/handlers`);
    await handlers.locator('button.execute').click();
    expect((await called).status()).toBe(200);
    await handlers.locator('.live-responses-table tbody .response-col_status').first().waitFor();
    expect(await handlers.locator('.live-responses-table tbody .response-col_status').first().textContent()).toMatch(/200/);
    await page.screenshot({ path: join(REPO_ROOT, 'test/.tmp/openapi-docs.png'), fullPage: false });

    expect(problems.filter((p) => /Content Security Policy|Refused/.test(p)), 'CSP violations').toEqual([]);
    expect(problems, 'console errors').toEqual([]);
    expect(foreign, 'requests to other origins').toEqual([]);
  }, 60_000);
});
