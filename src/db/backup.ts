/**
 * An online, consistent copy of the SQLite database while `deflect serve` keeps writing, through SQLite's backup API
 * (https://www.sqlite.org/backup.html; better-sqlite3's `Database#backup`, which copies in steps of pages and restarts
 * a step when the source changes underneath). Copying the file with `cp` while the server runs can catch a
 * half-written page or miss the WAL; this cannot.
 *
 * The copy is written to `<target>.partial` and renamed onto `target` only after it passed `PRAGMA integrity_check`,
 * so a crash or a failed check never leaves a file that looks like a backup. The copy is one self-contained file
 * (rollback journal, no `-wal`/`-shm` beside it).
 */
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Db } from './client.js';

/** What {@link backupDatabase} wrote. */
export interface BackupResult {
  /** Absolute or as-given path of the finished copy. */
  target: string;
  /** Size of the copy, bytes. */
  bytes: number;
  /** Database pages copied (page size × pages ≈ bytes). */
  pages: number;
  /** Wall time of the copy and its check, ms. */
  elapsedMs: number;
  /** `PRAGMA integrity_check` on the copy: always `ok` in a result (anything else throws). */
  integrity: 'ok';
}

/**
 * Copies the open database `db` to the new file `target` and checks the copy.
 * @param onProgress called after each step with pages copied so far and the total (pages).
 * @throws Error when `target` exists (nothing is overwritten), when the copy fails (disk full, unwritable folder) or
 *   when the copy fails `PRAGMA integrity_check` (the message quotes SQLite's first finding); the partial file is
 *   removed in every case.
 */
export async function backupDatabase(
  db: Db,
  target: string,
  onProgress?: (copiedPages: number, totalPages: number) => void,
): Promise<BackupResult> {
  if (existsSync(target)) throw new Error(`${target} exists: a backup never overwrites a file (choose a new name or remove it)`);
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  const started = Date.now();
  try {
    const { totalPages } = await db.$client.backup(partial, {
      progress: ({ totalPages: total, remainingPages }) => {
        onProgress?.(total - remainingPages, total);
        // Pages per step: SQLite's default step in better-sqlite3 is 100; larger steps finish a quiet database sooner.
        return 1000;
      },
    });
    // The copy carries the source's WAL mode in its header; a backup is one self-contained file, so switch it to a
    // rollback journal (no -wal/-shm beside it). `deflect serve` turns WAL back on when it opens a restored copy.
    const copy = new Database(partial);
    try {
      copy.pragma('journal_mode = DELETE');
      const finding = copy.pragma('integrity_check', { simple: true }) as string;
      if (finding !== 'ok') throw new Error(`the copy failed PRAGMA integrity_check: ${finding}`);
    } finally {
      copy.close();
    }
    renameSync(partial, target);
    return { target, bytes: statSync(target).size, pages: totalPages, elapsedMs: Date.now() - started, integrity: 'ok' };
  } catch (error) {
    rmSync(partial, { force: true });
    throw new Error(`backup to ${target} failed: ${(error as Error).message}`, { cause: error });
  }
}
