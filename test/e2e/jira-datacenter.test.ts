/**
 * Jira Data Center end to end, over real sockets, on the pass's backend (test-backend.ts): deflect configured with `JIRA_BASE_URL` + `JIRA_PAT` (a DC install
 * under the context path `/jira`) against the fake Jira in Data Center mode.
 * - A real Server/DC webhook payload from ../shared (jenkinsci/jira-trigger-plugin, `http://localhost:2990/jira`),
 *   with a labels change that examples/rules.yaml routes, → handler → a wiki-markup comment and a transition on the
 *   fake DC, authenticated with the Bearer PAT; redelivery changes nothing.
 * - The PAT appears in no log line, at any level, including a failed `/myself` lookup.
 * - `deflect import jql` pages `POST /rest/api/2/search` over startAt; `deflect reconcile` asks the same search.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { EXAMPLE_RULES, postWebhook, REPO_ROOT, TEST_SECRET, waitFor } from '../support/deflect-under-test.js';
import { freshDatabase, type TestDatabase } from '../support/test-backend.js';

const PAT = 'MzQ1Njc4OTAxMjM0dc-e2e-personal-token';
const FIXTURE = join(REPO_ROOT, '../shared/fixtures/jira-webhooks/jira-trigger-plugin__webhook-issue_updated_without_comment.json');
const ACCESS_FORM = 'Hi platform team,\nI need to push the fee-calculation fix.\n\n*Repository*: acme/payments-api\n*Permission*: write\n*GitHub user*: jdoe-acme';
/** What a browser shows of wiki text deflect wrote: character references decoded. */
const decode = (wiki: string) => wiki.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));

/** Starts deflect in-process with every log line (level debug) captured. */
async function startCapturing(env: Record<string, string>): Promise<{ server: RunningServer; lines: string[]; database: TestDatabase }> {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
  const database = await freshDatabase();
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', ...database.env, DEFLECT_RULES: EXAMPLE_RULES, DEFLECT_WEBHOOK_SECRET: TEST_SECRET, ...env });
  const server = await startServer(config, createLogger('debug', sink));
  return { server, lines, database };
}

