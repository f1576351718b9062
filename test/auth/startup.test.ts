/**
 * `deflect serve` as a process: with only Jira and GitHub credentials (no webhook secret or token) it refuses to start
 * and names the variables — so a forged delivery can never reach a handler that grants access. With
 * DEFLECT_INSECURE_NO_AUTH=true it starts with a loud warning and /readyz reports it.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnDeflect, type DeflectProcess } from '../support/deflect-process.js';
import { EXAMPLE_RULES, freshDir, postWebhook, REPO_ROOT } from '../support/deflect-under-test.js';

const CREDENTIALS = {
  JIRA_BASE_URL: 'http://127.0.0.1:9',
  JIRA_EMAIL: 'bot@example.test',
  JIRA_API_TOKEN: 'jira-token',
  JIRA_ACCOUNT_ID: 'deflect-bot',
  GITHUB_TOKEN: 'ghp_example',
  GITHUB_API_URL: 'http://127.0.0.1:9',
};

function runServe(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'serve'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`deflect serve did not exit within 20 s:\n${output}`));
    }, 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('deflect serve without webhook authentication', () => {
  let insecure: DeflectProcess | undefined;
  afterAll(async () => {
    await insecure?.kill('SIGTERM');
  });

  it('refuses to start with only JIRA_* and GITHUB_* set, naming the variables to set', { timeout: 30_000 }, async () => {
    const { code, output } = await runServe({ ...CREDENTIALS, DEFLECT_DB: join(freshDir(), 'refused.db'), DEFLECT_RULES: EXAMPLE_RULES });
    expect(code).toBe(1);
    expect(output).toContain('deflect: refusing to start: webhooks are not authenticated. Set DEFLECT_WEBHOOK_SECRET');
    expect(output).toContain('DEFLECT_WEBHOOK_TOKEN');
    expect(output).not.toContain('deflect listening');
  });

  it('starts with DEFLECT_INSECURE_NO_AUTH=true, warns loudly, and /readyz says so', { timeout: 30_000 }, async () => {
    insecure = await spawnDeflect({ ...CREDENTIALS, DEFLECT_DB: join(freshDir(), 'insecure.db'), DEFLECT_RULES: EXAMPLE_RULES, DEFLECT_INSECURE_NO_AUTH: 'true', DEFLECT_DRY_RUN: 'true' });
    expect(insecure.output.join('\n')).toMatch(/"level":40.*INSECURE: DEFLECT_INSECURE_NO_AUTH=true/);
    const ready = await (await fetch(`${insecure.url}/readyz`)).json();
    expect(ready.insecureNoAuth).toBe(true);
    expect(ready.webhooks).toEqual({ jira: 'open', github: 'open', linear: 'open', trello: 'open', slack: 'refused' });
    // Webhooks are open (that is what the flag means); the API is not.
    const unsigned = await postWebhook(insecure.url, { timestamp: Date.now(), webhookEvent: 'jira:issue_created', issue: { id: '1', key: 'IN-1', fields: { summary: 'x', labels: [] } } }, { secret: null });
    expect(unsigned.status).toBe(200);
    expect((await fetch(`${insecure.url}/api/runs`)).status).toBe(401);
  });

  it('starts with only a GitHub webhook secret; the Jira, Linear and Trello routes then refuse every delivery', { timeout: 30_000 }, async () => {
    const github = await spawnDeflect({ ...CREDENTIALS, DEFLECT_DB: join(freshDir(), 'github-only.db'), DEFLECT_RULES: EXAMPLE_RULES, DEFLECT_GITHUB_WEBHOOK_SECRET: 'gh-secret', DEFLECT_DRY_RUN: 'true' });
    try {
      const ready = await (await fetch(`${github.url}/readyz`)).json();
      expect(ready.webhooks).toEqual({ jira: 'refused', github: 'verified', linear: 'refused', trello: 'refused', slack: 'refused' });
      expect(ready.insecureNoAuth).toBe(false);
      const unsigned = await postWebhook(github.url, { timestamp: Date.now(), webhookEvent: 'jira:issue_created', issue: { id: '1', key: 'IN-1', fields: { summary: 'x', labels: [] } } }, { secret: null });
      expect(unsigned.status).toBe(401);
      expect(unsigned.json.message).toContain('DEFLECT_WEBHOOK_SECRET or DEFLECT_WEBHOOK_TOKEN');
      const linear = await fetch(`${github.url}/webhooks/linear`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(linear.status).toBe(401);
      expect(((await linear.json()) as { message: string }).message).toContain('DEFLECT_LINEAR_WEBHOOK_SECRET');
    } finally {
      await github.kill('SIGTERM');
    }
  });
});
