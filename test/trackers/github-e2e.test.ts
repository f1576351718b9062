/**
 * GitHub Issues end to end over real sockets: a signed `issues.labeled` webhook → deflect (real server, a real SQLite
 * file or PostgreSQL database: the pass's backend, test-backend.ts) → handler → comment and close on the fake GitHub (a real HTTP server). Redelivery changes nothing; a wrong
 * signature stores nothing; without DEFLECT_GITHUB_WEBHOOK_SECRET the route refuses, naming the setting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';
import { GITHUB_TEST_SECRET, postGitHubWebhook } from './github-webhook.js';

const count = async (d: DeflectUnderTest, sql: string, ...args: unknown[]) => (await d.database.get<{ n: number }>(sql, ...args))!.n;
const finishedRuns = async (d: DeflectUnderTest, key: string) => {
  const rows = await d.database.all('SELECT * FROM runs WHERE ticket_key = ? ORDER BY id', key);
  return rows.length > 0 && rows.every((r) => !['queued', 'running'].includes(r.status)) ? rows : null;
};

/** The `issues.labeled` payload GitHub sends when `label` is added to the fake's issue `repository#number`. */
async function labeledPayload(github: FakeGitHub, repository: string, number: number, label: string) {
  const response = await fetch(`${github.url}/repos/${repository}/issues/${number}`, { headers: { authorization: `token ${github.token}` } });
  const issue = await response.json();
  return {
    action: 'labeled',
    issue,
    label: { id: 1, name: label, color: 'ededed' },
    repository: { id: 1, full_name: repository, html_url: `https://github.com/${repository}` },
    sender: { login: 'octocat', type: 'User' },
  };
}