describe.skipIf(!existsSync(FIXTURE))('Jira Data Center end to end (needs ../shared/fixtures; skipped when absent)', () => {
  let jira: FakeJira;
  let github: FakeGitHub;
  let deflect: Awaited<ReturnType<typeof startCapturing>>;

  beforeAll(async () => {
    jira = await startFakeJira({ deployment: 'datacenter', pat: PAT, contextPath: '/jira' });
    github = await startFakeGitHub();
    jira.seedIssue({ key: 'TEST-44', id: '10510', fields: { summary: 'Need write access to payments-api', labels: ['access-request'] } });
    deflect = await startCapturing({
      JIRA_BASE_URL: jira.url,
      JIRA_PAT: PAT,
      JIRA_SITE_URL: 'http://localhost:2990/jira',
      GITHUB_TOKEN: github.token,
      GITHUB_API_URL: github.url,
      DEFLECT_RETRY_BASE_MS: '50',
    });
  });
  afterAll(async () => {
    await deflect?.server.close(1000);
    await jira?.close();
    await github?.close();
  });

  /** The real DC payload, now, with the access-request label added and the request form in the description. */
  function labelledPayload() {
    const body = JSON.parse(readFileSync(FIXTURE, 'utf8'));
    body.timestamp = Date.now();
    Object.assign(body.issue.fields, { labels: ['access-request'], description: ACCESS_FORM, summary: 'Need write access to payments-api [~admin] {color:red}x{color}' });
    body.changelog = { id: '10700', items: [{ field: 'labels', fieldtype: 'jira', from: null, fromString: '', to: null, toString: 'access-request' }] };
    return body;
  }

  it('a labelled DC issue gets a wiki-markup comment and a transition through REST v2 with the Bearer PAT; redelivery changes nothing', async () => {
    expect(jira.requestsTo('GET', '/rest/api/2/myself')).toHaveLength(1);
    const body = labelledPayload();
    const answer = await postWebhook(deflect.server.url, body, { identifier: 'dc-delivery-1' });
    expect(answer.status).toBe(200);
    expect(answer.json.status).toBe('accepted');

    const run = await waitFor('the TEST-44 run to finish', async () => {
      const rows = await deflect.database.all("SELECT * FROM runs WHERE ticket_key = 'TEST-44'");
      return rows.length === 1 && !['queued', 'running'].includes(rows[0].status) ? rows[0] : null;
    });
    expect(run.status).toBe('succeeded');
    expect(run.handler).toBe('grant-repo-access');

    const [comment] = jira.commentsFor('TEST-44');
    expect(typeof comment.body).toBe('string');
    const wiki = comment.body as string;
    expect(decode(wiki)).toContain('acme/payments-api');
    expect(wiki).not.toContain('[~admin]');
    expect(wiki).not.toContain('{color');
    expect(comment.properties).toEqual([{ key: 'deflect.action', value: expect.objectContaining({ idempotencyKey: expect.stringContaining('TEST-44:grant-repo-access:') }) }]);
    const posts = jira.requestsTo('POST', '/rest/api/2/issue/TEST-44/comment');
    expect(posts).toHaveLength(1);
    expect(posts[0].path).toBe('/jira/rest/api/2/issue/TEST-44/comment');
    expect(posts[0].headers.authorization).toBe(`Bearer ${PAT}`);
    expect(jira.requestsTo('POST', '/rest/api/2/issue/TEST-44/transitions')).toHaveLength(1);
    expect((jira.issue('TEST-44')!.fields.status as { name: string }).name).toBe('Done');
    expect(jira.requests.filter((r) => r.path.includes('/rest/api/3/'))).toEqual([]);

    const again = await postWebhook(deflect.server.url, body, { identifier: 'dc-delivery-1' });
    expect(again.json.status).toBe('duplicate');
    expect(jira.commentsFor('TEST-44')).toHaveLength(1);

    const ticket = (await deflect.database.get<{ site: string }>("SELECT site, key FROM tickets WHERE key = 'TEST-44'"))!;
    expect(ticket.site).toBe('localhost:2990');
  });

  it('writes the PAT in no log line, including a failed /myself lookup with a wrong token', async () => {
    const lines = deflect.lines.join('');
    expect(lines).toContain('Jira connected');
    expect(lines).toContain('"deployment":"datacenter"');
    expect(lines).not.toContain(PAT);

    const wrong = await startCapturing({ JIRA_BASE_URL: jira.url, JIRA_PAT: 'wrong-pat-value-xyz', DEFLECT_LOG_LEVEL: 'debug' });
    try {
      const text = wrong.lines.join('');
      expect(text).toMatch(/could not look up deflect's own Jira account.*401.*check JIRA_PAT/);
      expect(text).not.toContain('wrong-pat-value-xyz');
    } finally {
      await wrong.server.close(1000);
    }
  });
});

describe('deflect import jql against Jira Data Center', () => {
  let jira: FakeJira;
  beforeAll(async () => {
    jira = await startFakeJira({ deployment: 'datacenter', pat: PAT, contextPath: '/jira' });
    for (let i = 1; i <= 12; i++) jira.seedIssue({ key: `OPS-${i}`, fields: { summary: `Rotate token ${i}`, updated: `2026-02-${String(i).padStart(2, '0')}T10:00:00.000+0000` } });
  });
  afterAll(async () => jira?.close());

  it('pages POST /rest/api/2/search over startAt and imports every issue', async () => {
    const database = await freshDatabase();
    const result = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'import', 'jql', '--jql', 'project = OPS', '--page-size', '5'], {
      env: { PATH: process.env.PATH, ...database.env, JIRA_BASE_URL: jira.url, JIRA_PAT: PAT },
    });
    expect(result.stdout).toMatch(/imported 12 tickets from Jira \(3 pages/);
    expect(`${result.stdout}${result.stderr}`).not.toContain(PAT);
    const searches = jira.requestsTo('POST', '/rest/api/2/search');
    expect(searches.map((r) => (r.body as { startAt: number }).startAt)).toEqual([0, 5, 10]);
    expect(searches.every((r) => r.headers.authorization === `Bearer ${PAT}`)).toBe(true);
    const rows = await database.all<{ key: string; site: string }>("SELECT key, site FROM tickets WHERE project = 'OPS'");
    expect(rows).toHaveLength(12);
    expect(new Set(rows.map((r) => r.site))).toEqual(new Set([new URL(jira.url).host]));
  });
});

describe('deflect reconcile against Jira Data Center', () => {
  let jira: FakeJira;
  beforeAll(async () => {
    jira = await startFakeJira({ deployment: 'datacenter', pat: PAT });
    const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString().replace('Z', '+0000');
    for (let i = 1; i <= 3; i++) jira.seedIssue({ key: `REC-${i}`, fields: { labels: ['ci-token'], created: minutesAgo(30 + i), updated: minutesAgo(10 + i) } });
  });
  afterAll(async () => jira?.close());

  it('lists the tickets updated in the window through POST /rest/api/2/search (dry run: nothing stored)', async () => {
    const database = await freshDatabase();
    const result = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'reconcile', '--since', '2h', '--settle', '0m', '--jql', 'project = REC', '--dry-run', '--format', 'json'],
      { env: { PATH: process.env.PATH, ...database.env, JIRA_BASE_URL: jira.url, JIRA_PAT: PAT } },
    );
    const answer = JSON.parse(result.stdout) as { scanned: number; missed: Array<{ key: string }> };
    expect(answer.scanned).toBe(3);
    expect(answer.missed.map((m) => m.key).sort()).toEqual(['REC-1', 'REC-2', 'REC-3']);
    const [search] = jira.requestsTo('POST', '/rest/api/2/search');
    expect(search.body).toMatchObject({ jql: expect.stringContaining('updated >= -120m'), startAt: 0 });
    expect(search.headers.authorization).toBe(`Bearer ${PAT}`);
    expect(`${result.stdout}${result.stderr}`).not.toContain(PAT);
  });
});
