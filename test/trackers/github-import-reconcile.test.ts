/**
 * `deflect import github` (the real CLI in a child process, against the fake GitHub: paging, pull requests skipped,
 * safe to run twice, clear errors for bad names, 404 and 401) and GitHub reconcile (missed `issues` events found by
 * listing issues, stored as deliveries the running worker routes to handlers, with comments on the fake GitHub). Each
 * runs on a fresh database of the pass's backend (test-backend.ts: SQLite file or PostgreSQL).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubIssuesClient } from '../../src/trackers/github/github-client.js';
import { importGitHubIssues } from '../../src/trackers/github/github-import.js';
import { reconcileGitHub } from '../../src/trackers/github/github-reconcile.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { REPO_ROOT, startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';
import { GITHUB_TEST_SECRET, postGitHubWebhook } from './github-webhook.js';
import { freshDatabase } from '../support/test-backend.js';

const run = promisify(execFile);
/** Runs the CLI from sources, asynchronously (the fake GitHub answers from this process's event loop). */
async function deflect(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), ...args], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();

describe('deflect import github', () => {
  let github: FakeGitHub;
  beforeAll(async () => {
    github = await startFakeGitHub({ repositories: ['acme/requests', 'acme/empty'] });
    for (let i = 0; i < 104; i++) github.seedIssue('acme/requests', { title: `Request ${i}`, labels: i % 2 ? ['token-reset'] : [], state: i % 3 ? 'open' : 'closed', updatedAt: iso((200 - i) * 60_000) });
    github.seedIssue('acme/requests', { title: 'A pull request', pullRequest: true });
    github.seedIssue('acme/requests', { title: 'Newest', updatedAt: iso(1000) });
  });
  afterAll(async () => github?.close());

  it('imports every issue (open and closed, all pages), skips pull requests, and is safe to run twice', async () => {
    const database = await freshDatabase('deflect-gh-import-');
    const env = { ...database.env, GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url };
    const first = await deflect(env, 'import', 'github', '--repo', 'acme/requests', '--no-group');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/imported 105 issues from acme\/requests in [\d.]+ s; 1 pull requests skipped, 0 bad issues skipped/);
    expect(github.requestsTo('GET', '/repos/acme/requests/issues').map((r) => r.query.page ?? '1')).toEqual(['1', '2']);
    expect(github.requestsTo('GET', '/repos/acme/requests/issues')[0].query).toMatchObject({ state: 'all', per_page: '100' });
    const second = await deflect(env, 'import', 'github', '--repo', 'acme/requests', '--no-group');
    expect(second.code, second.stderr).toBe(0);
    const rows = await database.all<Record<string, string>>('SELECT tracker, key, project, status, origin, site FROM tickets ORDER BY key');
    expect(rows).toHaveLength(105);
    expect(new Set(rows.map((r) => `${r.tracker} ${r.project} ${r.origin} ${r.site}`))).toEqual(new Set(['github acme/requests import github.com']));
    expect(rows.filter((r) => r.status === 'closed')).toHaveLength(35);
    expect(rows.some((r) => r.key === 'acme/requests#105')).toBe(false); // the pull request
    console.log(`import github: ${rows.length} tickets stored from ${github.issue('acme/requests', 106)!.number} items (1 pull request)`);
  }, 60_000);

  it('--since imports only issues updated since then', async () => {
    const store = await (await freshDatabase('deflect-gh-import-')).open();
    const client = createGitHubIssuesClient({ baseUrl: github.url, token: github.token });
    const result = await importGitHubIssues(store, client, 'acme/requests', { since: Date.now() - 100.5 * 60_000 });
    await store.close();
    // Request 100..103 were updated 100..97 minutes ago, "Newest" a second ago; the pull request is no issue.
    expect(result).toMatchObject({ imported: 5, skipped: 0 });
    expect(github.requestsTo('GET', '/repos/acme/requests/issues').at(-1)!.query.since).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('says what is wrong with a bad repository name, an unknown repository and a bad token', async () => {
    const database = await freshDatabase('deflect-gh-import-');
    const env = { ...database.env, GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url };
    const badName = await deflect(env, 'import', 'github', '--repo', 'acme');
    expect(badName.code).toBe(1);
    expect(badName.stderr).toMatch(/--repo "acme" is not a repository name: expected OWNER\/NAME/);
    const missing = await deflect(env, 'import', 'github', '--repo', 'acme/nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/repository acme\/nope not found at http:\/\/127\.0\.0\.1:\d+ \(404\), or not visible to GITHUB_TOKEN/);
    const badToken = await deflect({ ...env, GITHUB_TOKEN: 'wrong' }, 'import', 'github', '--repo', 'acme/requests');
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toMatch(/GitHub refused the token \(401\): check GITHUB_TOKEN/);
    expect(badToken.stderr).not.toContain('wrong');
    const badSince = await deflect(env, 'import', 'github', '--repo', 'acme/requests', '--since', 'yesterday');
    expect(badSince.stderr).toMatch(/--since "yesterday" is not a date/);
  }, 60_000);
});

describe('deflect reconcile --tracker github (CLI)', () => {
  let github: FakeGitHub;
  beforeAll(async () => {
    github = await startFakeGitHub({ repositories: ['acme/web'] });
    github.seedIssue('acme/web', { title: 'Labelled', labels: ['token-reset'], createdAt: iso(30 * 60_000) });
    github.seedIssue('acme/web', { title: 'Old', createdAt: iso(5 * 86_400_000) });
  });
  afterAll(async () => github?.close());

  it('lists what it would store in a dry run, and says what is missing without --repo or a window', async () => {
    const database = await freshDatabase('deflect-gh-reconcile-');
    const env = { ...database.env, GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url };
    const dry = await deflect(env, 'reconcile', '--tracker', 'github', '--repo', 'acme/web', '--since', '2h', '--dry-run', '--format', 'json');
    expect(dry.code, dry.stderr).toBe(0);
    const result = JSON.parse(dry.stdout);
    expect(result).toMatchObject({ scanned: 1, missed: [{ key: 'acme/web#1', event: 'issues.opened', deliveryId: null }] });
    expect((await database.get<{ n: number }>('SELECT count(*) AS n FROM deliveries'))!.n).toBe(0);
    const noRepo = await deflect(env, 'reconcile', '--tracker', 'github');
    expect(noRepo.stderr).toMatch(/needs --repo OWNER\/NAME/);
    const noWindow = await deflect(env, 'reconcile', '--tracker', 'github', '--repo', 'acme/web');
    expect(noWindow.stderr).toMatch(/no GitHub delivery is stored yet: give the window start \(--since\)/);
    const other = await deflect(env, 'reconcile', '--tracker', 'linear');
    expect(other.stderr).toMatch(/reconcile supports jira, github and trello/);
  }, 60_000);
});

describe('GitHub reconcile', () => {
  let github: FakeGitHub;
  let server: DeflectUnderTest;
  beforeAll(async () => {
    github = await startFakeGitHub();
    server = await startDeflect({ env: { DEFLECT_GITHUB_WEBHOOK_SECRET: GITHUB_TEST_SECRET, GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url } });
  });
  afterAll(async () => {
    await server?.close(1000);
    await github?.close();
  });

  it('finds missed events by listing issues, stores them as deliveries, and the worker routes them to handlers; twice stores nothing new', async () => {
    const client = createGitHubIssuesClient({ baseUrl: github.url, token: github.token });
    await expect(reconcileGitHub({ db: server.db, client, repositories: ['acme/web'] })).rejects.toThrow(/no GitHub delivery is stored yet/);

    // Issue A was opened (webhook received), then labelled while deflect was down (webhook lost).
    const a = github.seedIssue('acme/web', { title: 'Reset token', body: 'Token: DEPLOY_TOKEN\nSystem: github-actions', createdAt: iso(5 * 60_000) });
    const issueA = await (await fetch(`${github.url}/repos/acme/web/issues/${a.number}`, { headers: { authorization: `token ${github.token}` } })).json();
    const opened = await postGitHubWebhook(server.url, { action: 'opened', issue: issueA, repository: { full_name: 'acme/web', html_url: 'https://github.com/acme/web' }, sender: { login: 'octocat' } });
    expect(opened.json.status).toBe('accepted');
    a.labels.push('token-reset');
    a.updatedAt = iso(60_000);
    // Issue B was opened with a label: its webhook was lost too. Issue C is old and untouched; D is a pull request.
    const b = github.seedIssue('acme/web', { title: 'Access', body: 'Repository: acme/api\nGitHub user: hubot', labels: ['access-request'], createdAt: iso(2 * 60_000) });
    github.seedIssue('acme/web', { title: 'Old', labels: ['access-request'], createdAt: iso(30 * 86_400_000) });
    github.seedIssue('acme/web', { title: 'PR', labels: ['access-request'], pullRequest: true, createdAt: iso(60_000) });

    const result = await reconcileGitHub({ db: server.db, client, repositories: ['acme/web'], settleMs: 0 });
    expect(result.scanned).toBe(2);
    // Oldest update first: B (opened 2 minutes ago), then A (labelled 1 minute ago).
    expect(result.missed.map((m) => [m.key, m.event, m.label, m.duplicate])).toEqual([
      [`acme/web#${b.number}`, 'issues.opened', null, false],
      [`acme/web#${a.number}`, 'issues.labeled', 'token-reset', false],
    ]);
    console.log(`GitHub reconcile: ${result.scanned} issues checked, ${result.missed.length} missed (${result.missed.map((m) => m.event).join(', ')})`);

    const finished = async (key: string) => {
      const rows = await server.database.all<{ handler: string; status: string }>('SELECT handler, status FROM runs WHERE ticket_key = ?', key);
      return rows.length > 0 && rows.every((r) => !['queued', 'running'].includes(r.status)) ? rows : null;
    };
    expect(await waitFor('the reconciled A run', () => finished(`acme/web#${a.number}`))).toEqual([{ handler: 'reset-ci-token', status: 'succeeded' }]);
    expect(await waitFor('the reconciled B run', () => finished(`acme/web#${b.number}`))).toEqual([{ handler: 'grant-repo-access', status: 'succeeded' }]);
    expect(github.issue('acme/web', a.number)!.comments).toHaveLength(1);
    expect(github.issue('acme/web', a.number)!.comments[0].body).toMatch(/DEPLOY\\?_TOKEN/);
    expect(github.issue('acme/web', b.number)!.state).toBe('closed');

    // Again: the handlers' comments changed the issues, but no label was added: snapshots refresh, nothing routes.
    const count = async (sql: string) => (await server.database.get<{ n: number }>(sql))!.n;
    const runsBefore = await count('SELECT count(*) AS n FROM runs');
    const again = await reconcileGitHub({ db: server.db, client, repositories: ['acme/web'], settleMs: 0 });
    expect(again.missed.every((m) => m.event === 'issues.deflect_reconciled')).toBe(true);
    await waitFor('reconciled deliveries routed', async () => (await count("SELECT count(*) AS n FROM deliveries WHERE status = 'pending'")) === 0);
    expect(await count('SELECT count(*) AS n FROM runs')).toBe(runsBefore);
    const third = await reconcileGitHub({ db: server.db, client, repositories: ['acme/web'], settleMs: 0 });
    expect(third.missed.filter((m) => !m.duplicate)).toEqual([]);
  }, 30_000);
});
