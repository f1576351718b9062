/**
 * The app factory: `buildApp({ config, db, logger })` returns a Fastify instance with every route registered,
 * not listening. `server.ts` listens; tests call `buildApp` and `app.inject` or `listen` on a loopback port.
 */
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { join } from 'node:path';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type RouteOptions } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { AuthError, installAuth } from './auth/auth-plugin.js';
import { signInRoutes } from './auth/signin-routes.js';
import { loadConfig, RECEIVER_LIMITS, type Config } from './config.js';
import { PACKAGE_ROOT } from './db/client.js';
import type { Store } from './db/store.js';
import { RecordAndRoute } from './pipeline/record-and-route.js';
import type { RoutingOptions } from './pipeline/route-event.js';
import type { ReportContext } from './reports/top-tickets-report.js';
import { metricsRoute } from './metrics/metrics-route.js';
import { DEFAULT_ESTIMATES } from './rules/rules-file.js';
import { apiRoutes } from './routes/api-routes.js';
import { auditChainRoutes } from './routes/audit-chain-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { registerOpenApi } from './routes/openapi.js';
import { operatorRoutes } from './routes/operator-routes.js';
import { validationMessage } from './routes/route-schemas.js';
import { tokenRoutes } from './routes/token-routes.js';
import { reportPageRoutes } from './routes/report-page-routes.js';
import { auditPageRoutes } from './routes/audit-page-routes.js';
import { TRACKERS } from './trackers/index.js';
import type { TrackerName, WebhookAuthConfig } from './trackers/tracker.js';
import { webhookRoute } from './webhooks/webhook-route.js';
import { SlackFrontDoor, type FrontDoorOptions } from './slack/slack-front-door.js';
import { slackRoute } from './slack/slack-route.js';

export interface BuildAppOptions {
  /** `auth` defaults to the defaults of the environment schema (tokens and sessions only, no proxy). */
  config: Pick<Config, 'webhookSecrets' | 'webhookTokens' | 'bodyLimitBytes'> & Partial<Pick<Config, 'githubWebhookSecrets' | 'linearWebhookSecrets' | 'trelloWebhookSecrets' | 'trello' | 'maxQueueLag' | 'auth' | 'minFreeBytes' | 'insecureNoAuth' | 'maxEventAgeMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs' | 'maxConnections' | 'bodyBytesInFlight' | 'slack'>>;
  db: Store;
  logger: Logger;
  /** Called after a new delivery is committed (the server wakes the worker with it). */
  onDeliveryStored?: () => void;
  /**
   * Rules and settings to route a new delivery with, inside its receipt transaction (record-and-route); without them,
   * deliveries stay `pending` until a worker routes them.
   */
  routing?: RoutingOptions;
  /** Rules, estimates and Jira URL the report uses (default: no rules, default estimates, no links). */
  report?: ReportContext;
  /**
   * (Slack) The front door's parts (rules, handlers, Slack and Jira clients); absent = `/slack/events` answers 401 for
   * every request unless `config.slack.signingSecret` is set, and then only verifies and acknowledges.
   */
  slack?: Omit<FrontDoorOptions, 'db' | 'logger' | 'intake'>;
  /** Sees every route as it is registered, HEAD routes included (tools and tests list the routes with it). */
  onRoute?: (route: RouteOptions) => void;
}

