/**
 * `deflect audit` as a user runs it (the CLI entry point in a child process, on a real database of the pass's backend): every filter,
 * the table with its page cursor, the streamed csv / json / jsonl exports, and clear errors for bad flags. Runs are
 * recorded through the repository functions routing and the worker use (seedRunIn: test/support/conv-a-audit-seed.ts).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/store.js';
import { seedRunIn } from '../support/conv-a-audit-seed.js';
import { REPO_ROOT } from '../support/deflect-under-test.js';
import { freshDatabase, type TestDatabase } from '../support/test-backend.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
let db: Store;
let database: TestDatabase;

const cli = (...args: string[]) =>
  new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'audit', ...args],
      { env: { PATH: process.env.PATH, ...database.env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });

/** Ticket keys `deflect audit <args> --format jsonl` prints, in order. */
async function keys(...args: string[]): Promise<string[]> {
  const result = await cli(...args, '--format', 'jsonl');
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.trim() ? result.stdout.trim().split('\n').map((line) => JSON.parse(line).ticketKey) : [];
}

beforeAll(async () => {
  database = await freshDatabase('audit-cli-');
  db = await database.open();
  await seedRunIn(db, { ticketKey: 'PLAT-1', createdAt: T0, summary: 'granted write on acme/payments-api' });
  await seedRunIn(db, { ticketKey: 'PLAT-2', createdAt: T0 + DAY, handler: 'create-repository', rule: 'new-repository', status: 'failed', summary: null, error: 'name already exists', reporter: 'Bob Stone' });
  await seedRunIn(db, { ticketKey: 'acme/api#3', tracker: 'github', siteUrl: 'https://github.com', createdAt: T0 + 2 * DAY, handler: 'reset-ci-token', rule: 'ci-token-reset', status: 'dead' });
  await seedRunIn(db, { ticketKey: 'ENG-4', tracker: 'linear', createdAt: T0 + 3 * DAY, status: 'shadow', shadow: true });
  await seedRunIn(db, { ticketKey: 'PLAT-5', createdAt: T0 + 4 * DAY, status: 'awaiting-approval' });
});
afterAll(() => db?.close());

describe('deflect audit', () => {
  it.each([
    ['--from/--to', ['--from', '2026-01-06', '--to', '2026-01-08'], ['acme/api#3', 'PLAT-2']],
    ['--since', ['--since', '1d'], []],
    ['--handler', ['--handler', 'reset-ci-token'], ['acme/api#3']],
    ['--rule', ['--rule', 'new-repository'], ['PLAT-2']],
    ['--outcome (comma list)', ['--outcome', 'shadow,awaiting-approval'], ['PLAT-5', 'ENG-4']],
    ['--status', ['--status', 'dead'], ['acme/api#3']],
    ['--ticket', ['--ticket', 'PLAT-1'], ['PLAT-1']],
    ['--reporter', ['--reporter', 'bob stone'], ['PLAT-2']],
    ['--tracker', ['--tracker', 'linear', '--tracker', 'github'], ['ENG-4', 'acme/api#3']],
    ['--search', ['--search', 'payments'], ['PLAT-1']],
  ])('filters by %s', { timeout: 30_000 }, async (_name, args, expected) => {
    expect(await keys(...args)).toEqual(expected);
  });

  it('prints a table page and the cursor of the next, which continues where it stopped', { timeout: 30_000 }, async () => {
    const first = await cli('--limit', '2');
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain('PLAT-5');
    expect(first.stdout).not.toContain('PLAT-2');
    const cursor = /older runs: add --cursor (\S+)/.exec(first.stdout)?.[1];
    expect(cursor).toBeTruthy();
    expect(await keys('--cursor', cursor!, '--limit', '2')).toEqual(['acme/api#3', 'PLAT-2']);
  });

  it('exports csv (every matching run, RFC 4180) and json in the GET /api/runs shape', { timeout: 30_000 }, async () => {
    const csv = await cli('--format', 'csv', '--tracker', 'jira');
    expect(csv.status, csv.stderr).toBe(0);
    const records = parse(csv.stdout) as string[][];
    expect(records[0].slice(0, 3)).toEqual(['run', 'created', 'ticket']);
    expect(records.slice(1).map((r) => r[2])).toEqual(['PLAT-5', 'PLAT-2', 'PLAT-1']);
    const json = await cli('--format', 'json', '--limit', '1');
    expect(json.status, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(Object.keys(doc)).toEqual(['pausedHandlers', 'runs']);
    expect(doc.runs.map((r: { ticketKey: string }) => r.ticketKey)).toEqual(['PLAT-5']);
  });

  it.each([
    [['--outcome', 'finished'], /invalid --outcome: use one or more of/],
    [['--from', 'soon'], /invalid --from: use a date/],
    [['--tracker', 'gitlab'], /unknown tracker "gitlab"/],
    [['--format', 'xml'], /invalid --format "xml": use one of table, csv, json, jsonl/],
    [['--limit', 'many'], /invalid --limit "many"/],
    [['--cursor', 'nope'], /invalid --cursor: use the "older" or "newer" cursor/],
  ])('refuses %j with a clear message', { timeout: 30_000 }, async (args, message) => {
    const result = await cli(...args);
    expect(result.status).toBe(2); // bad usage
    expect(result.stderr).toMatch(message);
  });
});
