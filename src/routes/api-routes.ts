/**
 * Read-only JSON API: `GET /api/reports/top-tickets` and `GET /api/runs`. Query strings are validated with zod;
 * a bad value answers 400 with the field and the problem.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { RUN_STATUSES } from '../db/runs.js';
import { listAudit } from '../reports/audit.js';
import { parseSince, topTicketsByLabel } from '../reports/label-report.js';

const sinceSchema = z
  .string()
  .default('30d')
  .refine((v) => v === 'all' || /^\d+\s*[hdw]$/i.test(v), { message: 'use a number of days/hours/weeks like 30d, 12h, 2w, or all' });

const reportQuery = z.object({
  since: sinceSchema,
  top: z.coerce.number().int().min(1).max(1000).default(10),
  project: z.string().min(1).optional(),
});

const runsQuery = z.object({
  since: sinceSchema.default('all'),
  status: z.enum(RUN_STATUSES).optional(),
  handler: z.string().min(1).optional(),
  ticket: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** A 400 error whose message names the query field. */
function badQuery(error: z.ZodError): Error & { statusCode: number } {
  const message = error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  return Object.assign(new Error(`invalid query: ${message}`), { statusCode: 400 });
}

export async function apiRoutes(app: FastifyInstance, options: { db: Db }): Promise<void> {
  app.get('/api/reports/top-tickets', async (request) => {
    const parsed = reportQuery.safeParse(request.query);
    if (!parsed.success) throw badQuery(parsed.error);
    return topTicketsByLabel(options.db, { window: parseSince(parsed.data.since), top: parsed.data.top, project: parsed.data.project });
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
      limit: q.limit,
    });
  });
}
