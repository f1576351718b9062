/**
 * PostgreSQL twin of `../../health-probe.ts` (the reference).
 *
 * Where it differs, and why: SQLite needs `BEGIN IMMEDIATE` to prove it can take the write lock; on PostgreSQL the
 * one `INSERT … ON CONFLICT DO UPDATE` commits on its own (autocommit, or inside the caller's transaction), which
 * proves the server accepted and committed a write. Errors are the driver's (SQLSTATE in `.code`: `53100` disk full,
 * `25006` read-only transaction, `42P01` no such table before migrations, connection errors).
 * https://www.postgresql.org/docs/15/errcodes-appendix.html
 */
import type { Repositories } from '../../store.js';
import type { PgSession } from '../pg-session.js';

export const healthProbe = (pg: PgSession): Repositories['healthProbe'] => ({
  recordHealthProbe: async (now = Date.now()) => {
    await pg.execute('INSERT INTO health_probe (id, checked_at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at', [now]);
  },
});
