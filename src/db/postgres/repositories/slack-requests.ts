/** PostgreSQL twin of `../../slack-requests.ts` (not written yet: every function rejects, see `not-yet.ts`). */
import { notOnPostgresYet } from './not-yet.js';

export const slackRequests = notOnPostgresYet('slackRequests');
