/**
 * The connection a PostgreSQL repository function runs on (decision 018, step 2): inside
 * `store.transaction(async () => …)` the transaction's client, everywhere else the pool. Repository modules
 * (`repositories/*.ts`) receive one {@link PgSession} and never hold a client themselves, so a call made anywhere in
 * a transaction's async context (AsyncLocalStorage) joins that transaction, as on SQLite.
 *
 * Integers: every deflect integer column is `bigint` (int8), which node-postgres returns as a string; {@link
 * PgSession.query} parses int8 (OID 20) and `count(*)` results into JS numbers (deflect's values stay far below 2^53),
 * numeric (OID 1700) too. See https://node-postgres.com/features/queries#types.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as auditSchema from './audit-schema.js';
import * as reportSchema from './report-schema.js';
import * as schema from './schema.js';
import * as verificationSchema from './verification-schema.js';

/** Every PostgreSQL table, for drizzle's relational queries. */
export const PG_SCHEMA = { ...schema, ...reportSchema, ...auditSchema, ...verificationSchema };

export type PgDrizzle = NodePgDatabase<typeof PG_SCHEMA>;

const INT8_OID = 20;
const NUMERIC_OID = 1700;
const NUMBER_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID || oid === NUMERIC_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** What a repository module runs its SQL on. */
export interface PgSession {
  /** drizzle over the current connection (the open transaction's client, or the pool). */
  readonly db: PgDrizzle;
  /**
   * Runs one parameterised statement (`$1`, `$2`, …) on the current connection.
   * @returns its rows, int8 and numeric columns as JS numbers.
   * @throws the driver's error (SQLSTATE in `.code`).
   */
  query<T extends object = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Like {@link query}, returning the affected row count (`rowCount`) instead. */
  execute(text: string, params?: readonly unknown[]): Promise<number>;
  /** True inside `store.transaction` / `store.snapshot`. */
  readonly inTransaction: boolean;
  /**
   * Runs `work` atomically: a new transaction (`BEGIN … COMMIT`), or a savepoint when one is already open (what a
   * SQLite function's own `db.transaction(…)` block is on that side).
   * @throws (rejects) what `work` throws, after rolling back.
   */
  transaction<T>(work: () => Promise<T>): Promise<T>;
}

interface OpenTransaction {
  client: pg.PoolClient;
  db: PgDrizzle;
  savepoints: number;
  /** False once committed or rolled back: a callback scheduled inside it that runs later uses the pool again. */
  active: boolean;
  /**
   * The last statement sent on `client`: statements of one transaction run one after the other even when the work
   * starts several at once (`Promise.all`), as node-postgres 9 will require.
   */
  tail: Promise<unknown>;
}

/**
 * One level of an open transaction, as the async context sees it: the transaction, and the savepoints started at this
 * level. Sibling savepoints (`Promise.all([store.transaction(a), store.transaction(b)])`) run one after the other:
 * interleaved, releasing the first would release the second with it.
 */
interface Frame {
  tx: OpenTransaction;
  children: Promise<unknown>;
}

/** The session and the transaction runners of one pool. */
export interface PgSessionHost {
  session: PgSession;
  transaction<T>(work: () => Promise<T>, mode: 'write' | 'read'): Promise<T>;
}

/** Creates the session over `pool`. */
export function createPgSession(pool: pg.Pool): PgSessionHost {
  const context = new AsyncLocalStorage<Frame>();
  const poolDb = drizzle({ client: pool, schema: PG_SCHEMA });
  const current = () => {
    const tx = context.getStore()?.tx;
    return tx?.active ? tx : null;
  };
  const send = (text: string, params: readonly unknown[]) => {
    const query = { text, values: params as unknown[], types: NUMBER_TYPES };
    const tx = current();
    if (!tx) return pool.query(query);
    const sent = tx.tail.then(() => tx.client.query(query));
    tx.tail = sent.catch(() => {});
    return sent;
  };

  const session: PgSession = {
    get db() {
      return current()?.db ?? poolDb;
    },
    get inTransaction() {
      return current() !== null;
    },
    async query<T extends object>(text: string, params: readonly unknown[] = []) {
      const result = await send(text, params);
      return result.rows as T[];
    },
    async execute(text: string, params: readonly unknown[] = []) {
      const result = await send(text, params);
      return result.rowCount ?? 0;
    },
    transaction: (work) => transaction(work, 'write'),
  };

  async function transaction<T>(work: () => Promise<T>, mode: 'write' | 'read'): Promise<T> {
    const frame = context.getStore();
    if (frame?.tx.active) {
      const run = frame.children.then(() => savepoint(frame.tx, work));
      frame.children = run.catch(() => {});
      return run;
    }
    const client = await pool.connect();
    const tx: OpenTransaction = { client, db: drizzle({ client, schema: PG_SCHEMA }), savepoints: 0, active: true, tail: Promise.resolve() };
    let broken = false;
    try {
      // Write transactions name READ COMMITTED rather than take the server's default: the audit chain's gap-free append
      // and the claims re-read rows after taking their locks, which a REPEATABLE READ default
      // (`default_transaction_isolation`) would answer from the older snapshot.
      // https://www.postgresql.org/docs/current/transaction-iso.html#XACT-READ-COMMITTED
      await client.query(mode === 'read' ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN ISOLATION LEVEL READ COMMITTED');
      const result = await context.run({ tx, children: Promise.resolve() }, work);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      tx.active = false;
      client.release(broken);
    }
  }

  async function savepoint<T>(tx: OpenTransaction, work: () => Promise<T>): Promise<T> {
    const name = `deflect_sp${++tx.savepoints}`;
    await session.execute(`SAVEPOINT ${name}`);
    try {
      const result = await context.run({ tx, children: Promise.resolve() }, work);
      await session.execute(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (error) {
      await session.execute(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => {});
      throw error;
    }
  }

  return { session, transaction };
}
