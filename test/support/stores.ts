/**
 * Stores for tests that must hold on both backends (decision 018): a fresh SQLite file, and a fresh database on a
 * real PostgreSQL (test/support/postgres.ts: `DEFLECT_TEST_DATABASE_URL`, or a throwaway cluster), migrated.
 *
 * Use: `describe.each(storeBackends())('…on %s', (backend) => { … await backend.open() … })`, with
 * `afterAll(closeStoreBackends)`. When PostgreSQL cannot run here the PostgreSQL case is skipped with the reason
 * (`backend.skip`).
 */
import { join } from 'node:path';
import { openDatabase } from '../../src/db/client.js';
import { openPostgres, migratePostgres } from '../../src/db/postgres/client.js';
import { parseDatabaseUrl } from '../../src/db/postgres/postgres-config.js';
import { postgresStore } from '../../src/db/postgres/pg-store.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';
import type { Backend, Store } from '../../src/db/store.js';
import { freshDir } from './deflect-under-test.js';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from './postgres.js';

/** One backend under test. */
export interface StoreBackend {
  name: Backend;
  /** Why this backend's cases are skipped here, or null. */
  skip: string | null;
  /** A fresh, migrated, empty database of this backend; closed by {@link closeStoreBackends}. */
  open(): Promise<Store>;
  toString(): string;
}

let server: Promise<TestPostgres> | null = null;
const opened: Store[] = [];

/** The two backends; PostgreSQL's `skip` says why when it cannot run. */
export function storeBackends(): StoreBackend[] {
  const pgSkip = postgresUnavailable();
  if (pgSkip) console.warn(`PostgreSQL cases skipped: ${pgSkip}`);
  return [
    {
      name: 'sqlite',
      skip: null,
      async open() {
        const store = sqliteStore(openDatabase(join(freshDir('deflect-store-'), 'store.db')));
        opened.push(store);
        return store;
      },
      toString: () => 'sqlite',
    },
    {
      name: 'postgres',
      skip: pgSkip,
      async open() {
        server ??= startTestPostgres();
        const url = await (await server).createDatabase();
        const target = parseDatabaseUrl(url);
        if (typeof target === 'string') throw new Error(target);
        const database = await openPostgres(target);
        await migratePostgres(database);
        const store = postgresStore(database);
        opened.push(store);
        return store;
      },
      toString: () => 'postgres',
    },
  ];
}

/** Closes every store opened, and the PostgreSQL test server this file started. */
export async function closeStoreBackends(): Promise<void> {
  for (const store of opened.splice(0)) await store.close().catch(() => {});
  if (server) {
    const started = server;
    server = null;
    await (await started).close();
  }
}
