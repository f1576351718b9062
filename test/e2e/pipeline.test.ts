/**
 * End to end over real sockets: signed Jira webhooks → deflect (real server, a real SQLite file or PostgreSQL database: test-backend.ts) → fake Jira and fake
 * GitHub (real HTTP servers). Asserts what Jira and GitHub received and what the database recorded; and that without
 * GITHUB_TOKEN the access request is validated and commented, not claimed as done.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader } from '../support/api-token.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { postWebhook, REPO_ROOT, startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';

/** An example payload with its `timestamp` set to now (stored examples are older than DEFLECT_MAX_EVENT_AGE). */
const payload = (name: string) => ({ ...JSON.parse(readFileSync(join(REPO_ROOT, 'examples/payloads', name), 'utf8')), timestamp: Date.now() });
const count = async (d: DeflectUnderTest, table: string) => (await d.database.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))!.n;
const runsOf = (d: DeflectUnderTest, key: string) => d.database.all('SELECT * FROM runs WHERE ticket_key = ? ORDER BY id', key);
const finished = async (d: DeflectUnderTest, key: string) => {
  const rows = await runsOf(d, key);
  return rows.length > 0 && rows.every((r) => !['queued', 'running'].includes(r.status)) ? rows : null;
};
const actionsOf = (d: DeflectUnderTest, runId: number) =>
  d.database.all<{ kind: string; status: string }>('SELECT kind, status FROM actions WHERE run_id = ? ORDER BY seq', runId);
/** The example access request (acme/payments-api, write) as ticket `key`/`id`, for GitHub user `user`. */
function accessRequest(key: string, id: string, user = 'jdoe-acme') {
  const body = payload('01-access-request-created.json');
  Object.assign(body.issue, { id, key, self: body.issue.self.replace('10101', id) });
  body.issue.fields.description = body.issue.fields.description.replace('jdoe-acme', user);
  return body;
}

