/**
 * A fresh Store of a backend together with raw SQL on the same database, for seeding rows that no Store function of
 * that backend writes yet (ticket groups, runs in a given state). Written once with `?` placeholders; on
 * PostgreSQL they become `$1…`. Each file gets its own PostgreSQL server (test/support/postgres.ts), started on
 * first use; {@link closeRawStores} closes the stores and stops it.
 */
import { migratePostgres, openPostgres } from '../../../src/db/postgres/client.js';
import { postgresStore } from '../../../src/db/postgres/pg-store.js';
import { parseDatabaseUrl } from '../../../src/db/postgres/postgres-config.js';
import type { Store } from '../../../src/db/store.js';
import { startTestPostgres, type TestPostgres } from '../../support/postgres.js';
import type { StoreBackend } from '../../support/stores.js';

export interface StoreWithSql {
  store: Store;
  /** Runs one statement with `?` placeholders on the store's database (outside any Store transaction). */
  sql(text: string, params?: unknown[]): Promise<void>;
  /** Runs one query with `?` placeholders on the store's database and resolves with its rows
   * (PostgreSQL returns bigint as text: `CAST(x AS INTEGER)` in the query reads the same on both). */
  rows<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

let server: Promise<TestPostgres> | null = null;
const opened: Store[] = [];

/** A fresh, migrated store of `backend` with raw SQL on its database. */
export async function openWithSql(backend: StoreBackend): Promise<StoreWithSql> {
  if (backend.name === 'sqlite') {
    const store = await backend.open();
    return {
      store,
      sql: async (text, params = []) => {
        store.sqlite!.$client.prepare(text).run(...params);
      },
      rows: async <T>(text: string, params: unknown[] = []) => store.sqlite!.$client.prepare(text).all(...params) as T[],
    };
  }
  server ??= startTestPostgres();
  const pg = await server;
  const url = await pg.createDatabase();
  const target = parseDatabaseUrl(url);
  if (typeof target === 'string') throw new Error(target);
  const database = await openPostgres(target);
  await migratePostgres(database);
  const store = postgresStore(database);
  opened.push(store);
  return {
    store,
    sql: async (text, params = []) => {
      await pg.query(numbered(text), params, url);
    },
    rows: async <T>(text: string, params: unknown[] = []) => (await pg.query(numbered(text), params, url)) as T[],
  };
}

/** `?` placeholders → `$1…`. */
const numbered = (text: string) => {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
};

/** Closes the PostgreSQL stores opened here and the server this file started. */
export async function closeRawStores(): Promise<void> {
  for (const store of opened.splice(0)) await store.close().catch(() => {});
  if (server) {
    const started = server;
    server = null;
    await (await started).close();
  }
}