export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const auth = options.config.auth ?? loadConfig({}).auth;
  // Time and connection limits (issue 9): a request (headers and body) must complete within requestTimeoutMs; a socket
  // idle that long is closed; headers must arrive within 10 s (or the request timeout if shorter); idle keep-alive
  // sockets close after keepAliveTimeoutMs. Node checks the request/headers deadlines every
  // `connectionsCheckingInterval` (default 30 s), so that is tightened to 1 s for the deadlines to hold.
  // https://nodejs.org/docs/latest-v20.x/api/http.html#serverrequesttimeout, https://fastify.dev/docs/latest/Reference/Server/
  const limits = { ...RECEIVER_LIMITS, ...definedOnly(options.config) };
  const app = Fastify({
    // Behind configured proxies only: X-Forwarded-For/-Proto then give the client address (rate limits) and TLS (Secure cookie).
    trustProxy: auth.trustedProxies.length > 0 ? auth.trustedProxies : false,
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: options.config.bodyLimitBytes,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: Math.min(10_000, limits.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(1_000, limits.requestTimeoutMs),
    },
    // The receiver logs one line per delivery itself; fastify's two per-request lines would double the log volume.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // A request that fails its zod schema: 400 with the field and the problem (src/routes/route-schemas.ts).
    schemaErrorFormatter: (errors, context) => new Error(validationMessage(errors, context)),
  });
  // Every route's schema is zod (fastify-type-provider-zod): requests are parsed by it, answers serialised through
  // it (fields a response schema does not list are dropped), and @fastify/swagger turns it into /docs/json.
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Beyond this many open sockets the server closes new connections at once (Node `server.maxConnections`).
  app.server.maxConnections = limits.maxConnections;

  // One error handler: messages pass through below 500; from 500 up a generic message (details go to the log).
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    // A page without a session goes to the sign-in form; an API caller learns which scheme to use (RFC 6750 §3).
    if (error instanceof AuthError && error.signIn) return reply.redirect(error.signIn, 303);
    if (error instanceof AuthError && error.statusCode === 401) reply.header('www-authenticate', 'Bearer realm="deflect"');
    const statusCode = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (statusCode >= 500) request.log.error({ err: error }, 'request failed');
    const message =
      statusCode >= 500
        ? 'internal error; the delivery was not acknowledged, so Jira will retry it'
        : error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? `body too large: the limit is ${options.config.bodyLimitBytes} bytes (DEFLECT_BODY_LIMIT)`
          : error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? `unsupported content type "${request.headers['content-type'] ?? ''}": send application/json`
            : error.message;
    return reply.code(statusCode).send({ statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${request.method} ${request.url}` }),
  );

  const observe = options.onRoute;
  if (observe) app.addHook('onRoute', (route) => observe(route));
  // Before any route: the onRoute hook gives every route its auth decision (and refuses routes without one).
  await installAuth(app, { db: options.db, auth });
  // Before any route too: @fastify/swagger collects the routes it documents as they are registered.
  await registerOpenApi(app, { version: PACKAGE_VERSION });

  // One receiver per tracker, sharing one record-and-route step (one group commit for all of them).
  const intake = new RecordAndRoute(options.db, { routing: options.routing, onCommitted: options.onDeliveryStored });
  const webhookAuth = webhookAuthByTracker(options.config);
  for (const tracker of TRACKERS) {
    await app.register(webhookRoute, {
      tracker,
      intake,
      auth: webhookAuth[tracker.name],
      bodyLimitBytes: options.config.bodyLimitBytes,
      maxEventAgeMs: limits.maxEventAgeMs,
      bodyBytesInFlight: limits.bodyBytesInFlight,
    });
  }
  // Slack front door (issue 15): always registered, so an unconfigured one refuses with a 401 naming the secret.
  const signingSecret = options.config.slack?.signingSecret ?? null;
  const frontDoor = signingSecret
    ? new SlackFrontDoor({ slack: null, rules: () => [], handlers: [], jira: null, jiraBaseUrl: null, selfAccountId: null, ...options.slack, db: options.db, logger: options.logger, intake })
    : null;
  await app.register(slackRoute, { signingSecret, frontDoor, bodyLimitBytes: options.config.bodyLimitBytes, command: options.config.slack?.command ?? '/deflect' });
  await app.register(apiRoutes, { db: options.db, report: options.report ?? { rules: [], estimates: DEFAULT_ESTIMATES, jiraBaseUrl: null } });
  await app.register(auditChainRoutes, { db: options.db });
  await app.register(operatorRoutes, { db: options.db, wakeWorker: options.onDeliveryStored, rules: () => options.routing?.liveRules?.current.rules ?? options.routing?.rules ?? [] });
  await app.register(tokenRoutes, { db: options.db });
  await app.register(signInRoutes, { db: options.db, sessionTtlMs: auth.sessionTtlMs });
  await app.register(reportPageRoutes);
  await app.register(auditPageRoutes);
  await app.register(metricsRoute, { db: options.db });
  await app.register(healthRoutes, {
    db: options.db,
    maxQueueLag: options.config.maxQueueLag,
    minFreeBytes: options.config.minFreeBytes,
    auth: {
      webhookSecrets:
        options.config.webhookSecrets.length +
        (options.config.githubWebhookSecrets?.length ?? 0) +
        (options.config.linearWebhookSecrets?.length ?? 0) +
        (options.config.trelloWebhookSecrets?.length ?? 0),
      webhookTokens: options.config.webhookTokens.length,
      insecureNoAuth: options.config.insecureNoAuth ?? false,
    },
    webhooks: Object.fromEntries(
      [
        ...Object.entries(webhookAuth).map(([name, auth]) => [name, auth === null ? 'refused' : auth.secrets.length + auth.tokens.length > 0 ? 'verified' : 'open'] as const),
        ['slack', signingSecret ? 'verified' : 'refused'] as const,
      ],
    ),
  });
  return app;
}

/**
 * Each tracker's webhook authentication: its configured secrets (and Jira's Automation tokens); `null` for a tracker
 * with none, whose route then refuses every delivery. Open (empty lists, no authentication) only with
 * `DEFLECT_INSECURE_NO_AUTH`, or when no tracker has any authentication at all: `deflect serve` refuses to start then
 * (`checkWebhookAuth`), so that case is an app built by a test.
 */
export function webhookAuthByTracker(
  config: Pick<Config, 'webhookSecrets' | 'webhookTokens'> & Partial<Pick<Config, 'githubWebhookSecrets' | 'linearWebhookSecrets' | 'trelloWebhookSecrets' | 'trello' | 'insecureNoAuth' | 'slack'>>,
): Record<TrackerName, WebhookAuthConfig | null> {
  const configured: Record<TrackerName, WebhookAuthConfig> = {
    jira: { secrets: config.webhookSecrets, tokens: config.webhookTokens },
    github: { secrets: config.githubWebhookSecrets ?? [], tokens: [] },
    linear: { secrets: config.linearWebhookSecrets ?? [], tokens: [] },
    // Trello signs the body followed by the callback URL it was registered with.
    trello: { secrets: config.trelloWebhookSecrets ?? [], tokens: [], callbackUrl: config.trello?.callbackUrl ?? null },
  };
  const has = (auth: WebhookAuthConfig) => auth.secrets.length > 0 || auth.tokens.length > 0;
  // A Slack signing secret counts as authentication being set up: the trackers without one then refuse, never open.
  const open = config.insecureNoAuth === true || (!Object.values(configured).some(has) && !config.slack?.signingSecret);
  return Object.fromEntries(
    Object.entries(configured).map(([name, auth]) => [name, has(auth) || open ? auth : null]),
  ) as Record<TrackerName, WebhookAuthConfig | null>;
}

/** The properties of `value` that are not undefined (so defaults fill only what a partial test config omits). */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The package version (package.json), shown in the OpenAPI document. */
const PACKAGE_VERSION = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
