/**
 * Audit retention (decision 011) on a real database of the pass's backend (a SQLite file or a PostgreSQL database:
 * test-backend.ts): `DEFLECT_AUDIT_RETENTION` prunes finished runs older than the
 * window with their actions, approvals and rule settings, archives them first to a valid JSONL file in
 * `DEFLECT_AUDIT_ARCHIVE_DIR`, writes a checkpoint, and `audit verify` still passes (and still catches tampering after
 * the checkpoint); the archive re-verifies against its checkpoint and fails when edited. Runs not finished are kept.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { pruneAuditRecords } from '../../src/audit/audit-retention.js';
import { verifyAuditArchive } from '../../src/audit/verify-archive.js';
import { verifyAuditChain } from '../../src/audit/verify-chain.js';
import { loadConfig } from '../../src/config.js';
import type { Store } from '../../src/db/store.js';
import { DeliveryPruner } from '../../src/worker/prune-deliveries.js';
import { runCli } from '../reliability/helpers.js';
import { seedAuditRunIn } from '../support/conv-a-audit-seed.js';
import { freshDatabase, onPostgres, type TestDatabase } from '../support/test-backend.js';

const DAY = 86_400_000;
const NOW = Date.now();
const RETENTION = 400 * DAY;

/** Old finished runs, an old run still queued (with a sealed action), an old finished run after it, and a recent one. */
async function seed(store: Store) {
  return {
    old1: await seedAuditRunIn(store, 'OLD-1', NOW - 600 * DAY, { actions: 2 }),
    old2: await seedAuditRunIn(store, 'OLD-2', NOW - 500 * DAY, { actions: 1, status: 'dead' }),
    waiting: await seedAuditRunIn(store, 'OLD-3', NOW - 450 * DAY, { actions: 1, status: null }),
    old4: await seedAuditRunIn(store, 'OLD-4', NOW - 420 * DAY, { actions: 1 }),
    recent: await seedAuditRunIn(store, 'NEW-1', NOW - 10 * DAY, { actions: 1 }),
  };
}
const ids = async (database: TestDatabase, sql: string) => (await database.all<{ id: number }>(sql)).map((r) => r.id);

/** A seeded database pruned with RETENTION into an archive folder next to it; the store is closed. */
async function prunedIntoArchive() {
  const database = await freshDatabase('deflect-audit-retention-');
  const dir = dirname(database.dbPath);
  const archiveDir = join(dir, 'archive');
  const store = await database.open();
  const runs = await seed(store);
  const old1Actions = await ids(database, `SELECT id FROM actions WHERE run_id = ${runs.old1} ORDER BY id`);
  const result = await pruneAuditRecords(store, { retentionMs: RETENTION, archiveDir, now: NOW });
  return { database, dir, archiveDir, store, runs, old1Actions, result };
}

