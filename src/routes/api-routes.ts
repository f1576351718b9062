/**
 * Read-only JSON API: `GET /api/reports/top-tickets` (and its rows' keys, `GET /api/reports/top-tickets/groups/:id/keys`,
 * report-keys-route.ts), `GET /api/reports/impact`, `GET /api/runs` and `GET /api/runs/:id`. Query strings are validated by their zod schemas (api-schemas.ts; the audit filters by
 * reports/audit-filter.ts, the parser the page and `deflect audit` share); a bad value answers 400 with the field and
 * the problem. All take `tracker` (`jira`, `github`, `linear`, `trello`; repeated or a comma list) to narrow to some
 * trackers. `since` takes the one duration grammar (src/duration.ts) or `all`.
 *
 * - `GET /api/runs?since|from|to|handler|rule|outcome|ticket|reporter|tracker|q|cursor|limit`
 *   → `{ runs: AuditRun[], pausedHandlers, demotedHandlers, modeChanges, page: { older, newer }, viewer: { role,
 *   canOperate } }`, newest first; `page.older` / `page.newer` are opaque cursors for `cursor=` (null when there is no
 *   such page); `limit` default 100, at most 1000. `viewer.canOperate`: the caller's role may retry runs and pause
 *   handlers (the page's buttons).
 * - `GET /api/runs/:id` → the run's trace `{ run, delivery, decision, input, actions, approvals, attempts, errors,
 *   verification }` (reports/run-trace.ts), secrets masked; 404 for an unknown run, 400 for an id that is not a number.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { roleAllows } from '../auth/roles.js';
import type { Store } from '../db/store.js';
import { listAudit } from '../reports/audit.js';
import { AuditQueryError, parseAuditQuery } from '../reports/audit-filter.js';
import { buildImpactReport, REPORT_ROW_ID } from '../reports/impact-report.js';
import { resolveWindow } from '../reports/report-window.js';
import { buildRunTrace } from '../reports/run-trace.js';
import { buildTopTicketsReport, type ReportContext } from '../reports/top-tickets-report.js';
import { reportKeysRoute } from './report-keys-route.js';
import { auditTrail, documented, impactQuery, impactReport, reportQuery, runsQuery, runTrace, topTicketsReport } from './api-schemas.js';
import { AUTH_ERRORS, AUTHENTICATED, errorResponses } from './route-schemas.js';

const httpError = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode });

/** The report window of a parsed query. @throws a 400 error naming the field (`from must be before to`). */
function windowOf(q: Parameters<typeof resolveWindow>[0]) {
  try {
    return resolveWindow(q);
  } catch (error) {
    throw httpError(400, `invalid query: ${(error as Error).message.replace(/--/g, '')}`);
  }
}

export async function apiRoutes(instance: FastifyInstance, options: { db: Store; report: ReportContext }): Promise<void> {
  const app = instance.withTypeProvider<ZodTypeProvider>();
  await instance.register(reportKeysRoute, options);
  app.get(
    '/api/reports/top-tickets',
    {
      schema: {
        tags: ['reports'],
        summary: 'The top-tickets report',
        description:
          'Request types and labels ranked by unmet automatable demand over a window (auditor). The same JSON as `deflect report --format json --keys first`: ' +
          'each row lists its newest 1,000 member keys, `keyCount` says how many it has, and `keysNext` is the path of the next page of keys (null when all are listed).',
        security: AUTHENTICATED,
        querystring: reportQuery,
        response: { 200: topTicketsReport, ...errorResponses(400, ...AUTH_ERRORS) },
      },
    },
    async (request) => {
      const q = request.query;
      return await buildTopTicketsReport(options.db, { window: windowOf(q), top: q.top, project: q.project, trackers: q.tracker, keys: 'first' }, options.report);
    },
  );

  app.get(
    '/api/reports/impact',
    {
      schema: {
        tags: ['reports'],
        summary: 'The impact of automation',
        description: 'Per automated request type, before vs after its first automated run (auditor). The same JSON as `deflect impact --format json`.',
        security: AUTHENTICATED,
        querystring: impactQuery,
        response: { 200: impactReport, ...errorResponses(400, ...AUTH_ERRORS) },
      },
    },
    async (request) => {
      const q = request.query;
      if (q.type !== undefined && !REPORT_ROW_ID.test(q.type)) throw httpError(400, 'invalid query: type: use a report row id like type:1a2b3c4d5e6f or label:access-request');
      return documented(impactReport, await buildImpactReport(options.db, { window: windowOf(q), typeId: q.type, project: q.project, trackers: q.tracker }, options.report));
    },
  );

  app.get(
    '/api/runs',
    {
      schema: {
        tags: ['reports'],
        summary: 'The audit trail',
        description: 'Automated runs, newest first, filtered and paged by cursor, with every action they took and their approval steps (auditor). The same JSON as `deflect audit --format json` for one page.',
        security: AUTHENTICATED,
        querystring: runsQuery,
        response: { 200: auditTrail, ...errorResponses(400, ...AUTH_ERRORS) },
      },
    },
    async (request) => {
      let query;
      try {
        query = parseAuditQuery(request.query);
      } catch (error) {
        if (error instanceof AuditQueryError) throw httpError(400, `invalid query: ${error.message}`);
        throw error;
      }
      const role = request.identity?.role ?? null;
      return {
        ...await listAudit(options.db, { ...query.filter, cursor: query.cursor, limit: query.limit ?? 100, jiraBaseUrl: options.report.jiraBaseUrl }),
        viewer: { role, canOperate: role !== null && roleAllows(role, 'operator') },
      };
    },
  );

  app.get(
    '/api/runs/:id',
    {
      schema: {
        tags: ['reports'],
        summary: "A run's trace",
        description: 'Everything recorded about one run: delivery, routing decision, input, actions in order, approvals, attempts and errors, and whether its resolution held (auditor). Secrets masked.',
        security: AUTHENTICATED,
        params: z.object({ id: z.string().max(40).describe('The run id (from `GET /api/runs` or `deflect audit`).') }),
        response: { 200: runTrace, ...errorResponses(400, 404, ...AUTH_ERRORS) },
      },
    },
    async (request) => {
      if (!/^\d{1,15}$/.test(request.params.id) || Number(request.params.id) < 1) {
        throw httpError(400, `invalid run id "${request.params.id.slice(0, 30)}": use the number shown by deflect audit`);
      }
      const trace = await buildRunTrace(options.db, Number(request.params.id), { jiraBaseUrl: options.report.jiraBaseUrl });
      if (!trace) throw httpError(404, `no run #${request.params.id}`);
      return documented(runTrace, trace);
    },
  );
}
