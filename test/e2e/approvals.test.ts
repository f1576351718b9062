/**
 * Approvals end to end over real sockets: signed Jira webhooks → deflect (real server, a real SQLite file or PostgreSQL
 * database: test-backend.ts) → fake Jira and fake GitHub. An access request above `maxRoleWithoutApproval` (default read) waits with one comment naming the
 * approvers; comment webhooks carry the decisions: a non-approver's and the reporter's own `/approve` are ignored, an
 * approver's `/approve` completes the grant, `/deny` ends it, and an unanswered request expires with a comment.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader } from '../support/api-token.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { freshDir, postWebhook, REPO_ROOT, startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';

const example = (name: string) => JSON.parse(readFileSync(join(REPO_ROOT, 'examples/payloads', name), 'utf8'));
const REPORTER = '712020:4f1c2e0a-7b61-4d4e-9a2f-0c1d5e6f7a81';
const SITE = 'https://acme-example.atlassian.net';

/** The example access request as ticket `key`, with the given permission, repository and label. */
function accessRequest(key: string, id: string, options: { permission?: string; repository?: string; label?: string } = {}) {
  const body = { ...example('01-access-request-created.json'), timestamp: Date.now() };
  Object.assign(body.issue, { id, key, self: `${SITE}/rest/api/2/issue/${id}` });
  body.issue.fields.labels = [options.label ?? 'access-request'];
  body.issue.fields.description = `Repository: ${options.repository ?? 'acme/payments-api'}\nPermission: ${options.permission ?? 'write'}\nGitHub user: dev-${key.toLowerCase()}`;
  return body;
}

/** A `comment_created` webhook on ticket `key` by `accountId` with `text`. */
function commentEvent(key: string, id: string, accountId: string, text: string, commentId: string) {
  const body = { ...example('05-comment-created.json'), timestamp: Date.now() };
  const author = { self: `${SITE}/rest/api/2/user?accountId=${accountId}`, accountId, displayName: accountId };
  body.comment = { ...body.comment, id: commentId, self: `${SITE}/rest/api/2/issue/${id}/comment/${commentId}`, author, updateAuthor: author, body: text };
  Object.assign(body.issue, { id, key, self: `${SITE}/rest/api/2/issue/${id}` });
  return body;
}

const RULES = `rules:
  - name: repo-access
    labels: [access-request]
    handler: grant-repo-access
    with: { allowedOrgs: [acme] }
    approval:
      approvers: [lead-1, "${REPORTER}"]   # the reporter listed on purpose: they still cannot approve their own request
      expiresAfter: 1h
  - name: repo-access-fast-expiry
    labels: [access-request-fast]
    handler: grant-repo-access
    approval: { approvers: [lead-1], expiresAfter: 2s }
  - name: repo-access-shadow
    labels: [access-request-shadow]
    handler: grant-repo-access
    mode: shadow
    approval: { approvers: [lead-1], when: always }
`;

