/**
 * The kill switch end to end: the real server on loopback with a fake Jira and fake GitHub, the API routes with real
 * tokens (auditor 403, operator 200), and `deflect handlers pause --all` / `resume --all` as a person runs them (a
 * child process on the same database, of the pass's backend: test-backend.ts). Paused = runs wait in the queue and nothing is sent; resumed = they run.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlers } from '../../handlers/index.js';
import { authHeader } from '../support/api-token.js';
import { postWebhook, REPO_ROOT, startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';

const payload = (name: string) => ({ ...JSON.parse(readFileSync(join(REPO_ROOT, 'examples/payloads', name), 'utf8')), timestamp: Date.now() });
function accessRequest(key: string, id: string) {
  const body = payload('01-access-request-created.json');
  Object.assign(body.issue, { id, key, self: body.issue.self.replace('10101', id) });
  return body;
}
const ALL = handlers.map((h) => h.name);

describe('kill switch: pause and resume every handler', () => {
  let jira: FakeJira;
  let github: FakeGitHub;
  let deflect: DeflectUnderTest;
  // Asynchronous: a synchronous child would freeze this process's server (see test/auth/tokens-cli.test.ts).
  const cli = (...args: string[]) =>
    new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'handlers', ...args],
        { env: { PATH: process.env.PATH, ...deflect.database.env }, encoding: 'utf8' },
        (error, stdout, stderr) => resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });
  const statusOf = async (key: string) => (await deflect.database.get<{ status: string }>('SELECT status FROM runs WHERE ticket_key = ?', key))?.status;
  const post = async (path: string, headers: Record<string, string>, body?: unknown) => {
    const response = await fetch(`${deflect.url}${path}`, {
      method: 'POST',
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    jira = await startFakeJira();
    github = await startFakeGitHub();
    for (const key of ['PLAT-301', 'PLAT-302']) jira.seedIssue({ key });
    deflect = await startDeflect({ fakeJira: jira, env: { GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url } });
  });
  afterAll(async () => {
    await deflect?.close(1000);
    await jira?.close();
    await github?.close();
  });

  it('an auditor may read the switch but not press it (403); an operator pauses every handler and runs wait in the queue', async () => {
    const auditor = await authHeader(deflect.db, 'auditor');
    const refused = await post('/api/handlers/pause-all', auditor);
    expect(refused.status).toBe(403);
    expect(refused.json.message).toMatch(/the operator role is required/);
    expect((await post('/api/handlers/resume-all', auditor)).status).toBe(403);
    expect((await deflect.db.listPausedHandlers()).size).toBe(0);
    const read = await fetch(`${deflect.url}/api/handlers/kill-switch`, { headers: auditor });
    expect(await read.json()).toEqual({ state: 'active', paused: [], total: ALL.length, canOperate: false });

    const operator = await authHeader(deflect.db, 'operator');
    const bad = await post('/api/handlers/pause-all', operator, { reason: 'x'.repeat(501) });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/^invalid body: reason/);
    const paused = await post('/api/handlers/pause-all', operator, { reason: 'incident 42' });
    expect(paused).toEqual({ status: 200, json: { state: 'paused', changed: ALL, unchanged: [] } });
    const state = await (await fetch(`${deflect.url}/api/handlers/kill-switch`, { headers: operator })).json();
    expect(state).toEqual({ state: 'paused', paused: ALL, total: ALL.length, canOperate: true });
    const list = (await (await fetch(`${deflect.url}/api/handlers`, { headers: auditor })).json()) as { handlers: Array<{ state: string; pausedReason: string }> };
    expect(list.handlers.every((h) => h.state === 'paused' && h.pausedReason === 'incident 42')).toBe(true);

    const jiraBefore = jira.requests.length;
    await postWebhook(deflect.url, accessRequest('PLAT-301', '30301'));
    await waitFor('the PLAT-301 run to be queued', async () => (await statusOf('PLAT-301')) === 'queued');
    await new Promise((r) => setTimeout(r, 1_500)); // longer than the worker's poll: it would have claimed it by now
    expect(await statusOf('PLAT-301')).toBe('queued');
    expect(jira.requests.slice(jiraBefore)).toEqual([]);
  });

  it('deflect handlers resume --all lets the waiting run act; pause --all pauses again; the API resumes', { timeout: 60_000 }, async () => {
    const resumed = await cli('resume', '--all');
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout.trim()).toBe(`Resumed ${ALL.join(', ')}; their queued runs will run again.`);
    await waitFor('the PLAT-301 run to finish', async () => (await statusOf('PLAT-301')) === 'succeeded', 10_000);
    expect(jira.commentsFor('PLAT-301')).toHaveLength(1);

    const paused = await cli('pause', '--all', '--reason', 'change freeze');
    expect(paused.status, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(new RegExp(`^Paused every handler \\(${ALL.length} now\\)`));
    expect([...(await deflect.db.listPausedHandlers())].sort()).toEqual([...ALL].sort());
    await postWebhook(deflect.url, accessRequest('PLAT-302', '30302'));
    await waitFor('the PLAT-302 run to be queued', async () => (await statusOf('PLAT-302')) === 'queued');

    const both = await cli('pause', 'grant-repo-access', '--all');
    expect(both.status).toBe(2); // bad usage
    expect(both.stderr).toMatch(/give a handler name or --all, not both/);
    const neither = await cli('resume');
    expect(neither.status).toBe(2); // bad usage
    expect(neither.stderr).toMatch(/give a handler name, or --all/);

    const operator = await authHeader(deflect.db, 'operator');
    const api = await post('/api/handlers/resume-all', operator);
    expect(api).toEqual({ status: 200, json: { state: 'active', changed: ALL, unchanged: [] } });
    await waitFor('the PLAT-302 run to finish', async () => (await statusOf('PLAT-302')) === 'succeeded', 10_000);
    const again = await post('/api/handlers/resume-all', operator);
    expect(again.json).toEqual({ state: 'active', changed: [], unchanged: ALL });
  });
});
