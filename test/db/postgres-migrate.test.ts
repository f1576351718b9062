/**
 * `deflect migrate` on a real PostgreSQL (test/support/postgres.ts; skipped, saying why, when none is available):
 * migrating an empty database (and the catalog it leaves matching the schema), two processes migrating at once, copying
 * a SQLite database holding real data in every table (rows and checksums equal, sequences past SQLite's ids), a
 * tampered row found by `--verify-only`, a non-empty target refused unless `--replace`, a value PostgreSQL cannot store,
 * an out-of-date SQLite file, and bad URLs (one line naming host:port, never the password). Without PostgreSQL: every
 * other command refuses DATABASE_URL (exit 2), and the flag combinations that mean nothing are bad usage.
 */
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { getTableConfig } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { TABLES_IN_FK_ORDER, tableShape } from '../../src/db/postgres/tables.js';
import { startServer } from '../../src/server.js';
import { freshDir } from '../support/deflect-under-test.js';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { runCli, type CliResult } from '../support/run-cli.js';
import { FLUID_TICKETS, seedSqlite } from './postgres-seed.js';

const unavailable = postgresUnavailable();
if (unavailable) console.warn(`PostgreSQL tests skipped: ${unavailable}`);

interface Check {
  table: string;
  sqliteRows: number;
  postgresRows: number;
  sqliteSha256: string;
  postgresSha256: string;
  match: boolean;
}
interface CopyJson {
  mode: string;
  copied: number;
  ok: boolean;
  tables: Check[];
}

/** Every output of a command, for the "never the password" checks. */
const output = (r: CliResult) => `${r.stdout}\n${r.stderr}`;

