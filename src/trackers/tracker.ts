/**
 * The tracker adapter seam: everything deflect needs from a ticket system, behind one interface, so the receiver,
 * routing, import and reconcile never read a vendor's payload themselves. Jira Cloud is the first (and today only)
 * implementation (`trackers/jira/jira-tracker.ts`); GitHub Issues and Linear come next. Decision record:
 * docs/decisions/006-tracker-adapters.md (how ticket ids extend to `tracker:site:id`).
 *
 * The flow, one way: receiver (`webhooks/`) → `tracker.createVerifier` + `tracker.parseEvent` → record-and-route
 * (`pipeline/`) stores the delivery, the ticket snapshot and the runs (each run keeps the {@link Ticket} it acts
 * on) → worker → handler → `tracker.createActions` (comment, transition, labels, assign), recorded as actions.
 */
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import type { Markdown } from '../jira/comment-markdown.js';
import type { Ticket } from '../ticket.js';

/** Ticket systems deflect has (or will have) an adapter for. Only `jira` is implemented. */
export type TrackerName = 'jira';

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
  /** The tracker's event name (`jira:issue_created`, `comment_created`, ...; `automation:issue` for a Jira Automation body). */
  event: string;
  /** A finer event type when the tracker sends one (Jira's `issue_event_type_name`), else null. */
  eventType: string | null;
  /** Event time, epoch ms, or null when the body carries none. */
  timestamp: number | null;
  /** Account id (or name) of who caused the event, or null. */
  actor: string | null;
  /** The ticket, or null when the payload carries none. `labels: null` = the payload does not carry labels. */
  ticket: Ticket | null;
  /** Labels the event adds / removes, lower-cased. */
  labelsAdded: string[];
  labelsRemoved: string[];
  /** Host of the site the event comes from (part of the idempotency key), or null. */
  siteHost: string | null;
  /** Every distinct host (lower case) the event's URLs name: routing refuses an event naming another site. */
  selfHosts: string[];
}

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
  /** Assigns the ticket to an accountId; null unassigns. */
  assign(accountId: string | null): Promise<void>;
  /** Adds labels (Jira labels cannot contain spaces). */
  addLabels(...labels: string[]): Promise<void>;
  /** Removes labels. */
  removeLabels(...labels: string[]): Promise<void>;
}

/** What an adapter needs to build the recorded actions of one run. `client` is the tracker's API client (null = dry run). */
export interface TicketActionsOptions<Client> {
  db: Db;
  client: Client | null;
  runId: number;
  /** The run's idempotency key. */
  runKey: string;
  ticketKey: string;
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
 * One ticket system. `Client` is its API client type (Jira: `JiraApi`); `Actions` what its `createActions` returns (at
 * least {@link TicketActions}; Jira's also records other systems' calls, `act`).
 *
 * Receiving: `createVerifier` (before and while the body is read), then `parseEvent` on the parsed JSON, then
 * `deliveryKey`. Import and reconcile: `issueToTicket` on each REST issue. Running: `createActions`.
 */
export interface Tracker<Client = never, Actions extends TicketActions = TicketActions> {
  readonly name: TrackerName;
  /**
   * Starts authenticating a delivery from its headers (lower-case names) against the configured secrets (HMAC) and
   * tokens (shared header token). With neither configured every delivery is accepted.
   */
  createVerifier(headers: Record<string, string | string[] | undefined>, secrets: readonly string[], tokens: readonly string[]): BodyVerifier;
  /**
   * Turns a parsed JSON body into an event on a normalised ticket.
   * @throws InvalidEventError naming the first offending field path.
   */
  parseEvent(body: unknown): TrackerEvent;
  /**
   * The delivery's idempotency key: the tracker's delivery id scoped by site when sent
   * (`<site host>:<X-Atlassian-Webhook-Identifier>`), else `sha256:<hex of the raw body>`.
   */
  deliveryKey(event: TrackerEvent, headers: Record<string, string | string[] | undefined>, bodySha256: string): { key: string; identifier: string | null };
  /**
   * Maps one issue as the tracker's REST API returns it (search results, JSONL dumps) to a {@link Ticket}.
   * @throws InvalidIssueError naming the first bad field.
   */
  issueToTicket(issue: unknown): Ticket;
  /** The recorded actions a run performs on its ticket. */
  createActions(options: TicketActionsOptions<Client>): Actions;
}
