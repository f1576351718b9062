/**
 * The tracker adapter seam: everything deflect needs from a ticket system, behind one interface, so the receiver,
 * routing, import and reconcile never read a vendor's payload themselves. Jira Cloud is the first (and today only)
 * adapter (`trackers/jira/jira-tracker.ts`); GitHub Issues, Linear and Trello follow it (`trackers/<name>/`). Decision record:
 * docs/decisions/006-tracker-adapters.md (how ticket ids extend to `tracker:site:id`).
 *
 * The flow, one way: receiver (`webhooks/`) → `tracker.createVerifier` + `tracker.parseEvent` → record-and-route
 * (`pipeline/`) stores the delivery, the ticket snapshot and the runs (each run keeps the {@link Ticket} it acts
 * on) → worker → handler → `tracker.createActions` (comment, transition, labels, assign), recorded as actions.
 */
import type { Logger } from 'pino';
import type { Store } from '../db/store.js';
import type { Markdown } from '../jira/comment-markdown.js';
import type { Ticket } from '../ticket.js';

/** Ticket systems deflect has an adapter for (`trackers/index.ts` maps each name to its adapter). */
export const TRACKER_NAMES = ['jira', 'github', 'linear', 'trello'] as const;
export type TrackerName = (typeof TRACKER_NAMES)[number];

/**
 * What kind of change an event is, as rules see it (tracker-neutral): `created` (a new ticket), `updated` (any change
 * to an existing ticket; label additions are in `labelsAdded`), `automation` (a Jira Automation request), `other`
 * (comments, deletions, transfers: recorded, never routed).
 */
export type EventKind = 'created' | 'updated' | 'automation' | 'other';

/** The outcome of authenticating one delivery. `message` is fit for a 401 answer and never echoes a secret. */
export type AuthResult = { ok: true; method: 'signature' | 'token' | 'none' } | { ok: false; message: string };

/**
 * Authentication computed while the body streams in. `early` is the decision when the headers alone decide it;
 * otherwise every body chunk goes to `update` and `finish` gives the result once at the end.
 */
export interface BodyVerifier {
  early: AuthResult | null;
  update(chunk: Buffer): void;
  finish(): AuthResult;
}

/**
 * What one delivery says happened, on a normalised ticket. Field names are tracker-neutral; the values in the
 * comments are Jira's.
 */
export interface TrackerEvent {
  /**
   * The tracker's event name (`jira:issue_created`, `comment_created`, ...; `automation:issue` for a Jira Automation
   * body; GitHub `issues.labeled`; Linear `Issue.update`).
   */
  event: string;
  /** The kind of change, which rules route on. */
  kind: EventKind;
  /** A finer event type when the tracker sends one (Jira's `issue_event_type_name`), else null. */
  eventType: string | null;
  /** Event time, epoch ms, or null when the body carries none (or one that is not a time: see `timestampSource`). */
  timestamp: number | null;
  /**
   * Where `timestamp` came from when the adapter had to interpret it (Jira): `event` (a number, as sent), `parsed`
   * (a date string read as a time), `receipt` (not a time: `timestamp` is null and the receiver stores its receipt
   * time). Absent = `event` when `timestamp` is set.
   */
  timestampSource?: TimestampSource;
  /** Account id (or name) of who caused the event, or null. */
  actor: string | null;
  /**
   * The ticket (its `tracker` set by the adapter), or null when the payload carries none. `labels: null` = the payload
   * does not carry labels.
   */
  ticket: Ticket | null;
  /** Labels the event adds / removes, lower-cased. */
  labelsAdded: string[];
  labelsRemoved: string[];
  /** Host of the site the event comes from (part of the idempotency key), or null. */
  siteHost: string | null;
  /** Every distinct host (lower case) the event's URLs name: routing refuses an event naming another site. */
  selfHosts: string[];
  /**
   * (approvals) The comment an event adds (Jira `comment_created` or `jira:issue_updated` with a comment, GitHub
   * `issue_comment.created`, Linear `Comment.create`), else absent. `authorId`: Jira accountId (name on Server), GitHub
   * login, Linear user id; `authorEmail` when the payload carries it. `body` is plain text, cut to 2,000 characters.
   * Approval decisions (`/approve`, `/deny`) are read from it (`pipeline/approval-decisions.ts`).
   */
  comment?: EventComment;
  /**
   * The delivery's own id when the body carries it and no header does (Trello: `action.id`, unique per action and
   * the same on Trello's retries), else absent. The adapter's `deliveryKey` reads it.
   */
  deliveryId?: string | null;
}

/** How a delivery's event time was obtained (`deliveries.timestamp_source`); see {@link TrackerEvent.timestampSource}. */
export type TimestampSource = 'event' | 'parsed' | 'receipt';