describe('GitHub Issues end to end on the fake GitHub', () => {
  let github: FakeGitHub;
  let deflect: DeflectUnderTest;

  beforeAll(async () => {
    github = await startFakeGitHub();
    deflect = await startDeflect({
      env: { DEFLECT_GITHUB_WEBHOOK_SECRET: GITHUB_TEST_SECRET, GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url, DEFLECT_RETRY_BASE_MS: '50' },
    });
  });
  afterAll(async () => {
    await deflect?.close(1000);
    await github?.close();
  });

  it('a labelled issue runs its handler: GitHub grant, then a comment with the hidden marker and the issue closed', async () => {
    const issue = github.seedIssue('acme/web', {
      title: 'Need write access to payments-api',
      body: 'Repository: acme/payments-api\nPermission: write\nGitHub user: hubot',
      labels: ['access-request'],
    });
    const body = await labeledPayload(github, 'acme/web', issue.number, 'access-request');
    const answer = await postGitHubWebhook(deflect.url, body, { delivery: 'gh-e2e-delivery-1' });
    expect(answer).toMatchObject({ status: 200, json: { status: 'accepted' } });

    const key = `acme/web#${issue.number}`;
    const [run] = await waitFor(`the ${key} run to finish`, () => finishedRuns(deflect, key));
    expect(run.status, run.error ?? '').toBe('succeeded');
    expect(run.handler).toBe('grant-repo-access');
    expect(run.dry_run).toBe(0);

    expect(github.repository('acme/payments-api')!.collaborators.get('hubot') ?? github.invitations('acme/payments-api').find((i) => i.invitee === 'hubot')?.permission).toBe('push');
    const stored = github.issue('acme/web', issue.number)!;
    expect(stored.comments).toHaveLength(1);
    // (Values are Markdown-escaped by commentToMarkdown: `acme\/payments\-api`.)
    expect(stored.comments[0].body).toMatch(/^Invitation sent for \*\*acme\\?\/payments\\?-api\*\*/);
    expect(stored.comments[0].body).toContain('hubot');
    expect(stored.comments[0].body).toMatch(/<!-- deflect:action \S+:comment -->$/);
    expect(stored.state).toBe('closed');
    expect(stored.stateReason).toBe('completed');

    const actions = await deflect.database.all<{ kind: string; status: string }>('SELECT kind, status FROM actions WHERE run_id = ? ORDER BY seq', run.id);
    expect(actions.map((a) => a.kind)).toEqual(['github.add_collaborator', 'comment', 'transition']);
    expect(actions.every((a) => a.status === 'applied')).toBe(true);
    const ticket = await deflect.database.get('SELECT tracker, key, project, status FROM tickets WHERE key = ?', key);
    expect(ticket).toEqual({ tracker: 'github', key, project: 'acme/web', status: 'open' });

    // Redelivery of the same X-GitHub-Delivery (GitHub's "Redeliver" button) changes nothing.
    const commentsBefore = github.requestsTo('POST', `/repos/acme/web/issues/${issue.number}/comments`).length;
    const again = await postGitHubWebhook(deflect.url, body, { delivery: 'gh-e2e-delivery-1' });
    expect(again).toMatchObject({ status: 200, json: { status: 'duplicate' } });
    // The same body under a new delivery id (a replayed capture) is a duplicate too: the body hash matches.
    const replayed = await postGitHubWebhook(deflect.url, body, { delivery: 'gh-e2e-delivery-2' });
    expect(replayed).toMatchObject({ status: 200, json: { status: 'duplicate' } });
    await new Promise((r) => setTimeout(r, 300));
    expect(await count(deflect, 'SELECT count(*) AS n FROM runs WHERE ticket_key = ?', key)).toBe(1);
    expect(github.requestsTo('POST', `/repos/acme/web/issues/${issue.number}/comments`)).toHaveLength(commentsBefore);
    expect(github.issue('acme/web', issue.number)!.comments).toHaveLength(1);
  });

  it('a wrong signature is refused with 401 and stores nothing', async () => {
    const issue = github.seedIssue('acme/web', { title: 'Token reset', labels: ['token-reset'] });
    const before = await count(deflect, 'SELECT count(*) AS n FROM deliveries');
    const body = await labeledPayload(github, 'acme/web', issue.number, 'token-reset');
    const forged = await postGitHubWebhook(deflect.url, body, { secret: 'not the secret', delivery: 'gh-e2e-forged' });
    expect(forged.status).toBe(401);
    expect(forged.json.message).toMatch(/signature does not match/);
    expect(forged.json.message).not.toContain(GITHUB_TEST_SECRET);
    const unsigned = await postGitHubWebhook(deflect.url, body, { secret: null, delivery: 'gh-e2e-unsigned' });
    expect(unsigned.status).toBe(401);
    expect(unsigned.json.message).toMatch(/X-Hub-Signature-256/);
    const malformed = await postGitHubWebhook(deflect.url, body, { secret: null, headers: { 'x-hub-signature-256': 'sha1=abc' } });
    expect(malformed.status).toBe(401);
    expect(malformed.json.message).toMatch(/malformed X-Hub-Signature-256/);
    expect(await count(deflect, 'SELECT count(*) AS n FROM deliveries')).toBe(before);
    expect(await count(deflect, "SELECT count(*) AS n FROM deliveries WHERE delivery_key LIKE 'github:gh-e2e-%' AND delivery_key != 'github:gh-e2e-delivery-1'")).toBe(0);
  });

  it('refuses a body without X-GitHub-Event, or with a bad issue, with 422 naming what is wrong', async () => {
    const body = await labeledPayload(github, 'acme/web', 1, 'access-request');
    const noEvent = await postGitHubWebhook(deflect.url, { ...body, zap: 1 }, { headers: { 'x-github-event': '' } });
    expect(noEvent.status).toBe(422);
    expect(noEvent.json.message).toMatch(/X-GitHub-Event/);
    const badIssue = await postGitHubWebhook(deflect.url, { ...body, issue: { ...body.issue, number: 'one' } });
    expect(badIssue.status).toBe(422);
    expect(badIssue.json.message).toBe('invalid GitHub issues event: issue.number: Invalid input: expected number, received string');
  });
});

describe('GitHub webhooks without DEFLECT_GITHUB_WEBHOOK_SECRET', () => {
  let deflect: DeflectUnderTest;
  beforeAll(async () => {
    deflect = await startDeflect(); // the Jira secret is set (test default), the GitHub one is not
  });
  afterAll(async () => deflect?.close(1000));

  it('answers 401 naming the setting, signed or not, and stores nothing', async () => {
    const body = { action: 'opened', issue: { id: 1, number: 1 }, repository: { full_name: 'acme/web' } };
    for (const secret of [GITHUB_TEST_SECRET, null]) {
      const answer = await postGitHubWebhook(deflect.url, body, { secret });
      expect(answer.status).toBe(401);
      expect(answer.json.message).toMatch(/DEFLECT_GITHUB_WEBHOOK_SECRET/);
    }
    expect(await count(deflect, 'SELECT count(*) AS n FROM deliveries')).toBe(0);
  });
});