describe('core pipeline end to end', () => {
  let jira: FakeJira;
  let github: FakeGitHub;
  let deflect: DeflectUnderTest;

  beforeAll(async () => {
    jira = await startFakeJira();
    github = await startFakeGitHub();
    for (const key of ['PLAT-101', 'PLAT-103', 'PLAT-104', 'PLAT-105']) jira.seedIssue({ key });
    deflect = await startDeflect({
      fakeJira: jira,
      env: { GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url, DEFLECT_RETRY_BASE_MS: '50', JIRA_TIMEOUT_MS: '500' },
    });
  });
  afterAll(async () => {
    await deflect?.close(1000);
    await jira?.close();
    await github?.close();
  });

  it('a signed issue_created with a routed label calls GitHub once, then gets a comment and a transition, with one run and its actions recorded', async () => {
    const answer = await postWebhook(deflect.url, payload('01-access-request-created.json'), { identifier: 'e2e-delivery-1' });
    expect(answer.status).toBe(200);
    expect(answer.json.status).toBe('accepted');

    const [run] = await waitFor('the PLAT-101 run to finish', () => finished(deflect, 'PLAT-101'));
    expect(run.status).toBe('succeeded');
    expect(run.handler).toBe('grant-repo-access');
    expect(run.reason).toContain('label access-request → grant-repo-access');
    expect(run.attempts).toBe(1);

    expect(run.summary).toBe('invited jdoe-acme to acme/payments-api with write (invitation pending)');

    const puts = github.requestsTo('PUT', '/repos/acme/payments-api/collaborators/jdoe-acme');
    expect(puts).toHaveLength(1);
    expect(puts[0].body).toEqual({ permission: 'push' });
    expect(puts[0].headers.authorization).toBe(`token ${github.token}`);
    expect(github.invitations('acme/payments-api')).toEqual([expect.objectContaining({ invitee: 'jdoe-acme', permission: 'push' })]);

    const comments = jira.commentsFor('PLAT-101');
    expect(comments).toHaveLength(1);
    expect(JSON.stringify(comments[0].body)).toContain('acme/payments-api');
    expect(JSON.stringify(comments[0].body)).toContain('Invitation sent for ');
    expect(jira.requestsTo('POST', '/rest/api/3/issue/PLAT-101/transitions')).toHaveLength(1);
    expect((jira.issue('PLAT-101')!.fields.status as { name: string }).name).toBe('Done');

    expect(await actionsOf(deflect, run.id)).toEqual([
      { kind: 'github.add_collaborator', status: 'applied' },
      { kind: 'comment', status: 'applied' },
      { kind: 'transition', status: 'applied' },
    ]);
  });

  it('a redelivery with the same identifier answers 200 and changes nothing', async () => {
    const before = { deliveries: await count(deflect, 'deliveries'), runs: await count(deflect, 'runs'), requests: jira.requests.length, github: github.requests.length };
    const answer = await postWebhook(deflect.url, payload('01-access-request-created.json'), { identifier: 'e2e-delivery-1' });
    expect(answer.status).toBe(200);
    expect(answer.json.status).toBe('duplicate');
    await new Promise((r) => setTimeout(r, 300));
    expect(await count(deflect, 'deliveries')).toBe(before.deliveries);
    expect(await count(deflect, 'runs')).toBe(before.runs);
    expect(jira.requests.length).toBe(before.requests);
    expect(github.requests.length).toBe(before.github);
    expect(jira.commentsFor('PLAT-101')).toHaveLength(1);
  });

  it('a wrong signature is refused with 401 and stores nothing', async () => {
    const before = await count(deflect, 'deliveries');
    const answer = await postWebhook(deflect.url, payload('06-ci-token-reset.json'), { secret: 'not the secret' });
    expect(answer.status).toBe(401);
    expect(answer.json.message).toMatch(/DEFLECT_WEBHOOK_SECRET/);
    const unsigned = await postWebhook(deflect.url, payload('06-ci-token-reset.json'), { secret: null });
    expect(unsigned.status).toBe(401);
    expect(await count(deflect, 'deliveries')).toBe(before);
    expect(await count(deflect, 'tickets')).toBe(1);
  });

  it('a ticket whose form is incomplete gets one comment naming what is missing, and no other action', async () => {
    await postWebhook(deflect.url, payload('03-token-reset-missing-name.json'));
    const [run] = await waitFor('the PLAT-103 run to finish', () => finished(deflect, 'PLAT-103'));
    expect(run.status).toBe('skipped');
    const comments = jira.commentsFor('PLAT-103');
    expect(comments).toHaveLength(1);
    expect(JSON.stringify(comments[0].body)).toMatch(/Token/);
    expect(jira.requestsTo('POST', '/rest/api/3/issue/PLAT-103/transitions')).toHaveLength(0);
  });

  it('an unlabelled ticket and a comment event are recorded with the reason they were not routed', async () => {
    await postWebhook(deflect.url, payload('04-unlabelled-question.json'), { identifier: 'e2e-unlabelled' });
    await postWebhook(deflect.url, payload('05-comment-created.json'), { identifier: 'e2e-comment' });
    const rows = await waitFor('both deliveries to be routed', async () => {
      const r = await deflect.database.all<{ id: string; status: string; reason: string }>(
        "SELECT webhook_identifier AS id, status, reason FROM deliveries WHERE webhook_identifier IN ('e2e-unlabelled','e2e-comment') AND status != 'pending' ORDER BY id",
      );
      return r.length === 2 ? r : null;
    });
    expect(rows.map((r) => r.status)).toEqual(['ignored', 'ignored']);
    expect(rows.find((r) => r.id === 'e2e-unlabelled')!.reason).toBe('no rule matches: the ticket has no labels');
    expect(rows.find((r) => r.id === 'e2e-comment')!.reason).toMatch(/comment_created is not routed/);
    expect(await runsOf(deflect, 'PLAT-104')).toHaveLength(0);
  });

  it("events caused by deflect's own Jira account never trigger handlers", async () => {
    const own = payload('06-ci-token-reset.json');
    own.user.accountId = 'deflect-bot';
    await postWebhook(deflect.url, own, { identifier: 'e2e-own-event' });
    const row = await waitFor('the delivery to be routed', () =>
      deflect.database.get<{ status: string; reason: string }>("SELECT status, reason FROM deliveries WHERE webhook_identifier = 'e2e-own-event' AND status != 'pending'"),
    );
    expect(row.status).toBe('ignored');
    expect(row.reason).toMatch(/own Jira account/);
    expect(await runsOf(deflect, 'PLAT-105')).toHaveLength(0);
  });

  it('a GitHub 503 and then a Jira 503 are retried; the collaborator call is applied once and not repeated by later attempts', async () => {
    jira.seedIssue({ key: 'PLAT-107' });
    const path = '/repos/acme/payments-api/collaborators/retry-user';
    let githubFaults = 0;
    let jiraFaults = 0;
    github.setFault((req) => (req.path === path && githubFaults++ === 0 ? { status: 503, body: { message: 'Service Unavailable' } } : undefined));
    jira.setFault((req) => (req.method === 'POST' && req.path === '/rest/api/3/issue/PLAT-107/comment' && jiraFaults++ === 0 ? { status: 503 } : undefined));
    try {
      await postWebhook(deflect.url, accessRequest('PLAT-107', '10107', 'retry-user'));
      const [run] = await waitFor('the PLAT-107 run to finish', () => finished(deflect, 'PLAT-107'));
      expect(run).toMatchObject({ status: 'succeeded', attempts: 3 });
    } finally {
      github.setFault(undefined);
      jira.setFault(undefined);
    }
    // Attempt 1: PUT → 503. Attempt 2: PUT applied, comment → 503. Attempt 3: PUT skipped (applied), comment, transition.
    expect(github.requestsTo('PUT', path)).toHaveLength(2);
    expect(github.invitations('acme/payments-api').filter((i) => i.invitee === 'retry-user')).toHaveLength(1);
    expect(jira.commentsFor('PLAT-107')).toHaveLength(1);
    expect(jira.requestsTo('POST', '/rest/api/3/issue/PLAT-107/transitions')).toHaveLength(1);
    const [run] = await runsOf(deflect, 'PLAT-107');
    expect(await actionsOf(deflect, run.id)).toEqual([
      { kind: 'github.add_collaborator', status: 'applied' },
      { kind: 'comment', status: 'applied' },
      { kind: 'transition', status: 'applied' },
    ]);
  });

  it('the report and the audit API show the automated tickets', async () => {
    // A second access request makes "access-request" a repeated group.
    jira.seedIssue({ key: 'PLAT-106' });
    await postWebhook(deflect.url, accessRequest('PLAT-106', '10106'));
    await waitFor('the PLAT-106 run to finish', () => finished(deflect, 'PLAT-106'));
    const headers = await authHeader(deflect.db, 'auditor');
    expect((await fetch(`${deflect.url}/api/runs`)).status).toBe(401);
    const report = await (await fetch(`${deflect.url}/api/reports/top-tickets?since=all`, { headers })).json();
    // The label's row (a request type of the same tickets would be folded into it: one row, each ticket once).
    const group = report.groups.find((g: { label: string | null }) => g.label === 'access-request');
    expect(group).toMatchObject({ count: 3, automated: 3, keys: ['PLAT-101', 'PLAT-106', 'PLAT-107'], handler: 'grant-repo-access' });
    const audit = await (await fetch(`${deflect.url}/api/runs?handler=grant-repo-access&ticket=PLAT-101`, { headers })).json();
    expect(audit.runs[0].ticketKey).toBe('PLAT-101');
    expect(audit.runs[0].actions.map((a: { kind: string }) => a.kind)).toEqual(['github.add_collaborator', 'comment', 'transition']);
    expect(audit.runs[0].actions[0]).toMatchObject({
      status: 'applied',
      request: { repository: 'acme/payments-api', user: 'jdoe-acme', permission: 'push' },
      response: { status: 201, outcome: 'invited' },
    });
    const bad = await fetch(`${deflect.url}/api/reports/top-tickets?since=yesterday`, { headers });
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toMatch(/since/);
  });
});

