/**
 * Opening the configured database as a {@link Store} (decision 018): PostgreSQL when `DATABASE_URL` is set (then
 * `DEFLECT_DB` is ignored and no SQLite file is created), else the embedded SQLite file at `DEFLECT_DB`. Either way
 * pending migrations are applied first (PostgreSQL: under the migration advisory lock, so replicas starting together
 * migrate once).
 */
import { openDatabase } from './client.js';
import type { PostgresTarget } from './postgres/postgres-config.js';
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
  // Loaded only for PostgreSQL: node-postgres, drizzle's pg driver and the 22 twins cost ~150 ms of every start.
  const { migratePostgres, openPostgres } = await import('./postgres/client.js');
  const { postgresStore } = await import('./postgres/pg-store.js');
  const database = await openPostgres(location.databaseUrl, { max: options.poolSize ?? 4 });
  try {
    await migratePostgres(database);
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
  return postgresStore(database);
}
