/**
 * How CLI commands get their configuration and database.
 *
 * - {@link cliConfig}: the environment as `deflect serve` reads it, except that variables only the server uses
 *   (`PORT`, `HOST`) cannot break a command that never listens (`PORT=abc deflect report` works).
 * - {@link openReadDatabase}: read-only commands (report, audit, handlers, explain, tokens list, scaffold) open the
 *   database read-only and never create or migrate it, so a typo in `DEFLECT_DB` is an error, not an empty report.
 * - {@link openWriteDatabase}: commands that change data (import, group, migrate, runs retry, tokens create…) create
 *   and migrate it as `deflect serve` does.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig, SERVER_ONLY_VARIABLES, type Config } from '../config.js';
import { openDatabase } from '../db/client.js';
import { sqliteStore } from '../db/sqlite-store.js';
import type { Store } from '../db/store.js';

/** The process's configuration for a command that does not listen. @throws ConfigError listing every bad variable. */
export function cliConfig(): Config {
  return loadConfig(process.env, existsSync, { ignore: SERVER_ONLY_VARIABLES });
}

/**
 * Opens `path` read-only for a command that only reads.
 * @throws Error (exit 1) when the file does not exist (names the path and `DEFLECT_DB`), or when the database needs
 * migrations this deflect ships (run `deflect migrate`).
 */
export async function openReadDatabase(path: string): Promise<Store> {
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

/** Opens (creating and migrating when needed) the database at `path` for a command that writes. */
export function openWriteDatabase(path: string): Store {
  return sqliteStore(openDatabase(path));
}

/** Runs `work` on a read-only connection to `path` and closes it afterwards. */
export async function withReadDatabase<T>(path: string, work: (db: Store) => Promise<T> | T): Promise<T> {
  const db = await openReadDatabase(path);
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}
