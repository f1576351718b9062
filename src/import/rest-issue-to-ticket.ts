/**
 * Converting one Jira REST issue (`{ id, key, self?, fields }`, as the search API, JSONL dumps, webhooks
 * and Automation send it) to the normalised {@link Ticket}, from an unknown value.
 *
 * The field mapping itself lives in `src/webhooks/jira-event.ts` (`restIssueSchema` + `issueToTicket`)
 * and is reused here rather than written twice: dates through `parseJiraDate`, ADF descriptions flattened to
 * text, the site URL taken from `self` (`https://acme.atlassian.net/rest/api/2/issue/10400` →
 * `https://acme.atlassian.net`), the project from `fields.project.key` or else the key's prefix.
 */
import { issueToTicket as ticketFromParsedIssue, restIssueSchema } from '../webhooks/jira-event.js';
import type { Ticket } from '../ticket.js';

/** The value is not a Jira REST issue; `message` names the first bad field (`fields.labels: expected array`). */
export class InvalidIssueError extends Error {
  override name = 'InvalidIssueError';
}

/**
 * Validates a REST issue and converts it to a {@link Ticket}. Extra fields are ignored; `fields.labels`
 * absent gives `labels: null` (unknown), `[]` gives `[]`.
 *
 * @example
 * restIssueToTicket({ id: 10400, key: 'PLAT-7', self: 'https://acme.atlassian.net/rest/api/3/issue/10400',
 *   fields: { summary: 'Reset token', labels: ['token-reset'], created: '2024-03-05T14:22:00.000+0000' } })
 * // → { id: '10400', key: 'PLAT-7', project: 'PLAT', labels: ['token-reset'], created: 1709648520000,
 * //     siteUrl: 'https://acme.atlassian.net', ... }
 * @throws {InvalidIssueError} when the value is not an object with a non-empty `key`, an `id`, and
 *   well-typed fields.
 */
export function restIssueToTicket(value: unknown): Ticket {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidIssueError('not a Jira issue: expected a JSON object with "id", "key" and "fields"');
  }
  const parsed = restIssueSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidIssueError(`invalid Jira issue: ${issue.path.join('.') || '(issue)'}: ${issue.message}`);
  }
  return ticketFromParsedIssue(parsed.data);
}
