/**
 * `GET /api/audit/chain` and the audit chain gauges of `/metrics` on the real server (loopback, real SQLite file;
 * decision 011): the exact answer shape on an intact chain, a broken one (a row changed directly in SQLite while the
 * server was down) and an empty one; auditor access (401 without a token); the chain head exposed for an outside copy.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { findChainHead } from '../../src/db/audit-chain.js';
import { authHeader } from '../support/api-token.js';
import { freshDir, startDeflect, type DeflectUnderTest } from '../support/deflect-under-test.js';
import { seedAuditRun } from '../audit/seed-audit-runs.js';

let deflect: DeflectUnderTest | null = null;
afterEach(async () => {
  await deflect?.close(500);
  deflect = null;
});

const chainState = async (d: DeflectUnderTest) => {
  const answer = await fetch(`${d.url}/api/audit/chain`, { headers: await authHeader(d.db.sqlite!) });
  return { status: answer.status, json: (await answer.json()) as Record<string, unknown> };
};

describe('GET /api/audit/chain', () => {
  it('answers empty on a fresh database, and needs a token', async () => {
    deflect = await startDeflect();
    expect(await chainState(deflect)).toEqual({ status: 200, json: { state: 'empty', checkedRows: 0, firstBad: null, checkedAt: expect.any(String) } });
    expect((await fetch(`${deflect.url}/api/audit/chain`)).status).toBe(401);
  });

  it('answers intact with the rows checked, exposes the head in /metrics, then names the row changed while it was down', async () => {
    const dbPath = join(freshDir('deflect-audit-route-'), 'audit.db');
    const db = openDatabase(dbPath);
    const first = seedAuditRun(db, 'PLAT-1', Date.now() - 2000, { actions: 1 });
    seedAuditRun(db, 'PLAT-2', Date.now() - 1000, { actions: 2, status: 'failed' });
    const head = findChainHead(db);
    db.$client.close();

    deflect = await startDeflect({ env: { DEFLECT_DB: dbPath } });
    const intact = await chainState(deflect);
    expect(intact).toEqual({ status: 200, json: { state: 'intact', checkedRows: 5, firstBad: null, checkedAt: expect.any(String) } });
    expect(Date.parse(intact.json.checkedAt as string)).toBeGreaterThan(Date.now() - 60_000);
    const metrics = await (await fetch(`${deflect.url}/metrics`, { headers: await authHeader(deflect.db.sqlite!) })).text();
    expect(metrics).toContain(`deflect_audit_chain_head_seq ${head.seq}\n`);
    expect(metrics).toContain(`deflect_audit_chain_head_info{hash="${head.hash}"} 1\n`);
    expect(metrics).toContain('deflect_audit_chain_checkpoints 0\n');
    await deflect.close(500);
    deflect = null;

    const raw = new Database(dbPath);
    raw.prepare("UPDATE runs SET summary = 'nothing to see' WHERE id = ?").run(first);
    raw.close();
    deflect = await startDeflect({ env: { DEFLECT_DB: dbPath } });
    const broken = await chainState(deflect);
    expect(broken.status).toBe(200);
    expect(broken.json).toEqual({
      state: 'broken',
      checkedRows: expect.any(Number),
      firstBad: { table: 'runs', id: String(first), problem: expect.stringMatching(/^changed \(recorded hash [0-9a-f]{16}…, computed [0-9a-f]{16}…/) },
      checkedAt: expect.any(String),
    });
  });
});
