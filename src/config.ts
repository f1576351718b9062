/**
 * The only module that reads `process.env`. `loadConfig(env)` parses the environment with zod and
 * returns a frozen, typed object; an invalid value stops start-up with every problem listed.
 *
 * @example
 * ```ts
 * const config = loadConfig(process.env); // throws ConfigError listing each bad variable
 * ```
 */
import { existsSync } from 'node:fs';
import proxyAddr from '@fastify/proxy-addr';
import { z } from 'zod';
import { isRole, ROLES, type Role } from './auth/roles.js';
import { booleanFlag, csv, duration, durationOrOff, nonNegativeInt, positiveInt } from './config-fields.js';
import { databaseUrlSetting, type PostgresTarget } from './db/postgres/postgres-config.js';
import { jiraConfigOf, type JiraConfig } from './jira/jira-config.js';
import { trelloConfigOf, trelloListsSetting, type TrelloConfig } from './trackers/trello/trello-config.js';

/** The organization handlers use when a request names none and `GITHUB_ORG` is unset. */
export const DEFAULT_GITHUB_ORG = 'acme';

/** GitHub's REST API root, the default of `GITHUB_API_URL`. */
export const DEFAULT_GITHUB_API_URL = 'https://api.github.com';

/**
 * Defaults of the receiver's limits (also used by `buildApp` when a test passes a partial config).
 * `maxEventAgeMs` 24 h is past Jira's retry window (Jira retries failed deliveries for a few hours at most:
 * https://developer.atlassian.com/cloud/jira/platform/webhooks/#retry-policy).
 */
export const RECEIVER_LIMITS = Object.freeze({
  maxEventAgeMs: 24 * 3_600_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1024,
  bodyBytesInFlight: 32 * 1024 * 1024,
});

