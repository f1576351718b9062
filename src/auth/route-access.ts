/**
 * Every route's auth decision, in one table. `buildApp` refuses to start when a route is registered that has no row
 * here (see {@link routeAccess}), so a new route cannot ship unprotected by omission.
 *
 * Access levels:
 * - `public`: no authentication (liveness, readiness, the sign-in page, static assets that hold no data);
 * - `webhook`: authenticated by the receiver itself (`X-Hub-Signature`/`X-Deflect-Token` for Jira, `X-Hub-Signature-256` for
 *   GitHub, `Linear-Signature` for Linear, `X-Trello-Webhook` for Trello; src/webhooks/; `X-Slack-Signature` for Slack, src/slack/);
 * - `auditor` | `operator` | `admin`: an API token (`Authorization: Bearer`), a sign-in session cookie, or a trusted
 *   SSO proxy's identity header, whose role is at least this one; 401 without a valid credential, 403 when the
 *   role is too low, both JSON `{ message }`;
 * - `page:<role>`: the same for an HTML page, except that a browser without a session is redirected (303) to
 *   `/signin?next=<the page>` instead of answering 401.
 *
 * Keys are `METHOD url` exactly as registered with fastify (`:param` placeholders). HEAD routes fastify adds for
 * GET routes take the GET row.
 */
import type { Role } from './roles.js';

export type RouteAccess = 'public' | 'webhook' | Role | `page:${Role}`;

export const ROUTE_ACCESS: Readonly<Record<string, RouteAccess>> = Object.freeze({
  // Webhooks: the receiver checks the signature or token (DEFLECT_WEBHOOK_SECRET / DEFLECT_WEBHOOK_TOKEN).
  'POST /webhooks/jira': 'webhook',
  'POST /webhooks/github': 'webhook',
  'POST /webhooks/linear': 'webhook',
  'POST /webhooks/trello': 'webhook',
  // Trello's check of the callback URL when a webhook is created (HEAD, no credentials): answers 200, empty.
  'HEAD /webhooks/trello': 'public',
  // Slack front door: the receiver checks X-Slack-Signature with SLACK_SIGNING_SECRET (src/slack/slack-route.ts).
  'POST /slack/events': 'webhook',
  // Probes: monitors call them without credentials; they answer status, counts and handler names only.
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  // Signing in and out of the pages.
  'GET /signin': 'public',
  'POST /signin': 'public',
  'POST /signout': 'public',
  // Static code and style: no data.
  'GET /assets/chart.umd.js': 'public',
  'GET /assets/report-page.js': 'public',
  'GET /assets/report-format.js': 'public',
  'GET /assets/report-charts.js': 'public',
  'GET /assets/report-table.js': 'public',
  'GET /assets/kill-switch.js': 'public',
  'GET /assets/impact-page.js': 'public',
  'GET /assets/impact-charts.js': 'public',
  'GET /assets/report-page.css': 'public',
  'GET /assets/signin.css': 'public',
  'GET /assets/audit-page.js': 'public',
  'GET /assets/audit-trace.js': 'public',
  'GET /assets/audit-page.css': 'public',
  // The OpenAPI document and Swagger UI (src/routes/openapi.ts): they describe the routes, which are in the
  // repository anyway; no data, configuration or secret. Each operation keeps its own row below.
  'GET /docs': 'public',
  'GET /docs/': 'public',
  'GET /docs/json': 'public',
  'GET /docs/yaml': 'public',
  'GET /docs/static/index.html': 'public',
  'GET /docs/static/swagger-initializer.js': 'public',
  'GET /docs/static/*': 'public',
  // Reading: reports, audit trail, handler health.
  'GET /reports/top-tickets': 'page:auditor',
  'GET /api/reports/top-tickets': 'auditor',
  'GET /api/reports/top-tickets/groups/:id/keys': 'auditor',
  'GET /reports/impact': 'page:auditor',
  'GET /api/reports/impact': 'auditor',
  'GET /api/runs': 'auditor',
  'GET /api/runs/:id': 'auditor',
  'GET /audit': 'page:auditor',
  // The audit chain's state (decision 011): what `deflect audit verify` says, for the audit page.
  'GET /api/audit/chain': 'auditor',
  'GET /api/handlers': 'auditor',
  'GET /api/handlers/kill-switch': 'auditor',
  // Prometheus scrape (src/metrics/): any role; public when DEFLECT_METRICS_PUBLIC=true (see routeAccess).
  'GET /metrics': 'auditor',
  // Operating.
  'POST /api/handlers/:name/pause': 'operator',
  'POST /api/handlers/:name/resume': 'operator',
  'POST /api/handlers/:name/live': 'operator',
  'POST /api/handlers/pause-all': 'operator',
  'POST /api/handlers/resume-all': 'operator',
  'POST /api/runs/:id/retry': 'operator',
  'POST /api/deliveries/:id/replay': 'operator',
  // Managing tokens.
  'GET /api/tokens': 'admin',
  'POST /api/tokens': 'admin',
  'DELETE /api/tokens/:name': 'admin',
});

/** Thrown at start-up for a route that has no row in {@link ROUTE_ACCESS}. */
export class MissingRouteAccessError extends Error {
  constructor(readonly route: string) {
    super(`route ${route} has no auth decision: add a row for it to ROUTE_ACCESS in src/auth/route-access.ts`);
    this.name = 'MissingRouteAccessError';
  }
}

/** The one row `DEFLECT_METRICS_PUBLIC=true` turns `public` (a Prometheus server often scrapes without credentials). */
export const METRICS_ROUTE = 'GET /metrics';

/**
 * The access level of a registered route.
 * @param method as fastify reports it (`GET`, `HEAD`, ...); HEAD falls back to the GET row.
 * @param options.metricsPublic `DEFLECT_METRICS_PUBLIC`: {@link METRICS_ROUTE} is then `public`.
 * @throws MissingRouteAccessError when the table has no row for the route.
 */
export function routeAccess(method: string, url: string, options: { metricsPublic?: boolean } = {}): RouteAccess {
  const upper = method.toUpperCase();
  if (options.metricsPublic && (upper === 'GET' || upper === 'HEAD') && `GET ${url}` === METRICS_ROUTE) return 'public';
  const access = ROUTE_ACCESS[`${upper} ${url}`] ?? (upper === 'HEAD' ? ROUTE_ACCESS[`GET ${url}`] : undefined);
  if (!access) throw new MissingRouteAccessError(`${upper} ${url}`);
  return access;
}

/** The role a protected access level needs, and whether it is a page; null for `public` and `webhook`. */
export function requiredRole(access: RouteAccess): { role: Role; page: boolean } | null {
  if (access === 'public' || access === 'webhook') return null;
  return access.startsWith('page:') ? { role: access.slice(5) as Role, page: true } : { role: access as Role, page: false };
}
