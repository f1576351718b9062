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
];

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
