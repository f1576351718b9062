/**
 * Streamed audit exports (src/reports/audit-export.ts) of 50,000 runs on a real SQLite file: every run is written
 * once (row counts for csv, json and jsonl), and output streams — each keyset page is written before the next one is
 * read, and the export waits for `drain` when the reader is slow — so memory does not grow with the number of runs.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/client.js';
import { AUDIT_CSV_HEAD, exportAudit } from '../../src/reports/audit-export.js';
import { seedRun } from '../support/audit-runs.js';
import { freshDir } from '../support/deflect-under-test.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';

const RUNS = 50_000;
const PAGE = 500;

/** A slow reader: small buffer, each chunk acknowledged on a later turn; counts chunks, drains and lines. */
function slowReader() {
  const state = { chunks: [] as string[], lines: 0, drains: 0 };
  const out = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _encoding, done) {
      const text = chunk.toString('utf8');
      state.chunks.push(text);
      state.lines += text.split('\n').length - 1;
      setImmediate(done);
    },
  });
  out.on('drain', () => state.drains++);
  return { out, state };
}

describe('deflect audit exports stream', () => {
  let db: Db;
  beforeAll(() => {
    db = openDatabase(join(freshDir('audit-export-'), 'export.db'));
    const t0 = Date.UTC(2025, 0, 1);
    db.$client.transaction(() => {
      for (let i = 0; i < RUNS; i++) seedRun(db, { ticketKey: `EXP-${i}`, createdAt: t0 + i * 600_000, handler: i % 10 === 0 ? 'reset-ci-token' : 'grant-repo-access', summary: `run ${i}` });
    })();
  }, 120_000);
  afterAll(() => db?.$client.close());

  it(`jsonl: ${RUNS} runs, one line each, each page written before the next is read, with backpressure`, { timeout: 120_000 }, async () => {
    const { out, state } = slowReader();
    const writtenWhenRead: number[] = [];
    const count = await exportAudit(sqliteStore(db), {}, out, { format: 'jsonl', pageSize: PAGE, onPage: () => writtenWhenRead.push(state.lines) });
    expect(count).toBe(RUNS);
    expect(state.lines).toBe(RUNS);
    expect(writtenWhenRead).toHaveLength(RUNS / PAGE);
    // When page k is read, the k-1 pages before it have reached the reader: nothing is buffered across pages.
    writtenWhenRead.forEach((lines, k) => expect(lines).toBeGreaterThanOrEqual(k * PAGE - PAGE));
    expect(state.drains).toBeGreaterThan(0);
    const first = JSON.parse(state.chunks[0].split('\n')[0]);
    expect(first).toMatchObject({ ticketKey: `EXP-${RUNS - 1}`, summary: `run ${RUNS - 1}` });
  });

  it('csv: a header and one record per run of the filtered view', { timeout: 60_000 }, async () => {
    const { out, state } = slowReader();
    const count = await exportAudit(sqliteStore(db), { handler: 'reset-ci-token' }, out, { format: 'csv' });
    const records = parse(state.chunks.join('')) as string[][];
    expect(count).toBe(RUNS / 10);
    expect(records[0]).toEqual(AUDIT_CSV_HEAD);
    expect(records).toHaveLength(RUNS / 10 + 1);
    expect(new Set(records.slice(1).map((r) => r[0])).size).toBe(RUNS / 10);
  });

  it('json: one document with the GET /api/runs shape ({ pausedHandlers, runs }), honouring the limit', async () => {
    const { out, state } = slowReader();
    expect(await exportAudit(sqliteStore(db), {}, out, { format: 'json', limit: 1234 })).toBe(1234);
    const doc = JSON.parse(state.chunks.join(''));
    expect(Object.keys(doc)).toEqual(['pausedHandlers', 'runs']);
    expect(doc.runs).toHaveLength(1234);
    expect(doc.runs[0].ticketKey).toBe(`EXP-${RUNS - 1}`);
  });
});