describe.skipIf(unavailable !== null)('deflect migrate on PostgreSQL', () => {
  let pg: TestPostgres;
  let dir: string;
  let source: string;
  const migrate = (args: string[], url: string, extra: Record<string, string> = {}) =>
    runCli(['migrate', ...args], { DATABASE_URL: url, DEFLECT_DB: join(dir, 'never-created.db'), ...extra });
  const sqliteCount = (path: string, table: string) => {
    const db = new Database(path, { readonly: true });
    try {
      return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    pg = await startTestPostgres();
    dir = freshDir('deflect-pg-');
    source = await seedSqlite(dir);
  });
  afterAll(async () => {
    await pg?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('migrates an empty database, says what it applied, then that nothing is left; creates no SQLite file', async () => {
    const first = await migrate(['--format', 'json'], pg.url);
    expect(first.code, first.stderr).toBe(0);
    const done = JSON.parse(first.stdout) as { database: string; backend: string; before: number; after: number; applied: number; shipped: number };
    expect(done).toMatchObject({ backend: 'postgres', before: 0 });
    expect(done.applied).toBe(done.shipped);
    expect(done.shipped).toBeGreaterThanOrEqual(1);
    expect(done.database).toMatch(/^postgres:\/\/postgres(:\*\*\*)?@127\.0\.0\.1:\d+\/deflect_test_/);
    const again = await migrate([], pg.url);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`up to date (${done.shipped} migration${done.shipped === 1 ? '' : 's'}), nothing applied`);
    expect(existsSync(join(dir, 'never-created.db'))).toBe(false);
    if (pg.password) expect(output(first) + output(again)).not.toContain(pg.password);
  });

  it('leaves a catalog that matches the drizzle schema: every table, column (type, nullability) and index', async () => {
    const columns = await pg.query<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>(
      `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
    );
    const indexes = await pg.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey'`);
    const types = { int: 'bigint', bool: 'boolean', text: 'text' } as const;
    for (const { postgres } of TABLES_IN_FK_ORDER) {
      const config = getTableConfig(postgres);
      const shape = tableShape(postgres);
      expect(columns.filter((c) => c.table_name === config.name).map((c) => [c.column_name, c.data_type, c.is_nullable])).toEqual(
        shape.columns.map((c, i) => [c.name, types[c.kind], config.columns[i].notNull ? 'NO' : 'YES']),
      );
    }
    const expected = TABLES_IN_FK_ORDER.flatMap(({ postgres }) => getTableConfig(postgres).indexes.map((i) => i.config.name)).sort();
    expect(indexes.map((i) => i.indexname).sort()).toEqual(expected);
  });

  it('two processes migrating one database at once apply each migration once', async () => {
    const url = await pg.createDatabase();
    const [a, b] = await Promise.all([migrate(['--format', 'json'], url), migrate(['--format', 'json'], url)]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const applied = [a, b].map((r) => (JSON.parse(r.stdout) as { applied: number; shipped: number }));
    expect(applied.map((r) => r.applied).sort()).toEqual([0, applied[0].shipped]);
    const rows = await pg.query<{ n: string }>('SELECT count(*) AS n FROM drizzle.__drizzle_migrations', [], url);
    expect(Number(rows[0].n)).toBe(applied[0].shipped);
    // graphile-worker's schema (the runs queue's jobs, decision 019) installed with them, under the same lock: its
    // 19 migrations of 0.17.3 (node_modules/graphile-worker/sql/000001–000019.sql), each recorded once.
    const worker = await pg.query<{ n: string; last: number }>('SELECT count(*) AS n, max(id) AS last FROM graphile_worker.migrations', [], url);
    expect(worker[0]).toEqual({ n: '19', last: 19 });
  });

  describe('--to postgres --from FILE', () => {
    let target: string;
    let copy: CliResult;
    let result: CopyJson;
    beforeAll(async () => {
      target = await pg.createDatabase();
      copy = await migrate(['--to', 'postgres', '--from', source, '--format', 'json'], target);
      result = JSON.parse(copy.stdout || '{}') as CopyJson;
    });

    it('copies every table: rows and checksums equal on both sides, exit 0, progress on stderr', async () => {
      expect(copy.code, copy.stderr).toBe(0);
      expect(result.ok).toBe(true);
      expect(result.tables.map((t) => t.table)).toEqual(TABLES_IN_FK_ORDER.map((t) => t.name));
      for (const t of result.tables) {
        expect(t.match, t.table).toBe(true);
        expect(t.postgresSha256).toBe(t.sqliteSha256);
        expect(t.sqliteRows, t.table).toBe(sqliteCount(source, t.table));
        const counted = await pg.query<{ n: string }>(`SELECT count(*) AS n FROM ${t.table}`, [], target);
        expect(Number(counted[0].n), t.table).toBe(t.sqliteRows);
      }
      // Real data in every table (the seed fills them all), so no check passes on two empty sides.
      const rows = Object.fromEntries(result.tables.map((t) => [t.table, t.sqliteRows]));
      for (const [table, n] of Object.entries(rows)) expect(n, table).toBeGreaterThan(0);
      expect(rows.tickets).toBe(FLUID_TICKETS + 60);
      expect(result.copied).toBe(Object.values(rows).reduce((a, b) => a + b, 0));
      expect(copy.stderr).toContain(`copy to postgres: done, 100% of ${result.copied} rows`);
      expect(copy.stderr).toContain(`verify: done, 100% of ${result.copied} rows`);
      if (pg.password) expect(output(copy)).not.toContain(pg.password);
    });

    it('copies values exactly: token hashes as stored, booleans, JSON text byte for byte, unicode', async () => {
      const sqlite = new Database(source, { readonly: true });
      try {
        const hashes = sqlite.prepare('SELECT token_hash FROM api_tokens ORDER BY id').pluck().all();
        expect((await pg.query<{ token_hash: string }>('SELECT token_hash FROM api_tokens ORDER BY id', [], target)).map((r) => r.token_hash)).toEqual(hashes);
        const shadow = sqlite.prepare('SELECT id FROM runs WHERE shadow = 1').pluck().all().map(Number);
        expect((await pg.query<{ id: string }>('SELECT id FROM runs WHERE shadow ORDER BY id', [], target)).map((r) => Number(r.id))).toEqual(shadow);
        const snapshot = sqlite.prepare("SELECT ticket_snapshot FROM runs WHERE ticket_snapshot LIKE '%Jürgen%'").pluck().get() as string;
        expect(snapshot).toContain('🚀');
        expect((await pg.query<{ s: string }>("SELECT ticket_snapshot AS s FROM runs WHERE ticket_snapshot LIKE '%Jürgen%'", [], target))[0].s).toBe(snapshot);
      } finally {
        sqlite.close();
      }
    });

    it('moves every identity sequence past the ids SQLite handed out, including one it lost', async () => {
      const sqlite = new Database(source, { readonly: true });
      const handedOut = (sqlite.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'deliveries'").pluck().get() as number);
      const maxId = (sqlite.prepare('SELECT max(id) FROM deliveries').pluck().get() as number);
      sqlite.close();
      expect(handedOut).toBe(maxId + 1);
      const next = await pg.query<{ id: string }>(
        `INSERT INTO deliveries (delivery_key, event, headers, body, received_at) VALUES ('after-copy', 'x', '{}', '{}', 1) RETURNING id`,
        [],
        target,
      );
      expect(Number(next[0].id)).toBe(handedOut + 1);
      await pg.query(`DELETE FROM deliveries WHERE delivery_key = 'after-copy'`, [], target);
    });

    it('--verify-only finds a tampered row and a missing row: the mismatches printed, exit 1', async () => {
      const clean = await migrate(['--to', 'postgres', '--from', source, '--verify-only'], target);
      expect(clean.code, clean.stderr).toBe(0);
      expect(clean.stdout).toMatch(/│ tickets\s+│ \d+\s+│ \d+\s+│ match\s+│/);
      await pg.query(`UPDATE tickets SET summary = summary || '!' WHERE id = (SELECT min(id) FROM tickets)`, [], target);
      await pg.query(`DELETE FROM slack_events`, [], target);
      const tampered = await migrate(['--to', 'postgres', '--from', source, '--verify-only'], target);
      expect(tampered.code).toBe(1);
      expect(tampered.stdout).toMatch(/│ tickets\s+│ (\d+)\s+│ \1\s+│ MISMATCH\s+│/);
      expect(tampered.stdout).toMatch(/│ slack_events\s+│ 1\s+│ 0\s+│ MISMATCH \(rows\)\s+│/);
      expect(tampered.stdout).toMatch(/│ runs\s+│ \d+\s+│ \d+\s+│ match\s+│/);
      expect(tampered.stderr.trim().split('\n').at(-1)).toBe('deflect: 2 tables differ between SQLite and PostgreSQL (tickets, slack_events)');
    });

    it('refuses a target that holds deflect data (exit 1, nothing copied) unless --replace', async () => {
      const refused = await migrate(['--to', 'postgres', '--from', source], target);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('already holds deflect data (deliveries: ');
      expect(refused.stderr).toContain('Pass --replace');
      // Nothing was copied: the row deleted above is still missing.
      expect(await pg.query('SELECT * FROM slack_events', [], target)).toHaveLength(0);
      const replaced = await migrate(['--to', 'postgres', '--from', source, '--replace'], target);
      expect(replaced.code, replaced.stderr).toBe(0);
      expect(replaced.stdout).toMatch(/^copied \d+ rows in 21 tables from .* \(replacing \d+ rows it held\)/);
      expect((await migrate(['--to', 'postgres', '--from', source, '--verify-only'], target)).code).toBe(0);
    });
  });

  it('a text PostgreSQL cannot store (NUL) fails the copy naming table, row and column; nothing is committed', async () => {
    const bad = join(dir, 'nul.db');
    copyFileSync(source, bad);
    const db = new Database(bad);
    const id = db.prepare('SELECT min(id) FROM tickets').pluck().get() as string;
    db.prepare("UPDATE tickets SET description = 'before' || char(0) || 'after' WHERE id = ?").run(id);
    db.close();
    const target = await pg.createDatabase();
    const out = await migrate(['--to', 'postgres', '--from', bad], target);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`deflect: tickets row id=${id}, column description: the text holds a NUL character`);
    expect(await pg.query('SELECT * FROM deliveries', [], target)).toHaveLength(0);
  });

  it('refuses a SQLite file that is not at the latest migration, saying how to bring it up to date', async () => {
    const behind = join(dir, 'behind.db');
    copyFileSync(source, behind);
    const db = new Database(behind);
    db.prepare('DELETE FROM __drizzle_migrations WHERE created_at = (SELECT max(created_at) FROM __drizzle_migrations)').run();
    db.close();
    const out = await migrate(['--to', 'postgres', '--from', behind], await pg.createDatabase());
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/is at migration (\d+) of \d+: bring it up to date first with `DEFLECT_DB=.* deflect migrate` \(DATABASE_URL unset\)/);
  });

  it('bad URLs: one line naming host:port and what to check, exit 1, never the password', async () => {
    const secret = 'Sup3r-s3cret-pw';
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const url = new URL(pg.url);
    const cases: Array<[string, string]> = [
      [`postgres://deflect:${secret}@127.0.0.1:${closedPort}/deflect`, `cannot connect to PostgreSQL at 127.0.0.1:${closedPort}: connection refused`],
      [`postgres://postgres:${secret}@${url.host}/no_such_db`, pg.password ? 'password authentication failed for user "postgres"' : 'database "no_such_db" does not exist'],
      [`mysql://deflect:${secret}@127.0.0.1/deflect`, 'DATABASE_URL: must be a PostgreSQL URL like postgres://'],
    ];
    if (pg.password) cases.push([`postgres://postgres:${pg.password}@${url.host}/no_such_db`, 'database "no_such_db" does not exist (create it, e.g. `createdb no_such_db`']);
    for (const [bad, expected] of cases) {
      for (const args of [[], ['--to', 'postgres', '--from', source]]) {
        const out = await migrate(args, bad);
        expect(out.code, bad).toBe(1);
        expect(out.stderr).toContain(expected);
        expect(output(out)).not.toContain(secret);
        if (pg.password) expect(output(out)).not.toContain(pg.password);
        if (!expected.startsWith('DATABASE_URL')) expect(out.stderr.trim().split('\n')).toHaveLength(1);
      }
    }
  });
});

describe('DATABASE_URL outside deflect migrate (no PostgreSQL needed)', () => {
  const env = { DATABASE_URL: 'postgres://deflect:Sup3r-s3cret-pw@127.0.0.1:1/deflect' };

  it.each([['report'], ['tokens', 'list'], ['import', 'jsonl', '-']])('deflect %s on an unreachable PostgreSQL fails with one line naming host:port, never the password', async (...args: string[]) => {
    const out = await runCli(args, env);
    expect(out.code).toBe(1);
    expect(out.stderr.trim()).toMatch(/^deflect: cannot connect to PostgreSQL at 127\.0\.0\.1:1: /);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(output(out)).not.toContain('Sup3r-s3cret-pw');
  });

  it('startServer on an unreachable PostgreSQL rejects before listening, and creates no SQLite file', async () => {
    const dir = freshDir('deflect-pg-serve-');
    const config = loadConfig({ ...env, DEFLECT_INSECURE_NO_AUTH: 'true', DEFLECT_DB: join(dir, 'never.db') }, () => false);
    expect(config.databaseUrl?.hostPort).toBe('127.0.0.1:1');
    await expect(startServer(config, createLogger('silent'))).rejects.toThrow(/cannot connect to PostgreSQL at 127\.0\.0\.1:1/);
    expect(existsSync(join(dir, 'never.db'))).toBe(false);
  });

  it.each([
    [['--to', 'postgres', '--from', 'x.db'], {}, '--to postgres needs DATABASE_URL'],
    [['--to', 'postgres'], env, '--to postgres needs --from FILE'],
    [['--from', 'x.db'], env, '--from only work with --to postgres'],
    [['--to', 'postgres', '--from', 'x.db', '--replace', '--verify-only'], env, '--replace and --verify-only do not go together'],
    [['--to', 'mysql', '--from', 'x.db'], env, "argument 'mysql' is invalid. Allowed choices are postgres"],
  ] as Array<[string[], Record<string, string>, string]>)('deflect migrate %j is bad usage (exit 2)', async (args, extra, message) => {
    const out = await runCli(['migrate', ...args], extra);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(message);
  });
});
