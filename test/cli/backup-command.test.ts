/**
 * `deflect backup`: an online copy of the database while the real server (`deflect serve` as a child process, SQLite
 * file on disk) keeps acknowledging signed deliveries. The copy must hold every delivery acknowledged before the
 * backup started, pass `PRAGMA integrity_check`, be one self-contained file (no -wal/-shm), and open as a deflect
 * database; an existing target is never overwritten, a missing database or bad usage fail with their exit codes.
 * SQLite only: it copies the SQLite file. On the PostgreSQL pass, `deflect backup` refuses with a message pointing at
 * PostgreSQL's own backups and writes nothing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnDeflect, type DeflectProcess } from '../support/deflect-process.js';
import { freshDir, postWebhook } from '../support/deflect-under-test.js';
import { freshDatabase, onPostgres } from '../support/test-backend.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { accessRequestEvent, deflectEnv, runCli } from '../reliability/helpers.js';

// SQLite only: `deflect backup` copies the SQLite file (its pages, -wal/-shm, PRAGMA integrity_check).
describe.skipIf(onPostgres)('deflect backup', () => {
  const dir = freshDir('deflect-backup-');
  const dbPath = join(dir, 'deflect.db');
  let jira: FakeJira;
  let server: DeflectProcess;

  beforeAll(async () => {
    jira = await startFakeJira();
    server = await spawnDeflect(deflectEnv(dbPath, jira, { DEFLECT_DRY_RUN: 'true' }), 60_000);
  }, 90_000);
  afterAll(async () => {
    await server?.kill('SIGTERM');
    await jira?.close();
  });

  it('copies a database the server keeps writing: every delivery acknowledged before the backup is in the copy', { timeout: 120_000 }, async () => {
    let sent = 0;
    const acked: number[] = [];
    let stop = false;
    const sender = async () => {
      while (!stop && sent < 2_000) {
        const i = ++sent;
        const answer = await postWebhook(server.url, accessRequestEvent(`BAK-${i}`, String(70_000 + i)), { identifier: `backup-${i}` });
        expect(answer.status).toBe(200);
        acked.push(i);
      }
    };
    const load = Promise.all([sender(), sender(), sender()]);
    while (acked.length < 100) await new Promise((r) => setTimeout(r, 20));
    const ackedBefore = acked.length;

    const target = join(dir, 'copy.db');
    const result = await runCli(['backup', target, '--format', 'json'], { DEFLECT_DB: dbPath });
    const ackedAfter = acked.length;
    stop = true;
    await load;

    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { target: string; bytes: number; integrity: string; chain: { state: string } };
    expect(report.integrity).toBe('ok');
    expect(report.bytes).toBeGreaterThan(0);
    expect(['intact', 'empty']).toContain(report.chain.state);
    expect(existsSync(`${target}-wal`) || existsSync(`${target}-shm`) || existsSync(`${target}.partial`)).toBe(false);

    const copy = new Database(target, { readonly: true });
    try {
      expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      const keys = new Set((copy.prepare('SELECT issue_key AS k FROM deliveries').all() as Array<{ k: string }>).map((r) => r.k));
      // Acknowledged before the backup started ⇒ committed before it ⇒ in the copy.
      for (const i of acked.slice(0, ackedBefore)) expect(keys.has(`BAK-${i}`), `BAK-${i}`).toBe(true);
      // And nothing the server had not acknowledged by the time the backup finished, beyond the requests in flight.
      expect(keys.size).toBeLessThanOrEqual(ackedAfter + 3);
      const migrations = (copy.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number }).n;
      expect(migrations).toBeGreaterThan(0);
    } finally {
      copy.close();
    }
    // The copy serves as a deflect database: a read-only command opens it.
    const audit = await runCli(['audit', '--format', 'json', '--limit', '1'], { DEFLECT_DB: target });
    expect(audit.code, audit.stderr).toBe(0);
  });

  it('never overwrites: an existing target fails with exit 1 and stays as it was', { timeout: 60_000 }, async () => {
    const target = join(dir, 'copy.db');
    const before = new Database(target, { readonly: true });
    const rows = (before.prepare('SELECT count(*) AS n FROM deliveries').get() as { n: number }).n;
    before.close();
    const again = await runCli(['backup', target], { DEFLECT_DB: dbPath });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('exists: a backup never overwrites a file');
    const after = new Database(target, { readonly: true });
    expect((after.prepare('SELECT count(*) AS n FROM deliveries').get() as { n: number }).n).toBe(rows);
    after.close();
  });

  it('a missing database exits 1 naming DEFLECT_DB; a bad --format exits 2', { timeout: 60_000 }, async () => {
    const missing = await runCli(['backup', join(dir, 'x.db')], { DEFLECT_DB: join(dir, 'nope.db') });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('DEFLECT_DB');
    expect(existsSync(join(dir, 'nope.db'))).toBe(false);
    const bad = await runCli(['backup', join(dir, 'y.db'), '--format', 'xml'], { DEFLECT_DB: dbPath });
    expect(bad.code).toBe(2);
  });
});

describe.runIf(onPostgres)('deflect backup on PostgreSQL', () => {
  it('refuses with exit 1, pointing at PostgreSQL\'s own backups, and writes no file', { timeout: 60_000 }, async () => {
    const database = await freshDatabase('deflect-backup-pg-');
    await (await database.open()).close(); // a migrated database: the refusal is about the backend, not a missing one
    const target = join(freshDir('deflect-backup-pg-target-'), 'copy.db');
    const result = await runCli(['backup', target, '--format', 'json'], database.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('deflect backup copies the SQLite file; on PostgreSQL use its own backups (pg_dump, point-in-time recovery');
    expect(result.stdout).toBe('');
    expect(existsSync(target) || existsSync(`${target}.partial`)).toBe(false);
  });
});