/**
 * The environment deflect reads. Every variable is optional; defaults are the embedded-SQLite, dry-run setup.
 *
 * | variable | meaning | default |
 * |---|---|---|
 * | `PORT` / `HOST` | where `deflect serve` listens | `3000` / `0.0.0.0` |
 * | `DEFLECT_DB` | SQLite file | `./data/deflect.db` |
 * | `DATABASE_URL` | PostgreSQL (`postgres://user:pass@host:5432/db`); so far only `deflect migrate` uses it, every other command refuses (decision 018) | none |
 * | `DEFLECT_RULES` | rules file (YAML) | `./rules.yaml` when it exists, else no rules |
 * | `DEFLECT_WEBHOOK_SECRET` | HMAC secret(s) for `X-Hub-Signature`, comma-separated for rotation | none |
 * | `DEFLECT_WEBHOOK_TOKEN` | shared token(s) for Jira Automation's `X-Deflect-Token` header, comma-separated | none |
 * | `DEFLECT_GITHUB_WEBHOOK_SECRET` | secret(s) of the GitHub webhook (`X-Hub-Signature-256`), comma-separated; unset → `/webhooks/github` refuses every delivery | none |
 * | `DEFLECT_LINEAR_WEBHOOK_SECRET` | signing secret(s) of the Linear webhook (`Linear-Signature`), comma-separated; unset → `/webhooks/linear` refuses every delivery | none |
 * | `LINEAR_API_KEY` | Linear API key deflect acts with (comments, states, labels) and imports with; unset → runs on Linear tickets are dry runs | none |
 * | `LINEAR_API_URL` | Linear GraphQL endpoint | `https://api.linear.app/graphql` |
 * | `TRELLO_API_KEY`, `TRELLO_TOKEN` | Trello app key and member token deflect acts (comments, lists, labels) and imports with; both or neither; unset → runs on Trello cards are dry runs | none |
 * | `TRELLO_WEBHOOK_SECRET` | the Trello app's secret (`X-Trello-Webhook`), comma-separated; unset → `/webhooks/trello` refuses every delivery; needs `DEFLECT_PUBLIC_URL` | none |
 * | `DEFLECT_PUBLIC_URL` | the URL deflect is reached at from outside; Trello's callback URL is this + `/webhooks/trello` (signed by Trello) | none |
 * | `TRELLO_API_URL` | Trello REST API root | `https://api.trello.com` |
 * | `DEFLECT_TRELLO_LISTS` | which Trello list each status means, `status:list,…` (list name or id), e.g. `open:To Do,done:Done` | none (status names = list names) |
 * | `JIRA_BASE_URL`, `JIRA_EMAIL`, `JIRA_API_TOKEN` | Jira Cloud site and API token (REST v3, basic auth); all three or none | none → dry run |
 * | `JIRA_PAT` | Jira Data Center personal access token (with `JIRA_BASE_URL`, instead of `JIRA_EMAIL` + `JIRA_API_TOKEN`): REST v2, `Authorization: Bearer` | none |
 * | `JIRA_ACCOUNT_ID` | the service account's accountId (skips a `/myself` call at start-up) | looked up |
 * | `DEFLECT_DRY_RUN` | force dry run even with credentials | `false` |
 * | `DEFLECT_BODY_LIMIT` | largest accepted webhook body, bytes | `5242880` (5 MiB) |
 * | `DEFLECT_HANDLER_TIMEOUT_MS` | per-run handler timeout, ms | `30000` |
 * | `DEFLECT_MAX_ATTEMPTS` | attempts before a run is dead-lettered | `5` |
 * | `DEFLECT_CONCURRENCY` | runs executed at once (never two for one ticket) | `4` |
 * | `DEFLECT_RETRY_BASE_MS` | backoff ceiling of the first retry, ms; doubles per attempt (jittered, capped at 5 min, never below Jira's `Retry-After`) | `1000` |
 * | `JIRA_TIMEOUT_MS` | per-request timeout of Jira REST calls, ms; a write that timed out is retried no sooner than this | `10000` |
 * | `DEFLECT_MAX_ACTIONS_PER_HOUR` | loop guard: most automated actions on one ticket in any rolling hour; further actions fail the run; `0` = no cap | `20` |
 * | `DEFLECT_PAUSE_AFTER_FAILURES` | a handler whose runs end failed/dead this many times in a row is paused until `deflect handlers resume`; `0` = never | `5` |
 * | `DEFLECT_MAX_QUEUE_LAG` | `/readyz` answers 503 when more deliveries + runs than this are waiting | `1000` |
 * | `GITHUB_TOKEN` | token handlers call GitHub with (`ctx.integrations.github.api`); unset → handlers validate and comment, a person applies | none |
 * | `GITHUB_API_URL` | GitHub REST API root (`https://<host>/api/v3` for GitHub Enterprise Server) | `https://api.github.com` |
 * | `GITHUB_ORG` | organization handlers use when a request names none (`ctx.integrations.github.org`) | `acme` |
 * | `GITHUB_TIMEOUT_MS` | per-request timeout of GitHub REST calls, ms | `10000` |
 * | `DEFLECT_LOG_LEVEL` | pino level | `info` |
 * | `DEFLECT_INSECURE_NO_AUTH` | `true` lets `deflect serve` start without webhook authentication (loud warning; trials only). API and pages still need a token | `false` |
 * | `DEFLECT_TRUSTED_PROXY_AUTH` | header an SSO proxy sets to the signed-in identity (e.g. `X-Forwarded-Email`), trusted only from `DEFLECT_TRUSTED_PROXIES` | none |
 * | `DEFLECT_TRUSTED_PROXIES` | addresses/CIDRs of the reverse proxies: their `X-Forwarded-For`/`-Proto` and identity header are trusted | none |
 * | `DEFLECT_PROXY_ROLES` | role of each proxied identity, `alice@example.com=admin,*=auditor` (`*` = everyone else); unlisted → 403 | none |
 * | `DEFLECT_SESSION_HOURS` | lifetime of a sign-in session (cookie), hours | `12` |
 * | `DEFLECT_AUTH_FAILURE_LIMIT` | failed authentications (401) per client address per minute before it gets 429; `0` = no limit | `20` |
 * | `DEFLECT_RUN_LEASE_MS` | how long a process's claim on a running run holds without renewal, ms (renewed every third of it); after a crash, another process takes the run over once it expires | `60000` |
 * | `DEFLECT_DELIVERY_RETENTION` | delivery bodies and headers older than this are pruned (`30m`, `12h`, `30d`, `2w`; `off` keeps them) | `30d` |
 * | `DEFLECT_AUDIT_RETENTION` | runs (with their actions and approvals) created longer ago than this are pruned, behind a checkpoint of the audit chain (`400d`, `52w`; `off` keeps everything) | `off` |
 * | `DEFLECT_AUDIT_ARCHIVE_DIR` | folder where each audit prune first writes what it removes (JSONL, fsynced); unset = pruned rows are not archived | none |
 * | `DEFLECT_MIN_FREE_BYTES` | `/readyz` answers 503 when the database's filesystem has less free space, bytes; `0` = no check | `67108864` (64 MiB) |
 * | `JIRA_SITE_URL` | the Jira site whose events deflect acts on (events whose `self` URLs name another site are recorded, never routed) | `JIRA_BASE_URL` |
 * | `DEFLECT_MAX_EVENT_AGE` | events whose `timestamp` is older are refused (422); also the window in which an identical body is a duplicate | `24h` |
 * | `DEFLECT_REQUEST_TIMEOUT_MS` | whole request (headers and body) and idle-socket timeout, ms | `30000` |
 * | `DEFLECT_KEEP_ALIVE_TIMEOUT_MS` | idle keep-alive connection timeout, ms | `5000` |
 * | `DEFLECT_MAX_CONNECTIONS` | open connections accepted at once (further ones are closed as they arrive) | `1024` |
 * | `DEFLECT_SCOPE_CACHE_TTL` | how long a looked-up group/team membership of a reporter (rule `groups`) is reused (`30m`, `12h`, ...); failed lookups are retried after at most a minute | `10m` |
 * | `DEFLECT_BODY_BYTES_IN_FLIGHT` | webhook body bytes being received at once; more → 503 with `Retry-After` | `33554432` (32 MiB) |
 * | `DEFLECT_METRICS_PUBLIC` | `true` serves `GET /metrics` without a token (else any role's token) | `false` |
 * | `DEFLECT_RECONCILE_EVERY` | scheduled reconcile of each tracker with credentials (`30m`, `1h`; `off` disables) | `15m` |
 * | `DEFLECT_GITHUB_REPOS` | repositories scheduled GitHub reconcile checks, `owner/a,owner/b`; unset → GitHub is not reconciled | none |
 * | `DEFLECT_VERIFY_WINDOW` | how long a resolved ticket is watched for a reopen, re-file or override (`14d`, `2w`) | `14d` |
 * | `DEFLECT_VERIFY_MIN_RESOLUTIONS` | a handler's last N resolutions are looked at for demotion | `10` |
 * | `DEFLECT_VERIFY_DEMOTE_BELOW` | verified rate (0..1) under which a handler's rules go to shadow; `0`/`off` never | `0.8` |
 * | `SLACK_SIGNING_SECRET` | the Slack app's signing secret (`X-Slack-Signature`); unset → `POST /slack/events` refuses every request | none |
 * | `SLACK_BOT_TOKEN` | the Slack app's bot token (`xoxb-…`) deflect calls Slack with (views, messages, user look-ups) | none |
 * | `SLACK_API_URL` | Slack Web API root (tests point it at a fake) | `https://slack.com/api/` |
 * | `DEFLECT_SLACK_COMMAND` | the slash command the Slack app declares | `/deflect` |
 */
