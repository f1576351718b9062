/**
 * Read-only JSON API: `GET /api/reports/top-tickets`, `GET /api/reports/impact`, `GET /api/runs` and
 * `GET /api/runs/:id`. Query strings are
 * validated with zod; a bad value answers 400 with the field and the problem. All take `tracker` (`jira`, `github`,
 * `linear`; repeated or a comma list) to narrow to some trackers; an unknown name answers 400 listing the valid ones.
 *
 * - `GET /api/runs?since|from|to|handler|rule|outcome|ticket|reporter|tracker|q|cursor|limit` (reports/audit-filter.ts)
 *   → `{ runs: AuditRun[], pausedHandlers, page: { older, newer }, viewer: { role, canOperate } }`, newest first;
 *   `page.older` / `page.newer` are opaque cursors for `cursor=` (null when there is no such page); `limit` default
 *   100, at most 1000. `viewer.canOperate`: the caller's role may retry runs and pause handlers (the page's buttons).
 * - `GET /api/runs/:id` → the run's trace `{ run, delivery, decision, input, actions, approvals, attempts, errors }`
 *   (reports/run-trace.ts), secrets masked; 404 for an unknown run, 400 for an id that is not a number.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { roleAllows } from '../auth/roles.js';
import { listAudit } from '../reports/audit.js';
import { AuditQueryError, parseAuditQuery } from '../reports/audit-filter.js';
import { resolveWindow } from '../reports/report-window.js';
import { buildRunTrace } from '../reports/run-trace.js';
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

  const httpError = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode });

  app.get('/api/runs', async (request) => {
    let query;
    try {
      query = parseAuditQuery(request.query);
    } catch (error) {
      if (error instanceof AuditQueryError) throw httpError(400, `invalid query: ${error.message}`);
      throw error;
    }
    const role = request.identity?.role ?? null;
    return {
      ...listAudit(options.db, { ...query.filter, cursor: query.cursor, limit: query.limit ?? 100, jiraBaseUrl: options.report.jiraBaseUrl }),
      viewer: { role, canOperate: role !== null && roleAllows(role, 'operator') },
    };
  });

  app.get<{ Params: { id: string } }>('/api/runs/:id', async (request) => {
    if (!/^\d{1,15}$/.test(request.params.id) || Number(request.params.id) < 1) {
      throw httpError(400, `invalid run id "${request.params.id.slice(0, 30)}": use the number shown by deflect audit`);
    }
    const trace = buildRunTrace(options.db, Number(request.params.id), { jiraBaseUrl: options.report.jiraBaseUrl });
    if (!trace) throw httpError(404, `no run #${request.params.id}`);
    return trace;
  });
}
