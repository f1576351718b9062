import { defineConfig } from 'vitest/config';

// DEFLECT_TEST_BACKEND=postgres is the suite's PostgreSQL pass (test/support/test-backend.ts). These files run in the
// first pass only: they choose their backends themselves (each case on both stores, or PostgreSQL named outright: the
// copy, the parity check, the replicas), or, for the handler walkthrough, check the docs by re-running in a child
// suites that both passes run anyway.
const onPostgres = process.env.DEFLECT_TEST_BACKEND === 'postgres';
const FIRST_PASS_ONLY = [
  'test/db/store/**',
  'test/db/store-transactions.test.ts',
  'test/db/postgres-*.test.ts',
  'test/reliability/postgres-*.test.ts',
  'test/handlers/add-handler-walkthrough.test.ts',
  'test/reliability/disk-full.test.ts', // a full volume under the SQLite file
  ...NOT_YET_ON_POSTGRES(),
];

/**
 * Files not yet converted to test-backend.ts (issue 14): they still open a SQLite file or read the server's SQLite
 * connection, so on the PostgreSQL pass they would test SQLite again or fail. They run in the first pass only until
 * converted; the list only shrinks.
 */
function NOT_YET_ON_POSTGRES(): string[] {
  const files = {
    reliability: ['fault', 'fuzz', 'crash', 'health', 'operations', 'retention'],
    reports: ['audit-page', 'impact-page', 'impact-report', 'kill-switch-page', 'report-page', 'request-types-storage', 'top-tickets-report', 'tracker-report-page', 'tracker-report'],
    routes: ['audit-api', 'audit-chain-route', 'openapi-page', 'openapi', 'operator-routes', 'report-keys'],
    trackers: ['linear-pipeline', 'linear-webhooks', 'replay-examples', 'trello-pipeline', 'trello-webhooks'],
    worker: ['reconcile-schedule', 'recorded-actions', 'run-leases', 'run-ticket-snapshot', 'worker-reliability'],
  };
  return Object.entries(files).flatMap(([dir, names]) => names.map((name) => `test/${dir}/${name}.test.ts`));
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...(onPostgres ? FIRST_PASS_ONLY : [])],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/file-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