export const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DEFLECT_DB: z.string().min(1).default('./data/deflect.db'),
  DATABASE_URL: databaseUrlSetting,
  DEFLECT_RULES: z.string().min(1).optional(),
  DEFLECT_WEBHOOK_SECRET: z.string().optional().transform(csv),
  DEFLECT_WEBHOOK_TOKEN: z.string().optional().transform(csv),
  DEFLECT_GITHUB_WEBHOOK_SECRET: z.string().optional().transform(csv),
  DEFLECT_LINEAR_WEBHOOK_SECRET: z.string().optional().transform(csv),
  LINEAR_API_KEY: z.string().trim().min(1).optional(),
  LINEAR_API_URL: z.url({ message: 'must be a URL like https://api.linear.app/graphql' }).default('https://api.linear.app/graphql'),
  TRELLO_API_KEY: z.string().trim().min(1).optional(),
  TRELLO_TOKEN: z.string().trim().min(1).optional(),
  TRELLO_WEBHOOK_SECRET: z.string().optional().transform(csv),
  TRELLO_API_URL: z.url({ message: 'must be a URL like https://api.trello.com' }).default('https://api.trello.com'),
  DEFLECT_PUBLIC_URL: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL like https://deflect.example.com' }).optional(),
  DEFLECT_TRELLO_LISTS: trelloListsSetting,
  JIRA_BASE_URL: z
    .url({ message: 'must be a URL like https://your-site.atlassian.net' })
    .optional()
    .transform((v) => v?.replace(/\/+$/, '')),
  JIRA_EMAIL: z.string().min(1).optional(),
  JIRA_API_TOKEN: z.string().min(1).optional(),
  JIRA_PAT: z.string().trim().min(1).optional(),
  JIRA_ACCOUNT_ID: z.string().min(1).optional(),
  DEFLECT_DRY_RUN: booleanFlag,
  DEFLECT_BODY_LIMIT: positiveInt(5 * 1024 * 1024),
  DEFLECT_HANDLER_TIMEOUT_MS: positiveInt(30_000),
  DEFLECT_MAX_ATTEMPTS: positiveInt(5),
  DEFLECT_CONCURRENCY: positiveInt(4),
  DEFLECT_RETRY_BASE_MS: positiveInt(1_000),
  JIRA_TIMEOUT_MS: positiveInt(10_000),
  DEFLECT_MAX_ACTIONS_PER_HOUR: nonNegativeInt(20),
  DEFLECT_PAUSE_AFTER_FAILURES: nonNegativeInt(5),
  DEFLECT_MAX_QUEUE_LAG: positiveInt(1_000),
  GITHUB_TOKEN: z.string().trim().min(1).optional(),
  GITHUB_API_URL: z
    .url({ message: 'must be a URL like https://api.github.com (or https://github.example.com/api/v3)' })
    .default(DEFAULT_GITHUB_API_URL)
    .transform((v) => v.replace(/\/+$/, '')),
  GITHUB_ORG: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/, 'must be a GitHub organization name such as acme')
    .default(DEFAULT_GITHUB_ORG),
  GITHUB_TIMEOUT_MS: positiveInt(10_000),
  DEFLECT_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Authentication (src/auth/): see README "Security".
  DEFLECT_INSECURE_NO_AUTH: booleanFlag,
  DEFLECT_TRUSTED_PROXY_AUTH: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9-]{1,100}$/, 'must be a header name such as X-Forwarded-Email')
    .optional()
    .transform((v) => v?.toLowerCase()),
  DEFLECT_TRUSTED_PROXIES: z
    .string()
    .optional()
    .transform(csv)
    .superRefine((list, ctx) => {
      try {
        proxyAddr.compile(list);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `${(error as Error).message}: use IP addresses or CIDRs such as 10.0.0.5,10.1.0.0/16` });
      }
    }),
  DEFLECT_PROXY_ROLES: z
    .string()
    .optional()
    .transform(csv)
    .transform((entries, ctx) => {
      const roles: Record<string, Role> = {};
      for (const entry of entries) {
        const at = entry.lastIndexOf('=');
        const who = entry.slice(0, at).trim();
        const role = entry.slice(at + 1).trim();
        if (at < 1 || !who || !isRole(role)) {
          ctx.addIssue({ code: 'custom', message: `"${entry}": use identity=role with a role of ${ROLES.join(', ')} (e.g. alice@example.com=admin,*=auditor)` });
        } else roles[who.toLowerCase()] = role;
      }
      return roles;
    }),
  DEFLECT_SESSION_HOURS: z.coerce.number().positive().max(24 * 30).default(12),
  DEFLECT_AUTH_FAILURE_LIMIT: nonNegativeInt(20),
  DEFLECT_RUN_LEASE_MS: z.coerce.number().int().min(1_000, 'must be at least 1000 (ms)').default(60_000),
  DEFLECT_DELIVERY_RETENTION: durationOrOff('DEFLECT_DELIVERY_RETENTION', '30d'),
  // Audit retention (issue 16, decision 011).
  DEFLECT_AUDIT_RETENTION: durationOrOff('DEFLECT_AUDIT_RETENTION', 'off'),
  DEFLECT_AUDIT_ARCHIVE_DIR: z.string().trim().min(1).optional(),
  DEFLECT_MIN_FREE_BYTES: nonNegativeInt(64 * 1024 * 1024),
  // Receiver limits (issue 9: replay protection, resource limits, act only on the configured site).
  JIRA_SITE_URL: z
    .url({ message: 'must be the Jira site URL like https://your-site.atlassian.net' })
    .optional()
    .transform((v) => v?.replace(/\/+$/, '')),
  DEFLECT_MAX_EVENT_AGE: duration('DEFLECT_MAX_EVENT_AGE', '24h'),
  DEFLECT_SCOPE_CACHE_TTL: duration('DEFLECT_SCOPE_CACHE_TTL', '10m'),
  DEFLECT_REQUEST_TIMEOUT_MS: positiveInt(RECEIVER_LIMITS.requestTimeoutMs),
  DEFLECT_KEEP_ALIVE_TIMEOUT_MS: positiveInt(RECEIVER_LIMITS.keepAliveTimeoutMs),
  DEFLECT_MAX_CONNECTIONS: positiveInt(RECEIVER_LIMITS.maxConnections),
  DEFLECT_BODY_BYTES_IN_FLIGHT: positiveInt(RECEIVER_LIMITS.bodyBytesInFlight),
  // Operations (issue 13): metrics and scheduled reconcile.
  DEFLECT_METRICS_PUBLIC: booleanFlag,
  DEFLECT_RECONCILE_EVERY: durationOrOff('DEFLECT_RECONCILE_EVERY', '15m'),
  // Verified resolution (issue 12): the watch window, and auto-demotion to shadow.
  DEFLECT_VERIFY_WINDOW: duration('DEFLECT_VERIFY_WINDOW', '14d'),
  DEFLECT_VERIFY_MIN_RESOLUTIONS: z.coerce.number().int().min(1, 'must be at least 1').max(10_000).default(10),
  DEFLECT_VERIFY_DEMOTE_BELOW: z
    .string()
    .trim()
    .default('0.8')
    .transform((v, ctx) => {
      if (v.toLowerCase() === 'off' || v === '0') return null;
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0 || n > 1) {
        ctx.addIssue({ code: 'custom', message: `"${v}": use a verified rate between 0 and 1 (e.g. 0.8), or off (0 = off)` });
        return z.NEVER;
      }
      return n;
    }),
  DEFLECT_GITHUB_REPOS: z
    .string()
    .optional()
    .transform(csv)
    .superRefine((list, ctx) => {
      for (const repo of list) {
        if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9._-]{1,100}$/.test(repo)) {
          ctx.addIssue({ code: 'custom', message: `"${repo}": use owner/name, comma-separated (e.g. acme/api,acme/web)` });
        }
      }
    }),
  // Slack front door (issue 15, src/slack/).
  SLACK_SIGNING_SECRET: z.string().trim().min(1).optional(),
  SLACK_BOT_TOKEN: z.string().trim().min(1).optional(),
  SLACK_API_URL: z.url({ message: 'must be a URL like https://slack.com/api/' }).default('https://slack.com/api/').transform((v) => (v.endsWith('/') ? v : `${v}/`)),
  DEFLECT_SLACK_COMMAND: z.string().trim().regex(/^\/[a-z0-9_-]{1,31}$/, 'must be a slash command such as /deflect').default('/deflect'),
});

