/**
 * The report pages: `GET /reports/top-tickets` and `GET /reports/impact` (HTML) and the assets they load, all served by deflect so
 * the page works without any external network:
 * - `/assets/chart.umd.js`: Chart.js's UMD build, read from node_modules (the `chart.js` runtime dependency);
 * - `/assets/report-page.js` (an ES module importing `report-format.js`, `report-charts.js`, `report-table.js`, each
 *   served under `/assets/`) and `/assets/report-page.css`: the page's own script and style (plain files, no build step).
 *
 * The impact page (`impact-page.html`, entry `impact-page.js` with `impact-charts.js`, sharing `report-format.js` and the
 * stylesheet) fetches `GET /api/reports/impact` the same way and renders the `ImpactReport` JSON (src/reports/impact-types.ts).
 *
 * The top-tickets page is a static shell; its script reads the query string (`since`, `from`, `to`, `project`, `tracker`, `top`,
 * the same parameters as the API), fetches `GET /api/reports/top-tickets` with it and renders the `TopTicketsReport` JSON
 * (src/reports/report-types.ts). Filters change the URL (history.pushState), so a view can be shared by its link.
 *
 * The static files live in `src/reports/page/` and are resolved from {@link PACKAGE_ROOT}, because the build compiles
 * only `.ts` files: the same folder serves under tsx and from `dist/`. They are read once, at registration.
 * The page is answered with deflect's strict Content-Security-Policy (`default-src 'self'`, set for every page by the
 * security headers in src/auth/auth-plugin.ts): no inline script or style, no third-party origin; Chart.js styles its
 * canvases through the CSSOM, which the policy allows.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { PACKAGE_ROOT } from '../db/client.js';
import { signedInPage } from './route-schemas.js';

/** Where the page's own files live (resolved from the package root, so tsx and dist serve the same files). */
export const REPORT_PAGE_DIR = join(PACKAGE_ROOT, 'src/reports/page');

/** The page's scripts (ES modules; the first is the entry point the HTML loads). */
export const REPORT_PAGE_SCRIPTS = ['report-page.js', 'report-format.js', 'report-charts.js', 'report-table.js', 'kill-switch.js', 'impact-page.js', 'impact-charts.js'] as const;

/** chart.js's package `exports` hide `dist/chart.umd.js`, so resolve the package entry and take its folder. */
function chartUmdPath(): string {
  const entry = createRequire(import.meta.url).resolve('chart.js'); // …/chart.js/dist/chart.cjs
  return join(dirname(entry), 'chart.umd.js');
}

/**
 * Reads a static file at registration.
 * @throws Error naming the file when it is missing (a broken install or a packaging mistake).
 */
export function readAsset(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the report page asset ${path}: ${(error as Error).message}`, { cause: error });
  }
}

export async function reportPageRoutes(app: FastifyInstance): Promise<void> {
  const html = readAsset(join(REPORT_PAGE_DIR, 'report-page.html'));
  const impactHtml = readAsset(join(REPORT_PAGE_DIR, 'impact-page.html'));
  const scripts = REPORT_PAGE_SCRIPTS.map((name) => [name, readAsset(join(REPORT_PAGE_DIR, name))] as const);
  const style = readAsset(join(REPORT_PAGE_DIR, 'report-page.css'));
  // The source-map comment would make devtools request a map we do not serve.
  const chart = readAsset(chartUmdPath()).replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');

  const send = (reply: FastifyReply, type: string, body: string, cache: string) =>
    reply.header('content-type', type).header('cache-control', cache).send(body);

  // The page is documented (a browser URL people share); its static files are not (code and style, no API).
  const page = signedInPage('The top-tickets report page', 'HTML; reads the same query parameters as GET /api/reports/top-tickets and fetches it (auditor).');

  const asset = { schema: { hide: true } };
  app.get('/reports/top-tickets', { schema: page }, async (_request, reply) => {
    return send(reply, 'text/html; charset=utf-8', html, 'no-cache');
  });
  const impactPage = signedInPage('The impact page', 'HTML; reads the same query parameters as GET /api/reports/impact and fetches it (auditor).');

  app.get('/reports/impact', { schema: impactPage }, async (_request, reply) => send(reply, 'text/html; charset=utf-8', impactHtml, 'no-cache'));
  for (const [name, script] of scripts) {
    app.get(`/assets/${name}`, asset, async (_request, reply) => send(reply, 'text/javascript; charset=utf-8', script, 'no-cache'));
  }
  app.get('/assets/report-page.css', asset, async (_request, reply) => send(reply, 'text/css; charset=utf-8', style, 'no-cache'));
  // Versioned by the installed chart.js; a day of caching is safe across restarts.
  app.get('/assets/chart.umd.js', asset, async (_request, reply) => send(reply, 'text/javascript; charset=utf-8', chart, 'public, max-age=86400'));
}
