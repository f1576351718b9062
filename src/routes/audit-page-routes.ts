/**
 * The audit page: `GET /audit` (HTML, auditor and up; a browser without a session is sent to `/signin`) and its own
 * assets `/assets/audit-page.js`, `/assets/audit-trace.js`, `/assets/audit-page.css`. It also loads the report page's
 * `report-page.css` and `report-format.js` (served by report-page-routes.ts). Like the report page it is a static
 * shell answered with deflect's strict Content-Security-Policy (no inline script or style): the script reads the
 * filters from the URL, fetches `GET /api/runs` and `GET /api/runs/:id`, and renders with textContent only.
 * The files live in `src/audit/page/` and are read once, at registration, from the package root (tsx and dist alike).
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PACKAGE_ROOT } from '../db/client.js';
import { readAsset } from './report-page-routes.js';
import { signedInPage } from './route-schemas.js';

/** Where the page's own files live. */
export const AUDIT_PAGE_DIR = join(PACKAGE_ROOT, 'src/audit/page');

export async function auditPageRoutes(app: FastifyInstance): Promise<void> {
  const html = readAsset(join(AUDIT_PAGE_DIR, 'audit-page.html'));
  const assets = [
    ['audit-page.js', 'text/javascript; charset=utf-8'],
    ['audit-trace.js', 'text/javascript; charset=utf-8'],
    ['audit-page.css', 'text/css; charset=utf-8'],
  ].map(([name, type]) => ({ name, type, body: readAsset(join(AUDIT_PAGE_DIR, name)) }));

  const page = signedInPage('The audit page', 'HTML; reads the same filters as GET /api/runs (kept in the URL) and fetches it and GET /api/runs/:id (auditor).');

  app.get('/audit', { schema: page }, async (_request, reply) => reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-cache').send(html));
  for (const asset of assets) {
    app.get(`/assets/${asset.name}`, { schema: { hide: true } }, async (_request, reply) => reply.header('content-type', asset.type).header('cache-control', 'no-cache').send(asset.body));
  }
}
