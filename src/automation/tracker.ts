/**
 * `ctx.tracker`: what a handler does to its ticket, on whichever tracker the ticket came from (Jira Cloud or Data
 * Center, GitHub Issues, Linear). {@link handlerTracker} implements it over the run's recorded ticket actions (the
 * tracker adapter's `createActions`, `src/trackers/tracker.ts`, built by `src/trackers/recorded-actions.ts`): every
 * call is an action row in the audit trail with its own idempotency key, skipped on a retry that finds it applied,
 * and only recorded as `planned` (nothing sent) in dry run.
 *
 * @example
 * ```ts
 * await ctx.tracker.comment(md`Added \`${user}\` to **${repository}**.`); // ticket values are literal text
 * await ctx.tracker.label('automated');
 * await ctx.tracker.resolve();   // Jira, Linear: to the "Done" status; GitHub: close the issue as completed
 * ```
 */
import type { Markdown } from '../jira/comment-markdown.js';
import type { TicketActions, TrackerName } from '../trackers/tracker.js';

/** The status {@link HandlerTracker.resolve} moves a ticket to when given none. */
export const DEFAULT_RESOLVED_STATUS = 'Done';

/** Tracker-neutral actions on the run's ticket. Each is recorded and applied effectively once (see module doc). */
export interface HandlerTracker {
  /** Which tracker the ticket came from. */
  readonly kind: TrackerName;
  /**
   * Adds a comment. Build it with the `md` tagged template (`src/jira/comment-markdown.ts`): the template is
   * Markdown, every `${value}` is literal text, never a link or markup. A plain string is posted as plain text.
   */
  comment(body: Markdown | string): Promise<void>;
  /**
   * Marks the request done: moves the ticket to `status` (default {@link DEFAULT_RESOLVED_STATUS}), case-insensitive:
   * Jira by status or transition name, Linear by workflow state name; GitHub closes the issue as completed (`Done`,
   * `Closed`, `Resolved`) or reopens it (`Open`).
   * @throws Error listing the statuses that are possible when none matches (a permanent failure).
   */
  resolve(status?: string): Promise<void>;
  /** Adds labels (Jira labels cannot contain spaces). */
  label(...labels: string[]): Promise<void>;
  /** Assigns the ticket to a tracker account (Jira accountId, or name on Data Center; GitHub login; Linear user id); null unassigns. */
  assign(accountId: string | null): Promise<void>;
}

/** `ctx.tracker` over a run's recorded ticket actions on tracker `kind`. */
export function handlerTracker(kind: TrackerName, actions: TicketActions): HandlerTracker {
  return Object.freeze({
    kind,
    comment: (body: Markdown | string) => actions.comment(body),
    resolve: (status: string = DEFAULT_RESOLVED_STATUS) => actions.transition(status),
    label: (...labels: string[]) => actions.addLabels(...labels),
    assign: (accountId: string | null) => actions.assign(accountId),
  });
}
