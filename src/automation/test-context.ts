/**
 * Handler tests without a server, a database or a tracker: {@link createTestContext} gives a real
 * {@link HandlerContext} (built by the same `buildHandlerContext` the worker uses) whose tracker actions and `act`
 * calls are recorded in order instead of sent; {@link runHandler} also parses the ticket with the handler's `input`
 * schema first, as the worker does. Fake integrations are injected by name.
 *
 * @example
 * ```ts
 * import { describe, expect, it } from 'vitest';
 * import handler from '../../handlers/grant-team-access.js';
 * import { runHandler } from '../../src/automation/test-context.js';
 *
 * it('gives the team write access, comments and resolves', async () => {
 *   const calls: unknown[] = [];
 *   const api = { timeoutMs: 1000, async addTeamToRepository(...args: unknown[]) { calls.push(args); return { team: 'acme/payments', permission: 'push' }; } };
 *   const t = await runHandler(handler, {
 *     description: 'Repository: acme/api\nTeam: payments',
 *     integrations: { github: { api: api as never, org: 'acme', callTimeoutMs: 1000 } },
 *   });
 *   expect(t.calls.map((call) => call.method)).toEqual(['act', 'comment', 'resolve']);
 *   expect(t.comments[0]).toContain('write access to **acme/api**');
 *   expect(t.result).toEqual({ summary: 'gave payments write on acme/api' });
 * });
 * ```
 */
import { resolve } from 'node:path';
import { pino } from 'pino';
import type { AnyHandler, HandlerContext, HandlerResult } from './define-handler.js';
import { buildHandlerContext } from './handler-context.js';
import { parseTicketInput } from './ticket-input.js';
import type { ApprovalGrant } from './approval.js';
import { unconfiguredIntegrations, type Integrations } from '../integrations/index.js';
import type { TicketActions } from '../trackers/tracker.js';
import type { RecordedCall } from '../trackers/recorded-actions.js';
import type { Ticket } from '../ticket.js';

/** One recorded call, in the order the handler made it. `resolve` args: `[status]`; `act` args: `[kind, request]`. */
export interface TestCall {
  method: 'comment' | 'resolve' | 'label' | 'unlabel' | 'assign' | 'act';
  args: unknown[];
}

/** Options of {@link createTestContext}. Everything is optional. */
export interface TestContextOptions<Input = unknown> {
  /** Fields replacing those of the default ticket (PLAT-1, reporter Jane Doe, status To Do); `tracker: 'github'` etc. for another tracker. */
  ticket?: Partial<Ticket>;
  /** Shortcut for `ticket.description` (the description form). */
  description?: string | null;
  /** `ctx.input` (default `{}`); {@link runHandler} parses it from the ticket instead. */
  input?: Input;
  /**
   * The rule's options: `ctx.options` as given (default `{}`); {@link runHandler} parses them with the handler's
   * `options` schema first (defaults applied), as loading the rules file does.
   */
  options?: Record<string, unknown>;
  /** `ctx.approval`: set it to run the handler as approved (`{ by, at }`); default null (`ctx.requireApproval` throws). */
  approval?: ApprovalGrant | null;
  /** Integrations by name, replacing the unconfigured defaults (`github: { api: null, org: 'acme' }`). */
  integrations?: Partial<Integrations>;
  /** Default false. In dry run `act` records the call and does not make it (returns undefined), as in production. */
  dryRun?: boolean;
  /** Used in the default idempotency key `<ticket key>:<handler>:delivery-1`. Default `handler`. */
  handlerName?: string;
  idempotencyKey?: string;
  /**
   * {@link runHandler}: the rules file the options are loaded as if from (the handler's `loadOptions` resolves paths
   * relative to it); default `rules.yaml` in the working directory.
   */
  rulesPath?: string;
}

/** What {@link createTestContext} returns: the context plus what the handler did through it. */
export interface TestContext<Input = unknown> {
  ctx: HandlerContext<Input>;
  /** Every tracker action and `act` call, in order. */
  calls: TestCall[];
  /** Comment texts (`String(markdown)`: values inserted verbatim), in order. */
  readonly comments: string[];
  /** Statuses the ticket was resolved (transitioned) to, in order. */
  readonly resolutions: string[];
  /** Labels added, in order. */
  readonly labels: string[];
  /** `act` calls: kind and the request the audit shows. */
  readonly acts: Array<{ kind: string; request: Record<string, unknown> }>;
  /** Lines the handler logged through `ctx.log` (parsed pino JSON: `msg`, fields, `level`). */
  logLines: Array<Record<string, unknown>>;
}

/** The default ticket: PLAT-1, a task in To Do reported by Jane Doe, with no description. */
export function testTicket(overrides: Partial<Ticket> = {}): Ticket {
  return {
    id: '10001',
    key: 'PLAT-1',
    project: 'PLAT',
    issueType: 'Task',
    status: 'To Do',
    labels: [],
    summary: 'Platform request',
    description: null,
    reporter: 'Jane Doe',
    reporterId: 'jane-account-id',
    created: null,
    updated: null,
    resolved: null,
    siteUrl: 'https://acme.atlassian.net',
    ...overrides,
  };
}

