/**
 * Approvals on GitHub Issues end to end, on the pass's backend (test-backend.ts): a signed `issues.labeled` webhook for a write grant waits for approval with
 * one comment; `issue_comment.created` webhooks carry the decision. The reporter's own `/approve` and deflect's own
 * request comment echoed back are ignored; a maintainer's `/approve` completes the grant on the fake GitHub.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { freshDir, startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';
import { GITHUB_TEST_SECRET, postGitHubWebhook } from '../trackers/github-webhook.js';

const RULES = `rules:
  - name: repo-access
    labels: [access-request]
    handler: grant-repo-access
    approval: { approvers: [maintainer-1, reporter-1] }
`;

describe('approvals on GitHub Issues', () => {
  let github: FakeGitHub;
  let deflect: DeflectUnderTest;

  beforeAll(async () => {
    github = await startFakeGitHub();
    const rulesPath = join(freshDir(), 'rules.yaml');
    writeFileSync(rulesPath, RULES);
    deflect = await startDeflect({
      env: { DEFLECT_RULES: rulesPath, DEFLECT_GITHUB_WEBHOOK_SECRET: GITHUB_TEST_SECRET, GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url, DEFLECT_RETRY_BASE_MS: '50' },
    });
  });
  afterAll(async () => {
    await deflect?.close(1000);
    await github?.close();
  });

  it('waits, ignores the reporter and deflect\'s own comment, and grants once a maintainer approves', async () => {
    const issue = github.seedIssue('acme/web', { title: 'Write access', body: 'Repository: acme/payments-api\nPermission: write\nGitHub user: hubot', labels: ['access-request'], user: 'reporter-1' });
    const fetched = await (await fetch(`${github.url}/repos/acme/web/issues/${issue.number}`, { headers: { authorization: `token ${github.token}` } })).json();
    const repository = { id: 1, full_name: 'acme/web', html_url: 'https://github.com/acme/web' };
    await postGitHubWebhook(deflect.url, { action: 'labeled', issue: fetched, label: { id: 1, name: 'access-request' }, repository, sender: { login: 'reporter-1' } });
    const key = `acme/web#${issue.number}`;
    const runOf = () => deflect.database.get('SELECT * FROM runs WHERE ticket_key = ?', key);
    await waitFor('the run to await approval', async () => ((await runOf())?.status === 'awaiting-approval' ? true : null));
    expect(github.invitations('acme/payments-api')).toEqual([]);
    const posted = github.issue('acme/web', issue.number)!.comments;
    expect(posted).toHaveLength(1);
    expect(posted[0].body).toContain('maintainer-1');

    const comment = (login: string, body: string, id: number) => ({ action: 'created', issue: fetched, comment: { id, body, user: { login } }, repository, sender: { login } });
    const reasonOf = async (delivery: string) => (await deflect.database.get<{ reason: string }>('SELECT reason FROM deliveries WHERE delivery_key = ?', `github:${delivery}`))!.reason;
    await postGitHubWebhook(deflect.url, comment('reporter-1', '/approve', 501), { event: 'issue_comment', delivery: 'gh-approve-reporter' });
    await postGitHubWebhook(deflect.url, comment('maintainer-1', posted[0].body, 502), { event: 'issue_comment', delivery: 'gh-echo' });
    expect(await reasonOf('gh-approve-reporter')).toContain('the reporter cannot approve or deny their own request');
    expect(await reasonOf('gh-echo')).not.toContain('approved');
    expect((await runOf())!.status).toBe('awaiting-approval');

    await postGitHubWebhook(deflect.url, comment('Maintainer-1', '/APPROVE', 503), { event: 'issue_comment', delivery: 'gh-approve' });
    await waitFor('the run to succeed', async () => ((await runOf())?.status === 'succeeded' ? true : null));
    expect(github.invitations('acme/payments-api')).toEqual([expect.objectContaining({ invitee: 'hubot', permission: 'push' })]);
    expect(github.issue('acme/web', issue.number)!.state).toBe('closed');
  });
});
