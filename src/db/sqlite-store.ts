/**
 * The Store on the embedded SQLite database (the default; `DEFLECT_DB`): the synchronous better-sqlite3 repository
 * functions of this folder, bound to one connection and returning Promises (decision 018, step 1).
 *
 * A call runs at once, in the caller's turn (the result is wrapped in a resolved Promise), so the SQLite behaviour is
 * what it was before the Store: one connection, statements in call order, no thread hops.
 *
 * Transactions: {@link StoreCore.transaction} opens `BEGIN IMMEDIATE` on the connection and runs `work` with an
 * AsyncLocalStorage context marking it; while it is open, a call from outside that context (another request being
 * served at the same time) waits until it has committed or rolled back, so it can neither read uncommitted rows nor
 * write into somebody else's transaction. Calls inside it run at once; a nested transaction is a `SAVEPOINT`. The
 * repository functions' own `db.transaction(…)` blocks nest as savepoints too (better-sqlite3 checks
 * `inTransaction`). See https://www.sqlite.org/lang_transaction.html and https://www.sqlite.org/lang_savepoint.html.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import * as actions from './actions.js';
import * as apiTokens from './api-tokens.js';
import * as approvals from './approvals.js';
import * as auditChain from './audit-chain.js';
import * as auditRetention from './audit-retention.js';
import * as authSessions from './auth-sessions.js';
import { migrationStatus, type Db } from './client.js';
import * as deliveries from './deliveries.js';
import * as handlerModes from './handler-modes.js';
import * as handlerStates from './handler-states.js';
import * as healthProbe from './health-probe.js';
import * as impactQueries from './impact-queries.js';
import * as importCheckpoints from './import-checkpoints.js';
import * as reportQueries from './report-queries.js';
import * as reportScan from './report-scan.js';
import * as retention from './retention.js';
import * as runSearch from './run-search.js';
import * as runVerifications from './run-verifications.js';
import * as runs from './runs.js';
import * as scratchRuns from './scratch-runs.js';
import * as slackRequests from './slack-requests.js';
import * as textGroups from './text-groups.js';
import * as tickets from './tickets.js';
import type { Repositories, Store, StoreCore } from './store.js';

/** The SQL modules, by the Store's module names. */
const MODULES: { [M in keyof Repositories]: Record<string, unknown> } = {
  actions, apiTokens, approvals, auditChain, auditRetention, authSessions, deliveries, handlerModes, handlerStates,
  healthProbe, impactQueries, importCheckpoints, reportQueries, reportScan, retention, runSearch, runVerifications, runs,
  scratchRuns, slackRequests, textGroups, tickets,
};

/** Exported functions that do not take `db` first (pure helpers) or are not the Store's (see `Internal` in store.ts). */
const NOT_BOUND = new Set([
  'writeAudited', 'recordAuditState', 'sealRowsAtUpgrade', 'inWriteTransaction',
  'ticketRowId', 'siteHostOf', 'isOlder', 'decodeScopeRows', 'prunableStretch', 'prunedRunIds', 'ticketGroupOf', 'inWindow', 'compareMemberKeys', 'escapeLike', 'bodySha256', 'runTrackerSql',
]);

interface OpenTransaction {
  /** Resolves when the transaction has committed or rolled back. */
  ended: Promise<void>;
  savepoints: number;
}

/** One level of the open transaction in an async context; sibling savepoints run one after the other (see pg-session.ts). */
interface Frame {
  tx: OpenTransaction;
  children: Promise<unknown>;
}

const stores = new WeakMap<Db, Store>();

/**
 * The Store over `db` (opened by `openDatabase`). One per connection: asking again for the same `db` gives the same
 * Store, so every caller shares its transaction gate. `close()` closes `db`.
 */
export function sqliteStore(db: Db): Store {
  let store = stores.get(db);
  if (!store) stores.set(db, (store = bindStore(db)));
  return store;
}

function bindStore(db: Db): Store {
  const context = new AsyncLocalStorage<Frame>();
  let open: OpenTransaction | null = null;
  let closed = false;

  const insideOpen = () => open !== null && context.getStore()?.tx === open;

  /** Runs `call` now, or once the transaction another context holds has ended. */
  const run = <R>(call: () => R): Promise<R> => {
    if (open !== null && !insideOpen()) return open.ended.then(() => run(call));
    try {
      return Promise.resolve(call());
    } catch (error) {
      return Promise.reject(error);
    }
  };

  const begin = async <T>(statement: 'BEGIN IMMEDIATE' | 'BEGIN', work: () => Promise<T>): Promise<T> => {
    if (insideOpen()) {
      const frame = context.getStore()!;
      const nested = frame.children.then(() => savepoint(frame.tx, work));
      frame.children = nested.catch(() => {});
      return nested;
    }
    while (open !== null) await open.ended;
    let end!: () => void;
    const tx: OpenTransaction = { ended: new Promise<void>((resolve) => (end = resolve)), savepoints: 0 };
    open = tx;
    try {
      db.$client.exec(statement);
      const result = await context.run({ tx, children: Promise.resolve() }, work);
      db.$client.exec('COMMIT');
      return result;
    } catch (error) {
      if (db.$client.inTransaction) db.$client.exec('ROLLBACK');
      throw error;
    } finally {
      open = null;
      end();
    }
  };

  const savepoint = async <T>(tx: OpenTransaction, work: () => Promise<T>): Promise<T> => {
    const name = `deflect_sp${++tx.savepoints}`;
    db.$client.exec(`SAVEPOINT ${name}`);
    try {
      const result = await context.run({ tx, children: Promise.resolve() }, work);
      db.$client.exec(`RELEASE ${name}`);
      return result;
    } catch (error) {
      if (db.$client.inTransaction) db.$client.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
      throw error;
    }
  };

  const core: StoreCore = {
    backend: 'sqlite',
    sqlite: db,
    runJobs: null,
    transaction: (work) => begin('BEGIN IMMEDIATE', work),
    // A read-only connection cannot BEGIN IMMEDIATE; a deferred BEGIN takes its snapshot at the first read.
    snapshot: (work) => begin('BEGIN', work),
    migrationStatus: () => run(() => migrationStatus(db)),
    async close() {
      if (closed) return;
      while (open !== null) await open.ended;
      closed = true;
      db.$client.close();
    },
  };

  const bound: Record<string, unknown> = {};
  for (const module of Object.values(MODULES)) {
    for (const [name, value] of Object.entries(module)) {
      if (typeof value !== 'function' || NOT_BOUND.has(name) || /^[A-Z]/.test(name)) continue;
      const fn = value as (db: Db, ...args: unknown[]) => unknown;
      bound[name] = (...args: unknown[]) => run(() => fn(db, ...args));
    }
  }
  return Object.assign(bound, core) as unknown as Store;
}
