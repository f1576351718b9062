/**
 * `GET /api/reports/top-tickets/groups/:id/keys?since|from|to|project|tracker|top&cursor&limit` (auditor): a page of
 * one report row's member keys, newest first, for the rows whose keys the report does not list in full (more than
 * 1,000): `{ id, keyCount, keys, links, variants: [{ id, keys }], next }` (src/reports/report-keys-page.ts). A row's
 * `keysNext` in `GET /api/reports/top-tickets` is the path of its second page; each page's `next` the path of the one
 * after, null after the last. Without `cursor` the route answers the row's first page of the report the other
 * parameters ask for (the same as the report's, `top` included: a row's members can depend on it).
 * 400 for a bad parameter, a cursor this deflect did not write or one of another row; 404 for a row the report does
 * not have.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Store } from '../db/store.js';
import { decodeKeysCursor, KeysCursorError, type KeysCursor } from '../reports/report-keys.js';
import { buildKeysPage } from '../reports/report-keys-page.js';
import { resolveWindow } from '../reports/report-window.js';
import type { ReportContext } from '../reports/top-tickets-report.js';
import { reportKeysPage, reportKeysQuery } from './api-schemas.js';
import { AUTH_ERRORS, AUTHENTICATED, errorResponses } from './route-schemas.js';

const httpError = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode });

export async function reportKeysRoute(instance: FastifyInstance, options: { db: Store; report: ReportContext }): Promise<void> {
  const app = instance.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/api/reports/top-tickets/groups/:id/keys',
    {
      schema: {
        tags: ['reports'],
        summary: "A report row's member keys, a page at a time",
        description:
          'The member keys of one row of the top-tickets report, newest first (auditor): follow the row’s `keysNext`, then each page’s `next`. ' +
          'Without `cursor`, the first page of the row in the report the other parameters ask for.',
        security: AUTHENTICATED,
        params: z.object({ id: z.string().min(1).max(1000).describe('The row id: `type:<hash>` or `label:<label>` (URL-encoded).') }),
        querystring: reportKeysQuery,
        response: { 200: reportKeysPage, ...errorResponses(400, 404, ...AUTH_ERRORS) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const q = request.query;
      let cursor: KeysCursor | null = null;
      if (q.cursor !== undefined) {
        try {
          cursor = decodeKeysCursor(q.cursor);
        } catch (error) {
          if (error instanceof KeysCursorError) throw httpError(400, `invalid query: ${error.message}`);
          throw error;
        }
        if (cursor.group !== id) throw httpError(400, `invalid query: cursor: it continues the keys of row "${cursor.group.slice(0, 200)}", not of "${id.slice(0, 200)}"`);
      }
      let window;
      try {
        window = resolveWindow(q);
      } catch (error) {
        throw httpError(400, `invalid query: ${(error as Error).message.replace(/--/g, '')}`);
      }
      const page = await buildKeysPage(options.db, options.report, { id, cursor, limit: q.limit, options: { window, top: q.top, project: q.project, trackers: q.tracker } });
      if (!page) throw httpError(404, `no row "${id.slice(0, 200)}" in the top-tickets report for this window and filters (ids come from GET /api/reports/top-tickets)`);
      return page;
    },
  );
}
