/**
 * `deflect import jql` against the fake Jira (a real HTTP server): pages through the enhanced JQL search, honours a
 * 429 Retry-After, and resumes from its checkpoint; on the pass's backend (a SQLite file or a PostgreSQL database:
 * test-backend.ts).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFromJql, jqlDate } from '../../src/import/import-jql.js';
import { createJiraApi } from '../../src/jira/jira-client.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { REPO_ROOT } from '../support/deflect-under-test.js';
import { freshDatabase } from '../support/test-backend.js';

describe('import jql', () => {
  let jira: FakeJira;
  beforeAll(async () => {
    jira = await startFakeJira({ credentials: { email: 'bot@example.test', apiToken: 't' } });
    for (let i = 1; i <= 23; i++) {
      jira.seedIssue({
        key: `PLAT-${i}`,
        fields: { summary: `Reset deploy token for service ${i}`, labels: i % 3 ? [] : ['token-reset'], created: '2026-01-05T10:00:00.000+0000', updated: `2026-01-${String(5 + (i % 20)).padStart(2, '0')}T10:00:00.000+0000` },
      });
    }
    jira.seedIssue({ key: 'WEB-1', fields: { summary: 'Other project' } });
  });
  afterAll(async () => jira?.close());

  it('pages through the search, waits out a 429 Retry-After, and imports every issue', async () => {
    let searches = 0;
    jira.setFault((req) => (req.path === '/rest/api/3/search/jql' && ++searches === 2 ? { status: 429, headers: { 'retry-after': '1' }, body: { errorMessages: ['Rate limit exceeded.'] } } : undefined));
    const database = await freshDatabase();
    // Asynchronously: the fake Jira answers from this process's event loop.
    const result = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'import', 'jql', '--jql', 'project = PLAT', '--page-size', '10'], {
      env: { PATH: process.env.PATH, ...database.env, JIRA_BASE_URL: jira.url, JIRA_EMAIL: 'bot@example.test', JIRA_API_TOKEN: 't' },
    });
    jira.setFault(undefined);
    expect(result.stdout).toMatch(/imported 23 tickets from Jira \(3 pages, 1 retries after 429\/5xx\)/);
    const calls = jira.requestsTo('POST', '/rest/api/3/search/jql');
    expect(calls.length).toBe(4);
    expect(calls[2].receivedAt - calls[1].receivedAt).toBeGreaterThanOrEqual(1000);
    expect((calls[0].body as { jql: string }).jql).toBe('(project = PLAT) ORDER BY updated ASC');
    expect((await database.get<{ n: number }>("SELECT count(*) AS n FROM tickets WHERE project = 'PLAT'"))!.n).toBe(23);
  });

  it('resumes an interrupted import from the newest updated it committed', async () => {
    const database = await freshDatabase();
    const store = await database.open();
    const api = createJiraApi({ baseUrl: jira.url, email: 'bot@example.test', apiToken: 't' });
    jira.setFault((req) => (req.path === '/rest/api/3/search/jql' && (req.body as { nextPageToken?: string }).nextPageToken ? { status: 400, body: { errorMessages: ['boom'] } } : undefined));
    await expect(importFromJql(store, api, 'project = PLAT', { pageSize: 10, sleep: async () => {} })).rejects.toThrow(/400/);
    jira.setFault(undefined);
    const checkpoint = (await store.findImportCheckpoint('jql:project = PLAT'))!;
    expect(checkpoint.status).toBe('running');
    expect(checkpoint.imported).toBe(10);
    const resumed = await importFromJql(store, api, 'project = PLAT', { pageSize: 10 });
    expect(resumed.resumedFrom).toBe(Number(checkpoint.cursor));
    const last = jira.requestsTo('POST', '/rest/api/3/search/jql').at(-1)!;
    expect((last.body as { jql: string }).jql).toBe(`(project = PLAT) AND updated >= ${jqlDate(Number(checkpoint.cursor))} ORDER BY updated ASC`);
    expect(await store.findImportCheckpoint('jql:project = PLAT')).toMatchObject({ status: 'done' });
    await expect(importFromJql(store, api, 'project = PLAT ORDER BY created')).rejects.toThrow(/leave ORDER BY out/);
  });
});
