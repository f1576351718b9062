/** PostgreSQL twin of `../../handler-states.ts` (not written yet: every function rejects, see `not-yet.ts`). */
import { notOnPostgresYet } from './not-yet.js';

export const handlerStates = notOnPostgresYet('handlerStates');
