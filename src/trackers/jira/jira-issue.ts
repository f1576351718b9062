/**
 * Jira's REST issue (`{ id, key, self?, fields }`, as webhooks, Automation bodies, the search API and JSONL dumps send
 * it) and its mapping to the normalised {@link Ticket}: the one place that knows Jira's issue fields. Dates through
 * `parseJiraDate`, ADF descriptions flattened to text, the site URL taken from `self`
 * (`https://acme.atlassian.net/rest/api/2/issue/10400` → `https://acme.atlassian.net`), the project from
 * `fields.project.key` or else the key's prefix. Field reference:
 * https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-get
 */
import { z } from 'zod';
import { adfToText } from '../../jira/adf-to-text.js';
import { parseJiraDate, type Ticket } from '../../ticket.js';
import { InvalidIssueError } from '../tracker.js';

const named = z.looseObject({ name: z.string().nullish() }).nullish();
export const person = z
  .looseObject({
    accountId: z.string().nullish(),
    name: z.string().nullish(),
    key: z.string().nullish(),
    displayName: z.string().nullish(),
  })
  .nullish();

/** The issue fields deflect reads; everything else passes through untouched. */
export const issueFieldsSchema = z.looseObject({
  summary: z.string().nullish(),
  description: z.union([z.string(), z.looseObject({ type: z.string() })]).nullish(),
  labels: z.array(z.string()).nullish(),
  issuetype: named,
  status: named,
  project: z.looseObject({ key: z.string().nullish() }).nullish(),
  reporter: person,
  created: z.union([z.string(), z.number()]).nullish(),
  updated: z.union([z.string(), z.number()]).nullish(),
  resolutiondate: z.union([z.string(), z.number()]).nullish(),
});

/** An issue in REST shape (`{ id, key, self?, fields }`), as webhooks, Automation and the search API send it. */
export const restIssueSchema = z.looseObject({
  id: z.union([z.string().min(1), z.number()]).transform(String),
  key: z.string().min(1),
  self: z.string().nullish(),
  fields: issueFieldsSchema.default({}),
});


/** Converts a REST-shape issue (webhook, Automation, search result) to the normalised {@link Ticket}. */
export function issueToTicket(issue: z.output<typeof restIssueSchema>): Ticket {
  const f = issue.fields;
  const description = f.description == null ? null : typeof f.description === 'string' ? f.description : adfToText(f.description);
  return {
    id: issue.id,
    key: issue.key,
    project: f.project?.key ?? issue.key.split('-')[0] ?? null,
    issueType: f.issuetype?.name ?? null,
    status: f.status?.name ?? null,
    labels: f.labels ?? null,
    summary: f.summary ?? null,
    description,
    reporter: f.reporter?.displayName ?? f.reporter?.name ?? null,
    reporterId: f.reporter?.accountId ?? f.reporter?.name ?? null,
    created: parseJiraDate(f.created),
    updated: parseJiraDate(f.updated),
    resolved: parseJiraDate(f.resolutiondate),
    siteUrl: siteUrlOf(issue.self),
  };
}

function siteUrlOf(self: string | null | undefined): string | null {
  if (!self) return null;
  const at = self.indexOf('/rest/api/');
  return at > 0 ? self.slice(0, at) : null;
}

/**
 * Validates a REST issue (an unknown value) and converts it to a {@link Ticket}. Extra fields are ignored;
 * `fields.labels` absent gives `labels: null` (unknown), `[]` gives `[]`.
 *
 * @example
 * restIssueToTicket({ id: 10400, key: 'PLAT-7', self: 'https://acme.atlassian.net/rest/api/3/issue/10400',
 *   fields: { summary: 'Reset token', labels: ['token-reset'], created: '2024-03-05T14:22:00.000+0000' } })
 * // → { id: '10400', key: 'PLAT-7', project: 'PLAT', labels: ['token-reset'], created: 1709648520000,
 * //     siteUrl: 'https://acme.atlassian.net', ... }
 * @throws {InvalidIssueError} when the value is not an object with a non-empty `key`, an `id`, and well-typed fields.
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
  return issueToTicket(parsed.data);
}
