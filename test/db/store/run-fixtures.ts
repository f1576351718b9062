/**
 * Backends for the runs / actions / audit conformance tests, and the seeding they share.
 *
 * Rows of tables these modules do not own (deliveries, handler states, rule settings, approvals) are written through
 * the Store (`store.insertDeliveries`, `store.pauseHandler`, …). Where the PostgreSQL twin of that module is not
 * written yet (it rejects with `NotOnPostgresError`), the same row is inserted with raw SQL on the test's own pool:
 * `test/support/stores.ts` gives no raw access to the PostgreSQL database, so {@link runsBackends} opens PostgreSQL
 * stores the same way, keeping the pool. Once those twins exist the fallback is never taken.
 */
import pg from 'pg';
import { NotOnPostgresError } from '../../../src/db/postgres/repositories/not-yet.js';
import { migratePostgres, openPostgres, type PostgresDatabase } from '../../../src/db/postgres/client.js';
import { postgresStore } from '../../../src/db/postgres/pg-store.js';
import { parseDatabaseUrl } from '../../../src/db/postgres/postgres-config.js';
import type { Backend, Store } from '../../../src/db/store.js';
import { closeStoreBackends, storeBackends } from '../../support/stores.js';
import { startTestPostgres, type TestPostgres } from '../../support/postgres.js';

/** A fresh store, and raw SQL on the same database (SQLite: `?` placeholders; PostgreSQL: `$1`). */
export interface Opened {
  store: Store;
  backend: Backend;
  /** PostgreSQL: the database beneath the store (its pool); null on SQLite. */
  postgres: PostgresDatabase | null;
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

export interface RunsBackend {
  name: Backend;
  skip: string | null;
  open(): Promise<Opened>;
  toString(): string;
}

/** int8 (OID 20) as a JS number, as `PgSession.query` reads it. */
const INT8_AS_NUMBER: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text') => (oid === 20 ? Number : pg.types.getTypeParser(oid, format))) as pg.CustomTypesConfig['getTypeParser'],
};

let server: Promise<TestPostgres> | null = null;
const pools: Array<{ store: Store }> = [];

/** SQLite (from `storeBackends()`) and PostgreSQL (opened here, with a pool for raw SQL). */
export function runsBackends(): RunsBackend[] {
  return storeBackends().map((backend) => ({
    name: backend.name,
    skip: backend.skip,
    toString: () => backend.name,
    async open(): Promise<Opened> {
      if (backend.name === 'sqlite') {
        const store = await backend.open();
        const sqlite = store.sqlite!.$client;
        return {
          store,
          backend: 'sqlite',
          postgres: null,
          sql: async <T>(text: string, params: unknown[] = []) => {
            const statement = sqlite.prepare(text);
            return (statement.reader ? statement.all(...params) : (statement.run(...params), [])) as T[];
          },
        };
      }
      server ??= startTestPostgres();
      const target = parseDatabaseUrl(await (await server).createDatabase());
      if (typeof target === 'string') throw new Error(target);
      const database = await openPostgres(target);
      await migratePostgres(database);
      const store = postgresStore(database);
      pools.push({ store });
      const pool: pg.Pool = database.pool;
      return {
        store,
        backend: 'postgres',
        postgres: database,
        sql: async <T>(text: string, params: unknown[] = []) => (await pool.query({ text, values: params, types: INT8_AS_NUMBER })).rows as T[],
      };
    },
  }));
}

/** Closes every store opened here and by `storeBackends()`, and the PostgreSQL server. */
export async function closeRunsBackends(): Promise<void> {
  for (const { store } of pools.splice(0)) await store.close().catch(() => {});
  await closeStoreBackends();
  if (server) {
    const started = server;
    server = null;
    await (await started).close();
  }
}

/** Runs `viaStore`; when the PostgreSQL store lacks that function yet, `raw` instead. */
async function storeOrRaw<T>(viaStore: () => Promise<T>, raw: () => Promise<T>): Promise<T> {
  try {
    return await viaStore();
  } catch (error) {
    if (error instanceof NotOnPostgresError) return raw();
    throw error;
  }
}

/** Stores a delivery keyed `key`; resolves with its id. */
export async function addDelivery(o: Opened, key: string, receivedAt = 1_000): Promise<number> {
  return storeOrRaw(
    async () =>
      (await o.store.insertDeliveries([{ deliveryKey: key, webhookIdentifier: null, event: 'jira:issue_created', issueKey: 'PLAT-1', headers: {}, body: `{"k":"${key}"}`, eventTimestamp: null, receivedAt }]))[0].id,
    async () =>
      (await o.sql<{ id: number }>(
        `INSERT INTO deliveries (delivery_key, event, issue_key, headers, body, received_at) VALUES ($1, 'jira:issue_created', 'PLAT-1', '{}', $2, $3) RETURNING id`,
        [key, `{"k":"${key}"}`, receivedAt],
      ))[0].id,
  );
}

/** Pauses `handler` (a `handler_states` row with `paused_at`). */
export async function pauseHandler(o: Opened, handler: string, now = 1_000): Promise<void> {
  await storeOrRaw(
    async () => void (await o.store.pauseHandler(handler, 'test', now)),
    async () =>
      void (await o.sql(`INSERT INTO handler_states (handler, consecutive_failures, paused_at, paused_reason, updated_at) VALUES ($1, 0, $2, 'test', $2)`, [
        handler,
        now,
      ])),
  );
}

/** Stores rule settings for run `runId` (`run_rule_settings`). */
export async function addRuleSettings(o: Opened, runId: number, ruleName: string): Promise<void> {
  await storeOrRaw(
    () => o.store.recordRunRuleSettings(runId, { ruleName, options: { team: 'a' }, approval: null, feedback: true }),
    async () => void (await o.sql(`INSERT INTO run_rule_settings (run_id, rule_name, options, approval, feedback) VALUES ($1, $2, '{"team":"a"}', NULL, true)`, [runId, ruleName])),
  );
}

/** Appends an approval step for run `runId`. */
export async function addApproval(o: Opened, runId: number, at: number): Promise<void> {
  await storeOrRaw(
    () => o.store.recordApprovalStep({ runId, decision: 'approved', by: 'ann' }, at),
    async () => void (await o.sql(`INSERT INTO approvals (run_id, decision, by, at) VALUES ($1, 'approved', 'ann', $2)`, [runId, at])),
  );
}

/** A run to queue on delivery `deliveryId` (a fresh delivery per run keeps (delivery, handler) unique). */
export const newRun = (deliveryId: number, ticketKey: string, overrides: Partial<Parameters<Store['enqueueRun']>[0]> = {}) => ({
  deliveryId,
  ticketKey,
  handler: 'grant-repo-access',
  reason: 'label access-request',
  dryRun: false,
  idempotencyKey: `run:${deliveryId}:${overrides.handler ?? 'grant-repo-access'}`,
  maxAttempts: 3,
  ...overrides,
});

let deliveries = 0;

/** Stores a delivery and queues one run on it; resolves with the run id. */
export async function queueRun(o: Opened, ticketKey: string, now: number, overrides: Partial<Parameters<Store['enqueueRun']>[0]> = {}): Promise<number> {
  const deliveryId = await addDelivery(o, `d-${ticketKey}-${now}-${++deliveries}`, now);
  const id = await o.store.enqueueRun(newRun(deliveryId, ticketKey, overrides), now);
  if (id === null) throw new Error('enqueueRun returned null for a fresh delivery');
  return id;
}
