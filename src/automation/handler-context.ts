/**
 * Builds the {@link HandlerContext} a handler's `run` gets, from the run's recorded actions and the integrations
 * built at start-up. One function, used by the run executor (`src/worker/execute-run.ts`) and by
 * `createTestContext`, so a handler test sees exactly the context shape production does.
 */
import type { Logger } from 'pino';
import { unconfiguredIntegrations, type Integrations } from '../integrations/index.js';
import type { JiraActions } from '../jira/jira-actions.js';
import type { RecordedCall } from '../trackers/recorded-actions.js';
import type { Ticket } from '../ticket.js';
import type { HandlerContext } from './define-handler.js';
import { createNotApplied } from './not-applied.js';
import { handlerTracker } from './tracker.js';
import { requireApprovalFor, type ApprovalGrant } from './approval.js';

/** What {@link buildHandlerContext} needs. */
export interface HandlerContextParts<Input, Options = Record<string, unknown>> {
  ticket: Ticket;
  input: Input;
  /** The rule's parsed options (`ctx.options`); absent = `{}`. */
  options?: Options;
  /** The run's approval (`ctx.approval`); absent = not approved. */
  approval?: ApprovalGrant | null;
  /** The ticket's recorded tracker actions (`ctx.tracker` is built over them) and `act` for other systems. */
  actions: JiraActions & { act: RecordedCall };
  /** Built once at start-up (`createIntegrations`); absent = none configured. */
  integrations?: Integrations;
  log: Logger;
  dryRun: boolean;
  idempotencyKey: string;
  signal: AbortSignal;
}

/** The handler context for one run attempt (see {@link HandlerContext} for each field). Sends nothing itself. */
export function buildHandlerContext<Input, Options = Record<string, unknown>>(parts: HandlerContextParts<Input, Options>): HandlerContext<Input, Options> {
  const tracker = handlerTracker(parts.ticket.tracker ?? 'jira', parts.actions);
  return {
    ticket: parts.ticket,
    input: parts.input,
    options: parts.options ?? ({} as Options),
    approval: parts.approval ?? null,
    requireApproval: requireApprovalFor(parts.approval ?? null),
    tracker,
    integrations: parts.integrations ?? unconfiguredIntegrations(),
    act: parts.actions.act,
    notApplied: createNotApplied(tracker, parts.idempotencyKey),
    log: parts.log,
    dryRun: parts.dryRun,
    idempotencyKey: parts.idempotencyKey,
    signal: parts.signal,
    jira: parts.actions,
  };
}
