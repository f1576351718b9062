/**
 * `deflect audit verify` (decision 011) on a real database of the pass's backend (a SQLite file or a PostgreSQL
 * database: test-backend.ts): intact on a fresh database and after real writes; after an
 * UPDATE of a sealed row, a DELETE of a row and an out-of-order INSERT made directly in the database (plain SQL on a
 * connection of the test's own, as someone with write access would), it exits 1 naming the row (table and id) and the
 * problem. The genesis pass (SQLite only) seals rows recorded before the chain existed.
 */
import { describe, expect, it } from 'vitest';
import { checkRowSeal, verifyAuditChain } from '../../src/audit/verify-chain.js';
import { runCli } from '../reliability/helpers.js';
import { seedAuditRunIn } from '../support/conv-a-audit-seed.js';
import { freshDatabase, onPostgres, type TestDatabase } from '../support/test-backend.js';

const NOW = Date.now();

/** A database with three finished runs (two actions each) and one queued; returns it and the run ids. */
async function seededDatabase(): Promise<{ database: TestDatabase; runs: number[] }> {
  const database = await freshDatabase('deflect-audit-verify-');
  const store = await database.open();
  const runs = [
    await seedAuditRunIn(store, 'PLAT-1', NOW - 3000, { actions: 2 }),
    await seedAuditRunIn(store, 'PLAT-2', NOW - 2000, { actions: 2, status: 'failed' }),
    await seedAuditRunIn(store, 'PLAT-3', NOW - 1000, { actions: 2, status: 'shadow' }),
    await seedAuditRunIn(store, 'PLAT-4', NOW - 500, { actions: 0, status: null }),
  ];
  await store.close();
  return { database, runs };
}

/** Runs `sql` on the database directly, as someone with write access to it would (no deflect code). */
async function tamper(database: TestDatabase, sql: string, ...params: unknown[]): Promise<void> {
  await database.run(sql, ...params);
}

const verify = (database: TestDatabase, ...args: string[]) => runCli(['audit', 'verify', ...args], database.env);
const actionIdsOf = async (database: TestDatabase, runId: number) =>
  (await database.all<{ id: number }>('SELECT id FROM actions WHERE run_id = ? ORDER BY seq', runId)).map((r) => r.id);