describe('audit retention', () => {
  it('prunes finished runs past the window behind a checkpoint, archives them, and still verifies', async () => {
    const { database, dir, archiveDir, store, runs, old1Actions, result } = await prunedIntoArchive();
    // The stretch stops at the queued run's sealed action: OLD-4 (behind it) waits, OLD-3 and NEW-1 stay.
    expect(result).toMatchObject({ runs: 2, actions: 3, checkpoints: 1 });
    expect(await ids(database, 'SELECT id FROM runs ORDER BY id')).toEqual([runs.waiting, runs.old4, runs.recent]);
    expect(await ids(database, `SELECT run_id AS id FROM approvals ORDER BY run_id`)).toEqual([runs.waiting, runs.old4, runs.recent]);
    expect(await ids(database, `SELECT run_id AS id FROM run_rule_settings ORDER BY run_id`)).toEqual([runs.waiting, runs.old4, runs.recent]);
    const report = await verifyAuditChain(store);
    expect(report).toMatchObject({ state: 'intact', checkpoints: 1, firstBad: null });

    // The archive: one valid JSONL file named by the date range, holding the pruned runs with their actions.
    const files = readdirSync(archiveDir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^deflect-audit-\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}-checkpoint-1\.jsonl$/);
    expect(result.archives).toEqual([join(archiveDir, files[0])]);
    const lines = readFileSync(join(archiveDir, files[0]), 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines[0]).toMatchObject({ type: 'checkpoint', checkpoint: { id: 1, runs: 2, actions: 3, archive: files[0] } });
    const archivedRuns = lines.filter((l) => l.type === 'run');
    expect(archivedRuns.map((l) => l.run.id)).toEqual([runs.old1, runs.old2]);
    expect(archivedRuns[0].actions.map((a: { id: number }) => a.id)).toEqual(old1Actions);
    expect(archivedRuns[0].approvals).toHaveLength(1);
    expect(archivedRuns[0].ruleSettings).toMatchObject({ rule_name: 'seeded' });
    expect(lines.filter((l) => l.type === 'entry').length).toBe(lines[0].checkpoint.entries);

    // The archive re-verifies against its checkpoint, alone and against the database.
    expect(await verifyAuditArchive(join(archiveDir, files[0]))).toMatchObject({ state: 'intact', runs: 2, actions: 3 });
    expect(await verifyAuditArchive(join(archiveDir, files[0]), store)).toMatchObject({ state: 'intact' });
    await store.close();

    const cli = await runCli(['audit', 'verify'], database.env);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/^chain intact: 2 runs, 3 actions, 1 checkpoint /m); // OLD-3 is not finished: not sealed
    // Copied to a machine without the database: checked on its own, and said so.
    const alone = await runCli(['audit', 'verify', '--archive', join(archiveDir, files[0])], { DEFLECT_DB: join(dir, 'elsewhere.db') });
    expect(alone.code).toBe(0);
    expect(alone.stderr).toContain('is not compared with the database');

    // An edited archive fails, naming the row.
    const edited = join(archiveDir, 'edited.jsonl');
    writeFileSync(edited, readFileSync(join(archiveDir, files[0]), 'utf8').replace('"summary":"done OLD-2"', '"summary":"done nothing"'));
    const tampered = await runCli(['audit', 'verify', '--archive', edited], database.env);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(new RegExp(`^runs ${runs.old2}: changed \\(recorded hash`));
  });

  it('deflect audit verify --archive compares the archive with the database it was pruned from', async () => {
    const { database, archiveDir, store } = await prunedIntoArchive();
    await store.close();
    const [file] = readdirSync(archiveDir);
    const archiveCli = await runCli(['audit', 'verify', '--archive', join(archiveDir, file)], database.env);
    expect(archiveCli.code).toBe(0);
    expect(archiveCli.stdout).toMatch(/^chain intact: 2 runs, 3 actions, 1 checkpoint /m);
    expect(archiveCli.stderr).not.toContain('is not compared with the database');
  });

  it('keeps verifying tampering after a checkpoint, and a forged checkpoint fails', async () => {
    const database = await freshDatabase('deflect-audit-retention-');
    const store = await database.open();
    const runs = await seed(store);
    await pruneAuditRecords(store, { retentionMs: RETENTION, archiveDir: null, now: NOW });
    // Edited behind deflect's back, on the test's own connection.
    await database.run("UPDATE runs SET summary = 'edited' WHERE id = ?", runs.recent);
    expect(await verifyAuditChain(store)).toMatchObject({ state: 'broken', firstBad: { table: 'runs', id: String(runs.recent) } });
    await database.run("UPDATE runs SET summary = 'done NEW-1' WHERE id = ?", runs.recent);
    expect((await verifyAuditChain(store)).state).toBe('intact');
    await database.run('UPDATE audit_checkpoints SET runs = 1');
    expect((await verifyAuditChain(store)).firstBad?.problem).toMatch(/^changed: checkpoint #1/);
  });

  it('never prunes unfinished runs; batch by batch; once they end, a later prune reaches past them', async () => {
    const database = await freshDatabase('deflect-audit-retention-');
    const store = await database.open();
    const runs = await seed(store);
    // Batches of 3 entries: OLD-1 (3 entries) and OLD-2 (2) go in one checkpoint each.
    const first = await pruneAuditRecords(store, { retentionMs: RETENTION, archiveDir: null, now: NOW, batchSize: 3 });
    expect(first).toMatchObject({ runs: 2, checkpoints: 2 });
    // Nothing more while OLD-3 waits.
    expect(await pruneAuditRecords(store, { retentionMs: RETENTION, archiveDir: null, now: NOW })).toMatchObject({ runs: 0, checkpoints: 0 });
    expect(await ids(database, 'SELECT id FROM runs ORDER BY id')).toContain(runs.waiting);
    // With a 1-day window everything goes once OLD-3 has ended: its run entry is the newest, so the batch widens to
    // take it with the action it sealed first.
    await store.finishRun(runs.waiting, { status: 'succeeded', durationMs: 1 }, NOW - 2 * DAY);
    const second = await pruneAuditRecords(store, { retentionMs: DAY, archiveDir: null, now: NOW, batchSize: 3 });
    expect(second).toMatchObject({ runs: 3, checkpoints: 1 });
    expect(await ids(database, 'SELECT id FROM runs')).toEqual([]);
    expect(await verifyAuditChain(store)).toMatchObject({ state: 'intact', runs: 0, checkpoints: 3 });
  });

  it('runs in serve’s prune, configured by DEFLECT_AUDIT_RETENTION and DEFLECT_AUDIT_ARCHIVE_DIR', async () => {
    const base = { DEFLECT_DB: ':memory:' };
    expect(loadConfig(base)).toMatchObject({ auditRetentionMs: null, auditArchiveDir: null });
    expect(loadConfig({ ...base, DEFLECT_AUDIT_RETENTION: '400d', DEFLECT_AUDIT_ARCHIVE_DIR: '/var/lib/deflect/audit' })).toMatchObject({
      auditRetentionMs: RETENTION,
      auditArchiveDir: '/var/lib/deflect/audit',
    });
    expect(loadConfig({ ...base, DEFLECT_AUDIT_RETENTION: 'off' }).auditRetentionMs).toBeNull();
    expect(() => loadConfig({ ...base, DEFLECT_AUDIT_RETENTION: 'a year' })).toThrow(/DEFLECT_AUDIT_RETENTION: invalid DEFLECT_AUDIT_RETENTION "a year"/);

    const database = await freshDatabase('deflect-audit-retention-');
    const dir = dirname(database.dbPath);
    const store = await database.open();
    await seed(store);
    const pruner = new DeliveryPruner({ db: store, logger: pino({ level: 'silent' }), retentionMs: null, auditRetentionMs: RETENTION, auditArchiveDir: join(dir, 'archive') });
    const { deliveries, audit } = await pruner.pruneOnce();
    expect(deliveries).toBeNull();
    expect(audit).toMatchObject({ runs: 2, checkpoints: 1 });
    expect(readdirSync(join(dir, 'archive'))).toHaveLength(1);
    expect((await verifyAuditChain(store)).state).toBe('intact');
  });
});
