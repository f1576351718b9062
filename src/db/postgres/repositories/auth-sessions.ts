/** PostgreSQL twin of `../../auth-sessions.ts` (not written yet: every function rejects, see `not-yet.ts`). */
import { notOnPostgresYet } from './not-yet.js';

export const authSessions = notOnPostgresYet('authSessions');