describe('approvals end to end', () => {
  let jira: FakeJira;
  let github: FakeGitHub;
  let deflect: DeflectUnderTest;
  const runOf = (key: string) => deflect.database.get('SELECT * FROM runs WHERE ticket_key = ? ORDER BY id', key);
  const statusIs = async (key: string, status: string) => {
    const run = await runOf(key);
    return run?.status === status ? run : null;
  };
  // "by" is quoted: a reserved word on PostgreSQL. "commentId" quoted so PostgreSQL keeps its case.
  const stepsOf = (runId: number) => deflect.database.all('SELECT decision, "by", comment_id AS "commentId" FROM approvals WHERE run_id = ? ORDER BY id', runId);
  const commentText = (key: string) => jira.commentsFor(key).map((c) => JSON.stringify(c.body));
  const deliveryReason = (identifier: string) =>
    deflect.database.get<{ status: string; reason: string }>('SELECT status, reason FROM deliveries WHERE webhook_identifier = ?', identifier);

  beforeAll(async () => {
    jira = await startFakeJira();
    github = await startFakeGitHub();
    for (const key of ['PLAT-201', 'PLAT-202', 'PLAT-203', 'PLAT-204', 'PLAT-205', 'PLAT-206']) jira.seedIssue({ key });
    const rulesPath = join(freshDir(), 'rules.yaml');
    writeFileSync(rulesPath, RULES);
    deflect = await startDeflect({
      fakeJira: jira,
      env: { DEFLECT_RULES: rulesPath, GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url, DEFLECT_RETRY_BASE_MS: '50', JIRA_TIMEOUT_MS: '500' },
    });
  });
  afterAll(async () => {
    await deflect?.close(1000);
    await jira?.close();
    await github?.close();
  });

  it('a write request waits with one comment; a non-approver and the reporter are ignored; an approver completes it', async () => {
    expect((await postWebhook(deflect.url, accessRequest('PLAT-201', '20201'))).status).toBe(200);
    const waiting = await waitFor('PLAT-201 to await approval', () => statusIs('PLAT-201', 'awaiting-approval'));
    expect(github.requestsTo('PUT', '/repos/acme/payments-api/collaborators')).toHaveLength(0);
    const asked = commentText('PLAT-201');
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain('needs approval before deflect acts');
    expect(asked[0]).toContain('lead-1');
    expect(asked[0]).toContain('/approve');
    expect(jira.issue('PLAT-201')!.fields.status).toMatchObject({ name: 'To Do' });

    const api = await fetch(`${deflect.url}/api/runs?status=awaiting-approval`, { headers: await authHeader(deflect.db) });
    expect(api.status).toBe(200);
    expect(JSON.stringify(await api.json())).toContain('PLAT-201');

    await postWebhook(deflect.url, commentEvent('PLAT-201', '20201', 'someone-else', '/approve', 'c-1'), { identifier: 'approve-by-stranger' });
    await postWebhook(deflect.url, commentEvent('PLAT-201', '20201', REPORTER, '/approve', 'c-2'), { identifier: 'approve-by-reporter' });
    expect((await deliveryReason('approve-by-stranger'))!.reason).toContain('someone-else is not an approver');
    expect((await deliveryReason('approve-by-reporter'))!.reason).toContain('the reporter cannot approve or deny their own request');
    expect((await runOf('PLAT-201'))!.status).toBe('awaiting-approval');

    await postWebhook(deflect.url, commentEvent('PLAT-201', '20201', 'lead-1', '/approve looks fine', 'c-3'), { identifier: 'approve-by-lead' });
    const done = await waitFor('PLAT-201 to succeed', () => statusIs('PLAT-201', 'succeeded'));
    expect(done.id).toBe(waiting.id);
    expect(await deliveryReason('approve-by-lead')).toMatchObject({ status: 'routed', reason: expect.stringContaining('approved by lead-1') });
    expect(github.invitations('acme/payments-api')).toEqual([expect.objectContaining({ invitee: 'dev-plat-201', permission: 'push' })]);
    expect(jira.issue('PLAT-201')!.fields.status).toMatchObject({ name: 'Done' });
    const comments = commentText('PLAT-201');
    expect(comments).toHaveLength(2);
    expect(comments[1]).toContain('Invitation sent');
    expect(await stepsOf(done.id)).toEqual([
      { decision: 'requested', by: null, commentId: null },
      { decision: 'approved', by: 'lead-1', commentId: 'c-3' },
    ]);
    const audit = await (await fetch(`${deflect.url}/api/runs?ticket=PLAT-201`, { headers: await authHeader(deflect.db) })).json();
    expect(audit.runs[0].approvals).toEqual([
      expect.objectContaining({ decision: 'requested', by: null, expiresAt: expect.any(String) }),
      expect.objectContaining({ decision: 'approved', by: 'lead-1', commentId: 'c-3' }),
    ]);
  });

  it('a read request needs no approval', async () => {
    await postWebhook(deflect.url, accessRequest('PLAT-202', '20202', { permission: 'read' }));
    const run = await waitFor('PLAT-202 to succeed', () => statusIs('PLAT-202', 'succeeded'));
    expect(await stepsOf(run.id)).toEqual([]);
    expect(github.invitations('acme/payments-api').some((i) => i.invitee === 'dev-plat-202')).toBe(true);
  });

  it('/deny by an approver ends the run denied with a comment, and nothing is granted', async () => {
    await postWebhook(deflect.url, accessRequest('PLAT-203', '20203', { permission: 'maintain' }));
    await waitFor('PLAT-203 to await approval', () => statusIs('PLAT-203', 'awaiting-approval'));
    await postWebhook(deflect.url, commentEvent('PLAT-203', '20203', 'lead-1', '/deny not this quarter', 'c-4'));
    const run = await waitFor('PLAT-203 to be denied', () => statusIs('PLAT-203', 'denied'));
    expect(run.summary).toBe('denied by lead-1');
    const comments = commentText('PLAT-203');
    expect(comments).toHaveLength(2);
    expect(comments[1]).toContain('"text":"Denied by "},{"type":"text","text":"lead-1"}');
    expect(github.invitations('acme/payments-api').some((i) => i.invitee === 'dev-plat-203')).toBe(false);
  });

  it('an unanswered request expires after expiresAfter with a comment', async () => {
    await postWebhook(deflect.url, accessRequest('PLAT-204', '20204', { label: 'access-request-fast' }));
    const run = await waitFor('PLAT-204 to expire', () => statusIs('PLAT-204', 'expired'), 15_000);
    expect((await stepsOf(run.id)).map((s) => s.decision)).toEqual(['requested', 'expired']);
    const comments = commentText('PLAT-204');
    expect(comments).toHaveLength(2);
    expect(comments[1]).toContain('expired');
    expect(github.invitations('acme/payments-api').some((i) => i.invitee === 'dev-plat-204')).toBe(false);
  });

  it('refuses a repository outside allowedOrgs with a clear comment and no GitHub call', async () => {
    const before = github.requests.length;
    await postWebhook(deflect.url, accessRequest('PLAT-205', '20205', { repository: 'other-org/secrets', permission: 'read' }));
    const run = await waitFor('PLAT-205 to finish', () => statusIs('PLAT-205', 'succeeded'));
    expect(run.summary).toBe('refused: other-org is not an allowed organization');
    expect(github.requests.length).toBe(before);
    expect(commentText('PLAT-205')[0]).toContain('Not allowed');
  });

  it('a shadow rule with an approval gate shows it would wait, sends nothing and does not park the run', async () => {
    const answer = await postWebhook(deflect.url, accessRequest('PLAT-206', '20206', { label: 'access-request-shadow' }));
    expect(answer.status).toBe(200);
    const run = await waitFor('the shadow run', () => statusIs('PLAT-206', 'shadow'));
    expect(run.summary).toMatch(/^would wait for approval \(.*\) by lead-1$/);
    expect(jira.commentsFor('PLAT-206')).toHaveLength(0);
    const planned = await deflect.database.all('SELECT kind, status FROM actions WHERE run_id = ?', run.id);
    expect(planned).toEqual([{ kind: 'comment', status: 'planned' }]);
  });
});
