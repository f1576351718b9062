/**
 * The backend the suite runs on (issue 14: the whole suite green on both). `DEFLECT_TEST_BACKEND=postgres` runs every
 * test that stores anything on PostgreSQL: each {@link freshDatabase} is then a fresh database on the test server
 * (test/support/postgres.ts: `DEFLECT_TEST_DATABASE_URL`, or the throwaway cluster that test/support/global-setup.ts
 * starts once for the run), and the env it gives a deflect sets `DATABASE_URL`. Unset (or `sqlite`), it is a fresh
 * SQLite file, as deflect's embedded default.
 *
 * A test reads and seeds rows through the Store or the HTTP API where one exists; where it needs SQL (a row in a given
 * state, a column no answer shows) it uses {@link TestDatabase.all}/`get`/`run`: `?` placeholders on both backends
 * (numbered `$1…` on PostgreSQL), rows as SQLite gives them (PostgreSQL's booleans as 0/1, int8/numeric as numbers),
 * so one assertion holds on both. The SQL itself must be understood by both (no `json_extract`, no `INSERT OR …`);
 * PostgreSQL folds unquoted aliases to lower case (`AS "deliveryId"`, quoted, reads the same on both) and reserves
 * words SQLite does not (`"by"`).
 *
 * Databases are closed (and dropped on PostgreSQL) after each file by test/support/file-setup.ts.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import pg from 'pg';
import { openStore } from '../../src/db/open-store.js';
import { parseDatabaseUrl } from '../../src/db/postgres/postgres-config.js';
import type { Backend, Store } from '../../src/db/store.js';
import { freshDir } from './dirs.js';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from './postgres.js';

/** The backend of this run: `DEFLECT_TEST_BACKEND` (`sqlite`, the default, or `postgres`). */
export const TEST_BACKEND: Backend = parseBackend(process.env.DEFLECT_TEST_BACKEND);

/** True when this run is the PostgreSQL pass. */
export const onPostgres = TEST_BACKEND === 'postgres';

/**
 * The reason a SQLite-only case gives when skipped on the PostgreSQL pass (`it.skipIf(onPostgres)` plus a comment
 * saying what only SQLite has: its file, its `deflect backup`, its volume's free space).
 */
export const SQLITE_ONLY = 'SQLite only: it tests the SQLite file itself';

function parseBackend(value: string | undefined): Backend {
  if (value === undefined || value === '' || value === 'sqlite') return 'sqlite';
  if (value === 'postgres') return 'postgres';
  throw new Error(`DEFLECT_TEST_BACKEND must be sqlite or postgres, not ${JSON.stringify(value)}`);
}

/** One fresh, empty database of the run's backend. */
export interface TestDatabase {
  backend: Backend;
  /**
   * A SQLite file path in a fresh folder (the database itself on SQLite; on PostgreSQL unused by deflect, since
   * `DATABASE_URL` wins, but a place for files next to it).
   */
  dbPath: string;
  /** The database's URL on PostgreSQL (with the test password), else null. */
  databaseUrl: string | null;
  /** What a deflect needs to use this database: `DEFLECT_DB`, plus `DATABASE_URL` on PostgreSQL. */
  env: Record<string, string>;
  /** The location as `openStore` takes it. */
  location: { dbPath: string; databaseUrl: string | null };
  /** Opens (and migrates) a Store on this database; closed after the file unless the test closes it first. */
  open(): Promise<Store>;
  /** The rows of one query (`?` placeholders), read on a connection of the test's own. */
  all<T = Record<string, any>>(sql: string, ...params: unknown[]): Promise<T[]>;
  /** The first row of one query, or undefined. */
  get<T = Record<string, any>>(sql: string, ...params: unknown[]): Promise<T | undefined>;
  /** Runs one statement (`?` placeholders); resolves with the rows it changed. */
  run(sql: string, ...params: unknown[]): Promise<{ changes: number }>;
}

