/**
 * `deflect audit verify` (decision 011) on real SQLite files: intact on a fresh database and after real writes; after an
 * UPDATE of a sealed row, a DELETE of a row and an out-of-order INSERT made directly in SQLite (better-sqlite3, as
 * someone with the file would), it exits 1 naming the row (table and id) and the problem. The genesis pass seals rows
 * recorded before the chain existed.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { checkRowSeal, verifyAuditChain } from '../../src/audit/verify-chain.js';
import { openDatabase } from '../../src/db/client.js';
import { freshDir } from '../support/deflect-under-test.js';
import { runCli } from '../reliability/helpers.js';
import { seedAuditRun } from './seed-audit-runs.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';

const NOW = Date.now();

/** A database file with three finished runs (two actions each) and one queued; returns its path and the run ids. */
function seededDatabase(): { path: string; runs: number[] } {
  const path = join(freshDir('deflect-audit-verify-'), 'audit.db');
  const db = openDatabase(path);
  const runs = [
    seedAuditRun(db, 'PLAT-1', NOW - 3000, { actions: 2 }),
    seedAuditRun(db, 'PLAT-2', NOW - 2000, { actions: 2, status: 'failed' }),
    seedAuditRun(db, 'PLAT-3', NOW - 1000, { actions: 2, status: 'shadow' }),
    seedAuditRun(db, 'PLAT-4', NOW - 500, { actions: 0, status: null }),
  ];
  db.$client.close();
  return { path, runs };
}

/** Runs `sql` on the file directly, as someone with write access to it would (no deflect code). */
function tamper(path: string, sql: string, ...params: unknown[]): void {
  const raw = new Database(path);
  raw.prepare(sql).run(...params);
  raw.close();
}

const verify = (path: string, ...args: string[]) => runCli(['audit', 'verify', ...args], { DEFLECT_DB: path });
const actionIdsOf = (path: string, runId: number) => {
  const raw = new Database(path, { readonly: true });
  const ids = (raw.prepare('SELECT id FROM actions WHERE run_id = ? ORDER BY seq').all(runId) as Array<{ id: number }>).map((r) => r.id);
  raw.close();
  return ids;
};