describe('deflect audit verify', () => {
  it('passes on a fresh database and on one deflect wrote, and exits 2 on bad usage', async () => {
    const fresh = await freshDatabase('deflect-audit-verify-');
    await (await fresh.open()).close();
    const empty = await verify(fresh);
    expect(empty).toMatchObject({ code: 0 });
    expect(empty.stdout.trim()).toBe('chain intact: 0 runs, 0 actions, 0 checkpoints (nothing sealed yet)');

    const { database } = await seededDatabase();
    const intact = await verify(database);
    expect(intact.code).toBe(0);
    expect(intact.stdout).toMatch(/^chain intact: 3 runs, 6 actions, 0 checkpoints \(head 9 [0-9a-f]{64}\)$/m);
    const json = await verify(database, '--format', 'json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ state: 'intact', checkedRows: 9, firstBad: null, checkpoints: 0, head: { seq: 9 } });

    const usage = await verify(database, '--format', 'xml');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('invalid --format "xml"');
  });

  it('names the row after an UPDATE of a sealed field, a DELETE and an out-of-order INSERT made directly in the database', async () => {
    const updated = await seededDatabase();
    const [, second] = await actionIdsOf(updated.database, updated.runs[0]);
    await tamper(updated.database, `UPDATE actions SET response = '{"id":"forged"}' WHERE id = ?`, second);
    const changed = await verify(updated.database);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(new RegExp(`^actions ${second}: changed \\(recorded hash [0-9a-f]{16}…, computed [0-9a-f]{16}…`));
    const changedJson = JSON.parse((await verify(updated.database, '--format', 'json')).stdout);
    expect(changedJson).toMatchObject({ state: 'broken', firstBad: { table: 'actions', id: String(second) } });
    expect(changedJson.firstBad.problem).toMatch(/^changed/);

    const deleted = await seededDatabase();
    const [firstOfSecondRun] = await actionIdsOf(deleted.database, deleted.runs[1]);
    await tamper(deleted.database, 'DELETE FROM actions WHERE id = ?', firstOfSecondRun);
    const missing = await verify(deleted.database);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(new RegExp(`^actions ${firstOfSecondRun}: missing: sealed by chain entry \\d+ at .*, no longer in the table`));

    const inserted = await seededDatabase();
    await tamper(
      inserted.database,
      `INSERT INTO runs (delivery_id, ticket_key, handler, reason, status, dry_run, idempotency_key, attempts, max_attempts, run_after, created_at, summary)
       SELECT delivery_id, 'PLAT-1', 'grant-repo-access', 'forged', 'succeeded', FALSE, 'forged-key', 1, 3, ?, ?, 'granted admin' FROM runs WHERE id = ?`,
      NOW - 2500, NOW - 2500, inserted.runs[0],
    );
    const forged = await verify(inserted.database);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toMatch(/^runs 5: out of order: a succeeded row the chain never sealed \(written outside deflect\)$/m);
  });

  it('reports a run whose status was set back to hide a change, a removed chain entry and a forged entry hash', async () => {
    const cases: Array<[string, (p: { database: TestDatabase; runs: number[] }) => Promise<void>, RegExp, string]> = [
      ['status rewritten', (p) => tamper(p.database, "UPDATE runs SET status = 'queued' WHERE id = ?", p.runs[2]), /^changed/, 'runs'],
      ['entry removed', (p) => tamper(p.database, 'DELETE FROM audit_chain WHERE seq = 4'), /^out of order: chain entry 5 follows entry 3/, 'actions'],
      ['entry rewritten', (p) => tamper(p.database, "UPDATE audit_chain SET sealed_by = 'someone-else:1' WHERE seq = 2"), /^changed: chain entry 2/, 'actions'],
      ['entry for another table', (p) => tamper(p.database, "UPDATE audit_chain SET row_table = 'tickets' WHERE seq = 3"), /^out of order: chain entry 3 names a table/, 'runs'],
    ];
    for (const [what, change, problem, table] of cases) {
      const seeded = await seededDatabase();
      await change(seeded);
      const store = await seeded.database.open();
      const report = await verifyAuditChain(store);
      await store.close();
      expect(report.state, what).toBe('broken');
      expect(report.firstBad?.table, what).toBe(table);
      expect(report.firstBad?.problem, what).toMatch(problem);
    }
  });

  it('tells the seal state of one row for a trace: sealed, unsealed, or broken with the problem', async () => {
    const { database, runs } = await seededDatabase();
    const [action] = await actionIdsOf(database, runs[0]);
    await tamper(database, "UPDATE runs SET error = 'rewritten' WHERE id = ?", runs[1]);
    const db = await database.open();
    expect(await checkRowSeal(db, 'runs', runs[0])).toMatchObject({ state: 'sealed', seq: expect.any(Number), sealedBy: expect.stringMatching(/:\d+$/) });
    expect(await checkRowSeal(db, 'actions', action)).toMatchObject({ state: 'sealed' });
    expect(await checkRowSeal(db, 'runs', runs[3])).toEqual({ state: 'unsealed' }); // still queued
    expect(await checkRowSeal(db, 'runs', runs[1])).toEqual({ state: 'broken', problem: expect.stringMatching(/^changed \(recorded hash/) });
    await db.close();
  });

  // SQLite only: the genesis pass runs when a SQLite file from before the chain is opened; a PostgreSQL database starts
  // empty or as a verified copy of a SQLite one whose pass already ran (src/db/postgres/repositories/audit-chain.ts).
  it.skipIf(onPostgres)('seals rows recorded before the upgrade in one genesis pass, and then verifies', async () => {
    const { database } = await seededDatabase();
    // A database from before the chain: the rows, no entries.
    await tamper(database, 'DELETE FROM audit_chain');
    const db = await database.open();
    const kinds = await database.all('SELECT kind, count(*) AS n FROM audit_chain GROUP BY kind');
    expect(kinds).toEqual([{ kind: 'genesis', n: 9 }]);
    expect(await verifyAuditChain(db)).toMatchObject({ state: 'intact', runs: 3, actions: 6 });
    await db.close();
    // The pass runs once: a second open writes nothing.
    const again = await database.open();
    expect((await database.get<{ n: number }>('SELECT count(*) AS n FROM audit_chain'))!.n).toBe(9);
    await again.close();
  });
});
