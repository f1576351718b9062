/**
 * The worker: runs in the same process as the HTTP server and drives everything that happens after a delivery
 * is stored. Each turn it (1) routes pending deliveries into runs, (2) claims due runs up to `concurrency`
 * (never two for one ticket) and executes them. It sleeps until woken (a new delivery, a finished run) or until
 * the next retry is due, polling at least every `pollMs`. Runs of paused handlers (see `db/handler-states.ts`) stay
 * queued until the handler is resumed; changes made by another process (`deflect runs retry`, `deflect handlers
 * resume`, `deflect reconcile`) are picked up within `pollMs`.
 *
 * Shutdown (`stop`): stop claiming, give in-flight runs `graceMs` to finish, then abort them and put them back
 * in the queue (released, not failed), so nothing acknowledged is lost.
 */
import type { Logger } from 'pino';
import type { AnyHandler } from '../automation/define-handler.js';
import type { Db } from '../db/client.js';
import { listPausedHandlers } from '../db/handler-states.js';
import { claimDueRuns, nextRunDueAt, releaseRunningRuns } from '../db/runs.js';
import type { GitHubApi } from '../integrations/github.js';
import type { JiraApi } from '../jira/jira-actions.js';
import type { Rule } from '../rules/rules-file.js';
import { executeRun } from './execute-run.js';
import { ROUTE_BATCH, routePendingDeliveries } from './route-deliveries.js';

export interface WorkerOptions {
  db: Db;
  rules: readonly Rule[];
  handlers: readonly AnyHandler[];
  api: JiraApi | null;
  /** The GitHub client handlers get as `ctx.github`; null/absent when `GITHUB_TOKEN` is unset. */
  github?: GitHubApi | null;
  /** Default GitHub organization for handlers (`GITHUB_ORG`). */
  githubOrg?: string;
  logger: Logger;
  dryRun: boolean;
  maxAttempts: number;
  handlerTimeoutMs: number;
  concurrency: number;
  selfAccountId: string | null;
  /** The Jira site deflect acts on; events from another site are recorded, never routed (see RoutingOptions). */
  siteUrl?: string | null;
  siteAliases?: readonly string[];
  /** Longest sleep between two turns, ms (default 1000). */
  pollMs?: number;
  /** Per-ticket cap on actions per rolling hour; 0 = none. */
  maxActionsPerHour?: number;
  /** Failed/dead runs in a row that pause a handler; 0 = never. */
  pauseAfterFailures?: number;
  /** First retry's backoff ceiling, ms. */
  retryBaseMs?: number;
  /** Jira per-request timeout, ms. */
  jiraTimeoutMs?: number;
}

export class Worker {
  private readonly handlers: Map<string, AnyHandler>;
  private readonly inFlight = new Map<number, { ticketKey: string; done: Promise<unknown> }>();
  private readonly shutdown = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private turnScheduled = false;
  private stopped = true;

  constructor(private readonly options: WorkerOptions) {
    this.handlers = new Map(options.handlers.map((h) => [h.name, h]));
  }

  /** Starts the loop. Runs left `running` by a crashed process are put back in the queue first. */
  start(): void {
    const released = releaseRunningRuns(this.options.db);
    if (released > 0) this.options.logger.warn({ released }, 'runs left running by a previous process were put back in the queue');
    this.stopped = false;
    this.wake();
  }

  /** Asks for a turn as soon as possible (cheap; coalesces). */
  wake(): void {
    if (this.stopped || this.turnScheduled) return;
    this.turnScheduled = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    setImmediate(() => this.turn());
  }

  /** Number of runs executing now. */
  get busy(): number {
    return this.inFlight.size;
  }

  private turn(): void {
    this.turnScheduled = false;
    if (this.stopped) return;
    const o = this.options;
    let moreWork = false;
    let sleepMs = o.pollMs ?? 1000;
    try {
      moreWork = routePendingDeliveries(o.db, o) === ROUTE_BATCH;
      const free = o.concurrency - this.inFlight.size;
      if (free > 0) {
        const busyTickets = new Set([...this.inFlight.values()].map((r) => r.ticketKey));
        for (const run of claimDueRuns(o.db, free, busyTickets, Date.now(), listPausedHandlers(o.db))) {
          const done = executeRun(run, {
            db: o.db,
            handlers: this.handlers,
            api: o.api,
            github: o.github,
            githubOrg: o.githubOrg,
            logger: o.logger,
            handlerTimeoutMs: o.handlerTimeoutMs,
            shutdownSignal: this.shutdown.signal,
            maxActionsPerHour: o.maxActionsPerHour,
            pauseAfterFailures: o.pauseAfterFailures,
            retryBaseMs: o.retryBaseMs,
            jiraTimeoutMs: o.jiraTimeoutMs,
          })
            .catch((error) => o.logger.error({ err: error, runId: run.id }, 'run execution crashed'))
            .finally(() => {
              this.inFlight.delete(run.id);
              this.wake();
            });
          this.inFlight.set(run.id, { ticketKey: run.ticketKey, done });
        }
      }
      // Sleep until the next retry is due when that comes before the next poll. Runs already due but not claimed wait
      // for a busy ticket or a free slot; a finishing run wakes the worker, so no busy loop for them.
      const nextDue = nextRunDueAt(o.db, Date.now());
      if (nextDue !== null) sleepMs = Math.max(1, Math.min(sleepMs, nextDue - Date.now()));
    } catch (error) {
      o.logger.error({ err: error }, 'worker turn failed; retrying shortly');
    }
    if (moreWork) this.wake();
    else this.timer = setTimeout(() => this.wake(), sleepMs);
  }

  /**
   * Stops the worker. Waits up to `graceMs` for in-flight runs, then aborts them and returns them to the queue.
   * @returns how many runs finished during the grace period and how many were released.
   */
  async stop(graceMs = 10_000): Promise<{ finished: number; released: number }> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const pending = [...this.inFlight.entries()];
    if (pending.length === 0) return { finished: 0, released: 0 };
    let graceTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(pending.map(([, r]) => r.done)),
      new Promise((resolve) => (graceTimer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(graceTimer);
    const unfinished = [...this.inFlight.keys()];
    this.shutdown.abort(new Error('deflect is shutting down'));
    await Promise.allSettled([...this.inFlight.values()].map((r) => r.done));
    const released = releaseRunningRuns(this.options.db, unfinished);
    return { finished: pending.length - unfinished.length, released };
  }
}
