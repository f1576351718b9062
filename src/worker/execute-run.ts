/**
 * Executing one claimed run: build the handler context, parse the handler's input from the ticket, call
 * `run(ctx)` under a timeout, and store the outcome (or requeue it with backoff when the failure is transient).
 *
 * Error classes (see also handlers/README.md "Outcomes"):
 * - transient (any error with `transient: true` — Jira's and GitHub's 429/5xx/timeouts/connection errors —, Node
 *   connection errors, handler timeout) → requeued after {@link retryDelayMs}
 *   (exponential, jittered, never before Jira's `Retry-After`; never before `jiraTimeoutMs` when the last Jira write
 *   has an unknown outcome, so a late write lands before the retry checks for it); `dead` once `maxAttempts` are used;
 * - permanent (Jira/GitHub 4xx, handler bug, {@link LoopGuardError}) → `failed`, not retried.
 * Each final outcome also feeds the handler's failure streak: `pauseAfterFailures` failed/dead runs in a row pause it.
 *
 * Shadow runs (queued by a rule in `mode: shadow`, issue 11) execute like dry runs — every action, the input-incomplete
 * comment included, is recorded `planned` and nothing is sent — and end `shadow` instead of `planned`/`succeeded`/
 * `skipped`; they do not touch the handler's failure streak (a rule being tried must not pause or reset a live one).
 *
 * Ownership: every outcome is written only while `owner` still holds the run (see `db/runs.ts`). When the worker finds
 * the lease lost (`leaseSignal` aborts with a {@link LeaseLostError}), no new action starts and nothing is written: the
 * process that took the run over records its result.
 */
import type { Logger } from 'pino';
import type { AnyHandler } from '../automation/define-handler.js';
import { buildHandlerContext } from '../automation/handler-context.js';
import { parseTicketInput } from '../automation/ticket-input.js';
import type { Store } from '../db/store.js';
import { type RunOutcomeRecord } from '../db/runs.js';
import type { RunRow } from '../db/schema.js';
import { siteUrlOf } from '../db/tickets.js';
import { longestCallTimeoutMs, type Integrations } from '../integrations/index.js';
import type { JiraApi } from '../jira/jira-actions.js';
import { LoopGuardError, type RecordedActions } from '../trackers/recorded-actions.js';
import { trackerNamed, type TrackerClients } from '../trackers/index.js';
import type { TrackerName } from '../trackers/tracker.js';
import type { Ticket } from '../ticket.js';
import { retryDelayMs } from './backoff.js';
import { ApprovalRequiredError } from '../automation/approval.js';
import type { VerifySettings } from '../config.js';
import { evaluateDemotion } from '../automation/demotion.js';
import { FEEDBACK_INVITATION, resolutionOfRun, watchResolution } from './record-resolution.js';
import { askForApproval, closeDecidedRun, ruleRequiresApproval, runGateOf, type GateActionParts } from './approval-gate.js';

export interface ExecuteRunOptions {
  db: Store;
  handlers: ReadonlyMap<string, AnyHandler>;
  /** Jira's client (null = not configured). */
  api: JiraApi | null;
  /** The other trackers' clients, by tracker name (absent or null = not configured: the run's actions are not sent). */
  trackerClients?: TrackerClients;
  /** The integrations handlers get as `ctx.integrations` (built once at start-up); absent = none configured. */
  integrations?: Integrations;
  logger: Logger;
  handlerTimeoutMs: number;
  /** Aborted at shutdown; the run's own signal follows it. */
  shutdownSignal: AbortSignal;
  /** The process id that claimed the run (`runs.owner`); every outcome write checks it. */
  owner: string;
  /** Aborted (with a {@link LeaseLostError}) when this process lost the run's lease; the run's own signal follows it. */
  leaseSignal?: AbortSignal;
  /** Per-ticket cap on actions per rolling hour; 0 = none (`DEFLECT_MAX_ACTIONS_PER_HOUR`). */
  maxActionsPerHour?: number;
  /** Failed/dead runs in a row that pause a handler; 0 = never (`DEFLECT_PAUSE_AFTER_FAILURES`). */
  pauseAfterFailures?: number;
  /** First retry's backoff ceiling, ms (`DEFLECT_RETRY_BASE_MS`). */
  retryBaseMs?: number;
  /** Jira per-request timeout, ms (`JIRA_TIMEOUT_MS`): the least wait before retrying a write with an unknown outcome. */
  jiraTimeoutMs?: number;
  /** Random source for backoff jitter, [0, 1). */
  random?: () => number;
  /**
   * (verified resolution) How long a resolved ticket is watched (`windowMs`, default 14 days) and the demotion
   * settings, re-evaluated when a resolution completes a handler's last N (`DEFLECT_VERIFY_*`). Absent: no demotion.
   */
  verify?: VerifySettings;
}

