/**
 * The zod schemas of the read-only JSON API (api-routes.ts): the query strings of `GET /api/reports/top-tickets` and
 * `GET /api/runs`, and their answers, `TopTicketsReport` (src/reports/report-types.ts) and the audit trail
 * (src/reports/audit.ts). The answer schemas are checked against those types where the routes return them (the type
 * provider compares the handler's return type with the 200 schema), so the two cannot drift apart unnoticed.
 */
import { z } from 'zod';
import { RUN_STATUSES } from '../db/runs.js';
import { durationSchema } from '../duration.js';
import { KEYS_PER_PAGE, MAX_KEYS_PAGE } from '../reports/report-keys.js';
import { trackerQuery } from '../reports/tracker-filter.js';
import { TRACKER_NAMES } from '../trackers/tracker.js';

const iso = z.string().describe('ISO 8601 time (UTC).');
const isoOrNull = iso.nullable();
const trackerName = z.enum(TRACKER_NAMES);
const count = z.number().int().min(0);

/** `?since=`: a duration of the one grammar, or `all`. */
const since = (fallback: string) => durationSchema({ allowAll: true }).prefault(fallback);

const date = z
  .string()
  .max(40)
  .refine((v) => !Number.isNaN(Date.parse(v)), 'use a date like 2026-01-31')
  .describe('A date `YYYY-MM-DD` or an ISO 8601 time.');

/** `?tracker=jira&tracker=github` or `?tracker=jira,github` → the trackers; an unknown name is an issue naming the valid ones. */
const tracker = trackerQuery()
  .describe(`Only tickets of these trackers (${TRACKER_NAMES.join(', ')}): repeat the parameter or give a comma list.`);

export const reportQuery = z.object({
  since: since('30d').describe('The window, ending now: a duration (`30d`, `12h`, `2w`) or `all`. Ignored when `from` or `to` is given.'),
  from: date.optional().describe('Window start (inclusive); wins over `since`.'),
  to: date.optional().describe('Window end (exclusive), default now.'),
  top: z.coerce.number().int().min(1).max(1000).default(10).describe('How many rows.'),
  project: z.string().trim().min(1).max(200).optional().describe('Only this project key (Jira) or repository (`owner/name`).'),
  tracker,
});

/** `GET /api/reports/top-tickets/groups/:id/keys` query: the report's own parameters (which report's row), and the page. */
export const reportKeysQuery = reportQuery.extend({
  cursor: z
    .string()
    .min(1)
    .max(8000)
    .optional()
    .describe("Continue a listing: a row's `keysNext` or a page's `next` holds it. With a cursor the page continues that listing (its window, filters and row); the other parameters are then ignored."),
  limit: z.coerce.number().int().min(1).max(MAX_KEYS_PAGE).default(KEYS_PER_PAGE).describe(`Keys per page, 1–${MAX_KEYS_PAGE} (default ${KEYS_PER_PAGE}).`),
});

/**
 * `GET /api/runs` query, as documented: every value is parsed and checked by reports/audit-filter.ts (the same parser
 * as the page and `deflect audit`), which answers 400 naming the field.
 */
const text = (description: string) => z.union([z.string().max(400), z.array(z.string().max(400)).max(20)]).optional().describe(description);
export const runsQuery = z.object({
  since: text('Only runs created within this window: a duration (`30d`, `12h`, `2w`) or `all` (default).'),
  from: text('Only runs created at or after this date (`YYYY-MM-DD` or ISO 8601); wins over `since`.'),
  to: text('Only runs created before this date (exclusive).'),
  outcome: text(`Only runs with these outcomes, comma-separated (${RUN_STATUSES.join(', ')}).`),
  status: text('The old name of `outcome`.'),
  handler: text('Only runs of this handler.'),
  rule: text('Only runs routed by this rule.'),
  ticket: text('Only runs on this ticket (display key: `PLAT-12`, `acme/api#12`, `ENG-12`).'),
  reporter: text("Only runs on this reporter's tickets (name, account id or login)."),
  tracker: text(`Only tickets of these trackers (${TRACKER_NAMES.join(', ')}): repeat the parameter or give a comma list.`),
  q: text('Free text in run summaries, errors and ticket summaries (at most 200 characters).'),
  cursor: text('An opaque page cursor from `page.older` / `page.newer`.'),
  limit: text('Runs per page, 1–1000 (default 100).'),
});

/**
 * `value` typed as the answer `schema` documents. For answers built from interfaces (which TypeScript does not let
 * match a loose object's index signature): the serializer still checks the value against `schema` at run time.
 */
