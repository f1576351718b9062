/**
 * The deflect database schema (drizzle-orm, SQLite). Properties are camelCase, columns snake_case.
 * All times are integer epoch **milliseconds** (UTC). JSON columns hold text written by JSON.stringify.
 *
 * Migrations are generated from this file by `npm run db:generate` (drizzle-kit) into `migrations/`
 * and are never edited after they land.
 */
import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * One HTTP POST received on a webhook endpoint. `deliveryKey` is the idempotency key:
 * `<site host>:<X-Atlassian-Webhook-Identifier>` or `sha256:<hex of the raw body>` when the header is absent.
 * The UNIQUE index on it is what makes a redelivery a no-op (never check-then-insert). Because the identifier header
 * is not signed, a body already received within `DEFLECT_MAX_EVENT_AGE` is a duplicate too whatever its identifier:
 * `bodySha256` is looked up on its index inside the same write transaction as the insert (see `db/deliveries.ts`).
 */
export const deliveries = sqliteTable(
  'deliveries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    deliveryKey: text('delivery_key').notNull(),
    /** `X-Atlassian-Webhook-Identifier`, when sent. */
    webhookIdentifier: text('webhook_identifier'),
    /** `jira` today; the column keeps room for other ticket systems. */
    source: text('source').notNull().default('jira'),
    /** `webhookEvent` (`jira:issue_created`, `comment_created`, ...) or `automation:issue`. */
    event: text('event').notNull(),
    issueKey: text('issue_key'),
    /**
     * `pending` (stored, not yet routed) | `routed` (runs were queued) | `ignored` (nothing to do; see reason) |
     * `failed` (routing raised an error; kept, with the error in `reason`, for `deflect replay --delivery`).
     */
    status: text('status').notNull().default('pending'),
    /** Why it was routed or ignored, e.g. `label access-request → grant-repo-access`. */
    reason: text('reason'),
    /** The request headers that matter for replay (JSON object, lower-case names). */
    headers: text('headers').notNull(),
    /** The raw request body, byte for byte as received (UTF-8). */
    body: text('body').notNull(),
    /** sha256 (hex) of the raw body; null on rows stored before migration 0006_replay_and_sites. */
    bodySha256: text('body_sha256'),
    /** The `timestamp` field of the event (ms), when present. */
    eventTimestamp: integer('event_timestamp'),
    /**
     * How `event_timestamp` was obtained: `event` (the body's number), `parsed` (a date string in the body, read as a
     * time), `receipt` (the body's `timestamp` was not a time: the receipt time stands in); null = not a webhook's
     * (reconcile, older rows) or no timestamp in the body.
     */
    timestampSource: text('timestamp_source', { enum: ['event', 'parsed', 'receipt'] }),
    /**
     * Set only when this delivery was created by deflect's own replay path (`replayStoredDelivery`, used by
     * `deflect replay --delivery`): the id it replays. Never taken from a request header.
     */
    replayOf: integer('replay_of'),
    receivedAt: integer('received_at').notNull(),
    routedAt: integer('routed_at'),
    /**
     * When retention (`DEFLECT_DELIVERY_RETENTION`, `deflect prune`, see `db/retention.ts`) emptied `body` and
     * `headers` (ms); null while they are kept. A pruned delivery keeps its row, runs and actions, but cannot be replayed.
     */
    bodyPrunedAt: integer('body_pruned_at'),
  },
  (t) => [
    uniqueIndex('deliveries_delivery_key_unique').on(t.deliveryKey),
    index('deliveries_status_idx').on(t.status, t.id),
    index('deliveries_issue_key_idx').on(t.issueKey),
    // Retention scans only bodies not yet pruned, oldest first.
    index('deliveries_unpruned_received_idx').on(t.receivedAt).where(sql`body_pruned_at IS NULL`),
    index('deliveries_body_sha256_idx').on(t.bodySha256, t.receivedAt),
  ],
);

/**
 * The latest known snapshot of each ticket, from webhooks or imports, whatever its tracker. Keyed by tracker, site
 * AND id: two sites number their issues independently. A Jira row's `id` is `<site host>:<issue id>`
 * (`acme.atlassian.net:10400`), or the bare issue id when the site is unknown (a CSV export carries no `self` URL and
 * no site was configured); other trackers' rows are `<tracker>:<site>:<id>` (`github:github.com:1347`,
 * `linear:linear.app/acme:<uuid>`). See `db/tickets.ts` `ticketRowId`.
 */
