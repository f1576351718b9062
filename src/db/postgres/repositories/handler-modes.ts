/** PostgreSQL twin of `../../handler-modes.ts` (not written yet: every function rejects, see `not-yet.ts`). */
import { notOnPostgresYet } from './not-yet.js';

export const handlerModes = notOnPostgresYet('handlerModes');
