/**
 * Read-only JSON API: `GET /api/reports/top-tickets`, `GET /api/reports/impact` and `GET /api/runs`. Query strings are validated with zod;
 * a bad value answers 400 with the field and the problem. Both take `tracker` (`jira`, `github`, `linear`; repeated
 * or a comma list) to narrow to some trackers; an unknown name answers 400 listing the valid ones.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { RUN_STATUSES } from '../db/runs.js';
import { listAudit } from '../reports/audit.js';
import { parseSince, resolveWindow } from '../reports/report-window.js';
import { parseTrackerFilter } from '../reports/tracker-filter.js';
import { buildImpactReport, REPORT_ROW_ID } from '../reports/impact-report.js';
import { buildTopTicketsReport, type ReportContext } from '../reports/top-tickets-report.js';

const SINCE = /^(all|\d+\s*[hdw])$/i;
const since = z.string().regex(SINCE, 'use a number of days/hours/weeks like 30d, 12h, 2w, or all');
const date = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'use a date like 2026-01-31');
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
  });

const reportQuery = z.object({
  since: since.default('30d'),
  from: date.optional(),
  to: date.optional(),
  top: z.coerce.number().int().min(1).max(1000).default(10),
  project: z.string().trim().min(1).optional(),
  tracker,
});

const impactQuery = z.object({
  since: since.default('90d'),
  from: date.optional(),
  to: date.optional(),
  type: z.string().max(206).regex(REPORT_ROW_ID, 'use a report row id like type:1a2b3c4d5e6f or label:access-request').optional(),
  project: z.string().trim().min(1).optional(),
  tracker,
});

const runsQuery = z.object({
  since: since.default('all'),
  status: z.enum(RUN_STATUSES).optional(),
  handler: z.string().min(1).optional(),
  ticket: z.string().min(1).optional(),
  tracker,
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** A 400 error whose message names the query field. */
function badQuery(error: z.ZodError): Error & { statusCode: number } {
  const message = error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  return Object.assign(new Error(`invalid query: ${message}`), { statusCode: 400 });
}

/** The report window of a parsed query. @throws a 400 error naming the field (`from must be before to`). */
function windowOf(q: { since: string; from?: string; to?: string }) {
  try {
    return resolveWindow(q);
  } catch (error) {
    throw Object.assign(new Error(`invalid query: ${(error as Error).message.replace(/--/g, '')}`), { statusCode: 400 });
  }
}

export async function apiRoutes(app: FastifyInstance, options: { db: Db; report: ReportContext }): Promise<void> {
  app.get('/api/reports/top-tickets', async (request) => {
    const parsed = reportQuery.safeParse(request.query);
    if (!parsed.success) throw badQuery(parsed.error);
    const q = parsed.data;
    return buildTopTicketsReport(options.db, { window: windowOf(q), top: q.top, project: q.project, trackers: q.tracker }, options.report);
  });

  app.get('/api/reports/impact', async (request) => {
    const parsed = impactQuery.safeParse(request.query);
    if (!parsed.success) throw badQuery(parsed.error);
    const q = parsed.data;
    return buildImpactReport(options.db, { window: windowOf(q), typeId: q.type, project: q.project, trackers: q.tracker }, options.report);
  });

  app.get('/api/runs', async (request) => {
    const parsed = runsQuery.safeParse(request.query);
    if (!parsed.success) throw badQuery(parsed.error);
    const q = parsed.data;
    return listAudit(options.db, {
      since: parseSince(q.since).from ?? undefined,
      status: q.status,
      handler: q.handler,
      ticketKey: q.ticket,
      trackers: q.tracker,
      limit: q.limit,
    });
  });
}
