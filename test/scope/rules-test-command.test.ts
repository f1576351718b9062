/**
 * `deflect rules test` as a child process: every rule with matched / not matched and why, as JSON
 * (`{ matches: [{ rule, handler, matched, reason }] }`), from a payload file (group membership looked up against a
 * fake Jira over loopback, or not with --no-lookup), a stored delivery and a stored ticket snapshot; nothing is stored
 * or run; bad input is one line on stderr and exit 1.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseUrl } from '../../src/db/postgres/postgres-config.js';
import { jiraTracker } from '../../src/trackers/jira/jira-tracker.js';
import { freshDir } from '../support/deflect-under-test.js';
import { startFakeMemberships, type FakeMemberships } from '../support/fake-memberships.js';
import { runCli } from '../reliability/helpers.js';
import { freshDatabase, type TestDatabase } from '../support/test-backend.js';

const PAYLOAD = join(import.meta.dirname, '../../examples/payloads/01-access-request-created.json');
const body = JSON.parse(readFileSync(PAYLOAD, 'utf8')) as { issue: { fields: { reporter: { accountId: string } } } };
const reporter = body.issue.fields.reporter.accountId;

let dir: string;
let rulesPath: string;
let database: TestDatabase;
let fake: FakeMemberships;
let env: Record<string, string>;

beforeAll(async () => {
  fake = await startFakeMemberships({ jira: { [reporter]: ['platform-early'] } });
  dir = freshDir('deflect-rules-test-');
  rulesPath = join(dir, 'rules.yaml');
  writeFileSync(
    rulesPath,
    `rules:
  - name: early
    labels: [access-request]
    handler: grant-repo-access
    groups: [platform-early]
  - name: everyone
    labels: [access-request]
    handler: grant-repo-access
  - name: repos
    labels: [new-repo]
    handler: create-repository
`,
  );
  database = await freshDatabase('deflect-rules-test-db-');
  const store = await database.open();
  const text = readFileSync(PAYLOAD, 'utf8');
  await store.insertDeliveries([{ deliveryKey: 'cli:1', webhookIdentifier: null, event: 'jira:issue_created', issueKey: 'PLAT-101', headers: {}, body: text, eventTimestamp: 1, receivedAt: Date.now(), dedupeBodySince: 0 }]);
  await store.upsertTickets([{ ticket: { ...jiraTracker.parseEvent(JSON.parse(text)).ticket!, key: 'PLAT-202', id: '202', labels: ['new-repo'] } }], 'import');
  await store.close();
  env = { ...database.env, JIRA_BASE_URL: fake.url, JIRA_EMAIL: 'bot@acme.test', JIRA_API_TOKEN: 'secret-token', DEFLECT_DRY_RUN: 'true' };
});
afterAll(() => fake.close());

const matchesOf = (stdout: string) => (JSON.parse(stdout) as { matches: Array<{ rule: string; handler: string; matched: boolean; reason: string }> }).matches;

describe('deflect rules test', () => {
  it('explains every rule for a payload file, looking up group membership', async () => {
    const out = await runCli(['rules', 'test', PAYLOAD, '--rules', rulesPath, '--format', 'json'], env);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const matches = matchesOf(out.stdout);
    expect(matches.map((m) => [m.rule, m.handler, m.matched])).toEqual([
      ['early', 'grant-repo-access', true],
      ['everyone', 'grant-repo-access', false],
      ['repos', 'create-repository', false],
    ]);
    expect(matches[0].reason).toContain('in scope: group platform-early');
    expect(matches[1].reason).toContain('but rule early #1 matched first');
    expect(matches[2].reason).toContain('carries none of the labels [new-repo]');
    expect(fake.requests.some((r) => r.path === '/rest/api/3/user/groups' && r.query.accountId === reporter)).toBe(true);
  });

  it('with --no-lookup, says the group was not looked up and lets the next rule match', async () => {
    const before = fake.requests.length;
    const matches = matchesOf((await runCli(['rules', 'test', PAYLOAD, '--rules', rulesPath, '--format', 'json', '--no-lookup'], env)).stdout);
    expect(matches[0]).toMatchObject({ matched: false, reason: expect.stringContaining('membership of group platform-early not looked up') });
    expect(matches[1].matched).toBe(true);
    expect(fake.requests.length).toBe(before);
  });

  it('reads a stored delivery and a stored ticket (as a created event) without storing or running anything', async () => {
    const counts = () => database.get('SELECT (SELECT count(*) FROM deliveries) AS d, (SELECT count(*) FROM runs) AS r, (SELECT status FROM deliveries WHERE id = 1) AS s');
    const before = await counts();
    const delivery = await runCli(['rules', 'test', '--delivery', '1', '--rules', rulesPath, '--format', 'json', '--no-lookup'], env);
    expect(matchesOf(delivery.stdout).map((m) => m.matched)).toEqual([false, true, false]);
    const ticket = await runCli(['rules', 'test', '--ticket', 'PLAT-202', '--rules', rulesPath, '--no-lookup'], env);
    expect(ticket.code).toBe(0);
    expect(ticket.stdout).toContain('ticket PLAT-202 (stored snapshot, tested as a "created" event)');
    expect(ticket.stdout).toMatch(/repos\s*│\s*create-repository\s*│\s*yes/);
    expect(await counts()).toEqual(before);
    expect(before).toEqual({ d: 1, r: 0, s: 'pending' });
  });

  it('refuses bad input with one line and exit 1', async () => {
    const notJson = join(dir, 'bad.json');
    writeFileSync(notJson, '{ nope');
    const out = await runCli(['rules', 'test', notJson, '--rules', rulesPath], env);
    expect(out.code).toBe(1);
    expect(out.stderr.trim()).toMatch(/^deflect: .*bad\.json: not JSON/);
    const missing = await runCli(['rules', 'test', '--delivery', '99', '--rules', rulesPath], env);
    // The database as deflect names it: the SQLite file, or the PostgreSQL URL without its password.
    const where = database.databaseUrl === null ? database.dbPath : (parseDatabaseUrl(database.databaseUrl) as { display: string }).display;
    expect(missing.stderr.trim()).toBe(`deflect: no delivery #99 in ${where}`);
  });
});
