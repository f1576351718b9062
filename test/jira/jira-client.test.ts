import { Version3Client } from 'jira.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JiraRequestError } from '../../src/jira/jira-actions.js';
import { createJiraApi, describeJiraError, parseRetryAfter } from '../../src/jira/jira-client.js';
import { markdownToAdf } from '../../src/jira/markdown-to-adf.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';

const credentials = { email: 'bot@example.com', apiToken: 'secret-token-123' };
let fake: FakeJira;

beforeAll(async () => {
  fake = await startFakeJira({ credentials, myself: { accountId: 'acc-bot', displayName: 'Deflect Bot' } });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.seedIssue({ key: 'OPS-1', id: '10001', fields: { summary: 'Disk full on build agent', labels: ['disk', 'blocker'] } });
});
afterEach(() => {
  fake.setFault(undefined);
});

const api = (timeoutMs?: number) => createJiraApi({ baseUrl: fake.url, ...credentials, timeoutMs });

/** Runs `fn`, expecting a JiraRequestError, and returns it. */
async function failure(fn: () => Promise<unknown>): Promise<JiraRequestError> {
  const error = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(JiraRequestError);
  return error as JiraRequestError;
}

describe('createJiraApi against the fake Jira', () => {
  it('adds a comment whose ADF body and properties arrive as sent, with basic auth', async () => {
    const body = markdownToAdf('Freed **12 GB** on `agent-3`.');
    const { id } = await api().addComment('OPS-1', body, [{ key: 'deflect', value: { run: 'r-1' } }]);

    const [request] = fake.requestsTo('POST', '/rest/api/3/issue/OPS-1/comment');
    expect(request.body).toEqual({ body, properties: [{ key: 'deflect', value: { run: 'r-1' } }] });
    expect(request.headers['content-type']).toMatch(/^application\/json/);
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from('bot@example.com:secret-token-123').toString('base64')}`);
    expect(fake.commentsFor('OPS-1').map((c) => c.id)).toEqual([id]);
    expect(fake.commentsFor('OPS-1')[0].body).toEqual(body);
  });

  it('sends no properties field when none are given', async () => {
    await api().addComment('OPS-1', markdownToAdf('hi'));
    const requests = fake.requestsTo('POST', '/rest/api/3/issue/OPS-1/comment');
    expect(requests.at(-1)?.body).not.toHaveProperty('properties');
  });

  it('lists transitions with their target status and performs one', async () => {
    fake.seedIssue({
      key: 'OPS-2',
      transitions: [
        { id: '5', name: 'Resolve', to: { id: '5', name: 'Resolved' } },
        { id: '2', name: 'Close', to: { id: '6', name: 'Closed' } },
      ],
    });
    const jira = api();
    expect(await jira.getTransitions('OPS-2')).toEqual([
      { id: '5', name: 'Resolve', toStatus: 'Resolved' },
      { id: '2', name: 'Close', toStatus: 'Closed' },
    ]);

    await jira.doTransition('OPS-2', '5');
    expect(fake.requestsTo('POST', '/rest/api/3/issue/OPS-2/transitions').at(-1)?.body).toEqual({ transition: { id: '5' } });
    expect(fake.issue('OPS-2')?.fields.status).toEqual({ id: '5', name: 'Resolved' });
  });

  it('maps an unknown transition id to a permanent 400 carrying Jira\'s message', async () => {
    const error = await failure(() => api().doTransition('OPS-1', '999'));
    expect(error.status).toBe(400);
    expect(error.transient).toBe(false);
    expect(error.message).toContain("Transition id '999' is not valid for this issue.");
  });

  it('adds and removes labels in one update', async () => {
    await api().editLabels('OPS-1', ['triaged'], ['blocker']);
    expect(fake.requestsTo('PUT', '/rest/api/3/issue/OPS-1').at(-1)?.body).toEqual({
      update: { labels: [{ add: 'triaged' }, { remove: 'blocker' }] },
    });
    expect(fake.issue('OPS-1')?.fields.labels).toEqual(['disk', 'triaged']);
  });

  it('sends nothing when there are no labels to change', async () => {
    const before = fake.requests.length;
    await api().editLabels('OPS-1', [], []);
    expect(fake.requests.length).toBe(before);
  });

  it('assigns and unassigns', async () => {
    const jira = api();
    await jira.assignIssue('OPS-1', 'acc-42');
    expect(fake.issue('OPS-1')?.fields.assignee).toEqual({ accountId: 'acc-42' });
    await jira.assignIssue('OPS-1', null);
    expect(fake.requestsTo('PUT', '/rest/api/3/issue/OPS-1/assignee').at(-1)?.body).toEqual({ accountId: null });
    expect(fake.issue('OPS-1')?.fields.assignee).toBeNull();
  });

  it('reads an issue and the service account', async () => {
    const jira = api();
    const issue = await jira.getIssue('OPS-1');
    expect(issue).toMatchObject({ id: '10001', key: 'OPS-1', fields: { summary: 'Disk full on build agent' } });
    expect(await jira.getMyself()).toEqual({ accountId: 'acc-bot', name: null, displayName: 'Deflect Bot' });
  });
});

describe('error mapping', () => {
  it('maps 404 to a permanent error with Jira\'s message and a hint', async () => {
    const error = await failure(() => api().getIssue('NOPE-9'));
    expect(error).toMatchObject({ status: 404, transient: false, retryAfterMs: null });
    expect(error.message).toContain('GET /rest/api/3/issue/NOPE-9 → 404');
    expect(error.message).toContain('Issue does not exist or you do not have permission to see it.');
    expect(error.message).toContain('issue not found or not visible to the account');
  });

  it('maps 401 to a permanent error pointing at the credentials, without leaking them', async () => {
    const wrong = createJiraApi({ baseUrl: fake.url, email: credentials.email, apiToken: 'wrong-token' });
    const error = await failure(() => wrong.getMyself());
    expect(error).toMatchObject({ status: 401, transient: false });
    expect(error.message).toContain('check JIRA_EMAIL / JIRA_API_TOKEN');
    expect(JSON.stringify(error.cause)).not.toContain(Buffer.from(`${credentials.email}:wrong-token`).toString('base64'));
    expect(describeJiraError(error)).toBe(error.message);
  });

  it('maps 403 to a permanent error with the permission hint', async () => {
    fake.setFault(() => ({ status: 403, body: { errorMessages: ['You do not have permission to add comments.'], errors: {} } }));
    const error = await failure(() => api().addComment('OPS-1', markdownToAdf('x')));
    expect(error).toMatchObject({ status: 403, transient: false });
    expect(error.message).toMatch(/You do not have permission to add comments\..*the account lacks permission on this project/);
  });

  it('maps 429 with Retry-After: 2 to a transient error retryable after 2000 ms', async () => {
    fake.setFault(() => ({ status: 429, headers: { 'Retry-After': '2', 'RateLimit-Reason': 'jira-burst-based' } }));
    const error = await failure(() => api().editLabels('OPS-1', ['a'], []));
    expect(error).toMatchObject({ status: 429, transient: true, retryAfterMs: 2000 });
  });

  it('maps 503 to a transient error', async () => {
    fake.setFault(() => ({ status: 503, body: 'Service Unavailable' }));
    const error = await failure(() => api().getTransitions('OPS-1'));
    expect(error).toMatchObject({ status: 503, transient: true, retryAfterMs: null });
  });

  it('maps a connection reset to a transient error without status', async () => {
    fake.setFault(() => ({ reset: true }));
    const error = await failure(() => api().doTransition('OPS-1', '31'));
    expect(error).toMatchObject({ status: null, transient: true });
    expect(error.message).toMatch(/ECONNRESET|socket hang up/);
  });

  it('maps an answer slower than the timeout to a transient error', async () => {
    fake.setFault(() => ({ delayMs: 1_000 }));
    const started = Date.now();
    const error = await failure(() => api(200).getMyself());
    expect(Date.now() - started).toBeLessThan(900);
    expect(error).toMatchObject({ status: null, transient: true });
    expect(error.message).toContain('timed out after 200 ms');
  });

  it('maps a refused connection to a transient error with the base-URL hint', async () => {
    const closed = await startFakeJira();
    const url = closed.url;
    await closed.close();
    const error = await failure(() => createJiraApi({ baseUrl: url, ...credentials }).getMyself());
    expect(error).toMatchObject({ status: null, transient: true });
    expect(error.message).toContain('check JIRA_BASE_URL');
  });
});

describe('describeJiraError', () => {
  it('describes a raw jira.js error like a mapped one, without credentials', async () => {
    const raw = new Version3Client({ host: fake.url, authentication: { basic: credentials } });
    const error = await raw.issues.getIssue({ issueIdOrKey: 'NOPE-1' }).catch((e: unknown) => e);
    const line = describeJiraError(error);
    expect(line).toContain('GET /rest/api/3/issue/NOPE-1 → 404');
    expect(line).toContain('issue not found or not visible to the account');
    expect(line).not.toContain(credentials.apiToken);
  });

  it('falls back to the message of other errors', () => {
    expect(describeJiraError(new Error('boom'))).toBe('boom');
    expect(describeJiraError('plain')).toBe('plain');
  });
});

describe('fake Jira extras used by other tests', () => {
  const auth = { authorization: `Basic ${Buffer.from(`${credentials.email}:${credentials.apiToken}`).toString('base64')}` };

  it('pages enhanced JQL search with nextPageToken and filters key in (...)', async () => {
    for (const key of ['WEB-1', 'WEB-2', 'WEB-3']) fake.seedIssue({ key });
    const first = await (await fetch(`${fake.url}/rest/api/3/search/jql?jql=project%20%3D%20WEB&maxResults=2&fields=summary`, { headers: auth })).json();
    expect(first.issues.map((i: { key: string }) => i.key)).toEqual(['WEB-1', 'WEB-2']);
    expect(first.issues[0].fields).toEqual({ summary: 'Seeded issue WEB-1' });
    const second = await (
      await fetch(`${fake.url}/rest/api/3/search/jql`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ jql: 'project = WEB', maxResults: 2, nextPageToken: first.nextPageToken }),
      })
    ).json();
    expect(second).toMatchObject({ isLast: true, issues: [{ key: 'WEB-3' }] });
    const byKey = await (
      await fetch(`${fake.url}/rest/api/3/search/jql?jql=${encodeURIComponent('key in (WEB-3, OPS-1)')}`, { headers: auth })
    ).json();
    expect(byKey.issues.map((i: { key: string }) => i.key).sort()).toEqual(['OPS-1', 'WEB-3']);
  });

  it('lists comments with their properties only when expand=properties', async () => {
    await api().addComment('OPS-1', markdownToAdf('x'), [{ key: 'deflect', value: { run: 'r-9' } }]);
    const plain = await (await fetch(`${fake.url}/rest/api/3/issue/OPS-1/comment`, { headers: auth })).json();
    const expanded = await (await fetch(`${fake.url}/rest/api/3/issue/OPS-1/comment?expand=properties`, { headers: auth })).json();
    expect(plain.comments[0]).not.toHaveProperty('properties');
    expect(expanded.comments[0].properties).toEqual([{ key: 'deflect', value: { run: 'r-9' } }]);
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates, rejects garbage', () => {
    const now = Date.parse('2026-03-01T12:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Sun, 01 Mar 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});
