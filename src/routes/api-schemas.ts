/**
 * The zod schemas of the read-only JSON API (api-routes.ts): the query strings of `GET /api/reports/top-tickets` and
 * `GET /api/runs`, and their answers, `TopTicketsReport` (src/reports/report-types.ts) and the audit trail
 * (src/reports/audit.ts). The answer schemas are checked against those types where the routes return them (the type
 * provider compares the handler's return type with the 200 schema), so the two cannot drift apart unnoticed.
 */
import { z } from 'zod';
import { RUN_STATUSES } from '../db/runs.js';
import { durationSchema } from '../duration.js';
import { parseTrackerFilter } from '../reports/tracker-filter.js';
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
const tracker = z
  .union([z.string().max(200), z.array(z.string().max(200)).max(10)])
  .optional()
  .transform((value, ctx) => {
    try {
      return parseTrackerFilter(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  })
  .describe(`Only tickets of these trackers (${TRACKER_NAMES.join(', ')}): repeat the parameter or give a comma list.`);

export const reportQuery = z.object({
  since: since('30d').describe('The window, ending now: a duration (`30d`, `12h`, `2w`) or `all`. Ignored when `from` or `to` is given.'),
  from: date.optional().describe('Window start (inclusive); wins over `since`.'),
  to: date.optional().describe('Window end (exclusive), default now.'),
  top: z.coerce.number().int().min(1).max(1000).default(10).describe('How many rows.'),
  project: z.string().trim().min(1).max(200).optional().describe('Only this project key (Jira) or repository (`owner/name`).'),
  tracker,
});

export const runsQuery = z.object({
  since: since('all').describe('Only runs created within this window: a duration (`30d`, `12h`, `2w`) or `all`.'),
  status: z.enum(RUN_STATUSES).optional().describe('Only runs with this status.'),
  handler: z.string().min(1).max(200).optional().describe('Only runs of this handler.'),
  ticket: z.string().min(1).max(200).optional().describe('Only runs on this ticket (display key: `PLAT-12`, `acme/api#12`, `ENG-12`).'),
  tracker,
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe('At most this many runs, newest first.'),
});

const trackerCounts = z
  .object({ jira: count.optional(), github: count.optional(), linear: count.optional() })
  .describe('Tickets per tracker; trackers without tickets left out.');
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
    keys: z.array(z.string()),
    links: z.array(z.object({ key: z.string(), tracker: trackerName, url: z.string().nullable() })),
    exampleKeys: z.array(z.string()),
    variants: z.array(z.object({ id: z.string().nullable(), template: z.string(), count, keys: z.array(z.string()) })),
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

const auditRun = z.object({
  id: z.number().int(),
  deliveryId: z.number().int(),
  ticketKey: z.string(),
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
});

export const auditTrail = z
  .object({
    runs: z.array(auditRun).describe('Newest first.'),
    pausedHandlers: z.array(z.object({ handler: z.string(), pausedAt: iso, reason: z.string().nullable() })),
  })
  .describe('The audit trail: runs with their actions and approvals, and the handlers paused now.');
