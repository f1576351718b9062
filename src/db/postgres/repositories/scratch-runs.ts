/** PostgreSQL twin of `../../scratch-runs.ts` (not written yet: every function rejects, see `not-yet.ts`). */
import { notOnPostgresYet } from './not-yet.js';

export const scratchRuns = notOnPostgresYet('scratchRuns');
