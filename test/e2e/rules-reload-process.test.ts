/**
 * Live reload in a real `deflect serve` process (child process, tsx on the sources): SIGHUP re-reads the rules file
 * without stopping the server (close-with-grace must not treat SIGHUP as a shutdown), the reload is logged with the
 * new version and rule count, and `deflect audit --format json` shows the rules version each run was routed by.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnDeflect, type DeflectProcess } from '../support/deflect-process.js';
import { freshDir, postWebhook, REPO_ROOT, TEST_SECRET, waitFor } from '../support/deflect-under-test.js';

const version = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);
const SHADOW = 'rules:\n  - name: repo-access\n    labels: [access-request]\n    handler: grant-repo-access\n    mode: shadow\n';
const LIVE = 'rules:\n  - name: repo-access\n    labels: [access-request]\n    handler: grant-repo-access\n  - labels: [token-reset]\n    handler: reset-ci-token\n';

describe('rules reload in a deflect serve process', () => {
  let deflect: DeflectProcess;
  let dir: string;
  const audit = () =>
    new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'audit', '--format', 'json', '--since', 'all'],
        { env: { PATH: process.env.PATH, DEFLECT_DB: join(dir, 'deflect.db') }, encoding: 'utf8' },
        (error, stdout, stderr) => resolve({ status: error ? 1 : 0, stdout, stderr }),
      );
    });
  const post = (key: string, id: string, identifier: string) => {
    const body = { ...JSON.parse(readFileSync(join(REPO_ROOT, 'examples/payloads/01-access-request-created.json'), 'utf8')), timestamp: Date.now() };
    Object.assign(body.issue, { id, key, self: body.issue.self.replace('10101', id) });
    return postWebhook(deflect.url, body, { identifier });
  };

  beforeAll(async () => {
    dir = freshDir('deflect-reload-');
    writeFileSync(join(dir, 'rules.yaml'), SHADOW);
    // No tracker credentials: every run is a dry run; the shadow flag still makes the first one `shadow`.
    deflect = await spawnDeflect({ DEFLECT_DB: join(dir, 'deflect.db'), DEFLECT_RULES: join(dir, 'rules.yaml'), DEFLECT_WEBHOOK_SECRET: TEST_SECRET });
  }, 30_000);
  afterAll(async () => {
    await deflect?.kill('SIGTERM');
  });

  it('SIGHUP reloads without a restart, and each run records the version that routed it', { timeout: 60_000 }, async () => {
    expect((await post('PLAT-401', '40401', 'reload-1')).status).toBe(200);
    writeFileSync(join(dir, 'rules.yaml'), LIVE);
    deflect.child.kill('SIGHUP');
    await waitFor('the reload line', () => deflect.output.some((l) => l.includes(`"msg":"rules reloaded: version ${version(LIVE)}, 2 rules"`)), 10_000);
    expect(deflect.child.exitCode).toBeNull();
    expect((await fetch(`${deflect.url}/healthz`)).status).toBe(200);
    expect((await post('PLAT-402', '40402', 'reload-2')).status).toBe(200);

    const runs = await waitFor('both runs to finish', async () => {
      const result = await audit();
      const parsed = result.status === 0 ? (JSON.parse(result.stdout) as { runs: Array<Record<string, any>> }) : null;
      return parsed && parsed.runs.length === 2 && parsed.runs.every((r) => !['queued', 'running'].includes(r.status)) ? parsed.runs : null;
    }, 30_000);
    const byKey = Object.fromEntries(runs.map((r) => [r.ticketKey, r]));
    expect(byKey['PLAT-401']).toMatchObject({ status: 'shadow', shadow: true, rulesVersion: version(SHADOW) });
    expect(byKey['PLAT-402']).toMatchObject({ status: 'planned', shadow: false, rulesVersion: version(LIVE) });
  });
});