export const tickets = sqliteTable(
  'tickets',
  {
    /** Row key: see the table comment. */
    id: text('id').primaryKey(),
    /** The tracker: `jira` | `github` | `linear`. */
    tracker: text('tracker').notNull().default('jira'),
    /** The tracker's issue id (Jira "10400", GitHub's numeric issue id, Linear's uuid). */
    issueId: text('issue_id').notNull().default(''),
    /** The site: host of the Jira site (`acme.atlassian.net`), `github.com`, `linear.app/<workspace>`; `''` when unknown. */
    site: text('site').notNull().default(''),
    key: text('key').notNull(),
    project: text('project'),
    issueType: text('issue_type'),
    status: text('status'),
    /** Labels as a JSON array of strings, in Jira's order and case. */
    labels: text('labels').notNull().default('[]'),
    summary: text('summary'),
    description: text('description'),
    reporter: text('reporter'),
    /** The reporter's accountId (Cloud) or name (Server), for mentions. */
    reporterId: text('reporter_id'),
    created: integer('created'),
    updated: integer('updated'),
    resolved: integer('resolved'),
    /** Where the snapshot came from: `webhook` | `import`. */
    origin: text('origin').notNull().default('webhook'),
    /** `timestamp` (ms) of the newest event applied; older events do not overwrite newer state. */
    lastEventAt: integer('last_event_at'),
    recordedAt: integer('recorded_at').notNull(),
  },
  (t) => [
    // Not unique: the same key can name different issues on different Jira sites (ids differ).
    index('tickets_key_idx').on(t.key),
    index('tickets_issue_id_idx').on(t.issueId),
    index('tickets_created_idx').on(t.created),
    index('tickets_project_created_idx').on(t.project, t.created),
    // `deflect group` staleness: tickets recorded since the last grouping.
    index('tickets_recorded_at_idx').on(t.recordedAt),
  ],
);

/** One row per (ticket, label), lower-cased, kept in step with `tickets.labels` for fast grouping. */
export const ticketLabels = sqliteTable(
  'ticket_labels',
  {
    ticketId: text('ticket_id')
      .notNull()
      .references(() => tickets.id, { onDelete: 'cascade' }),
    label: text('label').notNull(),
    /** Copy of tickets.created (ms) so the label report needs no join to filter a window. */
    created: integer('created'),
  },
  (t) => [
    uniqueIndex('ticket_labels_ticket_label_unique').on(t.ticketId, t.label),
    index('ticket_labels_label_created_idx').on(t.label, t.created),
    index('ticket_labels_created_idx').on(t.created),
  ],
);

/**
 * One execution of a handler for one delivery. `status`:
 * `queued` → `running` → `succeeded` | `failed` | `skipped` | `planned` (dry run) | `dead` (dead letter: attempts exhausted).
 * A transient failure puts it back to `queued` with a later `runAfter`.
 */
export const runs = sqliteTable(
  'runs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    deliveryId: integer('delivery_id')
      .notNull()
      .references(() => deliveries.id),
    ticketKey: text('ticket_key').notNull(),
    handler: text('handler').notNull(),
    /** The rule that routed it and why, e.g. `label access-request → grant-repo-access (rule repo-access)`. */
    reason: text('reason').notNull(),
    status: text('status').notNull().default('queued'),
    dryRun: integer('dry_run', { mode: 'boolean' }).notNull().default(false),
    /** `<issue key>:<handler>:<delivery key>`: stable across retries and restarts of this run. */
    idempotencyKey: text('idempotency_key').notNull(),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    runAfter: integer('run_after').notNull(),
    lockedAt: integer('locked_at'),
    /**
     * The process executing a `running` run (`<hostname>:<pid>:<random hex>`, one per process), null otherwise.
     * Only the owner may record the run's outcome, requeue or release it (see `db/runs.ts`).
     */
    owner: text('owner'),
    /**
     * Until when (ms) the owner's claim holds. The owner renews it while the run executes (`DEFLECT_RUN_LEASE_MS`);
     * once it has passed, any process may put the run back in the queue (its owner crashed or stalled).
     */
    leaseExpiresAt: integer('lease_expires_at'),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
    /** Wall time of the last attempt, ms. */
    durationMs: integer('duration_ms'),
    /** What the handler said it did (its return value's summary). */
    /**
     * False when a succeeded run validated the request but did not carry it out (e.g. no GitHub token): the report
     * does not count such tickets as automated.
     */
    applied: integer('applied', { mode: 'boolean' }).notNull().default(true),
    summary: text('summary'),
    /** The last error message, with its hint when one is known. */
    error: text('error'),
    /** How many times an operator re-queued this run (`deflect runs retry`); each resets `attempts` to 0. */
    manualRetries: integer('manual_retries').notNull().default(0),
    /**
     * The normalised ticket (`Ticket`, JSON) the run acts on, stored when the run was queued: the run reads it instead
     * of re-parsing the delivery body (which retention may have pruned). Null on runs queued before migration
     * `run_ticket_snapshot`; those fall back to the `tickets` row (see `worker/execute-run.ts`).
     */
    ticketSnapshot: text('ticket_snapshot'),
    /**
     * Queued by a rule in `mode: shadow`: executed like a dry run (every action `planned`, nothing sent; `dry_run` is
     * set too), and finished with status `shadow` instead of `planned`/`succeeded`.
     */
    shadow: integer('shadow', { mode: 'boolean' }).notNull().default(false),
    /** The rules file version that routed the run: first 12 hex of the SHA-256 of the file text; null = no rules file or before migration `rule_modes`. */
    rulesVersion: text('rules_version'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('runs_delivery_handler_unique').on(t.deliveryId, t.handler),
    uniqueIndex('runs_idempotency_key_unique').on(t.idempotencyKey),
    index('runs_status_run_after_idx').on(t.status, t.runAfter),
    index('runs_ticket_key_idx').on(t.ticketKey),
    // The audit view (db/run-search.ts): newest first by (created_at, id), keyset-paged, optionally by handler or status.
    index('runs_created_id_idx').on(t.createdAt, t.id),
    index('runs_handler_created_idx').on(t.handler, t.createdAt, t.id),
    index('runs_status_created_idx').on(t.status, t.createdAt, t.id),
  ],
);

