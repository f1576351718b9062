/** PostgreSQL twin of `../../audit-chain.ts` (not written yet: every function rejects, see `not-yet.ts`). */
import { notOnPostgresYet } from './not-yet.js';

export const auditChain = notOnPostgresYet('auditChain');
