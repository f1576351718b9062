/**
 * `ctx.tracker`: what a handler does to its ticket, on whichever tracker the ticket came from. Today that is Jira
 * only; {@link handlerTracker} implements it over the run's recorded ticket actions (the tracker adapter's
 * `createActions`, `src/trackers/tracker.ts`; for Jira `src/jira/recorded-actions.ts`): every
 * call is an action row in the audit trail with its own idempotency key, skipped on a retry that finds it applied,
 * and only recorded as `planned` (nothing sent) in dry run. Another tracker plugs in through its adapter's `createActions`.
 *
 * @example
 * ```ts
 * await ctx.tracker.comment(md`Added \`${user}\` to **${repository}**.`); // ticket values are literal text
 * await ctx.tracker.label('automated');
 * await ctx.tracker.resolve();                                          // Jira: transition to "Done"
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
   * Marks the request done: on Jira, moves the ticket to `status` (default {@link DEFAULT_RESOLVED_STATUS}) by
   * status or transition name, case-insensitive.
   * @throws Error listing the available transitions when none leads there (a permanent failure).
   */
  resolve(status?: string): Promise<void>;
  /** Adds labels (Jira labels cannot contain spaces). */
  label(...labels: string[]): Promise<void>;
  /** Assigns the ticket to a tracker account id; null unassigns. */
  assign(accountId: string | null): Promise<void>;
}

/** `ctx.tracker` over a run's recorded ticket actions on tracker `kind`. */
export function handlerTracker(kind: TrackerName, jira: TicketActions): HandlerTracker {
  return Object.freeze({
    kind,
    comment: (body: Markdown | string) => jira.comment(body),
    resolve: (status: string = DEFAULT_RESOLVED_STATUS) => jira.transition(status),
    label: (...labels: string[]) => jira.addLabels(...labels),
    assign: (accountId: string | null) => jira.assign(accountId),
  });
}
