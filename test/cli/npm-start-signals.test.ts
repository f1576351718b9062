/**
 * `npm start` forwards SIGTERM to deflect: the script `exec`s node, so npm's signal reaches the server itself, which
 * shuts down gracefully instead of being orphaned and left listening (sh does not forward signals to its child).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/deflect-under-test.js';
import { spawnDeflect } from '../support/deflect-process.js';

const dir = mkdtempSync(join(tmpdir(), 'deflect-npm-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Resolves true when something accepts a TCP connection at `url`'s host and port. */
function listening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

describe('npm start', () => {
  it('SIGTERM to npm stops the server: nothing is left listening', async () => {
    // `npm start` runs the compiled CLI; `npm ci` builds it (prepare), so CI always has it.
    expect(existsSync(join(REPO_ROOT, 'dist/src/cli/main.js')), 'dist/ is missing: run npm run build').toBe(true);
    const deflect = await spawnDeflect({ DEFLECT_DB: join(dir, 'deflect.db'), DEFLECT_WEBHOOK_SECRET: 'npm-start-test' }, 30_000, ['npm', 'start', '--silent']);
    expect(await listening(deflect.url)).toBe(true);
    const exit = await deflect.kill('SIGTERM');
    expect(exit.signal === 'SIGTERM' || exit.code !== null).toBe(true);
    // The graceful shutdown logged by the server itself proves the signal reached it, not only npm.
    expect(deflect.output.some((line) => line.includes('"msg":"shutting down"') && line.includes('SIGTERM'))).toBe(true);
    expect(await listening(deflect.url)).toBe(false);
  });
});
