/**
 * The command line behaves like the rest of the stack: `--version`; exit codes 0 ok / 1 failure / 2 bad usage with
 * the valid choices; `-` reads standard input; read-only commands never create a database; `--format json` on the
 * commands that print results; server-only variables (PORT) cannot break a command that does not listen; plain
 * progress lines without a terminal.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/deflect-under-test.js';
import { runCli } from '../support/run-cli.js';

const HISTORY = join(REPO_ROOT, 'examples/history/platform-requests.jsonl');

let dir: string;
let dbPath: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deflect-cli-'));
  dbPath = join(dir, 'deflect.db');
  env = { DEFLECT_DB: dbPath };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('deflect --version', () => {
  it('prints the version of package.json and exits 0', async () => {
    const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const out = await runCli(['--version'], env);
    expect(out.code).toBe(0);
    expect(out.stdout.trim()).toBe(version);
  });
});

describe('read-only commands on a missing database', () => {
  it.each([['report'], ['audit'], ['handlers'], ['explain', 'PLAT-1'], ['tokens', 'list']])(
    'deflect %s exits 1 naming the path and DEFLECT_DB, and creates no file',
    async (...args: string[]) => {
      const missing = join(dir, 'typo', 'deflcet.db');
      const out = await runCli(args, { DEFLECT_DB: missing });
      expect(out.code).toBe(1);
      expect(out.stderr).toContain(`no database at ${missing}`);
      expect(out.stderr).toContain('DEFLECT_DB');
      expect(out.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(missing)).toBe(false);
      expect(existsSync(join(dir, 'typo'))).toBe(false);
    },
  );
});

describe('deflect migrate', () => {
  it('says it created the database and what it applied, then that nothing was left to apply', async () => {
    const first = await runCli(['migrate', '--format', 'json'], env);
    expect(first.code).toBe(0);
    const created = JSON.parse(first.stdout) as { created: boolean; applied: number; after: number; shipped: number };
    expect(created.created).toBe(true);
    expect(created.applied).toBe(created.shipped);
    expect(created.applied).toBeGreaterThan(10);
    const again = await runCli(['migrate'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing applied');
  });
});

describe('import from standard input, with --format json', () => {
  it('imports `-` like a file and prints the summary as JSON; progress goes to stderr as plain lines with a last "done" line', async () => {
    const lines = readFileSync(HISTORY, 'utf8').trim().split('\n');
    const out = await runCli(['import', 'jsonl', '-', '--format', 'json'], env, { stdin: `${lines.join('\n')}\n` });
    expect(out.code, out.stderr).toBe(0);
    const summary = JSON.parse(out.stdout) as { source: string; imported: number; skipped: number; grouped: { tickets: number; types: number } | null };
    expect(summary.source).toBe('stdin');
    expect(summary.imported).toBe(lines.length);
    expect(summary.skipped).toBe(0);
    expect(summary.grouped?.tickets).toBe(lines.length);
    expect(summary.grouped?.types).toBeGreaterThan(0);
    // No terminal: no redrawn bar (no carriage returns or escape codes), and the last line says it finished.
    expect(out.stderr).not.toMatch(/\r|\x1b\[/);
    expect(out.stderr.trim().split('\n').at(-1)).toMatch(/^import jsonl: done, \d+ bytes, \d+ imported/);
  });

  it('deflect group --format json gives the figures of the grouping', async () => {
    const out = await runCli(['group', '--format', 'json'], env);
    expect(out.code).toBe(0);
    const result = JSON.parse(out.stdout) as { tickets: number; types: number; algorithm: string; grouping?: unknown };
    expect(result.tickets).toBeGreaterThan(0);
    expect(result.algorithm).toMatch(/^text-v/);
    expect(result.grouping).toBeUndefined();
  });

  it('deflect explain KEY --format json says the request type of an imported ticket', async () => {
    const key = (JSON.parse(readFileSync(HISTORY, 'utf8').split('\n')[0]) as { key: string }).key;
    const out = await runCli(['explain', key, '--format', 'json'], env);
    expect(out.code, out.stderr).toBe(0);
    const explained = JSON.parse(out.stdout) as { key: string; grouped: boolean; current: boolean; lines: string[] };
    expect(explained.key).toBe(key);
    expect(explained.grouped).toBe(true);
    expect(explained.current).toBe(true);
    expect(explained.lines[0]).toMatch(/^request type: /);
  });

  it('a read-only command reads the database without changing it (report on the imported history)', async () => {
    const out = await runCli(['report', '--since', 'all', '--format', 'json'], env);
    expect(out.code, out.stderr).toBe(0);
    expect((JSON.parse(out.stdout) as { totalTickets: number }).totalTickets).toBeGreaterThan(0);
  });
});

describe('exit codes', () => {
  it.each([
    [['report', '--since', 'bogus'], '--since'],
    [['report', '--top', '0'], '--top'],
    [['report', '--format', 'xml'], 'table, json'],
    [['audit', '--limit', 'abc'], '--limit'],
    [['audit', '--status', 'happy'], 'succeeded'],
    [['audit', '--tracker', 'gitlab'], 'jira'],
    [['handlers', 'pause'], '--all'],
    [['handlers', 'pause', 'no-such-handler'], 'grant-repo-access'],
    [['runs', 'retry', 'abc'], 'run id'],
    [['migrate', '--format', 'yaml'], 'text, json'],
    [['no-such-command'], 'unknown command'],
  ])('bad usage %j exits 2 and names what is allowed (%s)', async (args, hint) => {
    const out = await runCli(args, env);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(hint);
    expect(out.stderr).not.toMatch(/datatype mismatch|at .*\.ts:\d+/);
  });

  it('a runtime failure exits 1 with one line', async () => {
    const out = await runCli(['runs', 'retry', '999999'], env);
    expect(out.code).toBe(1);
    expect(out.stderr.trim()).toBe('deflect: no run #999999');
  });

  it('PORT=abc (a serve-only variable) does not break deflect report, and still stops deflect serve', async () => {
    const report = await runCli(['report', '--format', 'json'], { ...env, PORT: 'abc' });
    expect(report.code, report.stderr).toBe(0);
    const serve = await runCli(['serve'], { ...env, PORT: 'abc', DEFLECT_WEBHOOK_SECRET: 'x' });
    expect(serve.code).toBe(1);
    expect(serve.stderr).toContain('PORT');
  });
});
