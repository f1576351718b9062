/**
 * `deflect replay --tracker github|linear` posts the example payloads the project ships (`examples/payloads-github`,
 * `examples/payloads-linear`) to a running deflect signed the way each tracker signs (`src/webhooks/sign-delivery.ts`):
 * the real CLI in a child process, the real server on a loopback socket, the fake GitHub and fake Linear holding the
 * issues those payloads are about. Each reaches its handler, which acts on the ticket's own tracker; replaying the same
 * files again is accepted (the event time is refreshed) and acts again; an unknown tracker is refused by name.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { startFakeLinear, type FakeLinear } from '../support/fake-linear.js';
import { REPO_ROOT, startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';

const run = promisify(execFile);
const GITHUB_SECRET = 'replay-github-secret';
const LINEAR_SECRET = 'replay-linear-secret';

describe('deflect replay --tracker with the shipped example payloads', () => {
  let github: FakeGitHub;
  let linear: FakeLinear;
  let deflect: DeflectUnderTest;
  const cli = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'replay', ...args, '--url', deflect.url], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', DEFLECT_GITHUB_WEBHOOK_SECRET: GITHUB_SECRET, DEFLECT_LINEAR_WEBHOOK_SECRET: LINEAR_SECRET },
    });
  const finished = (key: string, count: number) => {
    const rows = deflect.db.sqlite!.$client.prepare("SELECT handler, status FROM runs WHERE ticket_key = ? AND status NOT IN ('queued', 'running') ORDER BY id").all(key) as Array<{ handler: string; status: string }>;
    return rows.length >= count ? rows : null;
  };

  beforeAll(async () => {
    github = await startFakeGitHub();
    linear = await startFakeLinear({ urlKey: 'acme' });
    const gh = JSON.parse(readFileSync(join(REPO_ROOT, 'examples/payloads-github/01-access-request-labeled.json'), 'utf8'));
    github.seedIssue('acme/web', { title: gh.issue.title, body: gh.issue.body, labels: ['access-request'] });
    const lin = JSON.parse(readFileSync(join(REPO_ROOT, 'examples/payloads-linear/01-new-repo-label-added.json'), 'utf8'));
    linear.seedIssue({ id: lin.data.id, teamKey: 'ENG', title: lin.data.title, description: lin.data.description });
    deflect = await startDeflect({
      env: {
        DEFLECT_GITHUB_WEBHOOK_SECRET: GITHUB_SECRET,
        DEFLECT_LINEAR_WEBHOOK_SECRET: LINEAR_SECRET,
        GITHUB_TOKEN: github.token,
        GITHUB_API_URL: github.url,
        LINEAR_API_KEY: linear.apiKey,
        LINEAR_API_URL: linear.url,
      },
    });
  });
  afterAll(async () => {
    await deflect?.close(1000);
    await github?.close();
    await linear?.close();
  });

  it('a GitHub and a Linear example each run their handler on their own tracker, and replay again', { timeout: 60_000 }, async () => {
    const first = await cli('--tracker', 'github', join(REPO_ROOT, 'examples/payloads-github'));
    expect(first.stdout).toMatch(/01-access-request-labeled\.json → 200 \{"status":"accepted"/);
    const linearOut = await cli('--tracker', 'linear', join(REPO_ROOT, 'examples/payloads-linear'), '--fresh-id');
    expect(linearOut.stdout).toMatch(/01-new-repo-label-added\.json → 200 \{"status":"accepted"/);

    expect(await waitFor('the GitHub run', () => finished('acme/web#1', 1), 20_000)).toEqual([{ handler: 'grant-repo-access', status: 'succeeded' }]);
    expect(await waitFor('the Linear run', () => finished('ENG-1', 1), 20_000)).toEqual([{ handler: 'create-repository', status: 'succeeded' }]);
    expect(github.issue('acme/web', 1)!.state).toBe('closed');
    expect(github.issue('acme/web', 1)!.comments).toHaveLength(1);
    const issue = linear.issue('ENG-1')!;
    expect(linear.stateName(issue)).toBe('Done');
    expect(issue.comments).toHaveLength(1);
    const tickets = deflect.db.sqlite!.$client.prepare('SELECT tracker, key FROM tickets ORDER BY tracker').all();
    expect(tickets).toEqual([{ tracker: 'github', key: 'acme/web#1' }, { tracker: 'linear', key: 'ENG-1' }]);

    // The same file again (no --fresh-id): GitHub's issue.updated_at is refreshed, so it is a new delivery, not a duplicate.
    const again = await cli('--tracker', 'github', join(REPO_ROOT, 'examples/payloads-github'));
    expect(again.stdout).toMatch(/→ 200 \{"status":"accepted"/);
    expect(await waitFor('the second GitHub run', () => finished('acme/web#1', 2), 20_000)).toHaveLength(2);
  });

  it('refuses an unknown tracker by name', async () => {
    await expect(cli('--tracker', 'gitlab', join(REPO_ROOT, 'examples/payloads-github'))).rejects.toMatchObject({
      stderr: expect.stringContaining('unknown --tracker "gitlab": use one of jira, github, linear'),
    });
  });
});
