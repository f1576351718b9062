/**
 * How CLI commands get their configuration and database.
 *
 * - {@link cliConfig}: the environment as `deflect serve` reads it, except that variables only the server uses
 *   (`PORT`, `HOST`) cannot break a command that never listens (`PORT=abc deflect report` works).
 * - {@link openReadDatabase}: read-only commands (report, audit, handlers, explain, tokens list, scaffold) open the
 *   database read-only and never create or migrate it, so a typo in `DEFLECT_DB` is an error, not an empty report.
 * - {@link openWriteDatabase}: commands that change data (import, group, migrate, runs retry, tokens create…) create
 *   and migrate it as `deflect serve` does.
 * Both open PostgreSQL instead when `DATABASE_URL` is set (decision 018): read-only commands then check that its
 * migrations are applied, and never apply them.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig, SERVER_ONLY_VARIABLES, type Config } from '../config.js';
import { openDatabase } from '../db/client.js';
import { openStore, type StoreLocation } from '../db/open-store.js';
import { sqliteStore } from '../db/sqlite-store.js';
import type { Store } from '../db/store.js';

/** The process's configuration for a command that does not listen. @throws ConfigError listing every bad variable. */
export function cliConfig(): Config {
  return loadConfig(process.env, existsSync, { ignore: SERVER_ONLY_VARIABLES });
}

/**
 * Opens the configured database for a command that only reads: the SQLite file read-only, or PostgreSQL.
 * @throws Error (exit 1) when the file does not exist (names the path and `DEFLECT_DB`), when PostgreSQL cannot be
 * reached (names `host:port`, never the password), or when the database needs migrations this deflect ships (run
 * `deflect migrate`).
 */
export async function openReadDatabase(location: StoreLocation): Promise<Store> {
  if (location.databaseUrl) {
    // Loaded only for PostgreSQL (see open-store.ts).
    const { openPostgres } = await import('../db/postgres/client.js');
    const { postgresStore } = await import('../db/postgres/pg-store.js');
    const db = postgresStore(await openPostgres(location.databaseUrl, { max: 2 }));
    const { applied, shipped } = await db.migrationStatus();
    if (applied < shipped) {
      await db.close();
      throw new Error(`the PostgreSQL database at ${location.databaseUrl.hostPort} is at migration ${applied} of ${shipped}: run \`deflect migrate\` first`);
    }
    return db;
  }
  const path = location.dbPath;
  if (path !== ':memory:' && !existsSync(path)) {
    throw new Error(
      `no database at ${resolve(path)}: check DEFLECT_DB (create one with \`deflect migrate\`, or fill it with \`deflect import\`)`,
    );
  }
  const db = sqliteStore(openDatabase(path, { readonly: true }));
  const { applied, shipped } = await db.migrationStatus();
  if (applied < shipped) {
    await db.close();
    throw new Error(`the database at ${resolve(path)} is at migration ${applied} of ${shipped}: run \`deflect migrate\` first`);
  }
  return db;
}

/** Opens (creating and migrating when needed) the configured database for a command that writes. */
export function openWriteDatabase(location: StoreLocation): Promise<Store> {
  return openStore(location);
}

/** Runs `work` on a read-only connection to the configured database and closes it afterwards. */
export async function withReadDatabase<T>(location: StoreLocation, work: (db: Store) => Promise<T> | T): Promise<T> {
  const db = await openReadDatabase(location);
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}
