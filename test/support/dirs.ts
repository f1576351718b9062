/** Fresh folders for tests, under the OS temp folder's `deflect-tests/`. */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A new empty folder for one test file's databases. */
export function freshDir(prefix = 'deflect-test-'): string {
  const base = join(tmpdir(), 'deflect-tests');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, prefix));
}
