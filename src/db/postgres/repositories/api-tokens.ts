/** PostgreSQL twin of `../../api-tokens.ts` (not written yet: every function rejects, see `not-yet.ts`). */
import { notOnPostgresYet } from './not-yet.js';

export const apiTokens = notOnPostgresYet('apiTokens');
