/**
 * Tickets keyed by site and issue id: the migration that re-keys existing rows, snapshots adopting a site-less row,
 * and the pieces the receiver's limits rest on (depth scan across chunk boundaries, the replay command's timestamp
 * refresh, DEFLECT_MAX_EVENT_AGE parsing). The snapshots on the pass's backend (test-backend.ts), the migration on a
 * real SQLite file; no mocks.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { describe, expect, it } from 'vitest';
import { payloadBody } from '../../src/cli/commands/replay-command.js';
import { loadConfig } from '../../src/config.js';
import { MIGRATIONS_FOLDER, openDatabase } from '../../src/db/client.js';
import { DepthScan, findTooDeep } from '../../src/webhooks/safe-json.js';
import { freshDir } from '../support/deflect-under-test.js';
import { freshDatabase, onPostgres } from '../support/test-backend.js';
import { ticketWith } from '../support/ticket-fixture.js';

/** A ticket with no site (as a CSV export gives it) unless `siteUrl` is overridden. */
const ticketFixture = (overrides: Parameters<typeof ticketWith>[1]) => ticketWith(null, { siteUrl: null, ...overrides });

describe('migration replay_and_sites', () => {
  // SQLite only: it upgrades a SQLite file left by a release before this migration; PostgreSQL support came later, and
  // its schema (migrations-postgres/) starts with tickets keyed by site, so there is no such database to upgrade.
  it.skipIf(onPostgres)('re-keys existing tickets by the site of their newest delivery, with their labels and group; others keep the bare id', () => {
    const dir = freshDir('deflect-migrate-');
    const dbPath = join(dir, 'old.db');
    // The database as the release before this migration left it: migrations up to 0005 only.
    const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ tag: string }> };
    const before = journal.entries.findIndex((e) => e.tag.endsWith('replay_and_sites'));
    expect(before).toBeGreaterThan(0);
    const oldFolder = join(dir, 'migrations');
    mkdirSync(join(oldFolder, 'meta'), { recursive: true });
    for (const entry of journal.entries.slice(0, before)) cpSync(join(MIGRATIONS_FOLDER, `${entry.tag}.sql`), join(oldFolder, `${entry.tag}.sql`));
    writeFileSync(join(oldFolder, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: journal.entries.slice(0, before) }));
    const sqlite = new Database(dbPath);
    sqlite.pragma('foreign_keys = ON');
    migrate(drizzle(sqlite), { migrationsFolder: oldFolder });
    sqlite.exec(`
      INSERT INTO tickets (id, key, labels, recorded_at) VALUES ('10400', 'PLAT-7', '["dns"]', 1), ('20000', 'OLD-1', '[]', 1);
      INSERT INTO ticket_labels (ticket_id, label) VALUES ('10400', 'dns');
      INSERT INTO ticket_groups (ticket_id, group_id, algorithm, reason, computed_at) VALUES ('10400', 'text:abc', 'text-v1', 'r', 1);
      INSERT INTO deliveries (delivery_key, event, issue_key, headers, body, received_at) VALUES
        ('k1', 'jira:issue_created', 'PLAT-7', '{}', '{"issue":{"id":"10400","key":"PLAT-7","self":"https://Acme.atlassian.net/rest/api/2/issue/10400"}}', 1),
        ('k2', 'jira:issue_created', 'PLAT-7', '{}', 'not json', 2);`);
    sqlite.close();

    const db = openDatabase(dbPath);
    const rows = db.$client.prepare('SELECT id, issue_id AS issueId, site, key FROM tickets ORDER BY key').all();
    expect(rows).toEqual([
      { id: '20000', issueId: '20000', site: '', key: 'OLD-1' },
      { id: 'acme.atlassian.net:10400', issueId: '10400', site: 'acme.atlassian.net', key: 'PLAT-7' },
    ]);
    expect(db.$client.prepare('SELECT ticket_id AS id FROM ticket_labels').all()).toEqual([{ id: 'acme.atlassian.net:10400' }]);
    expect(db.$client.prepare('SELECT ticket_id AS id FROM ticket_groups').all()).toEqual([{ id: 'acme.atlassian.net:10400' }]);
    expect(db.$client.pragma('foreign_key_check')).toEqual([]);
    db.$client.close();
  });
});

