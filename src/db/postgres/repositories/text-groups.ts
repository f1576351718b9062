/** PostgreSQL twin of `../../text-groups.ts` (not written yet: every function rejects, see `not-yet.ts`). */
import { notOnPostgresYet } from './not-yet.js';

export const textGroups = notOnPostgresYet('textGroups');
