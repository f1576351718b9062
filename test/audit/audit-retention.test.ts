/**
 * Audit retention (decision 011) on real SQLite files: `DEFLECT_AUDIT_RETENTION` prunes finished runs older than the
 * window with their actions, approvals and rule settings, archives them first to a valid JSONL file in
 * `DEFLECT_AUDIT_ARCHIVE_DIR`, writes a checkpoint, and `audit verify` still passes (and still catches tampering after
 * the checkpoint); the archive re-verifies against its checkpoint and fails when edited. Runs not finished are kept.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { pruneAuditRecords } from '../../src/audit/audit-retention.js';
import { verifyAuditArchive } from '../../src/audit/verify-archive.js';
import { verifyAuditChain } from '../../src/audit/verify-chain.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Db } from '../../src/db/client.js';
import { finishRun } from '../../src/db/runs.js';
import { DeliveryPruner } from '../../src/worker/prune-deliveries.js';
import { freshDir } from '../support/deflect-under-test.js';
import { runCli } from '../reliability/helpers.js';
import { seedAuditRun } from './seed-audit-runs.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';

const DAY = 86_400_000;
const NOW = Date.now();
const RETENTION = 400 * DAY;

/** Old finished runs, an old run still queued (with a sealed action), an old finished run after it, and a recent one. */
function seed(db: Db) {
  return {
    old1: seedAuditRun(db, 'OLD-1', NOW - 600 * DAY, { actions: 2 }),
    old2: seedAuditRun(db, 'OLD-2', NOW - 500 * DAY, { actions: 1, status: 'dead' }),
    waiting: seedAuditRun(db, 'OLD-3', NOW - 450 * DAY, { actions: 1, status: null }),
    old4: seedAuditRun(db, 'OLD-4', NOW - 420 * DAY, { actions: 1 }),
    recent: seedAuditRun(db, 'NEW-1', NOW - 10 * DAY, { actions: 1 }),
  };
}
const ids = (db: Db, sql: string) => (db.$client.prepare(sql).all() as Array<{ id: number }>).map((r) => r.id);

