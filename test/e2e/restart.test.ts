/**
 * Durability: a delivery acknowledged with a 2xx survives a SIGKILL of the server right after the answer, and is
 * processed by the next process on the same database (of the pass's backend: test-backend.ts). Also: SIGTERM shuts down gracefully (exit code 0).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { deflectEnv, postWebhook, REPO_ROOT, waitFor } from '../support/deflect-under-test.js';
import { spawnDeflect } from '../support/deflect-process.js';
import { freshDatabase, type TestDatabase } from '../support/test-backend.js';

describe('restart after SIGKILL', () => {
  let jira: FakeJira;
  let database: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    jira = await startFakeJira();
    jira.seedIssue({ key: 'PLAT-105' });
    database = await freshDatabase();
    // A short lease: the killed process's run is taken over once its lease expires (DEFLECT_RUN_LEASE_MS).
    env = deflectEnv(database, jira, { DEFLECT_RUN_LEASE_MS: '2000' });
  });
  afterAll(async () => jira?.close());

  it('processes a delivery acknowledged just before the process was killed', async () => {
    // Jira stalls, so the first process cannot finish the run before it dies.
    jira.setFault(() => ({ delayMs: 60_000 }));
    const first = await spawnDeflect(env);
    // Refreshed timestamp: the stored example is older than DEFLECT_MAX_EVENT_AGE.
    const body = { ...JSON.parse(readFileSync(join(REPO_ROOT, 'examples/payloads/06-ci-token-reset.json'), 'utf8')), timestamp: Date.now() };
    const answer = await postWebhook(first.url, body, { identifier: 'kill-test-1' });
    expect(answer.status).toBe(200);
    const killed = await first.kill('SIGKILL');
    expect(killed.signal).toBe('SIGKILL');

    // The acknowledged delivery is stored (committed before the answer).
    const stored = await database.get<{ n: number }>("SELECT count(*) AS n FROM deliveries WHERE webhook_identifier = 'kill-test-1'");
    expect(stored!.n).toBe(1);

    jira.setFault(undefined);
    const second = await spawnDeflect(env);
    try {
      await waitFor('the comment from the restarted process', () => jira.commentsFor('PLAT-105').length > 0, 20_000);
      const run = await waitFor('the run to succeed', () =>
        database.get("SELECT status, handler FROM runs WHERE ticket_key = 'PLAT-105' AND status = 'succeeded'"),
      ).catch(async (error) => {
        console.log(await database.all('SELECT * FROM runs'), await database.all('SELECT * FROM actions'), second.output.join('\n'));
        throw error;
      });
      expect(run).toMatchObject({ handler: 'reset-ci-token' });
      expect(jira.commentsFor('PLAT-105').length).toBeGreaterThanOrEqual(1);
    } finally {
      const stopped = await second.kill('SIGTERM');
      expect(stopped.code).toBe(0);
    }
  });
});
