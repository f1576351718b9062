/**
 * The readiness write probe (table `health_probe`, one row): `/readyz` commits a real write on every probe, so
 * "ready" means SQLite could take the write lock, write the WAL and fsync it — not merely that the file opened.
 */
import type { Db } from './client.js';
import { statement } from './statements.js';

/**
 * Commits `checked_at = now` (ms) into row 1 of `health_probe` in an IMMEDIATE transaction.
 * @throws the SQLite error when the database cannot be written (`SQLITE_FULL` "database or disk is full",
 *   `SQLITE_READONLY`, `SQLITE_IOERR`, `SQLITE_BUSY` after the busy timeout, or "no such table" before migrations).
 */
export function recordHealthProbe(db: Db, now = Date.now()): void {
  const write = statement(db, 'INSERT INTO health_probe (id, checked_at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET checked_at = excluded.checked_at');
  db.$client.transaction(() => write.run(now)).immediate();
}
