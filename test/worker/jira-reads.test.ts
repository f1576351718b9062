/**
 * The two Jira reads reliability needs, over jira.js against the fake Jira: comments with their entity properties (the
 * check before re-posting a comment whose outcome is unknown) and the enhanced JQL search paged by `nextPageToken`
 * (reconcile).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJiraApi } from '../../src/jira/jira-client.js';
import { markdownToAdf } from '../../src/jira/markdown-to-adf.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';

let jira: FakeJira;
const credentials = { email: 'bot@example.test', apiToken: 'token-1' };
const api = () => createJiraApi({ baseUrl: jira.url, ...credentials });

beforeAll(async () => {
  jira = await startFakeJira({ credentials });
});
afterAll(async () => jira.close());

describe('Jira reads for reliability', () => {
  it('lists comments with their properties (expand=properties), newest first requested', async () => {
    jira.seedIssue({ key: 'READ-1' });
    await api().addComment('READ-1', markdownToAdf('plain'));
    const { id } = await api().addComment('READ-1', markdownToAdf('marked'), [{ key: 'deflect.action', value: { idempotencyKey: 'k-1' } }]);
    const comments = await api().listComments('READ-1');
    expect(comments).toHaveLength(2);
    expect(comments.find((c) => c.id === id)).toMatchObject({ properties: [{ key: 'deflect.action', value: { idempotencyKey: 'k-1' } }] });
    expect(comments.find((c) => c.id !== id)!.properties).toEqual([]);
    const [request] = jira.requestsTo('GET', '/rest/api/3/issue/READ-1/comment');
    expect(request.query).toMatchObject({ expand: 'properties', orderBy: '-created', startAt: '0' });
  });

  it('maps a failed comment listing to a JiraRequestError', async () => {
    await expect(api().listComments('NOPE-1')).rejects.toMatchObject({ name: 'JiraRequestError', status: 404, transient: false });
  });

  it('pages through the enhanced search with nextPageToken', async () => {
    for (let i = 1; i <= 5; i++) jira.seedIssue({ key: `PAGE-${i}`, fields: { labels: ['x'] } });
    const keys: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const page = await api().searchIssues('project = PAGE ORDER BY updated ASC', { fields: ['labels', 'updated'], maxResults: 2, nextPageToken: token });
      keys.push(...page.issues.map((i) => i.key));
      expect(page.issues.every((i) => Array.isArray(i.fields.labels))).toBe(true);
      token = page.nextPageToken;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(keys.sort()).toEqual(['PAGE-1', 'PAGE-2', 'PAGE-3', 'PAGE-4', 'PAGE-5']);
    expect(jira.requestsTo('POST', '/rest/api/3/search/jql')[0].body).toMatchObject({ jql: 'project = PAGE ORDER BY updated ASC', maxResults: 2, fields: ['labels', 'updated'] });
  });
});
