/**
 * The suite's PostgreSQL pass (`npm test` runs it after the SQLite pass; issue 14): `vitest run` again with
 * `DEFLECT_TEST_BACKEND=postgres`, so every test that stores anything runs on a real PostgreSQL
 * (test/support/test-backend.ts). On a machine where PostgreSQL cannot run (no `DEFLECT_TEST_DATABASE_URL` and no
 * server binaries) it prints why and exits 0: the SQLite pass has run, and `.ci/run` always provides PostgreSQL.
 * Extra arguments go to vitest (`npm run test:postgres -- test/e2e`).
 */
import { spawnSync } from 'node:child_process';
import { postgresUnavailable } from '../test/support/postgres.js';

const reason = postgresUnavailable();
if (reason) {
  console.log(`PostgreSQL pass skipped: ${reason}. Install PostgreSQL (Debian: apt-get install postgresql) to run it.`);
  process.exit(0);
}
console.log('PostgreSQL pass: the suite again with DEFLECT_TEST_BACKEND=postgres');
const result = spawnSync('npx', ['vitest', 'run', ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, DEFLECT_TEST_BACKEND: 'postgres' } });
process.exit(result.status ?? 1);
