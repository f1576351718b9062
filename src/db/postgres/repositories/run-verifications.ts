/** PostgreSQL twin of `../../run-verifications.ts` (not written yet: every function rejects, see `not-yet.ts`). */
import { notOnPostgresYet } from './not-yet.js';

export const runVerifications = notOnPostgresYet('runVerifications');