describe('deflect audit verify', () => {
  it('passes on a fresh database and on one deflect wrote, and exits 2 on bad usage', async () => {
    const fresh = join(freshDir('deflect-audit-verify-'), 'fresh.db');
    openDatabase(fresh).$client.close();
    const empty = await verify(fresh);
    expect(empty).toMatchObject({ code: 0 });
    expect(empty.stdout.trim()).toBe('chain intact: 0 runs, 0 actions, 0 checkpoints (nothing sealed yet)');

    const { path } = seededDatabase();
    const intact = await verify(path);
    expect(intact.code).toBe(0);
    expect(intact.stdout).toMatch(/^chain intact: 3 runs, 6 actions, 0 checkpoints \(head 9 [0-9a-f]{64}\)$/m);
    const json = await verify(path, '--format', 'json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ state: 'intact', checkedRows: 9, firstBad: null, checkpoints: 0, head: { seq: 9 } });

    const usage = await verify(path, '--format', 'xml');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('invalid --format "xml"');
  });

  it('names the row after an UPDATE of a sealed field, a DELETE and an out-of-order INSERT made directly in SQLite', async () => {
    const updated = seededDatabase();
    const [, second] = actionIdsOf(updated.path, updated.runs[0]);
    tamper(updated.path, `UPDATE actions SET response = '{"id":"forged"}' WHERE id = ?`, second);
    const changed = await verify(updated.path);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(new RegExp(`^actions ${second}: changed \\(recorded hash [0-9a-f]{16}…, computed [0-9a-f]{16}…`));
    const changedJson = JSON.parse((await verify(updated.path, '--format', 'json')).stdout);
    expect(changedJson).toMatchObject({ state: 'broken', firstBad: { table: 'actions', id: String(second) } });
    expect(changedJson.firstBad.problem).toMatch(/^changed/);

    const deleted = seededDatabase();
    const [firstOfSecondRun] = actionIdsOf(deleted.path, deleted.runs[1]);
    tamper(deleted.path, 'DELETE FROM actions WHERE id = ?', firstOfSecondRun);
    const missing = await verify(deleted.path);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(new RegExp(`^actions ${firstOfSecondRun}: missing: sealed by chain entry \\d+ at .*, no longer in the table`));

    const inserted = seededDatabase();
    tamper(
      inserted.path,
      `INSERT INTO runs (delivery_id, ticket_key, handler, reason, status, dry_run, idempotency_key, attempts, max_attempts, run_after, created_at, summary)
       SELECT delivery_id, 'PLAT-1', 'grant-repo-access', 'forged', 'succeeded', 0, 'forged-key', 1, 3, ?, ?, 'granted admin' FROM runs WHERE id = ?`,
      NOW - 2500, NOW - 2500, inserted.runs[0],
    );
    const forged = await verify(inserted.path);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toMatch(/^runs 5: out of order: a succeeded row the chain never sealed \(written outside deflect\)$/m);
  });

  it('reports a run whose status was set back to hide a change, a removed chain entry and a forged entry hash', async () => {
    const cases: Array<[string, (p: { path: string; runs: number[] }) => void, RegExp, string]> = [
      ['status rewritten', (p) => tamper(p.path, "UPDATE runs SET status = 'queued' WHERE id = ?", p.runs[2]), /^changed/, 'runs'],
      ['entry removed', (p) => tamper(p.path, 'DELETE FROM audit_chain WHERE seq = 4'), /^out of order: chain entry 5 follows entry 3/, 'actions'],
      ['entry rewritten', (p) => tamper(p.path, "UPDATE audit_chain SET sealed_by = 'someone-else:1' WHERE seq = 2"), /^changed: chain entry 2/, 'actions'],
      ['entry for another table', (p) => tamper(p.path, "UPDATE audit_chain SET row_table = 'tickets' WHERE seq = 3"), /^out of order: chain entry 3 names a table/, 'runs'],
    ];
    for (const [what, change, problem, table] of cases) {
      const seeded = seededDatabase();
      change(seeded);
      const db = openDatabase(seeded.path, { readonly: true });
      const report = await verifyAuditChain(sqliteStore(db));
      db.$client.close();
      expect(report.state, what).toBe('broken');
      expect(report.firstBad?.table, what).toBe(table);
      expect(report.firstBad?.problem, what).toMatch(problem);
    }
  });

  it('tells the seal state of one row for a trace: sealed, unsealed, or broken with the problem', async () => {
    const { path, runs } = seededDatabase();
    const [action] = actionIdsOf(path, runs[0]);
    tamper(path, "UPDATE runs SET error = 'rewritten' WHERE id = ?", runs[1]);
    const db = openDatabase(path, { readonly: true });
    expect(await checkRowSeal(sqliteStore(db), 'runs', runs[0])).toMatchObject({ state: 'sealed', seq: expect.any(Number), sealedBy: expect.stringMatching(/:\d+$/) });
    expect(await checkRowSeal(sqliteStore(db), 'actions', action)).toMatchObject({ state: 'sealed' });
    expect(await checkRowSeal(sqliteStore(db), 'runs', runs[3])).toEqual({ state: 'unsealed' }); // still queued
    expect(await checkRowSeal(sqliteStore(db), 'runs', runs[1])).toEqual({ state: 'broken', problem: expect.stringMatching(/^changed \(recorded hash/) });
    db.$client.close();
  });

  it('seals rows recorded before the upgrade in one genesis pass, and then verifies', async () => {
    const { path } = seededDatabase();
    // A database from before the chain: the rows, no entries.
    tamper(path, 'DELETE FROM audit_chain');
    const db = openDatabase(path);
    const kinds = db.$client.prepare('SELECT kind, count(*) AS n FROM audit_chain GROUP BY kind').all();
    expect(kinds).toEqual([{ kind: 'genesis', n: 9 }]);
    expect(await verifyAuditChain(sqliteStore(db))).toMatchObject({ state: 'intact', runs: 3, actions: 6 });
    db.$client.close();
    // The pass runs once: a second open writes nothing.
    const again = openDatabase(path);
    expect((again.$client.prepare('SELECT count(*) AS n FROM audit_chain').get() as { n: number }).n).toBe(9);
    again.$client.close();
  });
});
