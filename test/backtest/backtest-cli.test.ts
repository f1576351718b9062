/**
 * `deflect backtest` as a person runs it: the built `bin/deflect.js` (run `npm run build` first) on a database filled
 * by `deflect import jsonl` (a database of the pass's backend: test-backend.ts), with no tracker credentials in the environment. Asserts the JSON interface, the table,
 * `--save` / `--compare`, the exit codes (0 ok, 1 runtime failure, 2 bad usage) and that the database stays untouched.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { deflectEnv, REPO_ROOT } from '../support/deflect-under-test.js';
import { freshDatabase, onPostgres, type TestDatabase } from '../support/test-backend.js';
import { startFakeGitHub } from '../support/fake-github.js';
import { startFakeJira } from '../support/fake-jira.js';
import { writeHistory, writeRules } from './backtest-fixture.js';
import { handlers } from '../../handlers/index.js';

const BIN = join(REPO_ROOT, 'bin/deflect.js');

describe('deflect backtest (CLI)', () => {
  let dir: string;
  let database: TestDatabase;
  let env: Record<string, string>;
  const deflect = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 60_000 });

  beforeAll(async () => {
    if (!existsSync(join(REPO_ROOT, 'dist/src/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` before this test (it spawns bin/deflect.js)');
    database = await freshDatabase('deflect-backtest-cli-');
    dir = dirname(database.dbPath);
    env = { PATH: process.env.PATH ?? '', ...database.env, DEFLECT_RULES: writeRules(dir) };
    const imported = deflect('import', 'jsonl', writeHistory(dir), '--no-group');
    expect(imported.status, imported.stderr).toBe(0);
  });

  it('prints the JSON interface { handler, tickets: [{ key, actions: [{ kind }], problems }] } and stores nothing', async () => {
    const result = deflect('backtest', 'grant-repo-access', '--since', 'all', '--format', 'json');
    expect(result.status, result.stderr).toBe(0);
    const backtest = JSON.parse(result.stdout);
    expect(backtest.handler).toBe('grant-repo-access');
    expect(backtest.since).toBe('all');
    expect(backtest.tickets.map((t: { key: string }) => t.key)).toEqual(['OPS-6', 'OPS-1', 'OPS-2', 'OPS-3']);
    for (const ticket of backtest.tickets) {
      expect(ticket).toEqual(expect.objectContaining({ key: expect.any(String), actions: expect.any(Array), problems: expect.any(Array) }));
      for (const action of ticket.actions) expect(action).toEqual(expect.objectContaining({ kind: expect.any(String), target: expect.any(String) }));
    }
    const ops3 = backtest.tickets.find((t: { key: string }) => t.key === 'OPS-3');
    expect(ops3.problems).toEqual([{ field: 'repository', message: 'is missing' }]);
    expect(backtest.summary).toMatchObject({ ticketsConsidered: 6, ticketsMatched: 4, wouldReportProblems: 1 });

    expect((await database.get<{ n: number }>('SELECT (SELECT count(*) FROM runs) + (SELECT count(*) FROM actions) AS n'))!.n).toBe(0);
  });

  it('prints one line per ticket and a summary; --since 90d leaves out the old ticket', () => {
    const result = deflect('backtest', 'grant-repo-access');
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Backtest of grant-repo-access in dry run over tickets created in the last 90d/);
    expect(result.stdout).toMatch(/OPS-1 .*repo-access .*created .*planned .*github\.add_collaborator acme\/api/);
    expect(result.stdout).toMatch(/OPS-3 .*skipped .*comment .*repository is missing/);
    expect(result.stdout).not.toMatch(/OPS-6/);
    expect(result.stdout).toMatch(/5 tickets considered, 3 matched: 2 would act \(1 carried out\), 1 would report input problems, 0 failed/);
    expect(result.stdout).toMatch(/actions by kind: comment 3, github\.add_collaborator 1, transition 1/);
    expect(result.stdout).toMatch(/Nothing was sent/);
  });

  it('--save then --compare after changing the rule\'s with: lists the ticket that changes behaviour', () => {
    const saved = join(dir, 'before.json');
    const first = deflect('backtest', 'grant-repo-access', '--since', 'all', '--save', saved);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/saved the backtest of grant-repo-access \(4 tickets\)/);
    expect(JSON.parse(readFileSync(saved, 'utf8')).tickets).toHaveLength(4);

    const wider = writeRules(dir, '{ allowedOrgs: [acme, other-org], maxRoleWithoutApproval: write }', 'wider.yaml');
    const table = deflect('backtest', 'grant-repo-access', '--since', 'all', '--rules', wider, '--compare', saved);
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/OPS-2 .*changed .*~ #1 comment → github\.add_collaborator/);
    expect(table.stdout).toMatch(/1 ticket change behaviour: 1 changed \(1 with actions added, 0 removed, 1 changed\), 0 newly matched, 0 no longer matched; 3 unchanged/);

    const json = deflect('backtest', 'grant-repo-access', '--since', 'all', '--rules', wider, '--compare', saved, '--format', 'json');
    expect(json.status, json.stderr).toBe(0);
    const diff = JSON.parse(json.stdout);
    expect(diff.changes.map((c: { key: string; change: string }) => [c.key, c.change])).toEqual([['OPS-2', 'changed']]);
    expect(diff.summary).toMatchObject({ changed: 1, unchanged: 3 });
  });

  it('sends nothing even with Jira and GitHub credentials configured: the fakes receive no request', { timeout: 60_000 }, async () => {
    const [jira, github] = await Promise.all([startFakeJira(), startFakeGitHub()]);
    try {
      const withCredentials = { ...deflectEnv(database, jira), DEFLECT_RULES: env.DEFLECT_RULES, GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url, PATH: env.PATH };
      // Asynchronous: the fakes run in this process and must be able to answer if anything were sent.
      const result = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) =>
        execFile(process.execPath, [BIN, 'backtest', 'grant-repo-access', '--since', 'all', '--format', 'json'], { env: withCredentials, encoding: 'utf8' }, (error, stdout, stderr) =>
          resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
        ),
      );
      expect(result.status, result.stderr).toBe(0);
      const granted = JSON.parse(result.stdout).tickets.find((t: { key: string }) => t.key === 'OPS-1');
      expect(granted.actions.map((a: { kind: string }) => a.kind)).toEqual(['github.add_collaborator', 'comment', 'transition']);
      expect(jira.requests).toEqual([]);
      expect(github.requests).toEqual([]);
    } finally {
      await Promise.all([jira.close(), github.close()]);
    }
  });

  it('exits 2 for an unknown handler, listing the installed ones, and for a bad option or rule', () => {
    const unknown = deflect('backtest', 'grant-everything');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain(`unknown handler "grant-everything": use one of ${handlers.map((h) => h.name).join(", ")}`);
    expect(deflect('backtest', 'grant-repo-access', '--format', 'xml').status).toBe(2);
    expect(deflect('backtest', 'grant-repo-access', '--since', 'soon').status).toBe(2);
    const type = deflect('backtest', 'grant-repo-access', '--type', 'type:000000000000');
    expect(type.status).toBe(2);
    expect(type.stderr).toMatch(/no request type "type:000000000000" is stored/);
    const rule = deflect('backtest', 'grant-repo-access', '--rule', 'new-repository');
    expect(rule.status).toBe(2);
    expect(rule.stderr).toMatch(/rule "new-repository" routes to create-repository/);
  });

  it('exits 1 with one line for a runtime failure: no database, a file that is not a saved backtest', () => {
    // No database: on SQLite a DEFLECT_DB file that does not exist; on PostgreSQL a DATABASE_URL naming a database
    // that does not exist on the server.
    const missing = onPostgres
      ? { DATABASE_URL: Object.assign(new URL(database.databaseUrl!), { pathname: '/deflect_missing_backtest' }).toString() }
      : { DEFLECT_DB: join(dir, 'missing', 'x.db') };
    const noDb = spawnSync(process.execPath, [BIN, 'backtest', 'grant-repo-access'], { env: { ...env, ...missing }, encoding: 'utf8' });
    expect(noDb.status).toBe(1);
    expect(noDb.stderr.trim().split('\n')).toHaveLength(1);
    expect(noDb.stderr).toMatch(onPostgres ? /^deflect: .*deflect_missing_backtest/ : /^deflect: no database at .*missing.*DEFLECT_DB/);
    const bogus = join(dir, 'bogus.json');
    writeFileSync(bogus, JSON.stringify({ handler: 'grant-repo-access', tickets: [{ key: 'OPS-1' }] }));
    const bad = deflect('backtest', 'grant-repo-access', '--compare', bogus);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toMatch(/^deflect: .*bogus\.json: not a saved backtest: tickets\.0\.actions: /);
  });
});
