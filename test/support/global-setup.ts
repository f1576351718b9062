/**
 * vitest `globalSetup`: on the PostgreSQL pass (`DEFLECT_TEST_BACKEND=postgres`) without `DEFLECT_TEST_DATABASE_URL`,
 * starts one throwaway cluster for the whole run (test/support/postgres.ts) and hands its URL to the test files
 * through that variable, so each file creates its databases there instead of starting a cluster of its own. CI sets
 * the variable itself (`.ci/run`). Stopped and deleted when the run ends.
 */
import { postgresUnavailable, startCluster } from './postgres.js';

export default async function setup(): Promise<(() => Promise<void>) | void> {
  if (process.env.DEFLECT_TEST_BACKEND !== 'postgres' || process.env.DEFLECT_TEST_DATABASE_URL) return;
  const reason = postgresUnavailable();
  if (reason) throw new Error(`DEFLECT_TEST_BACKEND=postgres, but PostgreSQL cannot run here: ${reason}`);
  const cluster = await startCluster(false);
  process.env.DEFLECT_TEST_DATABASE_URL = cluster.adminUrl;
  console.log('PostgreSQL pass: a throwaway cluster for this run on', new URL(cluster.adminUrl).host);
  return () => cluster.stop();
}