/** The typed, frozen configuration. Times in ms, sizes in bytes. */
export interface Config {
  port: number;
  host: string;
  dbPath: string;
  /** `DATABASE_URL` parsed (decision 018), or null: SQLite at `dbPath`. When set, `dbPath` is not used. */
  databaseUrl: PostgresTarget | null;
  /** Rules file path, and whether it was set explicitly (an explicit path must exist). */
  rulesPath: string | null;
  rulesPathExplicit: boolean;
  /** Jira's webhook secrets (`X-Hub-Signature`) and Automation tokens (`X-Deflect-Token`). */
  webhookSecrets: string[];
  webhookTokens: string[];
  /** GitHub's webhook secrets (`X-Hub-Signature-256`); empty = `/webhooks/github` refuses deliveries (unless insecure). */
  githubWebhookSecrets: string[];
  /** Linear's webhook signing secrets (`Linear-Signature`); empty = `/webhooks/linear` refuses deliveries (unless insecure). */
  linearWebhookSecrets: string[];
  /** Linear API access (`LINEAR_API_KEY`, `LINEAR_API_URL`); null = runs on Linear tickets are dry runs. */
  linear: { apiKey: string; apiUrl: string } | null;
  /** Trello's webhook secrets (`X-Trello-Webhook`); empty = `/webhooks/trello` refuses deliveries (unless insecure). */
  trelloWebhookSecrets: string[];
  /** Trello API access, callback URL and list mapping (`trackers/trello/trello-config.ts`). */
  trello: TrelloConfig;
  /** Null when no credentials are set: runs on Jira tickets are dry runs. */
  jira: JiraConfig | null;
  dryRun: boolean;
  bodyLimitBytes: number;
  handlerTimeoutMs: number;
  maxAttempts: number;
  concurrency: number;
  /** First retry's backoff ceiling, ms. */
  retryBaseMs: number;
  /** Jira REST per-request timeout, ms. */
  jiraTimeoutMs: number;
  /** Loop guard: actions per ticket per rolling hour; 0 = no cap. */
  maxActionsPerHour: number;
  /** Failed/dead runs in a row that pause a handler; 0 = never. */
  pauseAfterFailures: number;
  /** Largest queue (pending deliveries + due runs) for which `/readyz` still answers 200. */
  maxQueueLag: number;
  /**
   * GitHub for handlers: API root, token (null when `GITHUB_TOKEN` is unset: handlers then get `ctx.integrations.github.api = null`),
   * default organization, per-request timeout (ms).
   */
  github: { baseUrl: string; token: string | null; org: string; timeoutMs: number };
  logLevel: string;
  /** The Jira site deflect acts on (`JIRA_SITE_URL`, else `JIRA_BASE_URL`), no trailing slash; null = any site. */
  jiraSiteUrl: string | null;
  /** Oldest event `timestamp` accepted, and the body-duplicate window, ms. */
  maxEventAgeMs: number;
  /** Whole-request and idle-socket timeout, ms. */
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  /** Webhook body bytes received at once before new webhooks get 503. */
  bodyBytesInFlight: number;
  /** `DEFLECT_INSECURE_NO_AUTH`: serve may start without webhook authentication (reported by `/readyz`). */
  insecureNoAuth: boolean;
  /** How long a claim on a running run holds without renewal, ms (renewed every third of it). */
  runLeaseMs: number;
  /** How long a looked-up group membership is reused, ms (`DEFLECT_SCOPE_CACHE_TTL`). */
  scopeCacheTtlMs: number;
  /** Age after which delivery bodies and headers are pruned, ms; null = keep forever. */
  deliveryRetentionMs: number | null;
  /** Age after which runs, their actions and approvals are pruned behind an audit checkpoint, ms; null = keep everything. */
  auditRetentionMs: number | null;
  /** Folder of the JSONL archives audit pruning writes first; null = no archive. */
  auditArchiveDir: string | null;
  /** `/readyz` is unavailable below this much free space on the database's filesystem, bytes; 0 = no check. */
  minFreeBytes: number;
  /** API and page authentication (src/auth/). */
  auth: AuthConfig;
  /** Interval of scheduled reconcile, ms (`DEFLECT_RECONCILE_EVERY`); null = off. */
  reconcileEveryMs: number | null;
  /** Repositories scheduled GitHub reconcile checks (`DEFLECT_GITHUB_REPOS`, `owner/name`). */
  githubRepos: string[];
  /** Slack front door (src/slack/): signing secret and bot token (null = unset), API root, slash command. */
  slack: SlackConfig;
  /** Verified resolution and auto-demotion (issue 12; docs/decisions/010-verified-resolution.md). */
  verify: VerifySettings;
}

