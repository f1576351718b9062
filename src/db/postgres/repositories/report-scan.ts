/** PostgreSQL twin of `../../report-scan.ts` (not written yet: every function rejects, see `not-yet.ts`). */
import { notOnPostgresYet } from './not-yet.js';

export const reportScan = notOnPostgresYet('reportScan');
