/**
 * The contract a platform engineer implements: one handler per file in `handlers/`.
 *
 * @example
 * ```ts
 * // handlers/reset-ci-token.ts
 * import { z } from 'zod';
 * import { defineHandler } from '../src/automation/define-handler.js';
 *
 * export default defineHandler({
 *   name: 'reset-ci-token',
 *   description: 'Rotates a CI/deploy token and tells the reporter where to find the new one.',
 *   input: z.object({ token: z.string().describe('Name of the token to reset') }),
 *   async run(ctx) {
 *     await ctx.jira.comment(`Token **${ctx.input.token}** was reset.`);
 *     await ctx.jira.transition('Done');
 *     return { summary: `reset token ${ctx.input.token}` };
 *   },
 * });
 * ```
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Ticket } from '../ticket.js';
import type { JiraActions } from '../jira/jira-actions.js';

/**
 * What a handler's `run` receives. Everything it may touch is here; it reads no globals.
 */
export interface HandlerContext<Input = unknown> {
  /** The ticket as of the delivery that triggered this run. */
  ticket: Ticket;
  /** The handler's `input`, parsed from the ticket's description form and fields (see `parseTicketInput`). */
  input: Input;
  /**
   * Jira actions on *this* ticket. Each call is recorded as an action row (the audit trail) with its own
   * idempotency key, is skipped on a retry when it was already applied, and is only recorded as `planned`
   * (nothing sent) when `dryRun` is true.
   */
  jira: JiraActions;
  /** pino child logger tagged with `deliveryId`, `issueKey`, `handler` and `runId`. */
  log: Logger;
  /** True when deflect runs without Jira credentials (or with DEFLECT_DRY_RUN=true): actions are planned, not sent. */
  dryRun: boolean;
  /** `<issue key>:<handler>:<delivery key>`, stable across retries: pass it to other systems that dedupe requests. */
  idempotencyKey: string;
  /** Aborted when the handler's timeout (DEFLECT_HANDLER_TIMEOUT_MS) expires or the service shuts down. */
  signal: AbortSignal;
}

/** What `run` may return; `summary` is stored on the run for the audit (one line, plain text). */
export interface HandlerResult {
  summary: string;
}

/** A handler definition. `name` must equal the file name (kebab-case) and is what rules refer to. */
export interface HandlerDefinition<Schema extends z.ZodType = z.ZodType> {
  /** kebab-case, equal to the file name in `handlers/` (without `.ts`). */
  name: string;
  /** One sentence for people reading the audit and `handlers/README.md`. */
  description: string;
  /**
   * zod schema of the handler's input. Keys are read from the ticket's description form
   * (`Repository: acme/api` → `repository`) and from ticket fields (`summary`, `labels`, ...).
   * Use `.describe()` on each field: the description is quoted to the reporter when the field is missing.
   */
  input: Schema;
  /**
   * Does the work. Return = success (the summary goes in the audit); throw = failure.
   * Errors marked transient (Jira 429/5xx, timeouts, connection errors) are retried with backoff; others are not.
   */
  run(ctx: HandlerContext<z.output<Schema>>): Promise<HandlerResult | void>;
}

const HANDLER_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * Declares a handler. Checks the name's shape at load time so a typo fails start-up, not a run.
 * @throws Error when `name` is not kebab-case or `run` is not a function.
 */
export function defineHandler<Schema extends z.ZodType>(definition: HandlerDefinition<Schema>): HandlerDefinition<Schema> {
  if (!HANDLER_NAME.test(definition.name)) {
    throw new Error(`handler name "${definition.name}" must be kebab-case (like "reset-ci-token") and equal its file name`);
  }
  if (typeof definition.run !== 'function') throw new Error(`handler ${definition.name} has no run(ctx) function`);
  return Object.freeze({ ...definition });
}

/** A handler of any input type, as the registry holds them. */
export type AnyHandler = HandlerDefinition<z.ZodType>;