describe('upsertTickets by site', () => {
  it('a snapshot with a site adopts the site-less row of the same issue (labels kept); a site-less one then updates it', async () => {
    const database = await freshDatabase();
    const store = await database.open();
    await store.upsertTickets([{ ticket: ticketFixture({ id: '500', key: 'CSV-1', labels: ['dns'], summary: 'from a CSV export' }) }], 'import', 1);
    expect(await database.all('SELECT id FROM tickets')).toEqual([{ id: '500' }]);

    await store.upsertTickets([{ ticket: ticketFixture({ id: '500', key: 'CSV-1', labels: null, summary: 'from a webhook', siteUrl: 'https://acme.atlassian.net' }) }], 'webhook', 2);
    expect(await database.all('SELECT id, site, summary FROM tickets')).toEqual([{ id: 'acme.atlassian.net:500', site: 'acme.atlassian.net', summary: 'from a webhook' }]);
    expect(await database.all('SELECT ticket_id AS id, label FROM ticket_labels')).toEqual([{ id: 'acme.atlassian.net:500', label: 'dns' }]);

    await store.upsertTickets([{ ticket: ticketFixture({ id: '500', key: 'CSV-1', labels: ['dns'], summary: 're-imported' }) }], 'import', 3);
    expect(await database.all('SELECT id, summary FROM tickets')).toEqual([{ id: 'acme.atlassian.net:500', summary: 're-imported' }]);

    await store.upsertTickets([{ ticket: ticketFixture({ id: '600', key: 'NEW-1' }) }], 'import', 4, { defaultSiteUrl: 'https://Acme.atlassian.net/' });
    expect(await database.get("SELECT id FROM tickets WHERE key = 'NEW-1'")).toEqual({ id: 'acme.atlassian.net:600' });
  });
});

describe('depth scan', () => {
  it('counts brackets outside strings only, across chunk boundaries and escapes', () => {
    const deep = (n: number) => Buffer.from('['.repeat(n) + ']'.repeat(n));
    expect(findTooDeep(deep(64), 64)).toBe(-1);
    expect(findTooDeep(deep(65), 64)).toBe(64);
    expect(findTooDeep(Buffer.from(JSON.stringify({ s: '[[[[[[[[[[' + '\\"[[[[' }), 'utf8'), 3)).toBe(-1);
    const body = Buffer.from(`{"a":"x\\\\","b":${'['.repeat(10)}${']'.repeat(10)}}`);
    for (let cut = 1; cut < body.length; cut++) {
      const scan = new DepthScan(10);
      scan.push(body.subarray(0, cut));
      scan.push(body.subarray(cut));
      expect(scan.tooDeepAt, `cut at ${cut}`).toBe(findTooDeep(body, 10));
      const tight = new DepthScan(9);
      tight.push(body.subarray(0, cut));
      tight.push(body.subarray(cut));
      expect(tight.tooDeepAt, `cut at ${cut}`).toBe(findTooDeep(body, 9));
    }
    expect(findTooDeep(body, 9)).toBeGreaterThan(0);
  });
});

describe('deflect replay <file> and DEFLECT_MAX_EVENT_AGE', () => {
  it('refreshes a payload file timestamp by default and leaves bodies without one unchanged', () => {
    const file = Buffer.from('{"timestamp": 1763715600000, "webhookEvent": "jira:issue_created"}');
    expect(JSON.parse(payloadBody(file, true, 42).toString())).toEqual({ timestamp: 42, webhookEvent: 'jira:issue_created' });
    expect(payloadBody(file, false, 42)).toBe(file);
    const automation = Buffer.from('{"key":"PLAT-1","fields":{}}');
    expect(payloadBody(automation, true, 42)).toBe(automation);
  });

  it('parses 24h / 30m / 2d and refuses anything else, naming the variable', () => {
    expect(loadConfig({}).maxEventAgeMs).toBe(24 * 3_600_000);
    expect(loadConfig({ DEFLECT_MAX_EVENT_AGE: '30m' }).maxEventAgeMs).toBe(30 * 60_000);
    expect(loadConfig({ DEFLECT_MAX_EVENT_AGE: '2d' }).maxEventAgeMs).toBe(2 * 86_400_000);
    expect(() => loadConfig({ DEFLECT_MAX_EVENT_AGE: 'soon' })).toThrow(/DEFLECT_MAX_EVENT_AGE.*"soon".*30m, 12h, 30d, 2w/);
    expect(loadConfig({ JIRA_BASE_URL: 'https://x.atlassian.net', JIRA_EMAIL: 'a', JIRA_API_TOKEN: 'b' }).jiraSiteUrl).toBe('https://x.atlassian.net');
    expect(loadConfig({ JIRA_SITE_URL: 'https://site.atlassian.net/' }).jiraSiteUrl).toBe('https://site.atlassian.net');
  });
});
