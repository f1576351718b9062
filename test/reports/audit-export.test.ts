/**
 * Streamed audit exports (src/reports/audit-export.ts) of 50,000 runs on a real database of the pass's backend (a
 * SQLite file or a PostgreSQL database: test/support/test-backend.ts): every run is written
 * once (row counts for csv, json and jsonl), and output streams — each keyset page is written before the next one is
 * read, and the export waits for `drain` when the reader is slow — so memory does not grow with the number of runs.
 */
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/store.js';
import { AUDIT_CSV_HEAD, exportAudit } from '../../src/reports/audit-export.js';
import { seedRunIn } from '../support/conv-d-seeds.js';
import { freshDatabase, type TestDatabase } from '../support/test-backend.js';

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

/** Numbers `from`…`to` as a recursive CTE both SQLite and PostgreSQL run (bigint, so `i * 600000` does not overflow). */
const NUMBERS = 'WITH RECURSIVE n(i) AS (SELECT CAST(? AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < ?)';

/**
 * Runs `EXP-2`…`EXP-<RUNS-1>`, each a copy of the template run of its handler (`EXP-0`, reset-ci-token, every tenth;
 * `EXP-1`, grant-repo-access, the others) with its own delivery, key, time and summary: three INSERT … SELECT
 * statements, since 50,000 runs recorded one by one through the Store take minutes on PostgreSQL. The copies carry no
 * audit chain entries (the export does not read the chain).
 */
async function copyTemplateRuns(database: TestDatabase, templates: { reset: number; grant: number }, t0: number, step: number): Promise<void> {
  await database.run(
    `${NUMBERS}
     INSERT INTO deliveries (delivery_key, webhook_identifier, source, event, issue_key, status, reason, headers, body, body_sha256, event_timestamp, timestamp_source, received_at)
     SELECT 'bulk:' || n.i, NULL, t.source, t.event, 'EXP-' || n.i, t.status, t.reason, t.headers, t.body, t.body_sha256, ? + n.i * ?, t.timestamp_source, ? + n.i * ?
     FROM n JOIN runs r ON r.id = ? JOIN deliveries t ON t.id = r.delivery_id`,
    2, RUNS - 1, t0, step, t0, step, templates.grant,
  );
  await database.run(
    `INSERT INTO runs (delivery_id, ticket_key, handler, reason, status, dry_run, idempotency_key, attempts, max_attempts, run_after, started_at, finished_at,
       duration_ms, applied, summary, error, manual_retries, ticket_snapshot, shadow, rules_version, created_at)
     SELECT d.id, d.issue_key, t.handler, t.reason, t.status, t.dry_run, d.issue_key || ':' || t.handler || ':' || d.delivery_key, t.attempts, t.max_attempts,
       d.received_at, t.started_at, d.received_at + 5, t.duration_ms, t.applied, 'run ' || substr(d.issue_key, 5), t.error, t.manual_retries,
       replace(t.ticket_snapshot, t.ticket_key, d.issue_key), t.shadow, t.rules_version, d.received_at
     FROM deliveries d JOIN runs t ON t.id = CASE WHEN (d.received_at - ?) / ? % 10 = 0 THEN CAST(? AS BIGINT) ELSE CAST(? AS BIGINT) END
     WHERE d.delivery_key LIKE 'bulk:%'
     ORDER BY d.received_at`,
    t0, step, templates.reset, templates.grant,
  );
  await database.run(
    `INSERT INTO run_rule_settings (run_id, rule_name, options, approval, feedback)
     SELECT r.id, s.rule_name, s.options, s.approval, s.feedback
     FROM runs r JOIN runs t ON t.handler = r.handler AND t.id IN (?, ?) JOIN run_rule_settings s ON s.run_id = t.id
     WHERE r.id NOT IN (?, ?)`,
    templates.reset, templates.grant, templates.reset, templates.grant,
  );
}

describe('deflect audit exports stream', () => {
  let store: Store;
  beforeAll(async () => {
    const database = await freshDatabase('audit-export-');
    store = await database.open();
    const t0 = Date.UTC(2025, 0, 1);
    const step = 600_000;
    const seed = (i: number) =>
      seedRunIn(store, { ticketKey: `EXP-${i}`, createdAt: t0 + i * step, handler: i % 10 === 0 ? 'reset-ci-token' : 'grant-repo-access', summary: `run ${i}` });
    const templates = { reset: await seed(0), grant: await seed(1) };
    await copyTemplateRuns(database, templates, t0, step);
    expect((await database.get<{ n: number }>('SELECT count(*) AS n FROM runs'))!.n).toBe(RUNS);
  }, 120_000);

  it(`jsonl: ${RUNS} runs, one line each, each page written before the next is read, with backpressure`, { timeout: 120_000 }, async () => {
    const { out, state } = slowReader();
    const writtenWhenRead: number[] = [];
    const count = await exportAudit(store, {}, out, { format: 'jsonl', pageSize: PAGE, onPage: () => writtenWhenRead.push(state.lines) });
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
    const count = await exportAudit(store, { handler: 'reset-ci-token' }, out, { format: 'csv' });
    const records = parse(state.chunks.join('')) as string[][];
    expect(count).toBe(RUNS / 10);
    expect(records[0]).toEqual(AUDIT_CSV_HEAD);
    expect(records).toHaveLength(RUNS / 10 + 1);
    expect(new Set(records.slice(1).map((r) => r[0])).size).toBe(RUNS / 10);
  });

  it('json: one document with the GET /api/runs shape ({ pausedHandlers, runs }), honouring the limit', async () => {
    const { out, state } = slowReader();
    expect(await exportAudit(store, {}, out, { format: 'json', limit: 1234 })).toBe(1234);
    const doc = JSON.parse(state.chunks.join(''));
    expect(Object.keys(doc)).toEqual(['pausedHandlers', 'runs']);
    expect(doc.runs).toHaveLength(1234);
    expect(doc.runs[0].ticketKey).toBe(`EXP-${RUNS - 1}`);
  });
});
