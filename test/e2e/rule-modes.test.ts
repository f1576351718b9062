/**
 * Rule modes and live reload end to end (issue 11): the real server on loopback (started in-process with its log
 * captured), the pass's backend (a real SQLite file or PostgreSQL database: test-backend.ts), a fake Jira and a fake GitHub (real HTTP servers), and a rules file in a temp folder
 * that the test edits while deflect runs:
 * - a `shadow` rule records a run with status `shadow`, its actions `planned`, and the fake Jira and GitHub receive
 *   nothing (not even the input-incomplete comment); the report does not count it as automated;
 * - editing the file to `live` (no restart) makes the next ticket act, and each run records the rules version;
 * - an invalid edit keeps the previous rules and logs each problem with path:line:col;
 * - SIGHUP reloads (sent to this process: startServer installs the handler in-process);
 * - `off` rules never match and say so.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { authHeader } from '../support/api-token.js';
import { EXAMPLE_SITE, freshDir, postWebhook, REPO_ROOT, TEST_SECRET, waitFor } from '../support/deflect-under-test.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { freshDatabase, type TestDatabase } from '../support/test-backend.js';

const payload = (name: string) => ({ ...JSON.parse(readFileSync(join(REPO_ROOT, 'examples/payloads', name), 'utf8')), timestamp: Date.now() });
/** The example access request as ticket `key` / issue id `id`. */
function accessRequest(key: string, id: string) {
  const body = payload('01-access-request-created.json');
  Object.assign(body.issue, { id, key, self: body.issue.self.replace('10101', id) });
  return body;
}
const version = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/** The example rules with `mode` set per rule name (absent = no `mode` line, i.e. live). */
function rulesText(modes: Record<string, string>): string {
  const rule = (name: string, labels: string, handler: string, extra = '') =>
    `  - name: ${name}\n    labels: [${labels}]\n    handler: ${handler}\n${extra}${modes[name] ? `    mode: ${modes[name]}\n` : ''}`;
  // The example access request asks for write, above grant-repo-access's default limit (read) without approval.
  const writeAllowed = '    with: { maxRoleWithoutApproval: write }\n';
  return `rules:\n${rule('repo-access', 'access-request', 'grant-repo-access', writeAllowed)}${rule('ci-token-reset', 'token-reset', 'reset-ci-token')}`;
}