/** A comment carried by an event (see {@link TrackerEvent.comment}). */
export interface EventComment {
  id: string | null;
  authorId: string | null;
  authorEmail?: string | null;
  body: string;
}

/** Longest comment body kept on an event, characters: a decision is read from its first line only. */
export const EVENT_COMMENT_MAX_CHARS = 2_000;

/** A body that is JSON but not an event of this tracker; `message` names what is wrong (answered 422). */
export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
}

/** A value that is not an issue of this tracker's REST API; `message` names the first bad field. */
export class InvalidIssueError extends Error {
  override name = 'InvalidIssueError';
}

/**
 * What a handler can do to its ticket, whatever the tracker. Each call is recorded as an action (audit trail), skipped
 * on a retry that finds it applied, and only planned in dry run. Statuses and labels are by name; Jira facts noted.
 */
export interface TicketActions {
  /**
   * Adds a comment. Build it with the `md` tagged template (`comment-markdown.ts`): the template is Markdown
   * (paragraphs, **bold**, *italic*, `code`, code blocks, lists, task lists, headings), every interpolated value is
   * literal text, never a link, mention, image or structure. A plain string is posted as plain text (no Markdown).
   * @example await ctx.tracker.comment(md`Added ${reporter} to \`${repository}\` with the **${role}** role.`)
   */
  comment(body: Markdown | string): Promise<void>;
  /**
   * Moves the ticket to a status by *name* (case-insensitive): matches a transition whose target status or whose
   * own name equals `statusName`. Transition ids differ per workflow, so they are never hard-coded.
   * @throws Error listing the available transitions when none matches (a permanent failure).
   */
  transition(statusName: string): Promise<void>;
  /** Assigns the ticket to a user (Jira accountId, GitHub login, Linear user id); null unassigns. */
  assign(accountId: string | null): Promise<void>;
  /** Adds labels (Jira labels cannot contain spaces). */
  addLabels(...labels: string[]): Promise<void>;
  /** Removes labels. */
  removeLabels(...labels: string[]): Promise<void>;
}

/** What an adapter needs to build the recorded actions of one run. `client` is the tracker's API client (null = dry run). */
export interface TicketActionsOptions<Client> {
  db: Store;
  client: Client | null;
  runId: number;
  /** The run's idempotency key. */
  runKey: string;
  /** The ticket's display key (`PLAT-12`, `acme/api#12`, `ENG-12`). */
  ticketKey: string;
  /** The ticket the run acts on (its snapshot at routing); adapters read ids from it (absent: from `ticketKey`). */
  ticket?: Ticket;
  dryRun: boolean;
  log: Logger;
  /** Once aborted, no new action starts (the handler timed out or the service is shutting down). */
  signal?: AbortSignal;
  /** Per-ticket cap on actions in any rolling hour (`DEFLECT_MAX_ACTIONS_PER_HOUR`); 0 or absent = no cap. */
  maxActionsPerHour?: number;
  /** Clock, ms (injectable for tests). */
  now?: () => number;
}

/**
 * The raw calls on one ticket of one tracker, which the recorded actions (`trackers/recorded-actions.ts`) wrap: each
 * call is recorded before it is made, skipped when applied, checked when its outcome is unknown. Every method throws
 * the tracker's request error, carrying `transient: true` when worth a retry (429, 5xx, timeouts, resets).
 */
export interface TicketOps {
  /**
   * Posts a comment carrying the action's idempotency key in a form {@link TicketOps.findComment} can look up (Jira:
   * a comment property; GitHub and Linear: a hidden marker). Ticket text in `body` stays text (see `md`).
   * @returns the new comment's id.
   */
  comment(body: Markdown | string, marker: { idempotencyKey: string; runId: number }): Promise<{ id: string }>;
  /** The comment posted with this idempotency key, or null (checks a comment whose earlier outcome is unknown). */
  findComment(idempotencyKey: string): Promise<{ id: string } | null>;
  /**
   * Moves the ticket to the status named `statusName` (case-insensitive), or answers `{ alreadyIn }` when it is there.
   * @throws Error listing the statuses that are possible when none matches (permanent).
   * @returns what was done, for the audit trail.
   */
  transition(statusName: string): Promise<Record<string, unknown>>;
  /** The ticket's current status name (checks a transition whose earlier outcome is unknown). */
  currentStatus(): Promise<string | null>;
  /** Assigns (null: unassigns). Idempotent in every tracker, so simply re-sent after an unknown outcome. */
  assign(assignee: string | null): Promise<void>;
  /** Adds and removes labels (set semantics: idempotent). */
  editLabels(add: string[], remove: string[]): Promise<void>;
  /** Whether a failed call may still have been applied (no answer, reset, 5xx): the retry then waits and checks. */
  isAmbiguous(error: unknown): boolean;
}