describe('end to end without GITHUB_TOKEN', () => {
  let jira: FakeJira;
  let deflect: DeflectUnderTest;

  beforeAll(async () => {
    jira = await startFakeJira();
    jira.seedIssue({ key: 'PLAT-101' });
    deflect = await startDeflect({ fakeJira: jira });
  });
  afterAll(async () => {
    await deflect?.close(1000);
    await jira?.close();
  });

  it('an access request succeeds as validated, with one honest comment, and the ticket stays open', async () => {
    await postWebhook(deflect.url, payload('01-access-request-created.json'));
    const [run] = await waitFor('the PLAT-101 run to finish', () => finished(deflect, 'PLAT-101'));
    expect(run).toMatchObject({ status: 'succeeded', summary: 'validated; not applied: GITHUB_TOKEN not set' });
    expect(await actionsOf(deflect, run.id)).toEqual([{ kind: 'comment', status: 'applied' }]);
    const [comment] = jira.commentsFor('PLAT-101');
    const text = JSON.stringify(comment.body);
    expect(text).toContain('not applied');
    expect(text).toContain('GITHUB_TOKEN');
    expect(text).not.toMatch(/Access granted|Invitation sent/);
    expect(jira.requestsTo('POST', '/rest/api/3/issue/PLAT-101/transitions')).toHaveLength(0);
    expect((jira.issue('PLAT-101')!.fields.status as { name: string }).name).toBe('To Do');
  });
});
