/** PostgreSQL twin of `../../health-probe.ts` (not written yet: every function rejects, see `not-yet.ts`). */
import { notOnPostgresYet } from './not-yet.js';

export const healthProbe = notOnPostgresYet('healthProbe');