/**
 * One external side effect of a run (the audit trail). The row is written **before** the call
 * (`started`, or `planned` in a dry run) and updated after (`applied` | `failed`), so a retried
 * run can skip actions already applied: `idempotencyKey` = `<run idempotency key>:<seq>:<kind>`.
 */
export const actions = sqliteTable(
  'actions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    runId: integer('run_id')
      .notNull()
      .references(() => runs.id),
    /** Order of the action within its run, from 1. */
    seq: integer('seq').notNull(),
    /** `comment` | `transition` | `assign` | `add_labels` | `remove_labels` | ... */
    kind: text('kind').notNull(),
    ticketKey: text('ticket_key').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    /** What was asked, as JSON (e.g. `{"status":"Done"}`), small enough to read in an audit. */
    request: text('request').notNull(),
    status: text('status').notNull(),
    /** What came back, as JSON (e.g. the comment id), when it matters. */
    response: text('response'),
    error: text('error'),
    createdAt: integer('created_at').notNull(),
    finishedAt: integer('finished_at'),
  },
  (t) => [
    uniqueIndex('actions_idempotency_key_unique').on(t.idempotencyKey),
    index('actions_run_id_idx').on(t.runId),
    // The per-ticket loop guard counts a ticket's recent actions.
    index('actions_ticket_created_idx').on(t.ticketKey, t.createdAt),
  ],
);

/**
 * Health of each handler: consecutive failed runs, and whether it is paused. A handler whose runs end `failed` or
 * `dead` `DEFLECT_PAUSE_AFTER_FAILURES` times in a row is paused: its queued runs wait (nothing is dropped) until
 * `deflect handlers resume <name>`. A row exists only once a handler has finished a run.
 */
export const handlerStates = sqliteTable('handler_states', {
  /** The handler's name (its file name in `handlers/`). */
  handler: text('handler').primaryKey(),
  /** Runs that ended `failed`/`dead` since the last `succeeded` one (or the last resume). */
  consecutiveFailures: integer('consecutive_failures').notNull().default(0),
  /** When the handler was paused (ms), or null when it runs. */
  pausedAt: integer('paused_at'),
  /** Why it was paused: the count and the last run's error. */
  pausedReason: text('paused_reason'),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * One row (id 1) that `/readyz` rewrites on every probe, so readiness proves a real committed write (not just a lock).
 */
export const healthProbe = sqliteTable('health_probe', {
  id: integer('id').primaryKey(),
  /** When the last probe committed (ms). */
  checkedAt: integer('checked_at').notNull(),
});

export type DeliveryRow = typeof deliveries.$inferSelect;
export type TicketRow = typeof tickets.$inferSelect;
/** A run as listed and claimed; its ticket snapshot is read on its own (`findRunTicketSnapshot`), so listings carry no ticket text. */
export type RunRow = Omit<typeof runs.$inferSelect, 'ticketSnapshot'>;
export type ActionRow = typeof actions.$inferSelect;
export type HandlerStateRow = typeof handlerStates.$inferSelect;


/**
 * API tokens (`deflect tokens create`): a name, a role and the **SHA-256 hex of the token**; the token itself is
 * printed once and never stored or logged. A token is 32 random bytes, so an unsalted fast hash is enough (nothing to
 * brute-force). Revoking sets `revokedAt` (the row stays for the audit); a revoked token and its sessions stop working
 * at once. Names are unique among tokens that are not revoked, so a name can be reused after a revoke.
 */
export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull(),
    /** `auditor` | `operator` | `admin` (src/auth/roles.ts). */
    role: text('role').notNull(),
    /** SHA-256 of the token, lower-case hex. */
    tokenHash: text('token_hash').notNull(),
    createdAt: integer('created_at').notNull(),
    /** Last request made with it (ms), updated at most once a minute. */
    lastUsedAt: integer('last_used_at'),
    revokedAt: integer('revoked_at'),
  },
  (t) => [
    uniqueIndex('api_tokens_token_hash_unique').on(t.tokenHash),
    uniqueIndex('api_tokens_active_name_unique').on(t.name).where(sql`revoked_at IS NULL`),
  ],
);

