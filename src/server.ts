/**
 * The process that listens: `startServer(config)` opens and migrates the database, loads handlers and rules, connects
 * to Jira (or announces dry run), builds the integrations handlers get (`src/integrations/index.ts`: GitHub, or a note that GitHub handlers will only validate), builds the app, starts the worker, and listens. `deflect serve` calls it and
 * installs signal handling (SIGTERM/SIGINT → graceful close) via close-with-grace. The rules are live
 * (`src/rules/live-rules.ts`): the file's folder is watched and SIGHUP re-reads it; routing reads them per event.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { handlers } from '../handlers/index.js';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { openStore } from './db/open-store.js';
import type { Store } from './db/store.js';
import { jiraApiFor } from './jira/jira-api-for.js';
import { describeJiraError } from './jira/jira-client.js';
import type { JiraApi } from './jira/jira-actions.js';
import { createIntegrations } from './integrations/index.js';
import { createTrackerClients } from './trackers/clients.js';
import { lookUpSelfActors } from './trackers/self-actors.js';
import type { TrackerName } from './trackers/tracker.js';
import { readFileSync } from 'node:fs';
import { LiveRules, NO_RULES, snapshotOfText, type RulesSnapshot } from './rules/live-rules.js';
import { RulesFileError } from './rules/rules-file.js';
import { enableProcessMetrics } from './metrics/metrics.js';
import { startReconcileSchedule, type ReconcileSchedule } from './worker/reconcile-schedule.js';
import { Worker } from './worker/worker.js';
import { createGroupDirectory } from './scope/group-directory.js';
import { MembershipCache } from './scope/membership-cache.js';
import { createScopeMessageHandler } from './scope/scope-message-handler.js';
import { createSlackNotifier } from './slack/slack-notifier.js';

export interface RunningServer {
  app: FastifyInstance;
  worker: Worker;
  db: Store;
  /** The rules in force, reloaded when the file changes or on SIGHUP (`rules.reload()` to force). */
  rules: LiveRules;
  /** Scheduled reconcile (`DEFLECT_RECONCILE_EVERY`), or null when off or no tracker has credentials. */
  reconcileSchedule: ReconcileSchedule | null;
  /** The URL the server listens on, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** Stops accepting, lets in-flight runs finish (or releases them), closes the database. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Loads the rules (and report estimates) named by the config, with their version (12 hex of the file's SHA-256).
 * No rules file is allowed (every delivery is recorded, none routed).
 * @throws RulesFileError with path:line:col of the mistake, or when an explicit DEFLECT_RULES file is missing: a bad
 *   file stops start-up (a running process that reloads a bad file keeps its previous rules instead).
 */
export function loadConfiguredRules(config: Config, logger: Logger): RulesSnapshot {
  if (!config.rulesPath) {
    logger.warn('no rules file (DEFLECT_RULES unset and ./rules.yaml absent): deliveries are recorded but nothing is routed');
    return NO_RULES;
  }
  let text: string;
  try {
    text = readFileSync(config.rulesPath, 'utf8');
  } catch (error) {
    throw new RulesFileError(`${config.rulesPath}: cannot read the rules file: ${(error as Error).message} (check DEFLECT_RULES)`);
  }
  const loaded = snapshotOfText(
    text,
    config.rulesPath,
    handlers, // (approvals) with their `options` schemas: `with:` is validated at load
  );
  logger.info({ rules: loaded.rules.length, path: config.rulesPath, version: loaded.version }, 'rules loaded');
  return loaded;
}

