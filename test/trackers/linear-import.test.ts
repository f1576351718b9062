/**
 * `deflect import linear --team KEY [--since ISO]` as a child process (tsx on the sources) against the fake Linear:
 * pages through the team's issues, stores them as Linear tickets (safe to run twice), honours --since, and fails
 * clearly without LINEAR_API_KEY, with a wrong key, or for an unknown team. Each case on a fresh database of the
 * pass's backend (test-backend.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinearApi } from '../../src/trackers/linear/linear-api.js';
import { importLinearTeam } from '../../src/trackers/linear/linear-import.js';
import { runDeflectCli } from '../support/deflect-process.js';
import { rateLimited, startFakeLinear, type FakeLinear } from '../support/fake-linear.js';
import { freshDatabase, type TestDatabase } from '../support/test-backend.js';

/** Runs the CLI asynchronously (the fake answers from this process, so a blocking spawnSync would deadlock). */
const deflect = runDeflectCli;
const rows = (database: TestDatabase) =>
  database.all("SELECT id, key, project, status, labels, summary, updated FROM tickets WHERE tracker = 'linear' ORDER BY key");

describe('deflect import linear', () => {
  let linear: FakeLinear;
  beforeAll(async () => {
    linear = await startFakeLinear({ urlKey: 'acme' });
    for (let n = 1; n <= 120; n++) {
      linear.seedIssue({ teamKey: 'ENG', title: `Reset CI token ${n}`, labels: n % 3 === 0 ? ['token-reset'] : [], updatedAt: new Date(Date.UTC(2026, 0, 1 + (n % 60))).toISOString() });
    }
    for (let n = 1; n <= 5; n++) linear.seedIssue({ teamKey: 'OPS', title: `Other team ${n}` });
  });
  afterAll(async () => linear?.close());

  it('imports every issue of the team in pages, as Linear tickets, and is safe to run twice', async () => {
    const database = await freshDatabase();
    const env = { ...database.env, LINEAR_API_KEY: linear.apiKey, LINEAR_API_URL: linear.url };
    let limited = 0;
    linear.setFault((req) => ((req.body as { query?: string })?.query?.includes('DeflectTeamIssues') && limited++ === 1 ? rateLimited(50) : undefined));
    const first = await deflect(env, 'import', 'linear', '--team', 'eng');
    linear.setFault(undefined);
    expect(first.stderr).not.toMatch(/error/i);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/imported 120 tickets from Linear team ENG \(3 pages, 1 retries after rate limits\/5xx\)/);
    expect(first.stdout).toMatch(/grouped \d+ tickets by text/);
    const stored = (await rows(database));
    expect(stored).toHaveLength(120);
    const eng7 = linear.issue('ENG-7')!;
    expect(stored.find((r) => r.key === 'ENG-7')).toMatchObject({ id: `linear:linear.app/acme:${eng7.id}`, project: 'ENG', status: 'Todo', summary: 'Reset CI token 7' });
    expect(JSON.parse(stored.find((r) => r.key === 'ENG-9')!.labels)).toEqual(['token-reset']);
    const pages = linear.operations('DeflectTeamIssues').map((r) => (r.body as { variables: { first: number; after: string | null } }).variables);
    expect(pages.filter((v) => v.after === null)).toHaveLength(1);
    expect(pages.every((v) => v.first === 50)).toBe(true);

    const again = await deflect(env, 'import', 'linear', '--team', 'ENG', '--no-group');
    expect(again.status).toBe(0);
    expect((await rows(database))).toHaveLength(120);
  });

  it('an import interrupted by a page that keeps failing resumes after its last written page', async () => {
    const database = await freshDatabase();
    const store = await database.open();
    const api = createLinearApi({ apiKey: linear.apiKey, apiUrl: linear.url });
    let page = 0;
    linear.setFault((req) => ((req.body as { query?: string })?.query?.includes('DeflectTeamIssues') && ++page >= 2 ? { status: 502 } : undefined));
    await expect(importLinearTeam(store, api, { team: 'ENG', maxRetries: 2, sleep: async () => {} })).rejects.toMatchObject({ status: 502, transient: true });
    linear.setFault(undefined);
    expect((await rows(database))).toHaveLength(50);
    const before = linear.operations('DeflectTeamIssues').length;
    const resumed = await importLinearTeam(store, api, { team: 'ENG' });
    const sent = linear.operations('DeflectTeamIssues').slice(before).map((r) => (r.body as { variables: { after: string | null } }).variables.after);
    expect(sent[0]).not.toBeNull();
    expect(resumed).toMatchObject({ imported: 70, pages: 2 });
    expect(resumed.resumedAfter).toBe(sent[0]);
    expect((await rows(database))).toHaveLength(120);
    // Once done, the next run starts from the first page again.
    expect(await importLinearTeam(store, api, { team: 'ENG' })).toMatchObject({ imported: 120, resumedAfter: null });
    await store.close();
  });

  it('--since imports only issues updated at or after that date', async () => {
    const database = await freshDatabase();
    const since = '2026-02-20';
    const expected = [...Array(120).keys()].map((i) => i + 1).filter((n) => Date.UTC(2026, 0, 1 + (n % 60)) >= Date.parse(since)).length;
    expect(expected).toBeGreaterThan(0);
    const result = await deflect({ ...database.env, LINEAR_API_KEY: linear.apiKey, LINEAR_API_URL: linear.url }, 'import', 'linear', '--team', 'ENG', '--since', since, '--no-group');
    expect(result.status).toBe(0);
    expect((await rows(database))).toHaveLength(expected);
    expect((await rows(database)).every((r) => r.updated >= Date.parse(since))).toBe(true);
  });

  it('fails clearly without LINEAR_API_KEY, with a wrong key, for an unknown team and for a bad --since', async () => {
    const database = await freshDatabase();
    const noKey = await deflect({ ...database.env }, 'import', 'linear', '--team', 'ENG');
    expect(noKey.status).toBe(1);
    expect(noKey.stderr).toMatch(/needs LINEAR_API_KEY/);
    const wrong = await deflect({ ...database.env, LINEAR_API_KEY: 'lin_api_wrong', LINEAR_API_URL: linear.url }, 'import', 'linear', '--team', 'ENG');
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/Linear refused LINEAR_API_KEY \(HTTP 401\)/);
    expect(wrong.stderr).not.toContain('lin_api_wrong');
    const unknown = await deflect({ ...database.env, LINEAR_API_KEY: linear.apiKey, LINEAR_API_URL: linear.url }, 'import', 'linear', '--team', 'NOPE');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/no Linear team with key "NOPE"/);
    const badSince = await deflect({ ...database.env, LINEAR_API_KEY: linear.apiKey, LINEAR_API_URL: linear.url }, 'import', 'linear', '--team', 'ENG', '--since', 'yesterday');
    expect(badSince.status).toBe(1);
    expect(badSince.stderr).toMatch(/--since "yesterday" is not a date/);
    expect((await rows(database))).toHaveLength(0);
  });
});
