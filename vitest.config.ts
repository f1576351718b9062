import { defineConfig } from 'vitest/config';

// DEFLECT_TEST_BACKEND=postgres is the suite's PostgreSQL pass (test/support/test-backend.ts). These files choose
// their backends themselves (each case on both stores, or PostgreSQL named outright: the copy, the parity check, the
// replicas), so they run in the first pass only.
const onPostgres = process.env.DEFLECT_TEST_BACKEND === 'postgres';
const BOTH_BACKENDS_ALREADY = ['test/db/store/**', 'test/db/store-transactions.test.ts', 'test/db/postgres-*.test.ts', 'test/reliability/postgres-*.test.ts'];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...(onPostgres ? BOTH_BACKENDS_ALREADY : [])],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/file-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
