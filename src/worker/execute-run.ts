/**
 * Executing one claimed run: build the handler context, parse the handler's input from the ticket, call
 * `run(ctx)` under a timeout, and store the outcome (or requeue it with backoff when the failure is transient).
 */
import type { Logger } from 'pino';
import type { AnyHandler, HandlerContext } from '../automation/define-handler.js';
import { parseTicketInput } from '../automation/ticket-input.js';
import type { Db } from '../db/client.js';
import { findDelivery } from '../db/deliveries.js';
import { finishRun, requeueRun } from '../db/runs.js';
import type { RunRow } from '../db/schema.js';
import { findTicketByKey } from '../db/tickets.js';
import { JiraRequestError, type JiraApi } from '../jira/jira-actions.js';
import { createRecordedActions } from '../jira/recorded-actions.js';
import type { Ticket } from '../ticket.js';
import { parseJiraEvent } from '../webhooks/jira-event.js';
import { retryDelayMs } from './backoff.js';

export interface ExecuteRunOptions {
  db: Db;
  handlers: ReadonlyMap<string, AnyHandler>;
  api: JiraApi | null;
  logger: Logger;
  handlerTimeoutMs: number;
  /** Aborted at shutdown; the run's own signal follows it. */
  shutdownSignal: AbortSignal;
}

/** A handler that took longer than its timeout. Transient: the run is retried. */
export class HandlerTimeoutError extends Error {
  constructor(handler: string, ms: number) {
    super(`handler ${handler} timed out after ${ms} ms (DEFLECT_HANDLER_TIMEOUT_MS)`);
    this.name = 'HandlerTimeoutError';
  }
}

/** Errors worth retrying: Jira 429/5xx/timeouts/connection errors, and handler timeouts. */
export function isTransient(error: unknown): boolean {
  if (error instanceof JiraRequestError) return error.transient;
  if (error instanceof HandlerTimeoutError) return true;
  const code = (error as { code?: string } | null)?.code;
  return typeof code === 'string' && ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET'].includes(code);
}

/**
 * Runs `run` to an outcome. Never throws: every failure becomes `failed`, `dead` or a requeue.
 * @returns the status written.
 */
export async function executeRun(run: RunRow, options: ExecuteRunOptions): Promise<string> {
  const { db, logger } = options;
  const started = Date.now();
  const log = logger.child({ deliveryId: run.deliveryId, issueKey: run.ticketKey, handler: run.handler, runId: run.id });
  const elapsed = () => Date.now() - started;

  const handler = options.handlers.get(run.handler);
  if (!handler) {
    finishRun(db, run.id, { status: 'failed', error: `handler "${run.handler}" is not installed (check handlers/index.ts)`, durationMs: 0 });
    return 'failed';
  }
  const ticket = loadTicket(db, run);
  if (!ticket) {
    finishRun(db, run.id, { status: 'failed', error: `no snapshot of ${run.ticketKey} to run on`, durationMs: 0 });
    return 'failed';
  }

  const jira = createRecordedActions({
    db,
    api: options.api,
    runId: run.id,
    runKey: run.idempotencyKey,
    ticketKey: run.ticketKey,
    dryRun: run.dryRun,
    log,
  });
  const controller = new AbortController();
  const onShutdown = () => controller.abort(options.shutdownSignal.reason);
  options.shutdownSignal.addEventListener('abort', onShutdown, { once: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    const parsed = parseTicketInput(ticket, handler.input);
    if (!parsed.ok) {
      await jira.comment(parsed.comment);
      const fields = parsed.problems.map((p) => p.field).join(', ');
      finishRun(db, run.id, { status: 'skipped', summary: `input incomplete (${fields}): asked the reporter`, durationMs: elapsed() });
      log.info({ problems: parsed.problems }, 'input incomplete; reporter asked, no other action');
      return 'skipped';
    }
    const ctx: HandlerContext = {
      ticket,
      input: parsed.input,
      jira,
      log,
      dryRun: run.dryRun,
      idempotencyKey: run.idempotencyKey,
      signal: controller.signal,
    };
    // Settles when the timeout expires or shutdown aborts, whether or not the handler honours ctx.signal.
    const timeoutOrAbort = new Promise<never>((_, reject) => {
      timer = setTimeout(() => controller.abort(new HandlerTimeoutError(run.handler, options.handlerTimeoutMs)), options.handlerTimeoutMs);
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    const result = await Promise.race([handler.run(ctx), timeoutOrAbort]);
    const status = run.dryRun ? 'planned' : 'succeeded';
    finishRun(db, run.id, { status, summary: result?.summary ?? null, durationMs: elapsed() });
    log.info({ status, durationMs: elapsed() }, 'run finished');
    return status;
  } catch (error) {
    return recordFailure(run, error, elapsed(), options, log);
  } finally {
    clearTimeout(timer);
    options.shutdownSignal.removeEventListener('abort', onShutdown);
  }
}

function recordFailure(run: RunRow, error: unknown, durationMs: number, options: ExecuteRunOptions, log: Logger): string {
  const message = error instanceof Error ? error.message : String(error);
  if (options.shutdownSignal.aborted && !(error instanceof HandlerTimeoutError)) {
    // Interrupted by shutdown: the worker releases the run back to the queue.
    log.warn({ err: error }, 'run interrupted by shutdown');
    return 'interrupted';
  }
  if (isTransient(error)) {
    if (run.attempts < run.maxAttempts) {
      const delay = retryDelayMs(run.attempts, (error as JiraRequestError).retryAfterMs ?? null);
      requeueRun(options.db, run.id, Date.now() + delay, message, durationMs);
      log.warn({ err: error, attempt: run.attempts, retryInMs: delay }, 'transient failure; run requeued');
      return 'queued';
    }
    finishRun(options.db, run.id, { status: 'dead', error: `${message} (gave up after ${run.attempts} attempts)`, durationMs });
    log.error({ err: error, attempts: run.attempts }, 'run dead-lettered');
    return 'dead';
  }
  finishRun(options.db, run.id, { status: 'failed', error: message, durationMs });
  log.error({ err: error }, 'run failed (permanent error, not retried)');
  return 'failed';
}

function loadTicket(db: Db, run: RunRow): Ticket | null {
  const delivery = findDelivery(db, run.deliveryId);
  if (delivery) {
    try {
      const event = parseJiraEvent(JSON.parse(delivery.body));
      if (event.ticket && event.ticket.labels !== null) return event.ticket;
    } catch {
      // fall through to the stored snapshot
    }
  }
  const stored = findTicketByKey(db, run.ticketKey);
  if (!stored) return null;
  return {
    id: stored.id,
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
    siteUrl: null,
  };
}
