/** PostgreSQL twin of `../../run-search.ts` (not written yet: every function rejects, see `not-yet.ts`). */
import { notOnPostgresYet } from './not-yet.js';

export const runSearch = notOnPostgresYet('runSearch');