export function documented<S extends z.ZodType>(_schema: S, value: unknown): z.infer<S> {
  return value as z.infer<S>;
}

/** `GET /api/reports/impact` query. */
export const impactQuery = z.object({
  since: since('90d').describe('The window, ending now: a duration (`90d`, `12w`) or `all`. Ignored when `from` or `to` is given.'),
  from: date.optional().describe('Window start (inclusive); wins over `since`.'),
  to: date.optional().describe('Window end (exclusive), default now.'),
  type: z.string().max(206).optional().describe('Only this report row: `type:<hash>` or `label:<label>`.'),
  project: z.string().trim().min(1).max(200).optional().describe('Only this project (Jira project, GitHub `owner/repo`, Linear team).'),
  tracker,
});

/** The impact report (src/reports/impact-types.ts `ImpactReport`); its rows are documented there and in decision 014. */
export const impactReport = z
  .looseObject({
    generatedAt: iso,
    window: z.looseObject({ from: isoOrNull, to: iso }),
    types: z.array(z.looseObject({ id: z.string(), name: z.string() })).describe('Per automated request type: before vs after its automation start.'),
  })
  .describe('The impact of automation per request type (the JSON of `deflect impact --format json`).');

/** A run's trace (src/reports/run-trace.ts `RunTrace`). */
export const runTrace = z
  .looseObject({
    run: z.looseObject({ id: z.number().int(), status: z.string(), handler: z.string(), ticketKey: z.string(), tracker: z.string(), ticketUrl: z.string().nullable() }),
    delivery: z.looseObject({ id: z.number().int(), event: z.string().nullable() }).nullable(),
    decision: z.unknown().describe('The routing decision, its reason and the rules version.'),
    input: z.looseObject({ ticket: z.unknown(), options: z.unknown() }),
    actions: z.array(z.looseObject({ seq: z.number().int(), kind: z.string(), status: z.string(), state: z.string(), idempotencyKey: z.string() })),
    approvals: z.array(z.unknown()),
    attempts: z.looseObject({ count, max: count, manualRetries: count }),
    errors: z.array(z.looseObject({ source: z.string(), message: z.string() })),
    verification: z.unknown().describe('Whether the resolution held (null: the run resolved nothing).'),
  })
  .describe('Everything recorded about one run, in order, secrets masked.');

const trackerCounts = z
  .object(Object.fromEntries(TRACKER_NAMES.map((name) => [name, count.optional()])) as Record<(typeof TRACKER_NAMES)[number], z.ZodOptional<typeof count>>)
  .describe('Tickets per tracker; trackers without tickets left out.');
const ticketLink = z.object({ key: z.string(), tracker: trackerName, url: z.string().nullable() });
const seriesPoint = z.object({ period: z.string().describe('Period start, `YYYY-MM-DD`.'), count });

const reportGroup = z
  .object({
    id: z.string().describe('`type:<hash>` or `label:<label>`.'),
    key: z.string(),
    kind: z.enum(['type', 'label']),
    name: z.string().describe('What to show: the request type or the label.'),
    label: z.string().nullable(),
    merged: z.object({ label: z.string(), typeIds: z.array(z.string()), shared: count }).nullable(),
    count,
    trackers: trackerCounts,
    share: z.number().describe('count / all tickets in the window, 0..1.'),
    previousCount: count.nullable(),
    change: z.number().nullable(),
    series: z.array(seriesPoint),
    medianTimeToResolutionHours: z.number().nullable(),
    p90TimeToResolutionHours: z.number().nullable(),
    automated: count,
    automatedShare: z.number(),
    minutesPerTicket: z.number(),
    hoursSpent: z.number(),
    hoursSaved: z.number(),
    unmetDemandMinutes: z.number().describe('What ranks the rows.'),
    burst: z.boolean(),
    burstReason: z.string().nullable(),
    labels: z.array(z.object({ label: z.string(), count })),
    dominantLabel: z.string().nullable(),
    keyCount: count.describe('How many member keys the row has (= count).'),
    keys: z.array(z.string()).describe('The newest 1,000 member keys at most (`created` descending, then key); the rest from `keysNext`.'),
    keysNext: z
      .string()
      .nullable()
      .describe('The path of the next page of keys, `/api/reports/top-tickets/groups/<id>/keys?cursor=…`; null when `keys` lists them all.'),
    links: z.array(ticketLink).describe('Each key of `keys` with its tracker and web address, in that order.'),
    exampleKeys: z.array(z.string()),
    variants: z.array(z.object({ id: z.string().nullable(), template: z.string(), count, keys: z.array(z.string()).describe('Its keys among the row’s `keys`.') })),
    handler: z.string().nullable(),
  })
  .describe('One row: a request type found by text, or a label group.');

