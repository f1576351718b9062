/** PostgreSQL twin of `../../actions.ts` (not written yet: every function rejects, see `not-yet.ts`). */
import { notOnPostgresYet } from './not-yet.js';

export const actions = notOnPostgresYet('actions');