/** How deflect verifies resolutions and demotes handlers (`DEFLECT_VERIFY_*`). */
export interface VerifySettings {
  /** How long a resolved ticket is watched for a reopen, re-file or override, ms (`DEFLECT_VERIFY_WINDOW`, default 14 d). */
  windowMs: number;
  /** Resolutions looked at for demotion: a handler's last N (`DEFLECT_VERIFY_MIN_RESOLUTIONS`, default 10). */
  minResolutions: number;
  /** Demote (rules to shadow) below this verified rate over the last N resolutions, 0..1; null = never (`DEFLECT_VERIFY_DEMOTE_BELOW`, default 0.8; `0`/`off`). */
  demoteBelow: number | null;
}

/** Slack settings; `signingSecret` null = `/slack/events` refuses every request. */
export interface SlackConfig {
  signingSecret: string | null;
  botToken: string | null;
  apiUrl: string;
  command: string;
}

/** How callers of the API and pages authenticate (README "Security"). */
export interface AuthConfig {
  /** Lower-cased identity header set by an SSO proxy (`DEFLECT_TRUSTED_PROXY_AUTH`), or null. */
  proxyHeader: string | null;
  /** IPs/CIDRs of trusted reverse proxies (`DEFLECT_TRUSTED_PROXIES`); also fastify's `trustProxy`. */
  trustedProxies: string[];
  /** Role per lower-cased proxied identity; key `*` = anyone else (`DEFLECT_PROXY_ROLES`). */
  proxyRoles: Readonly<Record<string, Role>>;
  /** Lifetime of a sign-in session, ms. */
  sessionTtlMs: number;
  /** 401s per client address per minute before 429; 0 = no limit. */
  failureLimit: number;
  /** `DEFLECT_METRICS_PUBLIC`: `GET /metrics` needs no credential (absent = false). */
  metricsPublic?: boolean;
}