/** Thrown by {@link startServer} when webhooks would be accepted from anyone. */
export class WebhookAuthRequiredError extends Error {
  constructor() {
    super(
      'refusing to start: webhooks are not authenticated. Set DEFLECT_WEBHOOK_SECRET (the Secret of the Jira admin webhook) ' +
        'or DEFLECT_WEBHOOK_TOKEN (the X-Deflect-Token of a Jira Automation rule), DEFLECT_GITHUB_WEBHOOK_SECRET (the GitHub ' +
        'webhook secret), DEFLECT_LINEAR_WEBHOOK_SECRET (the Linear webhook signing secret) TRELLO_WEBHOOK_SECRET (the Trello app secret) or SLACK_SIGNING_SECRET (the Slack app); for a local trial only, ' +
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
  config: Pick<Config, 'webhookSecrets' | 'webhookTokens' | 'insecureNoAuth'> & Partial<Pick<Config, 'githubWebhookSecrets' | 'linearWebhookSecrets' | 'trelloWebhookSecrets' | 'slack'>>,
  logger: Logger,
): void {
  const slackSecret = config.slack?.signingSecret ? [config.slack.signingSecret] : [];
  const configured = [config.webhookSecrets, config.webhookTokens, config.githubWebhookSecrets ?? [], config.linearWebhookSecrets ?? [], config.trelloWebhookSecrets ?? [], slackSecret];
  if (configured.some((list) => list.length > 0)) return;
  if (!config.insecureNoAuth) throw new WebhookAuthRequiredError();
  logger.warn(
    'INSECURE: DEFLECT_INSECURE_NO_AUTH=true and no DEFLECT_WEBHOOK_SECRET or DEFLECT_WEBHOOK_TOKEN: anyone who can reach ' +
      '/webhooks/jira, /webhooks/github, /webhooks/linear or /webhooks/trello can make handlers act. Use this for local trials only; /readyz reports insecureNoAuth: true',
  );
}

/**
 * Starts deflect. Resolves once it listens.
 * @throws WebhookAuthRequiredError (see {@link checkWebhookAuth}).
 */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  checkWebhookAuth(config, logger);
  const initialRules = loadConfiguredRules(config, logger);
  const { rules } = initialRules;
  const liveRules = new LiveRules(initialRules, { path: config.rulesPath, knownHandlers: handlers, logger });
  // PostgreSQL: graphile-worker's runner keeps one connection for LISTEN and takes one per job fetch; the rest serve
  // requests and runs (ignored on SQLite).
  const db = await openStore(config, { poolSize: config.concurrency + 4 });
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
          ? 'DRY RUN: no tracker credentials (JIRA_BASE_URL + JIRA_EMAIL + JIRA_API_TOKEN or JIRA_BASE_URL + JIRA_PAT, GITHUB_TOKEN, LINEAR_API_KEY, TRELLO_API_KEY + TRELLO_TOKEN), so actions are recorded as planned and nothing is sent'
          : 'no Jira credentials (JIRA_BASE_URL with JIRA_EMAIL + JIRA_API_TOKEN, or with JIRA_PAT): runs on Jira tickets are dry runs (recorded as planned, nothing sent)',
    );
  }
  // Built once; handlers get them as ctx.integrations. No request is sent here (a bad token shows up on the first call).
  const integrations = createIntegrations(config, logger);
  const trackerClients = createTrackerClients(config, logger);
  // deflect's own accounts, so the events its own actions cause never route again (Jira's: selfAccountId above).
  const selfActors = await lookUpSelfActors(trackerClients, logger);
  // The trackers runs are sent to; a run on another tracker's ticket is queued as a dry run (recorded, not sent).
  const liveTrackers = new Set<TrackerName>(Object.entries(trackerClients).filter(([, c]) => c != null).map(([name]) => name as TrackerName));
  if (api) liveTrackers.add('jira');

  // Rule scope (issue 11): group lookups are cached; an answer arriving wakes the worker to route what waited for it.
  // Slack front door (issue 15): one Web API client; the notifier tells requesters of Slack-filed tickets each outcome.
  // Loaded only when configured (@slack/web-api takes ~0.2 s to load).
  const slackApi = config.slack.botToken ? new (await import('./slack/slack-api.js')).SlackApi({ botToken: config.slack.botToken, apiUrl: config.slack.apiUrl, logger }) : null;
  if (config.slack.signingSecret && !slackApi) logger.warn('SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN is not: Slack requests are verified, but deflect cannot open forms or send messages');
  let wakeWorker = () => {};
  const membership = new MembershipCache({ directory: createGroupDirectory(config), ttlMs: config.scopeCacheTtlMs, logger, onResolved: () => wakeWorker() });
  const worker = new Worker({
    db,
    rules,
    liveRules,
    // The built-in scope-message run reads the rules in force (live reload).
    handlers: [...handlers, createScopeMessageHandler(() => liveRules.current.rules)],
    membership,
    api,
    trackerClients,
    liveTrackers,
    selfActors,
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
    auditRetentionMs: config.auditRetentionMs,
    auditArchiveDir: config.auditArchiveDir,
    verify: config.verify,
    runListeners: slackApi ? [createSlackNotifier({ db, slack: slackApi, logger })] : [],
  });
  wakeWorker = () => worker.wake();
  const routing = { membership, rules, liveRules, dryRun: config.dryRun, liveTrackers, selfActors, maxAttempts: config.maxAttempts, selfAccountId, logger, siteUrl: config.jiraSiteUrl, siteAliases: config.jira ? [config.jira.baseUrl] : [], verify: config.verify };
  const app = await buildApp({
    config,
    db,
    logger,
    onDeliveryStored: () => worker.wake(),
    routing,
    slack: {
      slack: slackApi,
      rules: () => liveRules.current.rules,
      handlers,
      jira: api,
      jiraBaseUrl: config.jira?.baseUrl ?? null,
      selfAccountId,
    },
    // Read per report request, so the report follows reloaded rules too (a rule that is off automates nothing).
    report: {
      get rules() {
        return liveRules.current.rules.filter((r) => r.mode !== 'off');
      },
      get estimates() {
        return liveRules.current.estimates;
      },
      jiraBaseUrl: config.jira?.baseUrl ?? null,
    },
  });
  await worker.start();
  const url = await app.listen({ port: config.port, host: config.host });
  logger.info({ url, handlers: handlers.map((h) => h.name) }, 'deflect listening');
  // Live reload: the file's directory is watched, and SIGHUP re-reads it (the usual "reload your config" signal).
  liveRules.watch();
  const onSighup = () => void liveRules.reload('SIGHUP');
  if (config.rulesPath) process.on('SIGHUP', onSighup);
  // Operations (issue 13): process metrics for /metrics, and reconcile on a timer (stopped first on close).
  enableProcessMetrics();
  const reconcileSchedule = startReconcileSchedule(config, db, logger);

  let closing: Promise<void> | null = null;
  return {
    app,
    worker,
    db,
    reconcileSchedule,
    url,
    rules: liveRules,
    close(graceMs = 10_000) {
      closing ??= (async () => {
        process.off('SIGHUP', onSighup);
        liveRules.close();
        await reconcileSchedule?.stop();
        await app.close();
        const { finished, released } = await worker.stop(graceMs);
        logger.info({ finished, released }, 'worker stopped');
        await db.close();
      })();
      return closing;
    },
  };
}
