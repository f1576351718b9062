/**
 * The contract a platform engineer implements: one handler per file in `handlers/`, listed in `handlers/index.ts`.
 * A handler sees a small, tracker-neutral context (see {@link HandlerContext}): its ticket, its parsed `input`, the
 * `tracker` to comment on / resolve / label / assign the ticket, `integrations` (other systems, registered once in
 * `src/integrations/index.ts`) whose calls go through `act`, `notApplied` for requests it validates but does not
 * carry out, plus `log`, `dryRun`, `idempotencyKey` and `signal`; per-rule `options` (the rule's `with:`, validated by
 * the handler's `options` schema) and approvals (`approval`, `requireApproval`; docs/decisions/009-approvals.md). Test it with `createTestContext`
 * (`src/automation/test-context.ts`). Walkthrough: `handlers/README.md`.
 *
 * @example
 * ```ts
 * // handlers/grant-team-access.ts
 * import { z } from 'zod';
 * import { defineHandler } from '../src/automation/define-handler.js';
 * import { md } from '../src/jira/comment-markdown.js';
 *
 * export default defineHandler({
 *   name: 'grant-team-access',
 *   description: 'Gives a GitHub team write access to one repository and resolves the ticket.',
 *   input: z.object({
 *     repository: z.string().describe('The repository, as `org/name`'),
 *     team: z.string().describe('The team slug, for example `payments`'),
 *   }),
 *   async run(ctx) {
 *     const { repository, team } = ctx.input;
 *     const { api, org } = ctx.integrations.github;
 *     // md: the template is Markdown; ${values} from the ticket are literal text, never links or markup.
 *     if (!api) return ctx.notApplied(md`deflect has no GitHub token (\`GITHUB_TOKEN\` is not set).`, [md`Give \`${team}\` write on ${repository}`]);
 *     await ctx.act('github.add_team_repository', { repository, team, permission: 'push' }, () =>
 *       api.addTeamToRepository(org, team, repository, 'write'),
 *     );
 *     await ctx.tracker.comment(md`${ctx.dryRun ? 'Would give' : 'Gave'} team \`${team}\` write access to **${repository}**.`);
 *     await ctx.tracker.resolve();
 *     return { summary: `gave ${team} write on ${repository}` };
 *   },
 * });
 * ```
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Ticket } from '../ticket.js';
import type { Integrations } from '../integrations/index.js';
import type { JiraActions } from '../jira/jira-actions.js';
import type { RecordedCall } from '../trackers/recorded-actions.js';
import type { NotApplied } from './not-applied.js';
import type { ApprovalGrant } from './approval.js';
import type { HandlerTracker } from './tracker.js';

/**
 * What a handler's `run` receives. Everything it may touch is here; it reads no globals.
 */
export interface HandlerContext<Input = unknown, Options = Record<string, unknown>> {
  /** The ticket as of the delivery that triggered this run. */
  ticket: Ticket;
  /** The handler's `input`, parsed from the ticket's description form and fields (see `parseTicketInput`). */
  input: Input;
  /**
   * The rule's options (`with:` in the rules file), parsed by the handler's `options` schema with its defaults
   * applied; validated when the rules file loads, so a bad value never reaches a run. `{}`-like defaults without `with:`.
   */
  options: Options;
  /** Who approved this run and when (ms), once an approver commented `/approve`; null otherwise. See `requireApproval`. */
  approval: ApprovalGrant | null;
  /**
   * Stops the run until an approver of the rule (`approval.approvers`) comments `/approve` on the ticket: deflect comments
   * once who must approve and how, the run waits as `awaiting-approval`, and runs again from the start once approved
   * (actions already applied are skipped). Returns at once when {@link approval} is set. Call it before any action.
   * @throws ApprovalRequiredError (caught by deflect; never catch it yourself).
   * @example if (roleRank(permission) > roleRank(ctx.options.maxRoleWithoutApproval)) ctx.requireApproval(`the ${permission} role needs approval`);
   */
  requireApproval(reason: string): void;
  /**
   * Actions on *this* ticket in the tracker it came from (comment, resolve, label, assign; see `tracker.ts`). Each call
   * is recorded as an action row (the audit trail) with its own idempotency key, is skipped on a retry when it was
   * already applied, and is only recorded as `planned` (nothing sent) when `dryRun` is true.
   * @example await ctx.tracker.comment(md`Done: \`${ctx.input.repository}\``); await ctx.tracker.resolve();
   */
  tracker: HandlerTracker;
  /**
   * Other systems, each registered once in `src/integrations/index.ts` and built at start-up from the config:
   * `ctx.integrations.github` is `{ api, org }` (`api` null without `GITHUB_TOKEN`). Wrap every call in {@link act}.
   */
  integrations: Integrations;
  /**
   * Calls another system as a recorded action, like the tracker actions: `act(kind, request, call)` writes an action
   * row of `kind` (`<system>.<operation>`, e.g. `github.add_collaborator`) with `request` (what the audit shows) before
   * `call` and its result after it. Its place in the run's action sequence is shared with `tracker.*` calls, so call
   * both in the same order on every attempt.
   * - already applied by an earlier attempt → `call` is skipped and the result recorded then is returned;
   * - dry run → recorded as `planned`, `call` is not made, returns undefined;
   * - an earlier attempt with an unknown outcome (crashed or timed out mid-call) → `call` is made again, so it **must
   *   be idempotent**; it receives the action's idempotency key (`<run key>:<seq>:<kind>`) to pass to systems that
   *   deduplicate requests.
   * Return plain JSON data from `call` (it is stored on the action). Throw an error with `transient: true` (as
   * `GitHubApi` methods do for 429/5xx/timeouts) to have the run retried.
   *
   * @example
   * ```ts
   * const { api } = ctx.integrations.github;
   * const result = await ctx.act('github.add_collaborator', { repository, user, permission }, () =>
   *   api!.addCollaborator(repository, user, permission),
   * ); // undefined in dry run
   * ```
   */
  act: RecordedCall;
  /**
   * Ends a run that validated the request but did not carry it out: posts the standard "valid but **not applied**"
   * comment with the steps a person must take (and the request id), leaves the ticket open, and returns the outcome
   * `{ summary: 'validated; not applied: …', applied: false }`. See `not-applied.ts`.
   * @example if (!api) return ctx.notApplied(md`deflect has no GitHub token.`, [md`Add \`@${user}\` to \`${repository}\``]);
   */
  notApplied: NotApplied;
  /** pino child logger tagged with `deliveryId`, `issueKey`, `handler` and `runId`. */
  log: Logger;
  /**
   * True when deflect runs without Jira credentials (or with DEFLECT_DRY_RUN=true): tracker actions and `act` calls
   * are recorded as planned, nothing is sent. Say "would" in your comment then.
   */
  dryRun: boolean;
  /** `<issue key>:<handler>:<delivery key>`, stable across retries: show it as the request id (each `act` call gets its own key). */
  idempotencyKey: string;
  /** Aborted when the handler's timeout (DEFLECT_HANDLER_TIMEOUT_MS) expires or the service shuts down. */
  signal: AbortSignal;
  /**
   * The Jira actions behind {@link tracker} (same recording; `transition(status)`, `addLabels`, `removeLabels`).
   * @deprecated Use `ctx.tracker` (tracker-neutral). Kept so handlers written before it still run.
   */
  jira: JiraActions;
}

