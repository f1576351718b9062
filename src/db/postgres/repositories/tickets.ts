/** PostgreSQL twin of `../../tickets.ts` (not written yet: every function rejects, see `not-yet.ts`). */
import { notOnPostgresYet } from './not-yet.js';

export const tickets = notOnPostgresYet('tickets');