let server: Promise<TestPostgres> | null = null;
const cleanups: (() => Promise<void>)[] = [];

/**
 * A fresh database of the run's backend.
 * @throws on the PostgreSQL pass when PostgreSQL cannot run here ({@link postgresUnavailable}): that pass must not
 *   quietly test SQLite.
 */
export async function freshDatabase(prefix = 'deflect-test-'): Promise<TestDatabase> {
  const dbPath = join(freshDir(prefix), 'deflect.db');
  if (!onPostgres) return sqliteDatabase(dbPath);
  const reason = postgresUnavailable();
  if (reason) throw new Error(`DEFLECT_TEST_BACKEND=postgres, but PostgreSQL cannot run here: ${reason}`);
  server ??= startTestPostgres();
  const databaseUrl = await (await server).createDatabase();
  return postgresDatabase(dbPath, databaseUrl);
}

function sqliteDatabase(dbPath: string): TestDatabase {
  let connection: Database.Database | null = null;
  const sql = () => {
    if (!connection) {
      connection = new Database(dbPath);
      connection.pragma('busy_timeout = 10000');
      const opened = connection;
      cleanups.push(async () => {
        opened.close();
      });
    }
    return connection;
  };
  return {
    backend: 'sqlite',
    dbPath,
    databaseUrl: null,
    env: { DEFLECT_DB: dbPath },
    location: { dbPath, databaseUrl: null },
    open: () => openTracked({ dbPath, databaseUrl: null }),
    all: async (text, ...params) => sql().prepare(text).all(...params) as never[],
    get: async (text, ...params) => sql().prepare(text).get(...params) as never,
    run: async (text, ...params) => ({ changes: sql().prepare(text).run(...params).changes }),
  };
}

const NUMERIC_TYPES = [20, 1700]; // int8, numeric: as numbers, as the Store's own pool reads them
const types = {
  getTypeParser: (oid: number, format?: string) =>
    NUMERIC_TYPES.includes(oid) ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text'),
};

function postgresDatabase(dbPath: string, databaseUrl: string): TestDatabase {
  let pool: pg.Pool | null = null;
  const query = async (text: string, params: unknown[]) => {
    if (!pool) {
      pool = new pg.Pool({ connectionString: databaseUrl, max: 2, types });
      const opened = pool;
      cleanups.push(() => opened.end());
    }
    const result = await pool.query(numbered(text), params);
    return { rows: result.rows.map(asSqliteRow), changes: result.rowCount ?? 0 };
  };
  return {
    backend: 'postgres',
    dbPath,
    databaseUrl,
    env: { DEFLECT_DB: dbPath, DATABASE_URL: databaseUrl },
    location: { dbPath, databaseUrl },
    open: () => openTracked({ dbPath, databaseUrl }),
    all: async (text, ...params) => (await query(text, params)).rows as never[],
    get: async (text, ...params) => (await query(text, params)).rows[0] as never,
    run: async (text, ...params) => ({ changes: (await query(text, params)).changes }),
  };
}

async function openTracked(location: { dbPath: string; databaseUrl: string | null }): Promise<Store> {
  const target = location.databaseUrl === null ? null : parseDatabaseUrl(location.databaseUrl);
  if (typeof target === 'string') throw new Error(target);
  const store = await openStore({ dbPath: location.dbPath, databaseUrl: target }, { poolSize: 4 });
  cleanups.push(() => store.close());
  return store;
}

/** `?` placeholders → `$1…` (not inside quoted strings). */
function numbered(text: string): string {
  let n = 0;
  return text.replace(/'(?:[^']|'')*'|\?/g, (match) => (match === '?' ? `$${++n}` : match));
}

function asSqliteRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) out[key] = typeof value === 'boolean' ? (value ? 1 : 0) : value;
  return out;
}

/** Closes every database handle this file opened, then the test server connection (file-setup.ts, after all). */
export async function closeTestDatabases(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  if (server) {
    const started = server;
    server = null;
    await (await started).close();
  }
}
