/**
 * Read-only JSON API: `GET /api/reports/top-tickets` and `GET /api/runs`. Query strings are validated by their zod
 * schemas (api-schemas.ts); a bad value answers 400 with the field and the problem. Both take `tracker` (`jira`,
 * `github`, `linear`; repeated or a comma list) to narrow to some trackers; an unknown name answers 400 listing the
 * valid ones. `since` takes the one duration grammar (src/duration.ts) or `all`.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Db } from '../db/client.js';
import { sinceStart } from '../duration.js';
import { listAudit } from '../reports/audit.js';
import { resolveWindow } from '../reports/report-window.js';
import { buildTopTicketsReport, type ReportContext } from '../reports/top-tickets-report.js';
import { auditTrail, reportQuery, runsQuery, topTicketsReport } from './api-schemas.js';
import { AUTH_ERRORS, AUTHENTICATED, errorResponses } from './route-schemas.js';

export async function apiRoutes(instance: FastifyInstance, options: { db: Db; report: ReportContext }): Promise<void> {
  const app = instance.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/api/reports/top-tickets',
    {
      schema: {
        tags: ['reports'],
        summary: 'The top-tickets report',
        description: 'Request types and labels ranked by unmet automatable demand over a window (auditor). The same JSON as `deflect report --format json`.',
        security: AUTHENTICATED,
        querystring: reportQuery,
        response: { 200: topTicketsReport, ...errorResponses(400, ...AUTH_ERRORS) },
      },
    },
    async (request) => {
      const q = request.query;
      let window;
      try {
        window = resolveWindow(q);
      } catch (error) {
        throw Object.assign(new Error(`invalid query: ${(error as Error).message.replace(/--/g, '')}`), { statusCode: 400 });
      }
      return buildTopTicketsReport(options.db, { window, top: q.top, project: q.project, trackers: q.tracker }, options.report);
    },
  );

  app.get(
    '/api/runs',
    {
      schema: {
        tags: ['reports'],
        summary: 'The audit trail',
        description: 'Automated runs, newest first, with every action they took and their approval steps (auditor). The same JSON as `deflect audit --format json`.',
        security: AUTHENTICATED,
        querystring: runsQuery,
        response: { 200: auditTrail, ...errorResponses(400, ...AUTH_ERRORS) },
      },
    },
    async (request) => {
      const q = request.query;
      return listAudit(options.db, {
        since: sinceStart(q.since) ?? undefined,
        status: q.status,
        handler: q.handler,
        ticketKey: q.ticket,
        trackers: q.tracker,
        limit: q.limit,
      });
    },
  );
}
