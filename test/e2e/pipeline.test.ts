/**
 * End to end over real sockets: signed Jira webhooks → deflect (real server, real SQLite file) → fake Jira (a real
 * HTTP server). Asserts what Jira received and what the database recorded.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { postWebhook, REPO_ROOT, startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';

const payload = (name: string) => JSON.parse(readFileSync(join(REPO_ROOT, 'examples/payloads', name), 'utf8'));
const count = (d: DeflectUnderTest, table: string) => (d.db.$client.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
const runsOf = (d: DeflectUnderTest, key: string) =>
  d.db.$client.prepare('SELECT * FROM runs WHERE ticket_key = ? ORDER BY id').all(key) as Array<Record<string, any>>;
const finished = (d: DeflectUnderTest, key: string) => {
  const rows = runsOf(d, key);
  return rows.length > 0 && rows.every((r) => !['queued', 'running'].includes(r.status)) ? rows : null;
};

describe('core pipeline end to end', () => {
  let jira: FakeJira;
  let deflect: DeflectUnderTest;

  beforeAll(async () => {
    jira = await startFakeJira();
    for (const key of ['PLAT-101', 'PLAT-103', 'PLAT-104', 'PLAT-105']) jira.seedIssue({ key });
    deflect = await startDeflect({ fakeJira: jira });
  });
  afterAll(async () => {
    await deflect?.close(1000);
    await jira?.close();
  });

  it('a signed issue_created with a routed label gets a comment and a transition, with one run and its actions recorded', async () => {
    const answer = await postWebhook(deflect.url, payload('01-access-request-created.json'), { identifier: 'e2e-delivery-1' });
    expect(answer.status).toBe(200);
    expect(answer.json.status).toBe('accepted');

    const [run] = await waitFor('the PLAT-101 run to finish', () => finished(deflect, 'PLAT-101'));
    expect(run.status).toBe('succeeded');
    expect(run.handler).toBe('grant-repo-access');
    expect(run.reason).toContain('label access-request → grant-repo-access');
    expect(run.attempts).toBe(1);

    const comments = jira.commentsFor('PLAT-101');
    expect(comments).toHaveLength(1);
    expect(JSON.stringify(comments[0].body)).toContain('acme/payments-api');
    expect(jira.requestsTo('POST', '/rest/api/3/issue/PLAT-101/transitions')).toHaveLength(1);
    expect((jira.issue('PLAT-101')!.fields.status as { name: string }).name).toBe('Done');

    const actions = deflect.db.$client.prepare('SELECT kind, status FROM actions WHERE run_id = ? ORDER BY seq').all(run.id);
    expect(actions).toEqual([
      { kind: 'comment', status: 'applied' },
      { kind: 'transition', status: 'applied' },
    ]);
  });

  it('a redelivery with the same identifier answers 200 and changes nothing', async () => {
    const before = { deliveries: count(deflect, 'deliveries'), runs: count(deflect, 'runs'), requests: jira.requests.length };
    const answer = await postWebhook(deflect.url, payload('01-access-request-created.json'), { identifier: 'e2e-delivery-1' });
    expect(answer.status).toBe(200);
    expect(answer.json.status).toBe('duplicate');
    await new Promise((r) => setTimeout(r, 300));
    expect(count(deflect, 'deliveries')).toBe(before.deliveries);
    expect(count(deflect, 'runs')).toBe(before.runs);
    expect(jira.requests.length).toBe(before.requests);
    expect(jira.commentsFor('PLAT-101')).toHaveLength(1);
  });

  it('a wrong signature is refused with 401 and stores nothing', async () => {
    const before = count(deflect, 'deliveries');
    const answer = await postWebhook(deflect.url, payload('06-ci-token-reset.json'), { secret: 'not the secret' });
    expect(answer.status).toBe(401);
    expect(answer.json.message).toMatch(/DEFLECT_WEBHOOK_SECRET/);
    const unsigned = await postWebhook(deflect.url, payload('06-ci-token-reset.json'), { secret: null });
    expect(unsigned.status).toBe(401);
    expect(count(deflect, 'deliveries')).toBe(before);
    expect(count(deflect, 'tickets')).toBe(1);
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
    const rows = await waitFor('both deliveries to be routed', () => {
      const r = deflect.db.$client
        .prepare("SELECT webhook_identifier AS id, status, reason FROM deliveries WHERE webhook_identifier IN ('e2e-unlabelled','e2e-comment') AND status != 'pending' ORDER BY id")
        .all() as Array<{ id: string; status: string; reason: string }>;
      return r.length === 2 ? r : null;
    });
    expect(rows.map((r) => r.status)).toEqual(['ignored', 'ignored']);
    expect(rows.find((r) => r.id === 'e2e-unlabelled')!.reason).toBe('no rule matches: the ticket has no labels');
    expect(rows.find((r) => r.id === 'e2e-comment')!.reason).toMatch(/comment_created is not routed/);
    expect(runsOf(deflect, 'PLAT-104')).toHaveLength(0);
  });

  it("events caused by deflect's own Jira account never trigger handlers", async () => {
    const own = payload('06-ci-token-reset.json');
    own.user.accountId = 'deflect-bot';
    await postWebhook(deflect.url, own, { identifier: 'e2e-own-event' });
    const row = await waitFor('the delivery to be routed', () =>
      deflect.db.$client.prepare("SELECT status, reason FROM deliveries WHERE webhook_identifier = 'e2e-own-event' AND status != 'pending'").get() as
        | { status: string; reason: string }
        | undefined,
    );
    expect(row.status).toBe('ignored');
    expect(row.reason).toMatch(/own Jira account/);
    expect(runsOf(deflect, 'PLAT-105')).toHaveLength(0);
  });

  it('the report and the audit API show the automated tickets', async () => {
    // A second access request makes "access-request" a repeated group.
    const second = payload('01-access-request-created.json');
    Object.assign(second.issue, { id: '10106', key: 'PLAT-106', self: second.issue.self.replace('10101', '10106') });
    jira.seedIssue({ key: 'PLAT-106' });
    await postWebhook(deflect.url, second);
    await waitFor('the PLAT-106 run to finish', () => finished(deflect, 'PLAT-106'));
    const report = await (await fetch(`${deflect.url}/api/reports/top-tickets?since=all`)).json();
    const group = report.groups.find((g: { key: string }) => g.key === 'access-request');
    expect(group).toMatchObject({ kind: 'label', count: 2, automated: 2, keys: ['PLAT-101', 'PLAT-106'], handler: 'grant-repo-access' });
    const audit = await (await fetch(`${deflect.url}/api/runs?handler=grant-repo-access&ticket=PLAT-101`)).json();
    expect(audit.runs[0].ticketKey).toBe('PLAT-101');
    expect(audit.runs[0].actions.map((a: { kind: string }) => a.kind)).toEqual(['comment', 'transition']);
    const bad = await fetch(`${deflect.url}/api/reports/top-tickets?since=yesterday`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toMatch(/since/);
  });
});
