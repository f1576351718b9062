/**
 * Opening and migrating the SQLite database.
 *
 * Pragmas: WAL journal (readers never block the writer), `synchronous=FULL` (every commit is fsynced
 * before `COMMIT` returns, so a delivery acknowledged with a 2xx survives a crash or power loss; group
 * commit in {@link ../db/deliveries.ts} keeps that affordable), foreign keys on, and a busy timeout so
 * a second process (the CLI next to a running server) waits instead of failing.
 * See https://www.sqlite.org/wal.html and https://www.sqlite.org/pragma.html#pragma_synchronous.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';
import { sealRowsAtUpgrade } from './audit-chain.js';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

/** The package root: two levels above src/db (run by tsx), three above dist/src/db (compiled). */
export const PACKAGE_ROOT = resolve(
  dirname(fileURLToPath(import.meta.url)),
  fileURLToPath(import.meta.url).includes('/dist/') ? '../../..' : '../..',
);

/** The folder of committed SQL migrations (`migrations/` at the package root). */
export const MIGRATIONS_FOLDER = resolve(PACKAGE_ROOT, 'migrations');

export interface OpenDatabaseOptions {
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  /** Open read-only (reports from a second process); implies migrate: false. */
  readonly?: boolean;
}

/**
 * Opens (creating the file and its folder if needed) the SQLite database at `path`
 * (`:memory:` works too) and applies pending migrations.
 * @throws Error with the path in the message when the file cannot be opened or a migration fails.
 */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Db {
  if (path !== ':memory:' && !options.readonly) mkdirSync(dirname(resolve(path)), { recursive: true });
  let sqlite: Database.Database;
  try {
    sqlite = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  } catch (error) {
    throw new Error(`cannot open the database at ${path}: ${(error as Error).message} (check DEFLECT_DB)`, { cause: error });
  }
  if (!options.readonly) {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
  }
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = drizzle(sqlite, { schema }) as Db;
  if (options.migrate !== false && !options.readonly) {
    migrateDatabase(db, path);
    // Decision 011: rows recorded before the audit chain existed are sealed once, right after the upgrade.
    sealRowsAtUpgrade(db);
  }
  return db;
}

/**
 * Applies every migration in `migrations/` not yet applied (drizzle's `__drizzle_migrations` table records them).
 * @throws Error naming the database path when a migration fails.
 */
export function migrateDatabase(db: Db, path = '(database)'): void {
  try {
    migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  } catch (error) {
    throw new Error(`migrating ${path} failed: ${(error as Error).message}`, { cause: error });
  }
}

/** Count of migrations applied to `db`, and of migrations shipped; used by `/readyz` and `deflect migrate`. */
export function migrationStatus(db: Db): { applied: number; shipped: number } {
  const applied = (db.$client.prepare(
    "SELECT count(*) AS n FROM sqlite_master WHERE type='table' AND name='__drizzle_migrations'",
  ).get() as { n: number }).n
    ? (db.$client.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number }).n
    : 0;
  return { applied, shipped: readJournalEntries() };
}

function readJournalEntries(): number {
  const journal = JSON.parse(readFileSync(resolve(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}
