/** PostgreSQL twin of `../../import-checkpoints.ts` (not written yet: every function rejects, see `not-yet.ts`). */
import { notOnPostgresYet } from './not-yet.js';

export const importCheckpoints = notOnPostgresYet('importCheckpoints');
