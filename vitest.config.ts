import { defineConfig } from 'vitest/config';

// DEFLECT_TEST_BACKEND=postgres is the suite's PostgreSQL pass (test/support/test-backend.ts). test/db/store/ already
// runs each case on both backends in the SQLite pass, so the PostgreSQL pass leaves it out.
const onPostgres = process.env.DEFLECT_TEST_BACKEND === 'postgres';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: onPostgres ? ['**/node_modules/**', 'test/db/store/**'] : ['**/node_modules/**'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/file-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