/** `DEFLECT_VERIFY_WINDOW`'s default, ms: 14 days. */
export const DEFAULT_VERIFY_WINDOW_MS = 14 * 24 * 3_600_000;

/** A handler that took longer than its timeout. Transient: the run is retried. */
export class HandlerTimeoutError extends Error {
  constructor(handler: string, ms: number) {
    super(`handler ${handler} timed out after ${ms} ms (DEFLECT_HANDLER_TIMEOUT_MS)`);
    this.name = 'HandlerTimeoutError';
  }
}

/**
 * This process no longer owns the run: its lease expired (the process stalled longer than `DEFLECT_RUN_LEASE_MS`) and
 * another process requeued or took it. The attempt stops and records nothing.
 */
export class LeaseLostError extends Error {
  constructor(runId: number) {
    super(`run #${runId} was taken over by another process (lease expired; DEFLECT_RUN_LEASE_MS); this attempt stops and records nothing`);
    this.name = 'LeaseLostError';
  }
}

const TRANSIENT_CODES = ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET'];

/**
 * The shape that marks an error as worth retrying or not: `JiraRequestError`, `GitHubRequestError`, and any error a
 * handler throws with a boolean `transient` (optionally `retryAfterMs`, the least wait before the retry, ms).
 */
export interface TransientErrorShape {
  transient: boolean;
  retryAfterMs?: number | null;
}

const hasTransientFlag = (value: unknown): value is TransientErrorShape =>
  typeof value === 'object' && value !== null && typeof (value as { transient?: unknown }).transient === 'boolean';

/**
 * Errors worth retrying: any error carrying `transient: true` (Jira's and GitHub's 429/5xx/timeouts/connection errors),
 * handler timeouts, and Node network errors — also when a handler wrapped one as the `cause` of its own error (up to 5
 * levels deep). An error with `transient: false` never is, nor is a {@link LoopGuardError}.
 */
export function isTransient(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    if (current instanceof LoopGuardError) return false;
    if (hasTransientFlag(current)) return current.transient;
    if (current instanceof HandlerTimeoutError) return true;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_CODES.includes(code)) return true;
  }
  return false;
}

/** The `retryAfterMs` (Jira's `Retry-After`, GitHub's `retry-after`/`x-ratelimit-reset`) carried by `error` or its cause chain, or null. */
export function retryAfterOf(error: unknown): number | null {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    if (hasTransientFlag(current)) return typeof current.retryAfterMs === 'number' ? current.retryAfterMs : null;
  }
  return null;
}

/**
 * Runs `run` to an outcome. Never throws: every failure becomes `failed`, `dead` or a requeue.
 * @returns the status written, `interrupted` (shutdown: the worker releases the run) or `lost` (lease lost: nothing written).
 */
