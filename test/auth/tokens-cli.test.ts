/**
 * `deflect tokens` as a person runs it (a child process on the test's database, of the pass's backend) against a running server on the same
 * database: create prints the token once (JSON shape), list never shows tokens or hashes, revoke makes the token
 * answer 401 at once.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startDeflect, type DeflectUnderTest } from '../support/deflect-under-test.js';

describe('deflect tokens', () => {
  let deflect: DeflectUnderTest;
  // Asynchronous on purpose: the server runs in this process, and a synchronous child would freeze its event loop
  // past the keep-alive timeout, so fetch would reuse a socket the server was about to close (ECONNRESET).
  const cli = (...args: string[]) =>
    new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'tokens', ...args],
        { env: { PATH: process.env.PATH, ...deflect.database.env }, encoding: 'utf8' },
        (error, stdout, stderr) => resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });
  beforeAll(async () => {
    deflect = await startDeflect();
  });
  afterAll(async () => {
    await deflect?.close();
  });

  it('creates, lists and revokes; the token works until it is revoked', { timeout: 60_000 }, async () => {
    const created = await cli('create', '--name', 'lead-maya', '--role', 'operator', '--format', 'json');
    expect(created.status, created.stderr).toBe(0);
    const issued = JSON.parse(created.stdout);
    expect(Object.keys(issued).sort()).toEqual(['name', 'role', 'token']);
    expect(issued).toMatchObject({ name: 'lead-maya', role: 'operator' });
    expect(issued.token).toMatch(/^dfl_[A-Za-z0-9_-]{43}$/);

    const headers = { authorization: `Bearer ${issued.token}` };
    expect((await fetch(`${deflect.url}/api/handlers`, { headers })).status).toBe(200);
    const pause = await fetch(`${deflect.url}/api/handlers/reset-ci-token/pause`, { method: 'POST', headers });
    expect(pause.status).toBe(200);
    expect((await fetch(`${deflect.url}/api/tokens`, { headers })).status).toBe(403);

    const list = await cli('list');
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toContain('lead-maya');
    expect(list.stdout).toContain('operator');
    const hash = (await deflect.database.get<{ h: string }>("SELECT token_hash AS h FROM api_tokens WHERE name = 'lead-maya'"))!.h;
    const listJson = await cli('list', '--format', 'json');
    for (const output of [list.stdout, listJson.stdout]) {
      expect(output).not.toContain(issued.token);
      expect(output).not.toContain(hash);
    }
    expect(JSON.parse(listJson.stdout).tokens[0]).toMatchObject({ name: 'lead-maya', role: 'operator', revokedAt: null, lastUsedAt: expect.any(String) });

    const revoked = await cli('revoke', 'lead-maya');
    expect(revoked.status, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain('Revoked "lead-maya"');
    const after = await fetch(`${deflect.url}/api/handlers`, { headers });
    expect(after.status).toBe(401);
    expect((await after.json()).message).toMatch(/invalid or revoked API token/);
    expect(JSON.parse((await cli('list', '--format', 'json')).stdout).tokens[0].revokedAt).toEqual(expect.any(String));
  });

  it('says what is wrong with a bad role, a taken name or an unknown token', { timeout: 60_000 }, async () => {
    const badRole = await cli('create', '--name', 'x', '--role', 'root');
    expect(badRole.status).toBe(2); // bad usage
    expect(badRole.stderr).toContain('--role: use one of auditor, operator, admin');
    expect((await cli('create', '--name', 'twice', '--role', 'auditor')).status).toBe(0);
    const twice = await cli('create', '--name', 'twice', '--role', 'auditor');
    expect(twice.status).toBe(1);
    expect(twice.stderr).toContain('a token named "twice" already exists');
    const unknown = await cli('revoke', 'nobody');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('no active token named "nobody"');
  });
});
