/**
 * A real full disk: deflect (the real server, in this process) keeps its SQLite file on a tiny tmpfs mounted for the
 * test; the test fills that filesystem with a file until the kernel answers ENOSPC. Then `/readyz` must answer 503
 * (free space under DEFLECT_MIN_FREE_BYTES, and the write probe failing with SQLite's "database or disk is full"), and
 * a delivery must not be acknowledged (so Jira retries it). Freeing the space makes deflect ready again, and the
 * same delivery is then accepted. (A read-only database is in health.test.ts: a tmpfs with open files cannot be
 * remounted read-only.)
 *
 * Mounting needs root (CAP_SYS_ADMIN); elsewhere the test skips with a message.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDir, postWebhook, startDeflect, type DeflectUnderTest } from '../support/deflect-under-test.js';
import { tokenResetEvent } from './helpers.js';

const FS_BYTES = 8 * 1024 * 1024;
const MIN_FREE = 1024 * 1024;
const mountPoint = join(freshDir('deflect-diskfull-'), 'fs');

function tryMount(): string | null {
  try {
    mkdirSync(mountPoint, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${FS_BYTES}`, 'tmpfs', mountPoint], { stdio: 'pipe' });
    return null;
  } catch (error) {
    return (error as Error).message.split('\n')[0];
  }
}
const mountError = tryMount();
if (mountError) console.warn(`disk-full test skipped: cannot mount a ${FS_BYTES}-byte tmpfs here (needs root): ${mountError}`);

/** Writes a filler file until the filesystem refuses (ENOSPC). Returns the bytes written. */
function fillDisk(path: string): number {
  const fd = openSync(path, 'w');
  let written = 0;
  try {
    for (const size of [64 * 1024, 4096, 512]) {
      const chunk = Buffer.alloc(size, 1);
      try {
        for (;;) written += writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

describe.skipIf(mountError !== null)('readiness on a full disk (tmpfs)', () => {
  let deflect: DeflectUnderTest;
  const filler = join(mountPoint, 'filler');

  beforeAll(async () => {
    deflect = await startDeflect({ env: { DEFLECT_DB: join(mountPoint, 'deflect.db'), DEFLECT_MIN_FREE_BYTES: String(MIN_FREE) } });
  });
  afterAll(async () => {
    await deflect?.close(500);
    if (!mountError) execFileSync('umount', [mountPoint]);
  });

  it('answers 503 and acknowledges nothing while the disk is full, and recovers when space is freed', async () => {
    const ready = await fetch(`${deflect.url}/readyz`);
    expect(ready.status).toBe(200);
    const event = tokenResetEvent('FULL-1', '91001');
    expect((await postWebhook(deflect.url, event, { identifier: 'full-before' })).status).toBe(200);

    const filled = fillDisk(filler);
    const full = await fetch(`${deflect.url}/readyz`);
    const body = (await full.json()) as { status: string; freeBytes: number; problems: string[] };
    const refused = await postWebhook(deflect.url, tokenResetEvent('FULL-2', '91002'), { identifier: 'full-during' });
    console.log(
      `disk full: ${filled} filler bytes on a ${FS_BYTES}-byte tmpfs; /readyz ${full.status} with ${JSON.stringify(body.problems)}; ` +
        `delivery during the full disk → ${refused.status} ${JSON.stringify(refused.json)}`,
    );
    expect(full.status).toBe(503);
    expect(body.status).toBe('unavailable');
    expect(body.freeBytes).toBeLessThan(MIN_FREE);
    expect(body.problems).toContain('database not writable: database or disk is full');
    expect(body.problems.some((p) => p.startsWith('disk nearly full: '))).toBe(true);
    expect(refused.status).toBeGreaterThanOrEqual(500);
    expect(refused.json.message).toMatch(/not acknowledged/);

    rmSync(filler);
    const recovered = await fetch(`${deflect.url}/readyz`);
    expect(recovered.status).toBe(200);
    // The refused delivery was not stored: Jira's retry is a new delivery, not a duplicate.
    const retried = await postWebhook(deflect.url, tokenResetEvent('FULL-2', '91002'), { identifier: 'full-during' });
    expect(retried).toMatchObject({ status: 200, json: { status: 'accepted' } });
  });
});