/**
 * A handler context that records instead of sending. `act` makes the call (with a key
 * `<idempotencyKey>:<seq>:<kind>`) unless `dryRun`; tracker calls only record. Use it to call `run` with an input you
 * built yourself (no form parsing); {@link runHandler} parses the ticket first.
 * @example
 * ```ts
 * const t = createTestContext({ input: { repository: 'acme/api', team: 'payments', role: 'write' as const } });
 * await handler.run(t.ctx);               // GitHub unconfigured by default → ctx.notApplied
 * expect(t.resolutions).toEqual([]);      // ticket left open
 * expect(t.comments[0]).toContain('**not applied**');
 * ```
 */
export function createTestContext<Input = unknown>(options: TestContextOptions<Input> = {}): TestContext<Input> {
  const ticket = testTicket({ ...options.ticket, ...(options.description !== undefined ? { description: options.description } : {}) });
  const calls: TestCall[] = [];
  const record =
    (method: TestCall['method']) =>
    async (...args: unknown[]): Promise<void> => {
      calls.push({ method, args });
    };
  const idempotencyKey = options.idempotencyKey ?? `${ticket.key}:${options.handlerName ?? 'handler'}:delivery-1`;
  const dryRun = options.dryRun ?? false;
  const act: RecordedCall = async (kind, request, call) => {
    calls.push({ method: 'act', args: [kind, request] });
    return dryRun ? undefined : call(`${idempotencyKey}:${calls.length}:${kind}`);
  };
  const actions: TicketActions & { act: RecordedCall } = {
    comment: record('comment'),
    transition: record('resolve'),
    assign: record('assign'),
    addLabels: record('label'),
    removeLabels: record('unlabel'),
    act,
  };
  const logLines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
  const ctx = buildHandlerContext<Input>({
    ticket,
    input: (options.input ?? {}) as Input,
    options: options.options ?? {},
    approval: options.approval ?? null,
    actions,
    integrations: { ...unconfiguredIntegrations(), ...options.integrations } as Integrations,
    log,
    dryRun,
    idempotencyKey,
    signal: new AbortController().signal,
  });
  const argsOf = (method: TestCall['method']) => calls.filter((c) => c.method === method).map((c) => c.args);
  return {
    ctx,
    calls,
    get comments() {
      return argsOf('comment').map((args) => String(args[0]));
    },
    get resolutions() {
      return argsOf('resolve').map((args) => String(args[0]));
    },
    get labels() {
      return argsOf('label').flat().map(String);
    },
    get acts() {
      return argsOf('act').map(([kind, request]) => ({ kind: String(kind), request: request as Record<string, unknown> }));
    },
    logLines,
  };
}

/** Thrown by {@link runHandler} when the ticket's form does not satisfy the handler's `input`. */
export class TestInputRejectedError extends Error {
  constructor(
    readonly problems: Array<{ field: string; message: string }>,
    readonly comment: string,
  ) {
    super(`input rejected: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`);
    this.name = 'TestInputRejectedError';
  }
}

/**
 * Parses the ticket with `handler.input` (as the worker does), runs the handler with a {@link createTestContext}
 * context, and returns what it did plus `result` (what `run` returned).
 * @throws TestInputRejectedError (with the problems and the comment the reporter would get) when the input is refused;
 *   whatever `run` throws.
 */
export async function runHandler(handler: AnyHandler, options: Omit<TestContextOptions, 'input' | 'handlerName'> = {}): Promise<TestContext & { result: HandlerResult | void }> {
  const probe = createTestContext({ ...options, handlerName: handler.name });
  const parsed = parseTicketInput(probe.ctx.ticket, handler.input);
  if (!parsed.ok) throw new TestInputRejectedError(parsed.problems, String(parsed.comment));
  const test = createTestContext({ ...options, handlerName: handler.name, input: parsed.input, options: handlerOptionsOf(handler, options.options, options.rulesPath) });
  const result = await handler.run(test.ctx);
  return Object.assign(test, { result });
}

/**
 * The handler's options parsed from a rule's `with:` value (`raw`, default `{}`) by its `options` schema, defaults
 * applied, then completed by its `loadOptions` as if the rule were in `rulesPath` (default `./rules.yaml`), as loading
 * the rules file does; `{}` for a handler without options.
 * @throws Error listing the problems when `raw` does not validate (the rules file would refuse it at load); whatever
 *   `loadOptions` throws (an `OptionsError` naming the option).
 */
export function handlerOptionsOf(handler: AnyHandler, raw: Record<string, unknown> = {}, rulesPath = resolve('rules.yaml')): Record<string, unknown> {
  if (!handler.options) return {};
  const parsed = handler.options.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid options for ${handler.name}: ${parsed.error.issues.map((i: { path: PropertyKey[]; message: string }) => `${i.path.map(String).join('.')}: ${i.message}`).join('; ')}`);
  const options = (parsed.data ?? {}) as Record<string, unknown>;
  return handler.loadOptions ? (handler.loadOptions(options, { rulesPath }) as Record<string, unknown>) : options;
}
