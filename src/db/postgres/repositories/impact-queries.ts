/** PostgreSQL twin of `../../impact-queries.ts` (not written yet: every function rejects, see `not-yet.ts`). */
import { notOnPostgresYet } from './not-yet.js';

export const impactQueries = notOnPostgresYet('impactQueries');