export async function executeRun(run: RunRow, options: ExecuteRunOptions): Promise<string> {
  const { db, logger } = options;
  const started = Date.now();
  const log = logger.child({ deliveryId: run.deliveryId, issueKey: run.ticketKey, handler: run.handler, runId: run.id });
  const elapsed = () => Date.now() - started;

  /** Writes the outcome if this process still owns the run; otherwise logs that the takeover's result stands. */
  const finish = async (outcome: RunOutcomeRecord): Promise<boolean> => {
    const written = await db.finishOwnedRun(run.id, options.owner, outcome);
    if (!written) log.warn({ status: outcome.status, owner: options.owner }, 'run outcome not recorded: another process owns the run now (lease lost)');
    return written;
  };

  const handler = options.handlers.get(run.handler);
  if (!handler) {
    await finish({ status: 'failed', error: `handler "${run.handler}" is not installed (check handlers/index.ts)`, durationMs: 0 });
    return 'failed';
  }
  const loaded = await loadTicket(db, run);
  if (!loaded) {
    await finish({ status: 'failed', error: `no snapshot of ${run.ticketKey} to run on`, durationMs: 0 });
    return 'failed';
  }
  let ticket: Ticket = loaded;

  const controller = new AbortController();
  // The adapter of the tracker the ticket came from (Ticket.tracker; runs queued before there were several: Jira).
  const tracker = trackerNamed(ticket.tracker);
  const client = tracker.name === 'jira' ? options.api : (options.trackerClients?.[tracker.name] ?? null);
  const actionsFor = (suffix: string) =>
    tracker.createActions({
      db,
      client,
      ticket,
      runId: run.id,
      runKey: `${run.idempotencyKey}${suffix}`,
      ticketKey: run.ticketKey,
      // A shadow run is always a dry run (enqueueRun sets both; checked again here because nothing may be sent).
      dryRun: run.dryRun || run.shadow,
      log,
      signal: controller.signal,
      maxActionsPerHour: options.maxActionsPerHour,
    });
  const actions = actionsFor('');
  // (approvals) the rule's options and the run's approval; gate parts for asking / closing (approval-gate.ts).
  let gateParts: GateActionParts | null = null;
  const onShutdown = () => controller.abort(options.shutdownSignal.reason);
  const onLeaseLost = () => controller.abort(options.leaseSignal?.reason ?? new LeaseLostError(run.id));
  options.shutdownSignal.addEventListener('abort', onShutdown, { once: true });
  options.leaseSignal?.addEventListener('abort', onLeaseLost, { once: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    // A tracker whose webhooks carry only a stub of the ticket (Trello) reads it whole before the handler parses it;
    // the fresh state is also the ticket's snapshot (the report sees its labels), as of the time it was read.
    if (tracker.refreshTicket && client) {
      ticket = await tracker.refreshTicket(client, ticket);
      await db.upsertTickets([{ ticket, eventAt: Date.now() }], 'webhook');
    }
    const gate = await runGateOf(db, run, handler);
    gateParts = { db, run, gate, actionsFor, owner: options.owner, durationMs: 0, log, finish };
    if (gate.ended) return await closeDecidedRun({ ...gateParts, durationMs: elapsed() });
    const parsed = parseTicketInput(ticket, handler.input);
    if (!parsed.ok) {
      // A shadow run is a dry run: this comment is recorded `planned`, never sent.
      await actions.comment(parsed.comment);
      const fields = parsed.problems.map((p) => p.field).join(', ');
      const status = run.shadow ? 'shadow' : 'skipped';
      const summary = run.shadow ? `shadow: input incomplete (${fields}); would ask the reporter` : `input incomplete (${fields}): asked the reporter`;
      if (!await finish({ status, summary, durationMs: elapsed() })) return 'lost';
      log.info({ problems: parsed.problems, shadow: run.shadow }, run.shadow ? 'shadow run: input incomplete; nothing sent' : 'input incomplete; reporter asked, no other action');
      return status;
    }
    const needsApproval = ruleRequiresApproval(gate, parsed.input);
    if (needsApproval) throw new ApprovalRequiredError(needsApproval);
    const ctx = buildHandlerContext({
      ticket,
      input: parsed.input,
      options: gate.options,
      approval: gate.grant,
      actions,
      integrations: options.integrations,
      log,
      dryRun: run.dryRun || run.shadow,
      idempotencyKey: run.idempotencyKey,
      signal: controller.signal,
    });
    // Settles when the timeout expires or shutdown aborts, whether or not the handler honours ctx.signal.
    const timeoutOrAbort = new Promise<never>((_, reject) => {
      timer = setTimeout(() => controller.abort(new HandlerTimeoutError(run.handler, options.handlerTimeoutMs)), options.handlerTimeoutMs);
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    const result = await Promise.race([handler.run(ctx), timeoutOrAbort]);
    const status = run.shadow ? 'shadow' : run.dryRun ? 'planned' : 'succeeded';
    // (verified resolution) a live run that moved its ticket to a done status is watched; the rule may invite feedback.
    const resolution = status === 'succeeded' && result?.applied !== false ? await resolutionOfRun(db, run.id) : null;
    if (resolution && gate.feedback) await actions.comment(FEEDBACK_INVITATION);
    if (!await finish({ status, summary: result?.summary ?? null, applied: result?.applied, durationMs: elapsed() })) return 'lost';
    if (resolution) {
      await watchResolution(db, run, ticket, resolution, { windowMs: options.verify?.windowMs ?? DEFAULT_VERIFY_WINDOW_MS, feedbackInvited: gate.feedback });
      if (options.verify) await evaluateDemotion(db, run.handler, options.verify, log);
    }
    // A shadow run says nothing about the live handler's health: it neither ends nor extends a failure streak.
    if (!run.shadow) await db.recordHandlerOutcome(run.handler, 'success', { pauseAfter: options.pauseAfterFailures ?? 0 });
    log.info({ status, durationMs: elapsed() }, 'run finished');
    return status;
  } catch (error) {
    if (error instanceof ApprovalRequiredError && gateParts && !controller.signal.aborted) {
      try {
        return await askForApproval({ ...gateParts, durationMs: elapsed() }, error.reason);
      } catch (askError) {
        error = askError;
      }
    }
    // A timed-out or aborted handler may still have a call in flight: let it settle so its action row holds the real
    // outcome before the run is requeued (the next attempt then skips or checks it). No new action starts now.
    // At shutdown wait briefly: a call still in flight leaves its row `started`, which the next process checks in Jira
    // (or, for an `act` call, makes again).
    controller.abort(error);
    const callTimeoutMs = Math.max(options.jiraTimeoutMs ?? 10_000, options.integrations ? longestCallTimeoutMs(options.integrations) : 0);
    await settle(actions, options.shutdownSignal.aborted ? 2_000 : callTimeoutMs + 1_000);
    return await recordFailure(run, error, elapsed(), options, log, actions.lastFailureAmbiguous, finish);
  } finally {
    clearTimeout(timer);
    options.shutdownSignal.removeEventListener('abort', onShutdown);
    options.leaseSignal?.removeEventListener('abort', onLeaseLost);
  }
}

async function recordFailure(
  run: RunRow,
  error: unknown,
  durationMs: number,
  options: ExecuteRunOptions,
  log: Logger,
  ambiguous: boolean,
  finish: (outcome: RunOutcomeRecord) => Promise<boolean>,
): Promise<string> {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof LeaseLostError || options.leaseSignal?.aborted) {
    log.error({ err: error }, 'run stopped: its lease was lost to another process; this attempt records nothing');
    return 'lost';
  }
  if (options.shutdownSignal.aborted && !(error instanceof HandlerTimeoutError)) {
    // Interrupted by shutdown: the worker releases the run back to the queue.
    log.warn({ err: error }, 'run interrupted by shutdown');
    return 'interrupted';
  }
  if (isTransient(error)) {
    if (run.attempts < run.maxAttempts) {
      const backoff = retryDelayMs(run.attempts, retryAfterOf(error), options.random, options.retryBaseMs);
      const delay = Math.max(backoff, ambiguous ? (options.jiraTimeoutMs ?? 0) : 0);
      if (!await options.db.requeueOwnedRun(run.id, options.owner, Date.now() + delay, message, durationMs)) {
        log.warn({ owner: options.owner }, 'run not requeued: another process owns it now (lease lost)');
        return 'lost';
      }
      log.warn({ err: error, attempt: run.attempts, retryInMs: delay, retryAfterMs: retryAfterOf(error) }, 'transient failure; run requeued');
      return 'queued';
    }
    const dead = `${message} (gave up after ${run.attempts} attempts)`;
    if (!(await finish({ status: 'dead', error: dead, durationMs }))) return 'lost';
    log.error({ err: error, attempts: run.attempts }, 'run dead-lettered (deflect runs retry re-queues it)');
    await countFailure(run, dead, options, log);
    return 'dead';
  }
  if (!(await finish({ status: 'failed', error: message, durationMs }))) return 'lost';
  log.error({ err: error }, 'run failed (permanent error, not retried)');
  // The loop guard stopping a run is not the handler failing.
  if (!(error instanceof LoopGuardError)) await countFailure(run, message, options, log);
  return 'failed';
}

/** Extends the handler's failure streak; logs loudly when this failure pauses it. */
async function countFailure(run: RunRow, error: string, options: ExecuteRunOptions, log: Logger): Promise<void> {
  if (run.shadow) return;
  const result = await options.db.recordHandlerOutcome(run.handler, 'failure', { pauseAfter: options.pauseAfterFailures ?? 0, error });
  if (result.pausedNow) {
    log.error(
      { handler: run.handler, consecutiveFailures: result.consecutiveFailures },
      `handler ${run.handler} paused after ${result.consecutiveFailures} failed runs in a row; its runs wait in the queue (deflect handlers resume ${run.handler})`,
    );
  }
}

/** Waits for the attempt's in-flight call (Jira or `act`), at most `ms`. */
async function settle(actions: RecordedActions, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([actions.whenIdle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * The ticket the run acts on: the snapshot stored with the run when it was queued (routing saw the event's full
 * issue), so the delivery body is never parsed again and retention may prune it. Runs queued before the snapshot
 * column existed (migration `run_ticket_snapshot`) fall back to the latest `tickets` row of their key.
 */
async function loadTicket(db: Store, run: RunRow): Promise<Ticket | null> {
  const snapshot = await db.findRunTicketSnapshot(run.id);
  if (snapshot) return snapshot;
  const stored = await db.findTicketByKey(run.ticketKey);
  if (!stored) return null;
  return {
    tracker: stored.tracker as TrackerName,
    id: stored.issueId || stored.id,
    key: stored.key,
    project: stored.project,
    issueType: stored.issueType,
    status: stored.status,
    labels: stored.labels,
    summary: stored.summary,
    description: stored.description,
    reporter: stored.reporter,
    reporterId: stored.reporterId,
    created: stored.created,
    updated: stored.updated,
    resolved: stored.resolved,
    siteUrl: siteUrlOf(stored.site),
  };
}
