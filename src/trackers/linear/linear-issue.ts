/**
 * Linear's issue, as webhooks (`data` of an `Issue` event) and the GraphQL API (the fields `linear-api.ts` selects)
 * send it, and its mapping to the normalised {@link Ticket}: the one place that knows Linear's issue fields.
 * Field reference: https://linear.app/developers/graphql (type `Issue`) and the webhook payloads of
 * https://linear.app/developers/webhooks (`data` = the entity as the API serialises it, with `labels: [{ id, name }]`;
 * the API's connection is `labels { nodes { id name } }`; both are read).
 *
 * Mapping: `id` = the issue uuid; `key` = `identifier` (`ENG-12`), else `<team.key>-<number>`, else the identifier in
 * the issue URL; `project` = team key (else the key's prefix); `status` = `state.name`; `labels` = label names, case
 * kept (null when not carried); `summary` = `title`; `reporter` = the creator's name; `created`/`updated`/`resolved`
 * (`completedAt`, else `canceledAt`) in epoch ms; `siteUrl` = `https://linear.app/<workspace url key>` from the URL.
 */
import { z } from 'zod';
import type { Ticket } from '../../ticket.js';
import { InvalidIssueError } from '../tracker.js';

const label = z.looseObject({ id: z.string().nullish(), name: z.string() });
const labelList = z.union([z.array(label), z.looseObject({ nodes: z.array(label) })]).transform((v) => (Array.isArray(v) ? v : v.nodes));
const date = z.string().nullish();

/** The issue fields deflect reads (webhook `data` or GraphQL `Issue`); everything else passes through. */
export const linearIssueSchema = z.looseObject({
  id: z.string().min(1),
  identifier: z.string().min(1).nullish(),
  number: z.number().nullish(),
  title: z.string().nullish(),
  description: z.string().nullish(),
  url: z.string().nullish(),
  createdAt: date,
  updatedAt: date,
  completedAt: date,
  canceledAt: date,
  team: z.looseObject({ id: z.string().nullish(), key: z.string().nullish() }).nullish(),
  state: z.looseObject({ id: z.string().nullish(), name: z.string().nullish(), type: z.string().nullish() }).nullish(),
  labels: labelList.nullish(),
  labelIds: z.array(z.string()).nullish(),
  creator: z.looseObject({ id: z.string().nullish(), name: z.string().nullish() }).nullish(),
  creatorId: z.string().nullish(),
});
export type LinearIssue = z.output<typeof linearIssueSchema>;

/** `https://linear.app/acme/issue/ENG-12/slug` → `https://linear.app/acme`; null when `url` is not a workspace URL. */
export function workspaceUrlOf(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    const urlKey = parsed.pathname.split('/').filter(Boolean)[0];
    return urlKey ? `${parsed.protocol}//${parsed.host}/${urlKey}` : null;
  } catch {
    return null;
  }
}

/** The issue identifier a Linear URL names (`…/issue/ENG-12/slug#comment-1` → `ENG-12`), or null. */
export function identifierInUrl(url: string | null | undefined): string | null {
  const match = /\/issue\/([A-Za-z0-9_]+-\d+)(?:[/#?]|$)/.exec(url ?? '');
  return match ? match[1].toUpperCase() : null;
}

const ms = (value: string | null | undefined): number | null => {
  if (!value) return null;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? null : parsed;
};

/**
 * Converts a parsed issue to a {@link Ticket}. `siteUrl` overrides the workspace read from `issue.url` (a webhook's
 * `data` has no `url`; its envelope has).
 * @throws InvalidIssueError when no display key can be made (no identifier, team key + number, or URL).
 */
export function linearIssueToTicket(issue: LinearIssue, siteUrl: string | null = null, envelopeUrl: string | null = null): Ticket {
  const teamKey = issue.team?.key ?? null;
  const key =
    issue.identifier ?? (teamKey && issue.number != null ? `${teamKey}-${issue.number}` : null) ?? identifierInUrl(issue.url) ?? identifierInUrl(envelopeUrl);
  if (!key) throw new InvalidIssueError('invalid Linear issue: identifier: missing (and no team.key with number, nor an issue URL)');
  return {
    tracker: 'linear',
    id: issue.id,
    key,
    project: teamKey ?? key.split('-')[0] ?? null,
    issueType: null,
    status: issue.state?.name ?? null,
    labels: issue.labels ? issue.labels.map((l) => l.name) : null,
    summary: issue.title ?? null,
    description: issue.description ?? null,
    reporter: issue.creator?.name ?? null,
    reporterId: issue.creator?.id ?? issue.creatorId ?? null,
    created: ms(issue.createdAt),
    updated: ms(issue.updatedAt),
    resolved: ms(issue.completedAt) ?? ms(issue.canceledAt),
    siteUrl: siteUrl ?? workspaceUrlOf(issue.url) ?? workspaceUrlOf(envelopeUrl),
  };
}

/**
 * Validates an issue as the GraphQL API returns it (the import query's selection; JSON dumps of it) and converts it.
 * @throws InvalidIssueError naming the first bad field path (`labels.nodes.0.name: expected string`).
 */
export function restLinearIssueToTicket(value: unknown): Ticket {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidIssueError('not a Linear issue: expected a JSON object with "id" and "identifier"');
  }
  const parsed = linearIssueSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new InvalidIssueError(`invalid Linear issue: ${first.path.join('.') || '(issue)'}: ${first.message}`);
  }
  return linearIssueToTicket(parsed.data);
}
