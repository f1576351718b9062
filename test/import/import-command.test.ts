/**
 * History import into a real database of the pass's backend (a SQLite file or a PostgreSQL database: test-backend.ts): bad rows reported with their line and skipped, safe to run twice,
 * resumable after an interruption; and the real 10k-ticket corpus from ../shared imported, grouped and reported.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importParsedRows } from '../../src/import/import-tickets.js';
import { parseJsonlLines, type ParsedTicketRow } from '../../src/import/parse-jsonl.js';
import { freshDir, REPO_ROOT } from '../support/deflect-under-test.js';
import { freshDatabase, type TestDatabase } from '../support/test-backend.js';

const issue = (n: number, summary = `Reset token ${n}`) => JSON.stringify({ id: String(5000 + n), key: `OPS-${n}`, fields: { summary, labels: n % 2 ? ['token-reset'] : [], created: '2026-03-02T10:00:00.000+0000' } });
const deflect = (database: TestDatabase, ...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), ...args], { env: { PATH: process.env.PATH, ...database.env }, encoding: 'utf8' });
const count = async (database: TestDatabase) => (await database.get<{ n: number }>('SELECT count(*) AS n FROM tickets'))!.n;

describe('deflect import', () => {
  it('imports JSONL, reports bad rows with their line number, and is safe to run twice', async () => {
    const dir = freshDir();
    const file = join(dir, 'issues.jsonl');
    writeFileSync(file, [issue(1), issue(2), '{"id": "x", "key": ', issue(3), '{"id":"9","fields":{}}', issue(4), ''].join('\n'));
    const database = await freshDatabase();
    const first = deflect(database, 'import', 'jsonl', file);
    expect(first.status).toBe(0);
    expect(first.stderr).toMatch(/issues\.jsonl:3: skipped: not valid JSON/);
    expect(first.stderr).toMatch(/issues\.jsonl:5: skipped: .*key/);
    expect(first.stdout).toMatch(/imported 4 tickets from .* 2 bad rows skipped/);
    expect(first.stdout).toMatch(/grouped 4 tickets by text/);
    expect(await count(database)).toBe(4);
    const second = deflect(database, 'import', 'jsonl', file);
    expect(second.status).toBe(0);
    expect(await count(database)).toBe(4);
  });

  it('imports a Jira CSV export', async () => {
    const database = await freshDatabase();
    const result = deflect(database, 'import', 'csv', join(REPO_ROOT, 'test/fixtures/tickets/sample-export.csv'), '--no-group');
    expect(result.status, result.stderr).toBe(0);
    const imported = Number(/imported (\d+) tickets/.exec(result.stdout)![1]);
    expect(imported).toBeGreaterThan(5);
    expect(await count(database)).toBe(imported);
  });

  it('says clearly when the file does not exist', async () => {
    const result = deflect(await freshDatabase(), 'import', 'jsonl', '/nonexistent.jsonl');
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe('deflect: /nonexistent.jsonl: no such file');
  });

  it('resumes an interrupted import after the last committed batch', async () => {
    const database = await freshDatabase();
    const store = await database.open();
    const lines = Array.from({ length: 25 }, (_, i) => issue(i + 1));
    async function* interrupted(): AsyncGenerator<ParsedTicketRow> {
      for await (const row of parseJsonlLines(lines)) {
        if (row.line === 18) throw new Error('disk unplugged');
        yield row;
      }
    }
    await expect(importParsedRows(store, interrupted(), { source: 'jsonl:/x', fingerprint: 'f1', batchSize: 5 })).rejects.toThrow('disk unplugged');
    expect(await store.findImportCheckpoint('jsonl:/x')).toMatchObject({ status: 'running', cursor: '15', imported: 15 });
    expect(await count(database)).toBe(15);
    const resumed = await importParsedRows(store, parseJsonlLines(lines), { source: 'jsonl:/x', fingerprint: 'f1', batchSize: 5 });
    expect(resumed).toMatchObject({ resumedAfterLine: 15, imported: 10, skipped: 0 });
    expect(await store.findImportCheckpoint('jsonl:/x')).toMatchObject({ status: 'done', imported: 25 });
    expect(await count(database)).toBe(25);
    // A changed file (new fingerprint) starts over.
    const again = await importParsedRows(store, parseJsonlLines(lines), { source: 'jsonl:/x', fingerprint: 'f2', batchSize: 5 });
    expect(again.resumedAfterLine).toBe(0);
  });
});

const FLUID = join(REPO_ROOT, '../shared/fixtures/tickets/fluid-jira-issues.jsonl');
if (!existsSync(FLUID)) console.warn(`skipping the fluid corpus import: ${FLUID} is absent (it is provided beside the repository as ../shared)`);

describe.skipIf(!existsSync(FLUID))('the real fluid corpus (10,052 Jira issues)', () => {
  it('imports, groups by text, and reports rows that list every member key and their variants', async () => {
    const database = await freshDatabase();
    const imported = deflect(database, 'import', 'jsonl', FLUID);
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/imported 10052 tickets/);
    const report = JSON.parse(
      execFileSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'report', '--since', 'all', '--top', '10', '--format', 'json'], {
        env: { PATH: process.env.PATH, ...database.env },
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      }),
    );
    expect(report.totalTickets).toBe(10052);
    expect(report.groups).toHaveLength(10);
    for (const g of report.groups) {
      expect(['type', 'label']).toContain(g.kind);
      expect(g.keys).toHaveLength(g.count);
      expect(g.variants.reduce((n: number, v: { count: number }) => n + v.count, 0)).toBe(g.count);
      expect(g.count).toBeGreaterThanOrEqual(2);
      expect(g.key).toMatch(/\S/);
    }
    console.log(`fluid report: top rows ${report.groups.map((g: { name: string; count: number }) => `"${g.name}" ×${g.count}`).join(', ')}`);
  });
});
