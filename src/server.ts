/**
 * The process that listens: `startServer(config)` opens and migrates the database, loads handlers and rules, connects
 * to Jira (or announces dry run), builds the integrations handlers get (`src/integrations/index.ts`: GitHub, or a note that GitHub handlers will only validate), builds the app, starts the worker, and listens. `deflect serve` calls it and
 * installs signal handling (SIGTERM/SIGINT → graceful close) via close-with-grace.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { handlers } from '../handlers/index.js';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { openDatabase, type Db } from './db/client.js';
import { jiraApiFor } from './jira/jira-api-for.js';
import { describeJiraError } from './jira/jira-client.js';
import type { JiraApi } from './jira/jira-actions.js';
import { createIntegrations } from './integrations/index.js';
import { createTrackerClients } from './trackers/clients.js';
import type { TrackerName } from './trackers/tracker.js';
import { DEFAULT_ESTIMATES, loadRulesConfig, type RulesConfig } from './rules/rules-file.js';
import { Worker } from './worker/worker.js';

export interface RunningServer {
  app: FastifyInstance;
  worker: Worker;
  db: Db;
  /** The URL the server listens on, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** Stops accepting, lets in-flight runs finish (or releases them), closes the database. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Loads the rules (and report estimates) named by the config. No rules file is allowed (every delivery is
 * recorded, none routed).
 * @throws RulesFileError with path:line of the mistake, or when an explicit DEFLECT_RULES file is missing.
 */
export function loadConfiguredRules(config: Config, logger: Logger): RulesConfig {
  if (!config.rulesPath) {
    logger.warn('no rules file (DEFLECT_RULES unset and ./rules.yaml absent): deliveries are recorded but nothing is routed');
    return { rules: [], estimates: DEFAULT_ESTIMATES };
  }
  const loaded = loadRulesConfig(
    config.rulesPath,
    handlers, // (approvals) with their `options` schemas: `with:` is validated at load
  );
  logger.info({ rules: loaded.rules.length, path: config.rulesPath }, 'rules loaded');
  return loaded;
}

/** Thrown by {@link startServer} when webhooks would be accepted from anyone. */
export class WebhookAuthRequiredError extends Error {
  constructor() {
    super(
      'refusing to start: webhooks are not authenticated. Set DEFLECT_WEBHOOK_SECRET (the Secret of the Jira admin webhook) ' +
        'or DEFLECT_WEBHOOK_TOKEN (the X-Deflect-Token of a Jira Automation rule), DEFLECT_GITHUB_WEBHOOK_SECRET (the GitHub ' +
        'webhook secret) or DEFLECT_LINEAR_WEBHOOK_SECRET (the Linear webhook signing secret); for a local trial only, ' +
        'DEFLECT_INSECURE_NO_AUTH=true',
    );
    this.name = 'WebhookAuthRequiredError';
  }
}

/**
 * Refuses a configuration that would let anyone POST deliveries (and so make handlers act: grant access, create
 * repositories), unless DEFLECT_INSECURE_NO_AUTH=true, which starts with a loud warning.
 * @throws WebhookAuthRequiredError naming the variables to set.
 */
export function checkWebhookAuth(
  config: Pick<Config, 'webhookSecrets' | 'webhookTokens' | 'insecureNoAuth'> & Partial<Pick<Config, 'githubWebhookSecrets' | 'linearWebhookSecrets'>>,
  logger: Logger,
): void {
  const configured = [config.webhookSecrets, config.webhookTokens, config.githubWebhookSecrets ?? [], config.linearWebhookSecrets ?? []];
  if (configured.some((list) => list.length > 0)) return;
  if (!config.insecureNoAuth) throw new WebhookAuthRequiredError();
  logger.warn(
    'INSECURE: DEFLECT_INSECURE_NO_AUTH=true and no DEFLECT_WEBHOOK_SECRET or DEFLECT_WEBHOOK_TOKEN: anyone who can reach ' +
      '/webhooks/jira, /webhooks/github or /webhooks/linear can make handlers act. Use this for local trials only; /readyz reports insecureNoAuth: true',
  );
}