export const topTicketsReport = z
  .object({
    generatedAt: iso,
    window: z.object({ from: isoOrNull, to: iso }),
    project: z.string().nullable(),
    trackers: z.array(trackerName).nullable(),
    totalTickets: count,
    ticketsByTracker: trackerCounts,
    granularity: z.enum(['week', 'month']),
    newestTicket: isoOrNull,
    emptyWindowHint: z.string().nullable(),
    groups: z.array(reportGroup),
    repeatRatio: z.array(z.object({ period: z.string(), tickets: count, repeated: count, ratio: z.number().nullable() })),
    grouping: z.object({ algorithm: z.string().nullable(), currentAlgorithm: z.string(), computedAt: isoOrNull, ticketsSinceGrouping: count, notice: z.string().nullable() }),
    jiraBaseUrl: z.string().nullable(),
  })
  .describe('The top-tickets report (the JSON of `deflect report --format json`).');

/** A page of a report row's member keys (src/reports/report-keys-page.ts `ReportKeysPage`). */
export const reportKeysPage = z
  .object({
    id: z.string().describe('The row: `type:<hash>` or `label:<label>`.'),
    keyCount: count.describe('How many member keys the row has in all.'),
    keys: z.array(z.string()).describe('This page: `created` descending, then key, as the row’s own `keys`.'),
    links: z.array(ticketLink).describe('Each key of `keys` with its tracker and web address, in that order.'),
    variants: z
      .array(z.object({ id: z.string().nullable().describe('The variant (null: its wording repeats nothing).'), keys: z.array(z.string()) }))
      .describe("The page's keys by variant, as the row's `variants[].keys`."),
    next: z.string().nullable().describe('The path of the next page; null after the last key.'),
  })
  .describe("A page of a report row's member keys.");

const auditRun = z.object({
  id: z.number().int(),
  deliveryId: z.number().int(),
  ticketKey: z.string(),
  ticketUrl: z.string().nullable().describe('The ticket in its tracker, when deflect knows the site.'),
  tracker: trackerName,
  handler: z.string(),
  reason: z.string().describe('Why the run was created.'),
  status: z.string().describe(`One of ${RUN_STATUSES.join(', ')}.`),
  dryRun: z.boolean(),
  shadow: z.boolean(),
  rulesVersion: z.string().nullable(),
  replayOf: z.number().int().nullable(),
  manualRetries: count,
  attempts: count,
  durationMs: z.number().nullable(),
  summary: z.string().nullable(),
  applied: z.boolean(),
  error: z.string().nullable(),
  createdAt: iso,
  finishedAt: isoOrNull,
  actions: z.array(
    z.object({
      seq: z.number().int(),
      kind: z.string(),
      status: z.string().describe('`planned`, `started`, `applied` or `failed`.'),
      request: z.unknown().describe('What was sent (as recorded).'),
      response: z.unknown().describe('What came back (as recorded).'),
      error: z.string().nullable(),
      at: iso,
    }),
  ),
  approvals: z.array(
    z.object({
      decision: z.string().describe('`requested`, `approved`, `denied` or `expired`.'),
      by: z.string().nullable(),
      at: iso,
      commentId: z.string().nullable(),
      reason: z.string().nullable(),
      expiresAt: isoOrNull,
    }),
  ),
  verification: z
    .object({ state: z.string(), decidedAt: isoOrNull, evidence: z.string().nullable(), windowEndsAt: iso, feedback: z.string().nullable() })
    .nullable()
    .describe('Whether the resolution held: `pending`, `verified`, `reopened`, `refiled` or `overridden`; null when the run resolved nothing.'),
});

export const auditTrail = z
  .object({
    runs: z.array(auditRun).describe('Newest first.'),
    pausedHandlers: z.array(z.object({ handler: z.string(), pausedAt: iso, reason: z.string().nullable() })),
    demotedHandlers: z.array(z.object({ handler: z.string(), demotedAt: iso, reason: z.string() })).describe('Handlers deflect moved to shadow (verified resolution).'),
    modeChanges: z.array(z.object({ handler: z.string(), mode: z.string(), at: iso, by: z.string(), reason: z.string() })),
    page: z.object({ older: z.string().nullable(), newer: z.string().nullable() }).describe('Opaque cursors for `cursor=`; null when there is no such page.'),
    viewer: z.object({ role: z.string().nullable(), canOperate: z.boolean() }).describe("The caller's role, and whether it may retry runs and pause handlers."),
  })
  .describe('The audit trail: runs with their actions and approvals, and the handlers paused now.');
