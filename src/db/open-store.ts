/**
 * Opening the configured database as a {@link Store} (decision 018): PostgreSQL when `DATABASE_URL` is set (then
 * `DEFLECT_DB` is ignored and no SQLite file is created), else the embedded SQLite file at `DEFLECT_DB`. Either way
 * pending migrations are applied first (PostgreSQL: under the migration advisory lock, so replicas starting together
 * migrate once).
 */
import { openDatabase } from './client.js';
import { migratePostgres, openPostgres } from './postgres/client.js';
import type { PostgresTarget } from './postgres/postgres-config.js';
import { postgresStore } from './postgres/pg-store.js';
import { sqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

/** Where the data lives: `databaseUrl` (a parsed `DATABASE_URL`) wins over `dbPath`. */
export interface StoreLocation {
  dbPath: string;
  databaseUrl: PostgresTarget | null;
}

/**
 * Opens and migrates the configured database.
 * @param options.poolSize PostgreSQL connections at most (default 4; ignored on SQLite: one connection).
 * @throws Error naming the SQLite path, or the PostgreSQL server as `host:port` (never the password), when it cannot
 *   be opened or a migration fails.
 */
export async function openStore(location: StoreLocation, options: { poolSize?: number } = {}): Promise<Store> {
  if (!location.databaseUrl) return sqliteStore(openDatabase(location.dbPath));
  const database = await openPostgres(location.databaseUrl, { max: options.poolSize ?? 4 });
  try {
    await migratePostgres(database);
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
  return postgresStore(database);
}