export type { JiraConfig };

/** Thrown by {@link loadConfig}; `problems` has one line per bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Variables only `deflect serve` uses (where it listens); other commands ignore them, so a bad one cannot break them. */
export const SERVER_ONLY_VARIABLES = Object.freeze(['PORT', 'HOST'] as const);

/**
 * Parses the environment into a {@link Config}.
 * @param env usually `process.env`; empty strings count as unset.
 * @param fileExists used to decide whether the default `./rules.yaml` is present.
 * @param options.ignore variables to treat as unset (their defaults apply), e.g. {@link SERVER_ONLY_VARIABLES} for a
 *   CLI command that never listens.
 * @throws ConfigError listing every invalid variable (e.g. `PORT: expected a number`).
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  fileExists: (path: string) => boolean = () => false,
  options: { ignore?: readonly string[] } = {},
): Config {
  const ignored = new Set(options.ignore ?? []);
  const cleaned = Object.fromEntries(Object.entries(env).filter(([k, v]) => v !== undefined && v !== '' && !ignored.has(k)));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  const jiraOrProblem = jiraConfigOf(e);
  if (typeof jiraOrProblem === 'string') throw new ConfigError([jiraOrProblem]);
  const jira = jiraOrProblem;
  const trello = trelloConfigOf(e);
  if (Array.isArray(trello)) throw new ConfigError(trello);
  if (e.DEFLECT_TRUSTED_PROXY_AUTH && e.DEFLECT_TRUSTED_PROXIES.length === 0) {
    throw new ConfigError([
      'DEFLECT_TRUSTED_PROXIES: required when DEFLECT_TRUSTED_PROXY_AUTH is set (the addresses of the SSO proxy; the identity header is trusted only from them)',
    ]);
  }
  const defaultRules = './rules.yaml';
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    dbPath: e.DEFLECT_DB,
    databaseUrl: e.DATABASE_URL,
    rulesPath: e.DEFLECT_RULES ?? (fileExists(defaultRules) ? defaultRules : null),
    rulesPathExplicit: e.DEFLECT_RULES !== undefined,
    webhookSecrets: e.DEFLECT_WEBHOOK_SECRET,
    webhookTokens: e.DEFLECT_WEBHOOK_TOKEN,
    githubWebhookSecrets: e.DEFLECT_GITHUB_WEBHOOK_SECRET,
    linearWebhookSecrets: e.DEFLECT_LINEAR_WEBHOOK_SECRET,
    linear: e.LINEAR_API_KEY ? Object.freeze({ apiKey: e.LINEAR_API_KEY, apiUrl: e.LINEAR_API_URL }) : null,
    trelloWebhookSecrets: e.TRELLO_WEBHOOK_SECRET,
    trello,
    jira,
    // Dry run when forced, or when no tracker can be acted on at all; a run on a tracker without credentials is
    // queued as a dry run by routing (`liveTrackers`).
    dryRun: e.DEFLECT_DRY_RUN || (jira === null && !e.GITHUB_TOKEN && !e.LINEAR_API_KEY && trello.api === null),
    bodyLimitBytes: e.DEFLECT_BODY_LIMIT,
    handlerTimeoutMs: e.DEFLECT_HANDLER_TIMEOUT_MS,
    maxAttempts: e.DEFLECT_MAX_ATTEMPTS,
    concurrency: e.DEFLECT_CONCURRENCY,
    retryBaseMs: e.DEFLECT_RETRY_BASE_MS,
    jiraTimeoutMs: e.JIRA_TIMEOUT_MS,
    maxActionsPerHour: e.DEFLECT_MAX_ACTIONS_PER_HOUR,
    pauseAfterFailures: e.DEFLECT_PAUSE_AFTER_FAILURES,
    maxQueueLag: e.DEFLECT_MAX_QUEUE_LAG,
    github: Object.freeze({ baseUrl: e.GITHUB_API_URL, token: e.GITHUB_TOKEN ?? null, org: e.GITHUB_ORG, timeoutMs: e.GITHUB_TIMEOUT_MS }),
    logLevel: e.DEFLECT_LOG_LEVEL,
    insecureNoAuth: e.DEFLECT_INSECURE_NO_AUTH,
    auth: Object.freeze({
      proxyHeader: e.DEFLECT_TRUSTED_PROXY_AUTH ?? null,
      trustedProxies: e.DEFLECT_TRUSTED_PROXIES,
      proxyRoles: Object.freeze(e.DEFLECT_PROXY_ROLES),
      sessionTtlMs: Math.round(e.DEFLECT_SESSION_HOURS * 3_600_000),
      failureLimit: e.DEFLECT_AUTH_FAILURE_LIMIT,
      metricsPublic: e.DEFLECT_METRICS_PUBLIC,
    }),
    reconcileEveryMs: e.DEFLECT_RECONCILE_EVERY,
    githubRepos: e.DEFLECT_GITHUB_REPOS,
    verify: Object.freeze({ windowMs: e.DEFLECT_VERIFY_WINDOW, minResolutions: e.DEFLECT_VERIFY_MIN_RESOLUTIONS, demoteBelow: e.DEFLECT_VERIFY_DEMOTE_BELOW }),
    slack: Object.freeze({ signingSecret: e.SLACK_SIGNING_SECRET ?? null, botToken: e.SLACK_BOT_TOKEN ?? null, apiUrl: e.SLACK_API_URL, command: e.DEFLECT_SLACK_COMMAND }),
    runLeaseMs: e.DEFLECT_RUN_LEASE_MS,
    scopeCacheTtlMs: e.DEFLECT_SCOPE_CACHE_TTL,
    deliveryRetentionMs: e.DEFLECT_DELIVERY_RETENTION,
    auditRetentionMs: e.DEFLECT_AUDIT_RETENTION,
    auditArchiveDir: e.DEFLECT_AUDIT_ARCHIVE_DIR ?? null,
    minFreeBytes: e.DEFLECT_MIN_FREE_BYTES,
    jiraSiteUrl: e.JIRA_SITE_URL ?? e.JIRA_BASE_URL ?? null,
    maxEventAgeMs: e.DEFLECT_MAX_EVENT_AGE,
    requestTimeoutMs: e.DEFLECT_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: e.DEFLECT_KEEP_ALIVE_TIMEOUT_MS,
    maxConnections: e.DEFLECT_MAX_CONNECTIONS,
    bodyBytesInFlight: e.DEFLECT_BODY_BYTES_IN_FLIGHT,
  });
}

/** {@link loadConfig} over this process's environment (the one place `process.env` is read). */
export function loadProcessConfig(): Config {
  return loadConfig(process.env, existsSync);
}

/**
 * `DEFLECT_TOKEN`: the API token (`dfl_…`) the command line sends in its remote mode (`deflect report --url …`), read
 * only by the CLI; never logged or printed. Null when unset.
 */
export function remoteTokenFromEnv(env: Record<string, string | undefined> = process.env): string | null {
  const token = env.DEFLECT_TOKEN?.trim();
  return token ? token : null;
}
