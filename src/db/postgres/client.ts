/**
 * Opening and migrating the PostgreSQL database named by `DATABASE_URL` (decision 018). The SQLite twin is
 * `../client.ts`.
 *
 * - {@link openPostgres}: a node-postgres Pool, checked with one connection at once so a wrong URL fails here with one
 *   line naming `host:port` and what to check (never the password).
 * - {@link migratePostgres}: applies `migrations-postgres/` with drizzle's node-postgres migrator (all pending
 *   migrations in one transaction), then graphile-worker's own schema (`graphile_worker`, the runs queue's jobs,
 *   decision 019), under one advisory lock so replicas starting together migrate once.
 * - {@link postgresMigrationStatus}: migrations applied (drizzle's `drizzle.__drizzle_migrations` table) and shipped.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { PACKAGE_ROOT } from '../client.js';
import { scrubPassword, type PostgresTarget } from './postgres-config.js';

/** The folder of committed PostgreSQL migrations (`migrations-postgres/` at the package root). */
export const POSTGRES_MIGRATIONS_FOLDER = resolve(PACKAGE_ROOT, 'migrations-postgres');

/** How long opening a connection may take before it is reported as unanswered, ms. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** Key of the advisory lock held while migrating (`pg_advisory_lock(bigint)`): "deflect" in ASCII, then 01. */
export const MIGRATION_LOCK_KEY = BigInt('0x6465666c65637401').toString();

/** An open PostgreSQL database: the pool and the target it was opened from (for messages). */
export interface PostgresDatabase {
  pool: pg.Pool;
  target: PostgresTarget;
  close(): Promise<void>;
}

/**
 * Opens a pool on `target` and checks that a connection can be made.
 * @throws Error with one line naming `host:port` (connection refused, host not found, no answer within
 *   {@link CONNECT_TIMEOUT_MS}, authentication failed, no such database, …) and a hint; the password never appears.
 */
export async function openPostgres(target: PostgresTarget, options: { max?: number } = {}): Promise<PostgresDatabase> {
  const pool = new pg.Pool({
    connectionString: target.url,
    max: options.max ?? 4,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'deflect',
  });
  // An idle connection the server closes (restart, idle timeout) must not crash the process: the next query fails.
  pool.on('error', () => {});
  // Nor may one that fails while checked out (its next query rejects instead); graphile-worker checks for both.
  pool.on('connect', (client) => client.on('error', () => {}));
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    throw new Error(describeConnectError(error, target), { cause: error });
  }
  return { pool, target, close: () => pool.end() };
}

/**
 * One line for a failed connection: `cannot connect to PostgreSQL at host:port: <what> (<hint>)`.
 * SQLSTATE codes: https://www.postgresql.org/docs/current/errcodes-appendix.html.
 */
export function describeConnectError(error: unknown, target: PostgresTarget): string {
  const e = error as { code?: string; message?: string };
  const message = scrubPassword(String(e.message ?? error), target.password);
  const at = `cannot connect to PostgreSQL at ${target.hostPort}`;
  switch (e.code) {
    case 'ECONNREFUSED':
      return `${at}: connection refused (is PostgreSQL running and listening there? check the host and port in DATABASE_URL)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${at}: host not found (check the host in DATABASE_URL)`;
    case 'ENOENT':
      return `${at}: no PostgreSQL socket there (check the socket folder and port in DATABASE_URL)`;
    case 'ETIMEDOUT':
      return `${at}: no answer (check the host and port in DATABASE_URL, and any firewall)`;
    case '28P01':
      return `${at}: password authentication failed for user "${target.user}" (check the user and password in DATABASE_URL)`;
    case '28000':
      return `${at}: ${message} (check the user in DATABASE_URL and the server's pg_hba.conf)`;
    case '3D000':
      return `${at}: ${message} (create it, e.g. \`createdb ${target.database || 'deflect'}\`, or fix the database name in DATABASE_URL)`;
    default:
      if (/timeout/i.test(message)) return `${at}: no answer within ${CONNECT_TIMEOUT_MS / 1000} s (check the host and port in DATABASE_URL, and any firewall)`;
      if (/password must be a string|SASL/i.test(message)) return `${at}: the server asks for a password (put it in DATABASE_URL: postgres://user:PASSWORD@host/db)`;
      return `${at}: ${message}`;
  }
}

/** Counts of migrations: applied to the database, and shipped in `migrations-postgres/`. */
export interface PostgresMigrationStatus {
  applied: number;
  shipped: number;
}

/** Migrations applied (rows of `drizzle.__drizzle_migrations`, 0 when absent) and shipped. */
export async function postgresMigrationStatus(db: pg.Pool | pg.PoolClient): Promise<PostgresMigrationStatus> {
  const exists = await db.query<{ t: string | null }>(`SELECT to_regclass('drizzle.__drizzle_migrations')::text AS t`);
  const applied = exists.rows[0].t ? Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM drizzle.__drizzle_migrations')).rows[0].n) : 0;
  return { applied, shipped: shippedPostgresMigrations() };
}

/**
 * Applies every migration of `migrations-postgres/` not yet applied, then graphile-worker's, holding the migration
 * advisory lock (a second process migrating at the same time waits, then finds nothing to apply). The counts are
 * deflect's migrations only.
 * @returns the applied count before and after.
 * @throws Error naming the server when a migration fails (the migrator's transaction is rolled back).
 */
export async function migratePostgres(database: PostgresDatabase): Promise<{ before: number; after: number; shipped: number }> {
  const client = await database.pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    try {
      const before = (await postgresMigrationStatus(client)).applied;
      try {
        await migrate(drizzle({ client }), { migrationsFolder: POSTGRES_MIGRATIONS_FOLDER });
        await migrateGraphileWorker(database.pool);
      } catch (error) {
        const detail = scrubPassword((error as { cause?: Error }).cause?.message ?? (error as Error).message, database.target.password);
        throw new Error(`migrating PostgreSQL at ${database.target.hostPort} failed: ${detail}`, { cause: error });
      }
      const { applied: after, shipped } = await postgresMigrationStatus(client);
      return { before, after, shipped };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]).catch(() => {});
    }
  } finally {
    client.release();
  }
}

/**
 * graphile-worker's forward-only migrations (its schema `graphile_worker` and table `graphile_worker.migrations`;
 * decision 019), a no-op when applied. Run on a connection of its own (a pool of one, from `pool`'s settings) while the
 * caller's holds the migration lock: `pool` may have no connection to spare (`deflect migrate` opens one). Loaded here,
 * not at import time, so SQLite start-up never pays for graphile-worker.
 */
async function migrateGraphileWorker(pool: pg.Pool): Promise<void> {
  const { runMigrations } = await import('graphile-worker');
  const own = new pg.Pool({ ...pool.options, max: 1 });
  own.on('error', () => {});
  own.on('connect', (client) => client.on('error', () => {}));
  try {
    await runMigrations({ pgPool: own, logger: await silentGraphileLogger() });
  } finally {
    await own.end();
  }
}

/** graphile-worker's logger, silenced: deflect reports its own errors (they reject). */
export async function silentGraphileLogger() {
  const { Logger } = await import('graphile-worker');
  return new Logger(() => () => {});
}

function shippedPostgresMigrations(): number {
  const journal = JSON.parse(readFileSync(resolve(POSTGRES_MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}
