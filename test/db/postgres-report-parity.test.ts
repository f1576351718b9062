/**
 * The same answers on both backends (issue 14): a SQLite database holding the whole Fluid Jira export (10,052 real
 * issues, `deflect import jsonl`, grouped) plus the example history and runs on some of its tickets is copied with
 * `deflect migrate --to postgres --from FILE` (counts and checksums per table must match), then every read command a
 * platform team uses — `deflect report` (all time and a bounded window, every key), `deflect impact`, `deflect audit`
 * — is run once with `DEFLECT_DB` (SQLite) and once with `DATABASE_URL` (PostgreSQL): the JSON must be identical but
 * for the moment it was generated.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { seedRun } from '../support/audit-runs.js';
import { freshDir, REPO_ROOT } from '../support/deflect-under-test.js';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { runCli } from '../support/run-cli.js';

const FLUID = join(REPO_ROOT, '../shared/fixtures/tickets/fluid-jira-issues.jsonl');
const HISTORY = join(REPO_ROOT, 'examples/history/platform-requests.jsonl');
const RUNS = 300;
const unavailable = postgresUnavailable() ?? (existsSync(FLUID) ? null : `${FLUID} is absent (../shared is not beside the project)`);
if (unavailable) console.warn(`report parity test skipped: ${unavailable}`);

/** The JSON of a command, without what depends on the moment it ran. */
const stable = (stdout: string) =>
  JSON.parse(stdout, (key, value) => (key === 'generatedAt' || key === 'checkedAt' ? undefined : value)) as Record<string, unknown>;

describe.skipIf(unavailable !== null)('report, impact and audit are identical on SQLite and on its PostgreSQL copy', () => {
  let postgres: TestPostgres;
  const dir = freshDir('deflect-parity-');
  const sqlite = { DEFLECT_DB: join(dir, 'source.db') };
  let pgEnv: Record<string, string>;

  beforeAll(async () => {
    postgres = await startTestPostgres();
    pgEnv = { DATABASE_URL: postgres.url, DEFLECT_DB: join(dir, 'never-created.db') };
    for (const file of [FLUID, HISTORY]) {
      const out = await runCli(['import', 'jsonl', file], sqlite);
      expect(out.code, out.stderr).toBe(0);
    }
    // Runs on the first tickets of the export, so the report's automated share and the audit have something to show.
    const keys = readFileSync(FLUID, 'utf8').split('\n').filter(Boolean).slice(0, RUNS).map((line) => (JSON.parse(line) as { key: string }).key);
    const db = openDatabase(sqlite.DEFLECT_DB);
    try {
      keys.forEach((ticketKey, i) => seedRun(db, { ticketKey, status: i % 7 === 0 ? 'failed' : 'succeeded', createdAt: Date.UTC(2021, 0, 1) + i * 3_600_000, shadow: i % 5 === 0 }));
    } finally {
      db.$client.close();
    }
  }, 300_000);
  afterAll(async () => {
    await postgres?.close();
  });

  it('migrate --to postgres copies it: every table, rows and checksums equal', { timeout: 300_000 }, async () => {
    const out = await runCli(['migrate', '--to', 'postgres', '--from', sqlite.DEFLECT_DB, '--format', 'json'], pgEnv);
    expect(out.code, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout) as { tables: Array<{ table: string; sqliteRows: number; postgresRows: number; match: boolean }> };
    expect(result.tables.length).toBeGreaterThanOrEqual(21);
    expect(result.tables.filter((t) => !t.match)).toEqual([]);
    const tickets = result.tables.find((t) => t.table === 'tickets')!;
    expect(tickets.postgresRows).toBeGreaterThanOrEqual(10_052);
    console.log(
      `report parity: copied ${result.tables.reduce((sum, t) => sum + t.postgresRows, 0)} rows in ${result.tables.length} tables ` +
        `(tickets ${tickets.postgresRows}, runs ${result.tables.find((t) => t.table === 'runs')!.postgresRows}), all checksums equal`,
    );
  });

  it.each([
    // Windows are pinned (--from/--to), so "now" cannot differ between the two runs.
    ['report 2010–2026, every key', ['report', '--from', '2010-01-01', '--to', '2026-01-01', '--top', '25', '--format', 'json']],
    ['report 2020', ['report', '--from', '2020-01-01', '--to', '2021-01-01', '--top', '10', '--format', 'json', '--keys', 'first']],
    ['report, one project', ['report', '--from', '2010-01-01', '--to', '2026-01-01', '--project', 'C2LC', '--format', 'json']],
    ['impact', ['impact', '--from', '2010-01-01', '--to', '2026-01-01', '--format', 'json']],
    ['audit', ['audit', '--limit', '500', '--format', 'json']],
  ])('%s: the same JSON from both backends', { timeout: 120_000 }, async (_name, args) => {
    const fromSqlite = await runCli(args, sqlite);
    const fromPostgres = await runCli(args, pgEnv);
    expect(fromSqlite.code, fromSqlite.stderr).toBe(0);
    expect(fromPostgres.code, fromPostgres.stderr).toBe(0);
    const expected = stable(fromSqlite.stdout);
    expect(stable(fromPostgres.stdout)).toEqual(expected);
    // Not vacuous: the answers hold data.
    expect(fromSqlite.stdout.length).toBeGreaterThan(500);
    expect(existsSync(pgEnv.DEFLECT_DB)).toBe(false);
  });
});
