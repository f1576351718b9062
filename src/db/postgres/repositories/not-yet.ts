/**
 * Placeholder for a repository module not yet written for PostgreSQL: it contributes no functions, and the
 * PostgreSQL store answers a call to a missing one by rejecting with {@link NotOnPostgresError}, naming it, so a gap
 * is a clear error, never a silent fallback to SQLite.
 */
import type { Repositories } from '../../store.js';
import type { PgSession } from '../pg-session.js';

/** A repository function that has no PostgreSQL implementation yet. */
export class NotOnPostgresError extends Error {
  constructor(name: string) {
    super(`${name} is not implemented on PostgreSQL yet (decision 018); unset DATABASE_URL to use SQLite`);
    this.name = 'NotOnPostgresError';
  }
}

/** A module with no functions yet (see {@link NotOnPostgresError}). */
export function notOnPostgresYet<M extends keyof Repositories>(_module: M): (pg: PgSession) => Repositories[M] {
  return () => ({}) as Repositories[M];
}
