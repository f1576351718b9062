/**
 * The Store on PostgreSQL (`DATABASE_URL`, decision 018): the repository modules of `repositories/`, each the twin
 * of the SQLite module of the same name, over one pool and the ambient transactions of `pg-session.ts`.
 */
import { postgresMigrationStatus, type PostgresDatabase } from './client.js';
import { createPgSession } from './pg-session.js';
import { postgresRunJobs } from './run-job-runner.js';
import { NotOnPostgresError } from './repositories/not-yet.js';
import { actions } from './repositories/actions.js';
import { apiTokens } from './repositories/api-tokens.js';
import { approvals } from './repositories/approvals.js';
import { auditChain } from './repositories/audit-chain.js';
import { auditRetention } from './repositories/audit-retention.js';
import { authSessions } from './repositories/auth-sessions.js';
import { deliveries } from './repositories/deliveries.js';
import { handlerModes } from './repositories/handler-modes.js';
import { handlerStates } from './repositories/handler-states.js';
import { healthProbe } from './repositories/health-probe.js';
import { impactQueries } from './repositories/impact-queries.js';
import { importCheckpoints } from './repositories/import-checkpoints.js';
import { reportQueries } from './repositories/report-queries.js';
import { reportScan } from './repositories/report-scan.js';
import { retention } from './repositories/retention.js';
import { runSearch } from './repositories/run-search.js';
import { runVerifications } from './repositories/run-verifications.js';
import { runs } from './repositories/runs.js';
import { scratchRuns } from './repositories/scratch-runs.js';
import { slackRequests } from './repositories/slack-requests.js';
import { textGroups } from './repositories/text-groups.js';
import { tickets } from './repositories/tickets.js';
import type { Repositories, Store, StoreCore } from '../store.js';

const MODULES: { [M in keyof Repositories]: (pg: import('./pg-session.js').PgSession) => Repositories[M] } = {
  actions, apiTokens, approvals, auditChain, auditRetention, authSessions, deliveries, handlerModes, handlerStates,
  healthProbe, impactQueries, importCheckpoints, reportQueries, reportScan, retention, runSearch, runVerifications, runs,
  scratchRuns, slackRequests, textGroups, tickets,
};

/**
 * A Store over `database` (opened by `openPostgres`, migrated by `migratePostgres`). `close()` ends the pool.
 * A repository function not yet written for PostgreSQL rejects with {@link NotOnPostgresError}.
 */
export function postgresStore(database: PostgresDatabase): Store {
  const host = createPgSession(database.pool);
  let closed: Promise<void> | null = null;
  const core: StoreCore = {
    backend: 'postgres',
    sqlite: null,
    runJobs: postgresRunJobs(database.pool, host.session),
    transaction: (work) => host.transaction(work, 'write'),
    snapshot: (work) => host.transaction(work, 'read'),
    migrationStatus: () => postgresMigrationStatus(database.pool),
    close: () => (closed ??= database.close()),
  };
  const functions: Record<string, unknown> = {};
  for (const make of Object.values(MODULES)) Object.assign(functions, make(host.session));
  const store = Object.assign(functions, core);
  return new Proxy(store, {
    get(target, name, receiver) {
      if (typeof name !== 'string' || name in target || name === 'then' || name === 'toJSON') return Reflect.get(target, name, receiver);
      return () => Promise.reject(new NotOnPostgresError(name));
    },
  }) as unknown as Store;
}
