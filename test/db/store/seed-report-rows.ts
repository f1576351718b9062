/**
 * Test-only seeding for the report, grouping and run-search conformance tests: writes the same rows, with raw SQL, into
 * a fresh store of either backend, for the tables whose Store writers (`upsertTickets`, `enqueueRun`, `finishRun`, …)
 * are not on PostgreSQL yet. Rows are objects keyed by column name; booleans are written as 0/1 on SQLite (how it
 * stores them) and as booleans on PostgreSQL.
 *
 * SQLite: the store's own connection (`store.sqlite.$client`). PostgreSQL: `test/support/stores.ts` does not hand out
 * its databases' URLs, so this file opens its PostgreSQL stores itself, on one throwaway cluster of its own
 * (`startTestPostgres`), with a pg client per database for the raw inserts; {@link closeSeededStores} ends them.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgres, migratePostgres } from '../../../src/db/postgres/client.js';
import { parseDatabaseUrl } from '../../../src/db/postgres/postgres-config.js';
import { postgresStore } from '../../../src/db/postgres/pg-store.js';
import type { Store } from '../../../src/db/store.js';
import { startTestPostgres, type TestPostgres } from '../../support/postgres.js';
import type { StoreBackend } from '../../support/stores.js';

export type Row = Record<string, string | number | boolean | null>;

/** A fresh store and a way to write raw rows into it. */
export interface SeededStore {
  store: Store;
  /** Inserts `rows` (same columns in each) into `table`, in order. */
  insert(table: string, rows: readonly Row[]): Promise<void>;
}

let server: Promise<TestPostgres> | null = null;
const clients: pg.Client[] = [];
const icuDatabases: string[] = [];
const pgStores: Store[] = [];

/** A fresh, migrated store of `backend`, with {@link SeededStore.insert}. */
export async function openSeededStore(backend: StoreBackend): Promise<SeededStore> {
  if (backend.name === 'sqlite') {
    const store = await backend.open();
    const sqlite = store.sqlite!.$client;
    return {
      store,
      async insert(table, rows) {
        for (const row of rows) {
          const columns = Object.keys(row);
          sqlite.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).run(...columns.map((c) => (typeof row[c] === 'boolean' ? (row[c] ? 1 : 0) : row[c])));
        }
      },
    };
  }
  server ??= startTestPostgres();
  const url = await icuDatabase(await server);
  const target = parseDatabaseUrl(url);
  if (typeof target === 'string') throw new Error(target);
  const database = await openPostgres(target);
  await migratePostgres(database);
  const store = postgresStore(database);
  pgStores.push(store);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  clients.push(client);
  return {
    store,
    async insert(table, rows) {
      for (const row of rows) {
        const columns = Object.keys(row);
        await client.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, columns.map((c) => row[c]));
      }
    },
  };
}

/**
 * A fresh database whose default collation is ICU `en-US` (what production databases created with a language locale
 * compare text by: case and accents before bytes), so the tests see whether the SQL compares bytewise where SQLite
 * does (`COLLATE "C"`); the test cluster itself is `--no-locale` (C), where any order would pass.
 */
async function icuDatabase(testServer: TestPostgres): Promise<string> {
  const name = `deflect_icu_${randomBytes(6).toString('hex')}`;
  await testServer.query(`CREATE DATABASE ${name} ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C' TEMPLATE template0`);
  icuDatabases.push(name);
  const url = new URL(testServer.url);
  url.pathname = `/${name}`;
  return url.href;
}

/** Ends the seeding clients, the PostgreSQL stores this file opened and the cluster it started. */
export async function closeSeededStores(): Promise<void> {
  for (const client of clients.splice(0)) await client.end().catch(() => {});
  for (const store of pgStores.splice(0)) await store.close().catch(() => {});
  if (server) {
    const started = await server;
    server = null;
    for (const name of icuDatabases.splice(0)) await started.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    await started.close();
  }
}

/** A `tickets` row with defaults (Jira, site `acme.atlassian.net`, id `<site>:<key>`). */
export function ticketRow(key: string, fields: Row = {}): Row {
  const site = (fields.site as string | undefined) ?? 'acme.atlassian.net';
  return {
    id: `${site}:${key}`,
    tracker: 'jira',
    issue_id: key,
    site,
    key,
    project: key.split('-')[0],
    labels: '[]',
    summary: `summary of ${key}`,
    description: null,
    reporter: null,
    reporter_id: null,
    created: null,
    resolved: null,
    recorded_at: 1_000,
    ...fields,
  };
}

/** The `ticket_labels` rows `src/db/tickets.ts` derives from a ticket row: its labels lower-cased, distinct, with its `created`. */
export function labelRows(ticket: Row): Row[] {
  const labels = [...new Set((JSON.parse(ticket.labels as string) as string[]).map((l) => l.toLowerCase()))];
  return labels.map((label) => ({ ticket_id: ticket.id, label, created: ticket.created }));
}

/** A `deliveries` row (runs reference one). */
export const deliveryRow = (id: number): Row => ({ id, delivery_key: `d${id}`, event: 'jira:issue_created', headers: '{}', body: '{}', received_at: 1_000 });

/** A `runs` row with defaults: a succeeded, applied, real run of `ticketKey` by `handler` (delivery `id`). */
export function runRow(id: number, ticketKey: string, fields: Row = {}): Row {
  return {
    id,
    delivery_id: id,
    ticket_key: ticketKey,
    handler: 'grant-access',
    reason: 'label access → grant-access',
    status: 'succeeded',
    dry_run: false,
    idempotency_key: `${ticketKey}:grant-access:d${id}`,
    attempts: 1,
    max_attempts: 5,
    run_after: 0,
    applied: true,
    shadow: false,
    summary: null,
    error: null,
    ticket_snapshot: null,
    created_at: 1_000 + id,
    finished_at: null,
    ...fields,
  };
}

/** An `actions` row of run `runId`. */
export function actionRow(id: number, runId: number, ticketKey: string, fields: Row = {}): Row {
  return { id, run_id: runId, seq: 1, kind: 'transition', ticket_key: ticketKey, idempotency_key: `a${id}`, request: '{}', status: 'applied', created_at: 1_000, finished_at: null, ...fields };
}
