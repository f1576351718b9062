/**
 * The Jira Data Center client (REST v2, Bearer PAT) against the fake Jira in Data Center mode, mounted under a context
 * path (`/jira`) as many DC installs are: every call, and the error mapping (429 + Retry-After → transient, 404 →
 * permanent, 401 → JIRA_PAT hint without the token).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { md } from '../../src/jira/comment-markdown.js';
import { commentToAdf } from '../../src/jira/comment-markdown.js';
import { JiraRequestError } from '../../src/jira/jira-actions.js';
import { describeJiraError } from '../../src/jira/jira-client.js';
import { createJiraDcApi } from '../../src/jira/jira-dc-client.js';
import { jiraTicketOps } from '../../src/trackers/jira/jira-ticket-ops.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';

const PAT = 'NjY0MjQ5ODc2NTQzOtest-pat-value';
let fake: FakeJira;

beforeAll(async () => {
  fake = await startFakeJira({ deployment: 'datacenter', pat: PAT, contextPath: '/jira' });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.seedIssue({ key: 'OPS-1', id: '10001', fields: { summary: 'Disk full', labels: ['disk'] } });
});
afterEach(() => {
  fake.setFault(undefined);
});

const api = (timeoutMs?: number) => createJiraDcApi({ baseUrl: fake.url, pat: PAT, timeoutMs });

async function failure(fn: () => Promise<unknown>): Promise<JiraRequestError> {
  const error = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(JiraRequestError);
  return error as JiraRequestError;
}

describe('createJiraDcApi against the fake Jira Data Center', () => {
  it('reads /myself with a Bearer PAT under the context path: name, no accountId', async () => {
    expect(fake.url).toMatch(/\/jira$/);
    const me = await api().getMyself();
    expect(me).toEqual({ accountId: null, name: 'deflect-bot', displayName: 'Deflect Bot' });
    const [request] = fake.requestsTo('GET', '/rest/api/2/myself');
    expect(request.path).toBe('/jira/rest/api/2/myself');
    expect(request.headers.authorization).toBe(`Bearer ${PAT}`);
  });

  it('posts a wiki-markup string body with the entity property, and finds it again through expand=properties', async () => {
    const ops = jiraTicketOps(api(), 'OPS-1');
    const { id } = await ops.comment(md`Freed **12 GB** for ${'[~admin]'}`, { idempotencyKey: 'k-1', runId: 7 });
    const request = fake.requestsTo('POST', '/rest/api/2/issue/OPS-1/comment').at(-1)!;
    expect(request.body).toEqual({ body: 'Freed *12 GB* for &#91;&#126;admin&#93;', properties: [{ key: 'deflect.action', value: { idempotencyKey: 'k-1', runId: 7 } }] });
    expect(fake.commentsFor('OPS-1').map((c) => c.body)).toEqual(['Freed *12 GB* for &#91;&#126;admin&#93;']);
    expect(await ops.findComment('k-1')).toEqual({ id });
    expect(await ops.findComment('k-2')).toBeNull();
    expect(fake.requestsTo('GET', '/rest/api/2/issue/OPS-1/comment').at(-1)?.query.expand).toBe('properties');
  });

  it('reads the issue, lists transitions and performs one', async () => {
    const issue = await api().getIssue('OPS-1');
    expect(issue).toMatchObject({ id: '10001', key: 'OPS-1', fields: { summary: 'Disk full', labels: ['disk'] } });
    const transitions = await api().getTransitions('OPS-1');
    expect(transitions.map((t) => t.toStatus)).toEqual(['To Do', 'In Progress', 'Done']);
    await api().doTransition('OPS-1', '31');
    expect((fake.issue('OPS-1')!.fields.status as { name: string }).name).toBe('Done');
  });

  it('assigns by user name and edits labels with add/remove operations', async () => {
    await api().assignIssue('OPS-1', 'jdoe');
    expect(fake.requestsTo('PUT', '/rest/api/2/issue/OPS-1/assignee').at(-1)?.body).toEqual({ name: 'jdoe' });
    expect(fake.issue('OPS-1')!.fields.assignee).toEqual({ name: 'jdoe' });
    await api().editLabels('OPS-1', ['triaged'], ['disk']);
    expect(fake.issue('OPS-1')!.fields.labels).toEqual(['triaged']);
    const before = fake.requests.length;
    await api().editLabels('OPS-1', [], []);
    expect(fake.requests.length).toBe(before);
  });

  it('pages POST /rest/api/2/search over startAt, the next startAt being the page token', async () => {
    for (let n = 1; n <= 5; n++) fake.seedIssue({ key: `WEB-${n}` });
    const keys: string[] = [];
    const tokens: Array<string | null> = [];
    let token: string | null = null;
    do {
      const page = await api().searchIssues('project = WEB', { fields: ['summary'], maxResults: 2, nextPageToken: token });
      keys.push(...page.issues.map((i) => i.key));
      token = page.nextPageToken;
      tokens.push(token);
    } while (token);
    expect(keys).toEqual(['WEB-1', 'WEB-2', 'WEB-3', 'WEB-4', 'WEB-5']);
    expect(tokens).toEqual(['2', '4', null]);
    const bodies = fake.requestsTo('POST', '/rest/api/2/search').slice(-3).map((r) => r.body as { startAt: number; maxResults: number });
    expect(bodies.map((b) => b.startAt)).toEqual([0, 2, 4]);
    await expect(api().searchIssues('x', { fields: [], nextPageToken: 'abc' })).rejects.toThrow(/bad page token/);
  });

  it('maps 429 with Retry-After to a transient error', async () => {
    fake.setFault(() => ({ status: 429, headers: { 'Retry-After': '3' } }));
    const error = await failure(() => api().getIssue('OPS-1'));
    expect(error).toMatchObject({ status: 429, transient: true, retryAfterMs: 3000 });
  });

  it('maps 404 to a permanent error and 503 to a transient one', async () => {
    const missing = await failure(() => api().getIssue('NOPE-9'));
    expect(missing).toMatchObject({ status: 404, transient: false });
    expect(missing.message).toContain('GET /rest/api/2/issue/NOPE-9 → 404');
    fake.setFault(() => ({ status: 503, body: 'down' }));
    expect(await failure(() => api().addComment('OPS-1', commentToAdf('x')))).toMatchObject({ status: 503, transient: true });
  });

  it('maps 401 to a permanent error pointing at JIRA_PAT, never containing the token', async () => {
    const wrong = createJiraDcApi({ baseUrl: fake.url, pat: 'wrong-pat-secret' });
    const error = await failure(() => wrong.getMyself());
    expect(error).toMatchObject({ status: 401, transient: false });
    expect(error.message).toContain('check JIRA_PAT');
    const text = `${describeJiraError(error)} ${JSON.stringify(error.cause)} ${String(error.stack)}`;
    expect(text).not.toContain('wrong-pat-secret');
  });
});
