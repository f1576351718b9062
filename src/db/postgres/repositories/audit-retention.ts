/** PostgreSQL twin of `../../audit-retention.ts` (not written yet: every function rejects, see `not-yet.ts`). */
import { notOnPostgresYet } from './not-yet.js';

export const auditRetention = notOnPostgresYet('auditRetention');
