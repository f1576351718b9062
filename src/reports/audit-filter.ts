/**
 * The audit view's filters as users write them — the query string of `GET /api/runs` and `/audit`, and the options of
 * `deflect audit` — parsed once with zod into a {@link RunFilter} (db/run-search.ts), plus the opaque page cursor.
 *
 * Parameters (all optional):
 * - `since` (`30d`, `12h`, `2w`, `all`; default `all`) or `from` / `to` (`YYYY-MM-DD` or ISO 8601; `to` exclusive):
 *   the same grammar as the report (reports/report-window.ts); `from`/`to` win over `since`;
 * - `handler`, `rule`, `ticket` (display key), `reporter` (name or account id / login, case-insensitive);
 * - `outcome` (alias `status`): run statuses, repeated or a comma list — `succeeded`, `failed`, `dead`, `shadow`,
 *   `awaiting-approval`, `planned`, `skipped`, and also `queued`, `running`, `denied`, `expired` (db/runs.ts
 *   RUN_STATUSES: each outcome word is exactly one status);
 * - `tracker`: `jira`, `github`, `linear`, repeated or a comma list;
 * - `q`: free text (at most 200 characters) matched in run summaries, errors and ticket summaries;
 * - `cursor`: a page's `older` / `newer` cursor; `limit`: runs per page (1..1000).
 */
import { z } from 'zod';
import { MAX_PAGE_LIMIT, MAX_SEARCH_LENGTH, type RunCursor, type RunFilter } from '../db/run-search.js';
import { RUN_STATUSES, type RunStatus } from '../db/runs.js';
import { resolveWindow } from './report-window.js';
import { trackerQuery } from './tracker-filter.js';

/** Thrown for a cursor that deflect did not issue (or that was cut or edited). */
export class InvalidCursorError extends Error {
  constructor() {
    super('invalid cursor: use the "older" or "newer" cursor of a page as it was returned');
    this.name = 'InvalidCursorError';
  }
}

/** A cursor as the API hands it out: base64url of `["o"|"n", createdAt, id]`. Opaque to callers. */
export function encodeCursor(cursor: RunCursor): string {
  return Buffer.from(JSON.stringify([cursor.direction === 'older' ? 'o' : 'n', cursor.createdAt, cursor.id])).toString('base64url');
}

/** @throws InvalidCursorError when `text` is not a cursor {@link encodeCursor} wrote. */
export function decodeCursor(text: string): RunCursor {
  try {
    if (text.length > 100 || !/^[A-Za-z0-9_-]+$/.test(text)) throw new InvalidCursorError();
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(value) || value.length !== 3 || (value[0] !== 'o' && value[0] !== 'n')) throw new InvalidCursorError();
    const [direction, createdAt, id] = value as [string, unknown, unknown];
    if (!Number.isSafeInteger(createdAt) || !Number.isSafeInteger(id) || (id as number) < 0) throw new InvalidCursorError();
    return { direction: direction === 'o' ? 'older' : 'newer', createdAt: createdAt as number, id: id as number };
  } catch {
    throw new InvalidCursorError();
  }
}

/** One value or a repeated/comma list of them, trimmed, empty items dropped. */
const list = z
  .union([z.string().max(500), z.array(z.string().max(500)).max(20)])
  .optional()
  .transform((value) => (value === undefined ? [] : (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean)));

const outcomes = list.pipe(z.array(z.enum(RUN_STATUSES, { error: () => `use one or more of ${RUN_STATUSES.join(', ')}` })));
const text = (max: number) => z.string().trim().min(1).max(max).optional();
const date = z.string().refine((v) => !Number.isNaN(Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v)), 'use a date like 2026-01-31 or an ISO 8601 time');

/** The audit filters' zod schema (query string or CLI options, as strings). */
export const auditQuerySchema = z.object({
  since: z
    .string()
    .regex(/^(all|\d+\s*[hdw])$/i, 'use a number of days/hours/weeks like 30d, 12h, 2w, or all')
    .default('all'),
  from: date.optional(),
  to: date.optional(),
  handler: text(100),
  rule: text(100),
  ticket: text(200),
  reporter: text(200),
  outcome: outcomes,
  status: outcomes,
  tracker: trackerQuery(),
  q: z.string().trim().max(MAX_SEARCH_LENGTH, `at most ${MAX_SEARCH_LENGTH} characters`).optional(),
  cursor: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT).optional(),
});

/** What {@link parseAuditQuery} returns: the filter, the decoded cursor (null = first page) and the page size asked for. */
export interface AuditQuery {
  filter: RunFilter;
  cursor: RunCursor | null;
  limit: number | undefined;
}

/** Thrown by {@link parseAuditQuery}: the message names each bad field (`handler: …; outcome: …`). */
export class AuditQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditQueryError';
  }
}

/**
 * Parses a query string object (or CLI options with the same names) into an {@link AuditQuery}.
 * @throws AuditQueryError naming the fields and what is wrong with each.
 */
export function parseAuditQuery(input: unknown, now = Date.now()): AuditQuery {
  const parsed = auditQuerySchema.safeParse(input ?? {});
  if (!parsed.success) throw new AuditQueryError(parsed.error.issues.map((i) => `${i.path.filter((part) => typeof part === 'string').join('.') || 'query'}: ${i.message}`).join('; '));
  const q = parsed.data;
  let window;
  try {
    window = resolveWindow({ since: q.since, from: q.from, to: q.to }, now);
  } catch (error) {
    throw new AuditQueryError((error as Error).message.replace(/--/g, ''));
  }
  let cursor: RunCursor | null = null;
  if (q.cursor) {
    try {
      cursor = decodeCursor(q.cursor);
    } catch (error) {
      throw new AuditQueryError(`cursor: ${(error as Error).message.replace(/^invalid cursor: /, '')}`);
    }
  }
  const statuses = [...new Set<RunStatus>([...q.outcome, ...q.status])];
  return {
    filter: {
      from: window.from,
      // An open window ends now only when a `to` was given: runs created after the call still belong to "since 30d".
      to: q.to ? window.to : null,
      statuses,
      handler: q.handler,
      rule: q.rule,
      ticketKey: q.ticket,
      reporter: q.reporter,
      trackers: q.tracker,
      text: q.q || undefined,
    },
    cursor,
    limit: q.limit,
  };
}