describe('audit retention', () => {
  it('prunes finished runs past the window behind a checkpoint, archives them, and still verifies', async () => {
    const dir = freshDir('deflect-audit-retention-');
    const dbPath = join(dir, 'audit.db');
    const archiveDir = join(dir, 'archive');
    const db = openDatabase(dbPath);
    const runs = seed(db);
    const old1Actions = ids(db, `SELECT id FROM actions WHERE run_id = ${runs.old1} ORDER BY id`);

    const result = await pruneAuditRecords(sqliteStore(db), { retentionMs: RETENTION, archiveDir, now: NOW });
    // The stretch stops at the queued run's sealed action: OLD-4 (behind it) waits, OLD-3 and NEW-1 stay.
    expect(result).toMatchObject({ runs: 2, actions: 3, checkpoints: 1 });
    expect(ids(db, 'SELECT id FROM runs ORDER BY id')).toEqual([runs.waiting, runs.old4, runs.recent]);
    expect(ids(db, `SELECT run_id AS id FROM approvals ORDER BY run_id`)).toEqual([runs.waiting, runs.old4, runs.recent]);
    expect(ids(db, `SELECT run_id AS id FROM run_rule_settings ORDER BY run_id`)).toEqual([runs.waiting, runs.old4, runs.recent]);
    const report = await verifyAuditChain(sqliteStore(db));
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
    expect(await verifyAuditArchive(join(archiveDir, files[0]), sqliteStore(db))).toMatchObject({ state: 'intact' });
    db.$client.close();

    const cli = await runCli(['audit', 'verify'], { DEFLECT_DB: dbPath });
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/^chain intact: 2 runs, 3 actions, 1 checkpoint /m); // OLD-3 is not finished: not sealed
    const archiveCli = await runCli(['audit', 'verify', '--archive', join(archiveDir, files[0])], { DEFLECT_DB: dbPath });
    expect(archiveCli.code).toBe(0);
    expect(archiveCli.stdout).toMatch(/^chain intact: 2 runs, 3 actions, 1 checkpoint /m);
    // Copied to a machine without the database: checked on its own, and said so.
    const alone = await runCli(['audit', 'verify', '--archive', join(archiveDir, files[0])], { DEFLECT_DB: join(dir, 'elsewhere.db') });
    expect(alone.code).toBe(0);
    expect(alone.stderr).toContain('is not compared with the database');

    // An edited archive fails, naming the row.
    const edited = join(archiveDir, 'edited.jsonl');
    writeFileSync(edited, readFileSync(join(archiveDir, files[0]), 'utf8').replace('"summary":"done OLD-2"', '"summary":"done nothing"'));
    const tampered = await runCli(['audit', 'verify', '--archive', edited], { DEFLECT_DB: dbPath });
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(new RegExp(`^runs ${runs.old2}: changed \\(recorded hash`));
  });

  it('keeps verifying tampering after a checkpoint, and a forged checkpoint fails', async () => {
    const dir = freshDir('deflect-audit-retention-');
    const dbPath = join(dir, 'audit.db');
    const db = openDatabase(dbPath);
    const runs = seed(db);
    await pruneAuditRecords(sqliteStore(db), { retentionMs: RETENTION, archiveDir: null, now: NOW });
    db.$client.close();
    const raw = new Database(dbPath);
    raw.prepare("UPDATE runs SET summary = 'edited' WHERE id = ?").run(runs.recent);
    const readonly = openDatabase(dbPath, { readonly: true });
    expect(await verifyAuditChain(sqliteStore(readonly))).toMatchObject({ state: 'broken', firstBad: { table: 'runs', id: String(runs.recent) } });
    raw.prepare("UPDATE runs SET summary = 'done NEW-1' WHERE id = ?").run(runs.recent);
    expect((await verifyAuditChain(sqliteStore(readonly))).state).toBe('intact');
    raw.prepare('UPDATE audit_checkpoints SET runs = 1').run();
    expect((await verifyAuditChain(sqliteStore(readonly))).firstBad?.problem).toMatch(/^changed: checkpoint #1/);
    readonly.$client.close();
    raw.close();
  });

  it('never prunes unfinished runs; batch by batch; once they end, a later prune reaches past them', async () => {
    const db = openDatabase(join(freshDir('deflect-audit-retention-'), 'audit.db'));
    const runs = seed(db);
    // Batches of 3 entries: OLD-1 (3 entries) and OLD-2 (2) go in one checkpoint each.
    const first = await pruneAuditRecords(sqliteStore(db), { retentionMs: RETENTION, archiveDir: null, now: NOW, batchSize: 3 });
    expect(first).toMatchObject({ runs: 2, checkpoints: 2 });
    // Nothing more while OLD-3 waits.
    expect(await pruneAuditRecords(sqliteStore(db), { retentionMs: RETENTION, archiveDir: null, now: NOW })).toMatchObject({ runs: 0, checkpoints: 0 });
    expect(ids(db, 'SELECT id FROM runs ORDER BY id')).toContain(runs.waiting);
    // With a 1-day window everything goes once OLD-3 has ended: its run entry is the newest, so the batch widens to
    // take it with the action it sealed first.
    finishRun(db, runs.waiting, { status: 'succeeded', durationMs: 1 }, NOW - 2 * DAY);
    const second = await pruneAuditRecords(sqliteStore(db), { retentionMs: DAY, archiveDir: null, now: NOW, batchSize: 3 });
    expect(second).toMatchObject({ runs: 3, checkpoints: 1 });
    expect(ids(db, 'SELECT id FROM runs')).toEqual([]);
    expect(await verifyAuditChain(sqliteStore(db))).toMatchObject({ state: 'intact', runs: 0, checkpoints: 3 });
    db.$client.close();
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

    const dir = freshDir('deflect-audit-retention-');
    const db = openDatabase(join(dir, 'audit.db'));
    seed(db);
    const pruner = new DeliveryPruner({ db: sqliteStore(db), logger: pino({ level: 'silent' }), retentionMs: null, auditRetentionMs: RETENTION, auditArchiveDir: join(dir, 'archive') });
    const { deliveries, audit } = await pruner.pruneOnce();
    expect(deliveries).toBeNull();
    expect(audit).toMatchObject({ runs: 2, checkpoints: 1 });
    expect(readdirSync(join(dir, 'archive'))).toHaveLength(1);
    expect((await verifyAuditChain(sqliteStore(db))).state).toBe('intact');
    db.$client.close();
  });
});
