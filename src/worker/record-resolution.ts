/**
 * (verified resolution) The run executor's side of verification: after a live run succeeded, whether it resolved its
 * ticket (an applied `transition` action to a done status), the feedback invitation the rule asks for
 * (`feedback: true`), and the `run_verifications` row that starts the watch window. Decision record:
 * docs/decisions/010-verified-resolution.md.
 */
import type { Store } from '../db/store.js';
import type { RunRow } from '../db/schema.js';
import { ticketRowId } from '../db/tickets.js';
import { md } from '../jira/comment-markdown.js';
import { isDoneStatus, reporterOf } from '../pipeline/verification-signals.js';
import type { Ticket } from '../ticket.js';

/** What a run did that verification watches: the done status it set and the labels it added (lower-cased). */
export interface RunResolution {
  status: string;
  labelsAdded: string[];
}

/** The resolution run `runId` made, from its applied actions, or null when it moved no ticket to a done status. */
export async function resolutionOfRun(db: Store, runId: number): Promise<RunResolution | null> {
  const actions = (await db.listActionsForRuns([runId])).filter((a) => a.status === 'applied');
  const request = (json: string) => JSON.parse(json) as { status?: unknown; labels?: unknown };
  const statuses = actions.filter((a) => a.kind === 'transition').map((a) => request(a.request).status);
  const last = statuses.at(-1);
  if (typeof last !== 'string' || !isDoneStatus(last)) return null;
  const labelsAdded = actions
    .filter((a) => a.kind === 'add_labels')
    .flatMap((a) => (Array.isArray(request(a.request).labels) ? (request(a.request).labels as unknown[]) : []))
    .map((l) => String(l).toLowerCase());
  return { status: last, labelsAdded };
}

/** The invitation a rule with `feedback: true` adds after a resolution (the reporter answers as the first line of a comment). */
export const FEEDBACK_INVITATION = md`Did this solve your request? Reply \`/thanks\` if it did, or \`/reopen\` if it did not and a person will take it over.`;

/** Starts the watch of a resolution (see `db/run-verifications.ts`). */
export async function watchResolution(db: Store, run: RunRow, ticket: Ticket, resolution: RunResolution, options: { windowMs: number; feedbackInvited: boolean }, now = Date.now()): Promise<void> {
  await db.recordResolution(
    {
      runId: run.id,
      handler: run.handler,
      ticketKey: run.ticketKey,
      ticketRowId: ticketRowId(ticket).id,
      reporter: reporterOf(ticket),
      resolvedStatus: resolution.status,
      labelsAdded: resolution.labelsAdded,
      feedbackInvited: options.feedbackInvited,
    },
    options.windowMs,
    now,
  );
}