describe('rule modes and live reload', () => {
  let jira: FakeJira;
  let github: FakeGitHub;
  let deflect: RunningServer;
  let database: TestDatabase;
  let rulesPath: string;
  const lines: string[] = [];
  const runsOf = (key: string) => database.all('SELECT * FROM runs WHERE ticket_key = ? ORDER BY id', key);
  const finished = async (key: string) => {
    const rows = await runsOf(key);
    return rows.length > 0 && rows.every((r) => !['queued', 'running'].includes(r.status)) ? rows : null;
  };
  const actionsOf = (runId: number) => database.all<{ kind: string; status: string }>('SELECT kind, status FROM actions WHERE run_id = ? ORDER BY seq', runId);
  const logged = (msg: RegExp) => lines.map((l) => JSON.parse(l) as Record<string, any>).filter((l) => msg.test(String(l.msg)));

  beforeAll(async () => {
    jira = await startFakeJira();
    github = await startFakeGitHub();
    for (const key of ['PLAT-201', 'PLAT-202', 'PLAT-203', 'PLAT-103', 'PLAT-204', 'PLAT-205']) jira.seedIssue({ key });
    rulesPath = join(freshDir('deflect-modes-'), 'rules.yaml');
    writeFileSync(rulesPath, rulesText({ 'repo-access': 'shadow', 'ci-token-reset': 'shadow' }));
    database = await freshDatabase();
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(...String(chunk).split('\n').filter(Boolean)), done()) });
    const config = loadConfig(
      {
        HOST: '127.0.0.1',
        PORT: '0',
        ...database.env,
        DEFLECT_RULES: rulesPath,
        DEFLECT_WEBHOOK_SECRET: TEST_SECRET,
        JIRA_BASE_URL: jira.url,
        JIRA_SITE_URL: EXAMPLE_SITE,
        JIRA_EMAIL: 'bot@example.test',
        JIRA_API_TOKEN: 'test-token',
        JIRA_ACCOUNT_ID: 'deflect-bot',
        GITHUB_TOKEN: github.token,
        GITHUB_API_URL: github.url,
      },
      () => false,
    );
    deflect = await startServer(config, createLogger('info', sink));
  });
  afterAll(async () => {
    await deflect?.close(1000);
    await jira?.close();
    await github?.close();
  });

  it('a shadow rule runs the handler with every action planned, ends shadow, and Jira and GitHub receive nothing', async () => {
    const jiraBefore = jira.requests.length;
    const githubBefore = github.requests.length;
    expect((await postWebhook(deflect.url, accessRequest('PLAT-201', '20201'))).status).toBe(200);
    const [run] = await waitFor('the PLAT-201 run to finish', () => finished('PLAT-201'));
    expect(run.status).toBe('shadow');
    expect(run.shadow).toBe(1);
    expect(run.dry_run).toBe(1);
    expect(run.reason).toMatch(/rule repo-access #1\) in shadow mode$/);
    expect(run.rules_version).toBe(version(readFileSync(rulesPath, 'utf8')));
    const actions = await actionsOf(run.id);
    expect(actions.map((a) => a.kind)).toEqual(['github.add_collaborator', 'comment', 'transition']);
    expect(actions.every((a) => a.status === 'planned')).toBe(true);
    expect(jira.requests.slice(jiraBefore)).toEqual([]);
    expect(github.requests.slice(githubBefore)).toEqual([]);
    expect(jira.commentsFor('PLAT-201')).toHaveLength(0);
  });

  it('a shadow run whose input is incomplete records the comment as planned and sends nothing', async () => {
    const jiraBefore = jira.requests.length;
    await postWebhook(deflect.url, payload('03-token-reset-missing-name.json'));
    const [run] = await waitFor('the PLAT-103 run to finish', () => finished('PLAT-103'));
    expect(run.status).toBe('shadow');
    expect(run.summary).toMatch(/^shadow: input incomplete .*would ask the reporter$/);
    expect(await actionsOf(run.id)).toEqual([{ kind: 'comment', status: 'planned' }]);
    expect(jira.requests.slice(jiraBefore)).toEqual([]);
  });

  it('the audit API shows the shadow status and the rules version', async () => {
    const headers = await authHeader(deflect.db, 'auditor');
    const runs = (await (await fetch(`${deflect.url}/api/runs?status=shadow`, { headers })).json()) as { runs: Array<Record<string, any>> };
    expect(runs.runs.map((r) => r.ticketKey).sort()).toEqual(['PLAT-103', 'PLAT-201']);
    expect(runs.runs.every((r) => r.shadow === true && /^[0-9a-f]{12}$/.test(r.rulesVersion))).toBe(true);
    expect(runs.runs[0].actions.every((a: { status: string }) => a.status === 'planned')).toBe(true);
  });

  it('editing the file to live (no restart) makes the next ticket act, routed by the new version', async () => {
    const text = rulesText({ 'ci-token-reset': 'shadow' });
    writeFileSync(rulesPath, text);
    await waitFor('the reload to be logged', () => logged(new RegExp(`^rules reloaded: version ${version(text)}, 2 rules$`)).length > 0, 5_000);
    expect(deflect.rules.current.version).toBe(version(text));

    await postWebhook(deflect.url, accessRequest('PLAT-202', '20202'));
    const [run] = await waitFor('the PLAT-202 run to finish', () => finished('PLAT-202'));
    expect(run.status).toBe('succeeded');
    expect(run.shadow).toBe(0);
    expect(run.rules_version).toBe(version(text));
    expect((await actionsOf(run.id)).every((a) => a.status === 'applied')).toBe(true);
    expect(github.requestsTo('PUT', '/repos/acme/payments-api/collaborators/jdoe-acme')).toHaveLength(1);
    expect(jira.commentsFor('PLAT-202')).toHaveLength(1);

    // The report counts the live run as automated, never the shadow one (PLAT-201).
    const headers = await authHeader(deflect.db, 'auditor');
    const report = (await (await fetch(`${deflect.url}/api/reports/top-tickets?since=all`, { headers })).json()) as { groups: Array<Record<string, any>> };
    const access = report.groups.find((g) => g.label === 'access-request');
    expect(access, JSON.stringify(report.groups.map((g) => g.label))).toBeDefined();
    expect({ count: access!.count, automated: access!.automated }).toEqual({ count: 2, automated: 1 });
  });

  it('an invalid edit keeps the previous rules and logs every problem with path:line:col', async () => {
    const kept = deflect.rules.current.version;
    writeFileSync(rulesPath, 'rules:\n  - name: repo-access\n    labels: [access-request]\n    handler: grant-repo-access\n    mode: sometimes\n  - labels: [x]\n    handler: no-such-handler\n');
    const [entry] = await waitFor('the rejected reload to be logged', () => {
      const found = logged(/^rules file not reloaded/);
      return found.length > 0 ? found : null;
    }, 5_000);
    expect(entry.level).toBe(50);
    expect(entry.problems).toEqual([expect.stringMatching(new RegExp(`^${rulesPath}:5:11: rules\\.0\\.mode: `))]);
    expect(entry.msg).toContain(`${rulesPath}:5:11`);
    expect(deflect.rules.current.version).toBe(kept);

    // The second problem (an unknown handler) is reported with its own position once the first is fixed.
    const result = await deflect.rules.reload('test');
    expect(result.status).toBe('rejected');
    writeFileSync(rulesPath, 'rules:\n  - labels: [x]\n    handler: no-such-handler\n    mode: live\n');
    const again = await deflect.rules.reload('test');
    expect(again).toEqual({ status: 'rejected', problems: [expect.stringMatching(new RegExp(`^${rulesPath}:3:14: rules\\.0\\.handler: unknown handler "no-such-handler"`))] });
    expect(deflect.rules.current.version).toBe(kept);

    // Still routed by the kept rules: the access request acts.
    await postWebhook(deflect.url, accessRequest('PLAT-203', '20203'));
    const [run] = await waitFor('the PLAT-203 run to finish', () => finished('PLAT-203'));
    expect(run.status).toBe('succeeded');
    expect(run.rules_version).toBe(kept);
  });

  it('SIGHUP reloads the file; an off rule never matches and says so', async () => {
    // Written without waiting for the watcher: SIGHUP must read it whether or not the watch fired first.
    const text = rulesText({ 'repo-access': 'off' });
    writeFileSync(rulesPath, text);
    process.kill(process.pid, 'SIGHUP');
    await waitFor('the SIGHUP reload', () => deflect.rules.current.version === version(text), 5_000);

    await postWebhook(deflect.url, accessRequest('PLAT-204', '20204'), { identifier: 'modes-off' });
    const row = await waitFor('the delivery to be routed', () =>
      database.get<{ status: string; reason: string }>("SELECT status, reason FROM deliveries WHERE webhook_identifier = 'modes-off' AND status != 'pending'"),
    );
    expect(row.status).toBe('ignored');
    expect(row.reason).toContain('rule repo-access #1 is off');
    expect(await runsOf('PLAT-204')).toHaveLength(0);
  });
});