/** Starts deflect. Resolves once it listens. @throws WebhookAuthRequiredError (see {@link checkWebhookAuth}). */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  checkWebhookAuth(config, logger);
  const { rules, estimates } = loadConfiguredRules(config, logger);
  const db = openDatabase(config.dbPath);
  logger.info({ db: config.dbPath }, 'database open and migrated');

  let api: JiraApi | null = null;
  let selfAccountId: string | null = null;
  if (config.jira && !config.dryRun) {
    api = jiraApiFor(config.jira, config.jiraTimeoutMs);
    selfAccountId = config.jira.accountId;
    if (!selfAccountId) {
      try {
        const me = await api.getMyself();
        selfAccountId = me.accountId ?? me.name;
      } catch (error) {
        logger.warn(`could not look up deflect's own Jira account (${describeJiraError(error)}); set JIRA_ACCOUNT_ID so its own events are ignored`);
      }
    }
    logger.info({ jira: config.jira.baseUrl, deployment: config.jira.deployment, selfAccountId }, 'Jira connected: actions will be sent');
  } else {
    logger.warn(
      config.jira
        ? 'DRY RUN (DEFLECT_DRY_RUN=true): actions are recorded as planned and nothing is sent to Jira'
        : config.dryRun
          ? 'DRY RUN: no tracker credentials (JIRA_BASE_URL + JIRA_EMAIL + JIRA_API_TOKEN or JIRA_BASE_URL + JIRA_PAT, GITHUB_TOKEN, LINEAR_API_KEY), so actions are recorded as planned and nothing is sent'
          : 'no Jira credentials (JIRA_BASE_URL with JIRA_EMAIL + JIRA_API_TOKEN, or with JIRA_PAT): runs on Jira tickets are dry runs (recorded as planned, nothing sent)',
    );
  }
  // Built once; handlers get them as ctx.integrations. No request is sent here (a bad token shows up on the first call).
  const integrations = createIntegrations(config, logger);
  const trackerClients = createTrackerClients(config, logger);
  // The trackers runs are sent to; a run on another tracker's ticket is queued as a dry run (recorded, not sent).
  const liveTrackers = new Set<TrackerName>(Object.entries(trackerClients).filter(([, c]) => c != null).map(([name]) => name as TrackerName));
  if (api) liveTrackers.add('jira');

  const worker = new Worker({
    db,
    rules,
    handlers,
    api,
    trackerClients,
    liveTrackers,
    integrations,
    logger,
    dryRun: config.dryRun,
    maxAttempts: config.maxAttempts,
    handlerTimeoutMs: config.handlerTimeoutMs,
    concurrency: config.concurrency,
    selfAccountId,
    siteUrl: config.jiraSiteUrl,
    siteAliases: config.jira ? [config.jira.baseUrl] : [],
    maxActionsPerHour: config.maxActionsPerHour,
    pauseAfterFailures: config.pauseAfterFailures,
    retryBaseMs: config.retryBaseMs,
    jiraTimeoutMs: config.jiraTimeoutMs,
    leaseMs: config.runLeaseMs,
    deliveryRetentionMs: config.deliveryRetentionMs,
  });
  const routing = { rules, dryRun: config.dryRun, liveTrackers, maxAttempts: config.maxAttempts, selfAccountId, logger, siteUrl: config.jiraSiteUrl, siteAliases: config.jira ? [config.jira.baseUrl] : [] };
  const app = await buildApp({
    config,
    db,
    logger,
    onDeliveryStored: () => worker.wake(),
    routing,
    report: { rules, estimates, jiraBaseUrl: config.jira?.baseUrl ?? null },
  });
  worker.start();
  const url = await app.listen({ port: config.port, host: config.host });
  logger.info({ url, handlers: handlers.map((h) => h.name) }, 'deflect listening');

  let closing: Promise<void> | null = null;
  return {
    app,
    worker,
    db,
    url,
    close(graceMs = 10_000) {
      closing ??= (async () => {
        await app.close();
        const { finished, released } = await worker.stop(graceMs);
        logger.info({ finished, released }, 'worker stopped');
        db.$client.close();
      })();
      return closing;
    },
  };
}
