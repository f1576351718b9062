/**
 * Test-only seeding for the Store conformance tests of modules whose rows hang off `runs` (approvals, verifications):
 * the `runs`, `deliveries`, `tickets` and grouping twins are ported by other sessions, so `store.enqueueRun` and co.
 * still reject on PostgreSQL here. These helpers insert the same rows on both backends with raw SQL instead.
 *
 * - SQLite: through `store.sqlite.$client` (booleans written as 1/0, as SQLite stores them).
 * - PostgreSQL: the Store hides its pool, so {@link openSeedable} opens the PostgreSQL store itself, the way
 *   `test/support/stores.ts` does (a fresh migrated database on one throwaway cluster per test file, or on
 *   `DEFLECT_TEST_DATABASE_URL`), and keeps the database's URL for a pg client. {@link closeSeedable} drops it all.
 */
import pg from 'pg';
import { openPostgres, migratePostgres } from '../../../src/db/postgres/client.js';
import { parseDatabaseUrl } from '../../../src/db/postgres/postgres-config.js';
import { postgresStore } from '../../../src/db/postgres/pg-store.js';
import type { Store } from '../../../src/db/store.js';
import { startTestPostgres, type TestPostgres } from '../../support/postgres.js';
import type { StoreBackend } from '../../support/stores.js';

/** A store under test and raw SQL on the same database. */
export interface Seedable {
  store: Store;
  /** Inserts one row into `table` (SQL column names) and resolves with its `id` when the table has one. */
  insert(table: string, row: Record<string, unknown>): Promise<number | undefined>;
  /** Runs `text` (`?` placeholders on both backends) and resolves with its rows. */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

let server: Promise<TestPostgres> | null = null;
const clients: pg.Client[] = [];
const stores: Store[] = [];

const toPg = (text: string) => {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
};

/** A fresh, migrated store of `backend` with raw SQL access to its database. */
export async function openSeedable(backend: StoreBackend): Promise<Seedable> {
  if (backend.name === 'sqlite') {
    const store = await backend.open();
    const client = store.sqlite!.$client;
    const sqliteValue = (v: unknown) => (typeof v === 'boolean' ? (v ? 1 : 0) : v);
    return {
      store,
      async insert(table, row) {
        const columns = Object.keys(row);
        const result = client
          .prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) RETURNING *`)
          .get(...Object.values(row).map(sqliteValue)) as { id?: number };
        return result.id;
      },
      async query<T>(text: string, params: unknown[] = []) {
        const statement = client.prepare(text);
        return (statement.reader ? statement.all(...params.map(sqliteValue)) : (statement.run(...params.map(sqliteValue)), [])) as T[];
      },
    };
  }
  server ??= startTestPostgres();
  const url = await (await server).createDatabase();
  const target = parseDatabaseUrl(url);
  if (typeof target === 'string') throw new Error(target);
  const database = await openPostgres(target);
  await migratePostgres(database);
  const store = postgresStore(database);
  stores.push(store);
  // int8 (OID 20) as JS numbers, as the store reads them.
  const types = { getTypeParser: (oid: number, format?: string) => (oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text')) };
  const client = new pg.Client({ connectionString: url, types: types as pg.CustomTypesConfig });
  await client.connect();
  clients.push(client);
  return {
    store,
    async insert(table, row) {
      const columns = Object.keys(row);
      const result = await client.query(
        `INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
        Object.values(row),
      );
      return (result.rows[0] as { id?: number } | undefined)?.id;
    },
    async query<T>(text: string, params: unknown[] = []) {
      return (await client.query(toPg(text), params)).rows as T[];
    },
  };
}

/** Closes what {@link openSeedable} opened (call in `afterAll`, beside `closeStoreBackends`). */
export async function closeSeedable(): Promise<void> {
  for (const client of clients.splice(0)) await client.end().catch(() => {});
  for (const store of stores.splice(0)) await store.close().catch(() => {});
  if (server) {
    const started = server;
    server = null;
    await (await started).close();
  }
}

let deliverySeq = 0;

/** What a seeded run may set (SQL column names); everything else gets a plain queued run's values. */
export interface SeedRun {
  ticketKey?: string;
  handler?: string;
  status?: string;
  dryRun?: boolean;
  shadow?: boolean;
  owner?: string | null;
  ticketSnapshot?: string | null;
  createdAt?: number;
  attempts?: number;
  runAfter?: number;
}

/** Inserts a delivery and one run of it; resolves with the run's id. */
export async function seedRun(target: Seedable, run: SeedRun = {}): Promise<number> {
  const n = ++deliverySeq;
  const ticketKey = run.ticketKey ?? 'PLAT-1';
  const handler = run.handler ?? 'grant-repo-access';
  const createdAt = run.createdAt ?? 1_000;
  const deliveryId = await target.insert('deliveries', {
    delivery_key: `seed-${n}`,
    event: 'jira:issue_updated',
    issue_key: ticketKey,
    headers: '{}',
    body: '{}',
    received_at: createdAt,
  });
  const id = await target.insert('runs', {
    delivery_id: deliveryId,
    ticket_key: ticketKey,
    handler,
    reason: `seeded run ${n}`,
    status: run.status ?? 'queued',
    dry_run: run.dryRun ?? false,
    shadow: run.shadow ?? false,
    idempotency_key: `${ticketKey}:${handler}:seed-${n}`,
    attempts: run.attempts ?? 0,
    max_attempts: 3,
    run_after: run.runAfter ?? createdAt,
    owner: run.owner ?? null,
    locked_at: run.owner ? createdAt : null,
    lease_expires_at: run.owner ? createdAt + 60_000 : null,
    started_at: run.owner ? createdAt : null,
    ticket_snapshot: run.ticketSnapshot ?? null,
    created_at: createdAt,
  });
  return id!;
}

/** The columns of run `id` that approvals move (status, lease, summary, attempts, run_after, finished_at). */
export async function readRun(target: Seedable, id: number): Promise<Record<string, unknown>> {
  const [row] = await target.query<Record<string, unknown>>(
    `SELECT status, summary, duration_ms, finished_at, locked_at, owner, lease_expires_at, run_after, attempts FROM runs WHERE id = ?`,
    [id],
  );
  return row;
}