/** What `run` may return; `summary` is stored on the run for the audit (one line, plain text). */
export interface HandlerResult {
  summary: string;
  /**
   * Set to false when the run validated the request but did not carry it out (a missing integration, a step left
   * to people). The run still succeeds, but the report does not count the ticket as automated. Default true.
   */
  applied?: boolean;
}

/** A handler definition. `name` must equal the file name (kebab-case) and is what rules refer to. */
export interface HandlerDefinition<Schema extends z.ZodType = z.ZodType, OptionsSchema extends z.ZodType = z.ZodType<Record<string, unknown>>> {
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
   * zod schema of the per-rule options (`with:` on a rule), usually a `z.object` whose fields all have defaults. The
   * rules file is checked against it when it loads (errors name `path:line:col`); `run` reads `ctx.options`.
   * Absent: the handler takes no options, and a rule giving `with:` is an error.
   */
  options?: OptionsSchema;
  /**
   * Completes the parsed options when the rules file loads (after `options` validated them): resolve a path relative
   * to the rules file, check a file it names. Return the options the runs get (`ctx.options`); throw
   * {@link OptionsError} naming the option to refuse the rules file with `path:line:col: rules.N.with.<option>: message`.
   * Runs at every (re)load, never during a run. Absent: the parsed options are used as they are.
   * @example loadOptions: (options, { rulesPath }) => ({ ...options, file: resolve(dirname(rulesPath), options.file) })
   */
  loadOptions?(options: z.output<OptionsSchema>, file: { rulesPath: string }): z.output<OptionsSchema>;
  /**
   * Does the work. Return = success (the summary goes in the audit); throw = failure.
   * Errors marked transient (any error with `transient: true`, such as Jira's and GitHub's 429/5xx/timeouts; connection
   * errors) are retried with backoff; others are not.
   */
  run(ctx: HandlerContext<z.output<Schema>, z.output<OptionsSchema>>): Promise<HandlerResult | void>;
}

/** Thrown by a handler's `loadOptions` for an option the rules file cannot use; `option` is its key in `with:`. */
export class OptionsError extends Error {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(message);
    this.name = 'OptionsError';
  }
}

const HANDLER_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * Declares a handler. Checks the name's shape at load time so a typo fails start-up, not a run.
 * @throws Error when `name` is not kebab-case or `run` is not a function.
 */
export function defineHandler<Schema extends z.ZodType, OptionsSchema extends z.ZodType = z.ZodType<Record<string, unknown>>>(
  definition: HandlerDefinition<Schema, OptionsSchema>,
): HandlerDefinition<Schema, OptionsSchema> {
  if (!HANDLER_NAME.test(definition.name)) {
    throw new Error(`handler name "${definition.name}" must be kebab-case (like "reset-ci-token") and equal its file name`);
  }
  if (typeof definition.run !== 'function') throw new Error(`handler ${definition.name} has no run(ctx) function`);
  return Object.freeze({ ...definition });
}

/** A handler of any input type, as the registry holds them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyHandler = HandlerDefinition<z.ZodType, any>;