/** Authentication settings of one tracker's webhook route (`POST /webhooks/<tracker>`). */
export interface WebhookAuthConfig {
  /** HMAC secrets (any may match: rotation). */
  secrets: readonly string[];
  /** Shared header tokens (Jira Automation's `X-Deflect-Token`); other trackers have none. */
  tokens: readonly string[];
  /**
   * The callback URL the tracker signs together with the body (Trello: `DEFLECT_PUBLIC_URL` + `/webhooks/trello`,
   * exactly as registered), or null when not configured; absent for trackers that sign the body alone.
   */
  callbackUrl?: string | null;
}

/** What a verifier may need besides headers and secrets: see {@link WebhookAuthConfig.callbackUrl}. */
export interface VerifierContext {
  callbackUrl?: string | null;
}

/**
 * One ticket system. `Client` is its API client type (Jira: `JiraApi`); `Actions` what its `createActions` returns (at
 * least {@link TicketActions}; every adapter returns the recorded actions, which also record other systems' calls, `act`).
 *
 * Receiving: `createVerifier` (before and while the body is read), then `parseEvent` on the parsed JSON, then
 * `deliveryKey`. Import and reconcile: `issueToTicket` on each REST issue. Running: `createActions`.
 */
export interface Tracker<Client = never, Actions extends TicketActions = TicketActions> {
  readonly name: TrackerName;
  /** Product name for messages: `Jira`, `GitHub`, `Linear`, `Trello`. */
  readonly title: string;
  /**
   * Headers stored with each delivery (lower case): what an operator needs to trace it and what `parseEvent` reads
   * (GitHub's event name). Never signature, token, authorization or cookie headers.
   */
  readonly keptHeaders: readonly string[];
  /**
   * The tracker's own limit on event age, ms (Linear: 60 s on `webhookTimestamp`), applied when shorter than
   * `DEFLECT_MAX_EVENT_AGE`; absent = that setting alone.
   */
  readonly maxEventAgeMs?: number;
  /** The environment variable(s) that configure its webhook secret, for error messages (`DEFLECT_GITHUB_WEBHOOK_SECRET`). */
  readonly secretSetting: string;
  /**
   * Starts authenticating a delivery from its headers (lower-case names) against the configured secrets (HMAC) and
   * tokens (shared header token). With neither configured every delivery is accepted.
   */
  createVerifier(
    headers: Record<string, string | string[] | undefined>,
    secrets: readonly string[],
    tokens: readonly string[],
    context?: VerifierContext,
  ): BodyVerifier;
  /**
   * Whether the route also answers `HEAD /webhooks/<name>` with 200 and no authentication: Trello checks the callback
   * URL that way when a webhook is created. Absent = no HEAD route.
   */
  readonly answersHeadCheck?: boolean;
  /**
   * Turns a parsed JSON body (and the delivery's headers, lower-case names: GitHub names the event in
   * `X-GitHub-Event`) into an event on a normalised ticket.
   * @throws InvalidEventError naming the first offending field path.
   */
  parseEvent(body: unknown, headers?: Record<string, string | string[] | undefined>): TrackerEvent;
  /**
   * The delivery's idempotency key: the tracker's delivery id scoped by tracker or site
   * (`<site host>:<X-Atlassian-Webhook-Identifier>`, `github:<X-GitHub-Delivery>`), else `sha256:<hex of the raw body>`.
   */
  deliveryKey(event: TrackerEvent, headers: Record<string, string | string[] | undefined>, bodySha256: string): { key: string; identifier: string | null };
  /**
   * Maps one issue as the tracker's API returns it (search results, JSONL dumps) to a {@link Ticket}.
   * @throws InvalidIssueError naming the first bad field.
   */
  issueToTicket(issue: unknown): Ticket;
  /** The recorded actions a run performs on its ticket (`recordTicketActions` over the adapter's {@link TicketOps}). */
  createActions(options: TicketActionsOptions<Client>): Actions;
  /**
   * For trackers whose webhooks carry only a stub of the ticket (Trello: a card's name and ids, no description,
   * labels or creator): reads the ticket's current state from the API before a run's handler parses it. Absent = the
   * snapshot the run was routed with is complete. Called only with a client (never in a dry run without credentials).
   * @throws the tracker's request error (`transient: true` for 429/5xx/timeouts: the run is retried).
   */
  refreshTicket?(client: Client, ticket: Ticket): Promise<Ticket>;
}