/**
 * Browser sessions opened by signing in with a token at `/signin`. `idHash` is the SHA-256 hex of the random cookie
 * value (the cookie itself is never stored). A session acts with its token's current role and ends at `expiresAt`,
 * on sign-out, or when its token is revoked.
 */
export const authSessions = sqliteTable(
  'auth_sessions',
  {
    idHash: text('id_hash').primaryKey(),
    tokenId: integer('token_id')
      .notNull()
      .references(() => apiTokens.id),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('auth_sessions_expires_at_idx').on(t.expiresAt)],
);

export type ApiTokenRow = typeof apiTokens.$inferSelect;

/**
 * (approvals) The rule a run was routed by, as it stood then: its name, the handler's parsed options (`with:`) and its
 * approval settings, so a run waiting for days acts under the rule that queued it. One row per run queued by routing;
 * a run without one (queued before migration `approvals`, or by a tool) runs with the handler's default options and no
 * approval gate.
 */
export const runRuleSettings = sqliteTable(
  'run_rule_settings',
  {
  runId: integer('run_id')
    .primaryKey()
    .references(() => runs.id),
  ruleName: text('rule_name').notNull(),
  /** The parsed options (JSON object). */
  options: text('options').notNull().default('{}'),
  /** `ApprovalSettings` (JSON) or null: no approval gate. */
  approval: text('approval'),
  /** (verified resolution) The rule's `feedback: true`: a resolving run invites the reporter to answer `/thanks` or `/reopen`. */
  feedback: integer('feedback', { mode: 'boolean' }).notNull().default(false),
  },
  // The audit view's rule filter (db/run-search.ts).
  (t) => [index('run_rule_settings_rule_idx').on(t.ruleName, t.runId)],
);

/**
 * (approvals) Every step of a run's approval, for the audit: `requested` (deflect asked; `expiresAt` set), `approved`,
 * `denied` (an approver's `/approve` or `/deny` comment: `by` their tracker account id / login / email, `commentId`),
 * `expired` (no decision before `expiresAt`; `by` null). Times are ms. Docs: docs/decisions/009-approvals.md.
 */
export const approvals = sqliteTable(
  'approvals',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    runId: integer('run_id')
      .notNull()
      .references(() => runs.id),
    decision: text('decision').notNull(),
    by: text('by'),
    at: integer('at').notNull(),
    commentId: text('comment_id'),
    /** The delivery (comment webhook) that carried the decision, when one did. */
    deliveryId: integer('delivery_id'),
    /** Why approval was requested (`requested` rows), or a note. */
    reason: text('reason'),
    /** `requested` rows: when the request expires, ms. */
    expiresAt: integer('expires_at'),
  },
  (t) => [index('approvals_run_id_idx').on(t.runId, t.id), index('approvals_expires_at_idx').on(t.expiresAt)],
);

export type ApprovalRow = typeof approvals.$inferSelect;

/**
 * (Slack, issue 15) Who asked for which ticket in Slack: one row per submitted request modal (`view_id` unique, so a
 * resubmitted view files once). `status`: `filing` (acknowledged, ticket not created yet), `filed` (ticket created and
 * routed), `dry-run` (nothing created: deflect runs without Jira credentials), `failed` (`error` says why). The
 * requester's outcome messages go to `user_id`'s DM (`channel_id` once known). Times are ms.
 */
export const slackRequests = sqliteTable(
  'slack_requests',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    viewId: text('view_id').notNull(),
    teamId: text('team_id'),
    userId: text('user_id').notNull(),
    channelId: text('channel_id'),
    ruleName: text('rule_name').notNull(),
    handler: text('handler').notNull(),
    ticketKey: text('ticket_key'),
    ticketUrl: text('ticket_url'),
    status: text('status').notNull(),
    error: text('error'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [uniqueIndex('slack_requests_view_id_unique').on(t.viewId), index('slack_requests_ticket_key_idx').on(t.ticketKey)],
);

export type SlackRequestRow = typeof slackRequests.$inferSelect;

/** (Slack) Events API `event_id`s already handled: a retry (`X-Slack-Retry-Num`) of one is acknowledged and dropped. */
export const slackEvents = sqliteTable('slack_events', {
  eventId: text('event_id').primaryKey(),
  receivedAt: integer('received_at').notNull(),
});
