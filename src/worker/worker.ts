/**
 * The worker: runs in the same process as the HTTP server and drives everything that happens after a delivery
 * is stored. Each turn it (1) routes pending deliveries into runs, (2) claims due runs up to `concurrency`
 * (never two for one ticket) and executes them. It sleeps until woken (a new delivery, a finished run) or until
 * the next retry is due, polling at least every `pollMs`. Runs of paused handlers (see `db/handler-states.ts`) stay
 * queued until the handler is resumed; changes made by another process (`deflect runs retry`, `deflect handlers
 * resume`, `deflect reconcile`) are picked up within `pollMs`.
 *
 * On PostgreSQL (decision 019) the due runs come from graphile-worker instead: its runner, started in-process, hands
 * each `deflect_run` job (one run id) to {@link Worker.runJob}, which claims that run (`claimRun`) and executes it the
 * same way; the turn still routes deliveries, expires approvals and settles verifications, and the lease tick also
 * repairs the jobs (`RunJobs.repair`). On SQLite the turn claims due runs itself, as before.
 *
 * Shutdown (`stop`): stop claiming, give in-flight runs `graceMs` to finish, then abort them and put them back
 * in the queue (released, not failed), so nothing acknowledged is lost.
 *
 * One owner per run: each worker has a process id ({@link newWorkerId}, `<hostname>:<pid>:<random hex>`) written on
 * the runs it claims, with a lease of `leaseMs`. Every `leaseMs / 3` it renews the leases of its in-flight runs and
 * requeues `running` runs whose lease has expired (their process died). Several `deflect serve` processes on one
 * database (a rolling deploy, a second replica) therefore never execute or requeue each other's live runs; a run whose
 * lease this worker lost (it stalled longer than a lease) is aborted before its next action and records nothing.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { AnyHandler } from '../automation/define-handler.js';
import type { RunRow } from '../db/schema.js';
import type { RunJobs, Store } from '../db/store.js';
import { expireApprovals } from './approval-gate.js';
import type { Integrations } from '../integrations/index.js';
import type { JiraApi } from '../jira/jira-actions.js';
import type { LiveRules } from '../rules/live-rules.js';
import type { Rule } from '../rules/rules-file.js';
import { recordRunMetrics } from '../metrics/run-metrics.js';
import { executeRun, LeaseLostError } from './execute-run.js';
import { DeliveryPruner } from './prune-deliveries.js';
import { ROUTE_BATCH, routePendingDeliveries } from './route-deliveries.js';
import type { RoutingOptions } from '../pipeline/route-event.js';
import type { VerifySettings } from '../config.js';
import { evaluateDemotion } from '../automation/demotion.js';
import type { TrackerClients } from '../trackers/index.js';
import type { TrackerName } from '../trackers/tracker.js';

export interface WorkerOptions {
  db: Store;
  rules: readonly Rule[];
  /** The process's reloadable rules; when set, pending deliveries are routed by its current rules (see RoutingOptions). */
  liveRules?: Pick<LiveRules, 'current'>;
  handlers: readonly AnyHandler[];
  api: JiraApi | null;
  /** The other trackers' API clients, by name (absent/null = not configured). */
  trackerClients?: TrackerClients;
  /** Trackers whose runs are sent (credentials configured); runs on others are queued as dry runs. Absent = all. */
  liveTrackers?: ReadonlySet<TrackerName>;
  /** The integrations handlers get as `ctx.integrations` (`createIntegrations`); absent = none configured. */
  integrations?: Integrations;
  logger: Logger;
  dryRun: boolean;
  maxAttempts: number;
  handlerTimeoutMs: number;
  concurrency: number;
  selfAccountId: string | null;
  /** deflect's own account on the other trackers (see RoutingOptions.selfActors). */
  selfActors?: Partial<Record<TrackerName, string>>;
  /** The Jira site deflect acts on; events from another site are recorded, never routed (see RoutingOptions). */
  siteUrl?: string | null;
  siteAliases?: readonly string[];
  /** Group membership answers for rules with `groups` (see RoutingOptions.membership; issue 11). */
  membership?: RoutingOptions['membership'];
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
  /** How long a claim on a run holds without renewal, ms (`DEFLECT_RUN_LEASE_MS`, default {@link DEFAULT_RUN_LEASE_MS}). */
  leaseMs?: number;
  /** This process's id written on claimed runs (default {@link newWorkerId}). */
  owner?: string;
  /** Delivery bodies older than this are pruned while the worker runs, ms (`DEFLECT_DELIVERY_RETENTION`); null/absent = never. */
  deliveryRetentionMs?: number | null;
  /** Time between two prunes, ms (default hourly). */
  pruneIntervalMs?: number;
  /** Runs older than this are pruned behind an audit checkpoint while the worker runs, ms (`DEFLECT_AUDIT_RETENTION`); null/absent = never. */
  auditRetentionMs?: number | null;
  /** Where audit pruning archives what it removes (`DEFLECT_AUDIT_ARCHIVE_DIR`); null/absent = no archive. */
  auditArchiveDir?: string | null;
  /**
   * (verified resolution) The watch window of resolutions and the demotion settings (`DEFLECT_VERIFY_*`); also what
   * routing re-evaluates demotion with. Absent: 14-day window, no demotion.
   */
  verify?: VerifySettings;
  /**
   * Called after each run attempt with the run id and the status it ended with (`succeeded`, `awaiting-approval`,
   * `queued` for a retry, ...): outcome listeners such as the Slack notifier register here, so the worker knows nothing
   * of them. A listener must not throw (one that does is logged).
   */
  runListeners?: ReadonlyArray<(runId: number, status: string) => void>;
}

/** Default lease of a claimed run, ms: long enough to ride out a stalled event loop, short enough to recover a crash. */
export const DEFAULT_RUN_LEASE_MS = 60_000;

/** (PostgreSQL) How long a run whose ticket has another run executing waits before its job looks again, ms. */
const TICKET_BUSY_RETRY_MS = 1000;

/** A process id for `runs.owner`: `<hostname>:<pid>:<8 random hex>` (the random part tells restarts with one pid apart). */
export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

export class Worker {
  private readonly handlers: Map<string, AnyHandler>;
  private readonly inFlight = new Map<number, { ticketKey: string; done: Promise<unknown>; lease: AbortController }>();
  private readonly shutdown = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private leaseTimer: NodeJS.Timeout | null = null;
  private readonly pruner: DeliveryPruner | null;
  /** The id this worker writes on the runs it claims. */
  readonly owner: string;
  /** Lease length, ms. */
  readonly leaseMs: number;
  private turnScheduled = false;
  private stopped = true;
  /** graphile-worker's runner (PostgreSQL): it hands out due runs instead of {@link turn} claiming them. */
  private jobRunner: { stop(): Promise<void> } | null = null;

  constructor(private readonly options: WorkerOptions) {
    this.handlers = new Map(options.handlers.map((h) => [h.name, h]));
    this.owner = options.owner ?? newWorkerId();
    this.leaseMs = options.leaseMs ?? DEFAULT_RUN_LEASE_MS;
    this.pruner =
      options.deliveryRetentionMs == null && options.auditRetentionMs == null
        ? null
        : new DeliveryPruner({
            db: options.db, logger: options.logger, retentionMs: options.deliveryRetentionMs ?? null, intervalMs: options.pruneIntervalMs,
            auditRetentionMs: options.auditRetentionMs ?? null, auditArchiveDir: options.auditArchiveDir ?? null,
          });
  }

  /**
   * Starts the loop. Runs left `running` by a process whose lease expired (it crashed) are put back in the queue
   * first; runs another live process holds are left to it.
   */
  async start(): Promise<void> {
    this.stopped = false;
    this.options.logger.info({ owner: this.owner, leaseMs: this.leaseMs }, 'worker started');
    await this.maintainLeases();
    this.leaseTimer = setInterval(async () => await this.maintainLeases(), Math.max(1, Math.floor(this.leaseMs / 3)));
    this.pruner?.start();
    const runJobs = this.options.db.runJobs;
    if (runJobs) {
      this.jobRunner = await runJobs.start({
        concurrency: this.options.concurrency,
        pollIntervalMs: this.options.pollMs ?? 1000,
        logger: this.options.logger,
        onJob: (runId) => this.runJob(runId),
      });
    }
    this.wake();
  }

  /**
   * (PostgreSQL) The `deflect_run` job of run `runId`: claims that run and executes it, resolving when it ended. A run
   * that cannot start now is not lost: not due or its ticket busy → look again later (the job is re-added); gone, no
   * longer queued (another replica took it, it ended) or its handler paused → nothing (resuming a handler re-adds its
   * runs' jobs; {@link RunJobs.repair} adds any missing one).
   * @returns null when done with the job, else when to look again (ms).
   */
  private async runJob(runId: number): Promise<number | null> {
    const now = Date.now();
    if (this.stopped) return now;
    const claim = await this.options.db.claimRun(runId, { owner: this.owner, leaseMs: this.leaseMs }, now);
    if (claim.run) {
      await this.launch(claim.run);
      return null;
    }
    if (claim.notClaimed === 'not-due') return claim.runAfter ?? now;
    if (claim.notClaimed === 'ticket-busy') return now + TICKET_BUSY_RETRY_MS;
    return null;
  }

  /**
   * Renews the leases of this worker's in-flight runs (aborting any it lost) and requeues runs whose lease expired.
   * A database error is logged and retried on the next tick: the leases are long enough to miss two renewals.
   */
  private async maintainLeases(): Promise<void> {
    const o = this.options;
    try {
      const ids = [...this.inFlight.keys()];
      const owned = await o.db.renewRunLeases(this.owner, ids, Date.now() + this.leaseMs);
      for (const id of ids) {
        if (owned.has(id)) continue;
        const run = this.inFlight.get(id);
        if (run && !run.lease.signal.aborted) {
          o.logger.error({ runId: id, owner: this.owner }, 'lease on a running run lost to another process; stopping it');
          run.lease.abort(new LeaseLostError(id));
        }
      }
      if (this.stopped) return;
      const requeued = await o.db.requeueExpiredRuns();
      if (requeued.length > 0) {
        o.logger.warn(
          { requeued: requeued.length, runIds: requeued.map((r) => r.id), previousOwners: [...new Set(requeued.map((r) => r.owner))] },
          'runs whose owner stopped renewing its lease (crashed or stalled) were put back in the queue',
        );
        this.wake();
      }
      if (o.db.runJobs) {
        const repaired = await o.db.runJobs.repair(Date.now(), this.leaseMs);
        if (repaired.unlockedPools.length > 0 || repaired.added.length > 0) {
          o.logger.warn(
            { unlockedPools: repaired.unlockedPools, runIdsGivenJobs: repaired.added },
            'jobs held by a stopped process were freed, and queued runs without a job were given one',
          );
        }
      }
    } catch (error) {
      o.logger.error({ err: error }, 'renewing run leases failed; retrying on the next tick');
    }
  }

  /** Asks for a turn as soon as possible (cheap; coalesces). */
  wake(): void {
    if (this.stopped || this.turnScheduled) return;
    this.turnScheduled = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    setImmediate(async () => await this.turn());
  }

  private lastSettledAt = 0;

  /**
   * (verified resolution) Once a minute: windows that ended become `verified`, re-files found by the grouping become
   * `refiled` (reads settle too: this keeps demotion current when nobody reads), and those handlers' demotion is re-evaluated.
   */
  private async settleVerificationsEveryMinute(): Promise<void> {
    const o = this.options;
    const now = Date.now();
    if (now - this.lastSettledAt < 60_000) return;
    this.lastSettledAt = now;
    const { refiledHandlers } = await o.db.settleVerifications(now);
    if (o.verify) for (const handler of refiledHandlers) await evaluateDemotion(o.db, handler, o.verify, o.logger, now);
  }

  /** Number of runs executing now. */
  get busy(): number {
    return this.inFlight.size;
  }

  private async turn(): Promise<void> {
    this.turnScheduled = false;
    if (this.stopped) return;
    const o = this.options;
    let moreWork = false;
    let sleepMs = o.pollMs ?? 1000;
    try {
      moreWork = await routePendingDeliveries(o.db, o) === ROUTE_BATCH;
      // (approvals) requests past their expiresAfter go back to the queue to be commented and ended `expired`.
      await this.settleVerificationsEveryMinute();
      const expired = await expireApprovals(o.db);
      if (expired.length > 0) o.logger.info({ runIds: expired }, 'approval requests expired; runs requeued to end them');
      const free = o.concurrency - this.inFlight.size;
      // On PostgreSQL graphile-worker hands out the due runs (startJobRunner); here only on SQLite.
      if (free > 0 && !this.jobRunner) {
        const busyTickets = new Set([...this.inFlight.values()].map((r) => r.ticketKey));
        const claimant = { owner: this.owner, leaseMs: this.leaseMs };
        for (const run of await o.db.claimDueRuns(free, busyTickets, claimant, Date.now(), await o.db.listPausedHandlers())) this.launch(run);
      }
      // Sleep until the next retry is due when that comes before the next poll. Runs already due but not claimed wait
      // for a busy ticket or a free slot; a finishing run wakes the worker, so no busy loop for them.
      const nextDue = this.jobRunner ? null : await o.db.nextRunDueAt(Date.now());
      if (nextDue !== null) sleepMs = Math.max(1, Math.min(sleepMs, nextDue - Date.now()));
    } catch (error) {
      o.logger.error({ err: error }, 'worker turn failed; retrying shortly');
    }
    if (moreWork) this.wake();
    else this.timer = setTimeout(() => this.wake(), sleepMs);
  }

  /**
   * Executes a claimed run (leases renewed by {@link maintainLeases}, outcome listeners told, the worker woken when it
   * ends). Resolves when it ended; never rejects (a crash is logged).
   */
  private launch(run: RunRow): Promise<void> {
    const o = this.options;
    const lease = new AbortController();
    const startedAt = performance.now();
    const done = executeRun(run, {
      db: o.db,
      handlers: this.handlers,
      api: o.api,
      trackerClients: o.trackerClients,
      integrations: o.integrations,
      logger: o.logger,
      handlerTimeoutMs: o.handlerTimeoutMs,
      shutdownSignal: this.shutdown.signal,
      owner: this.owner,
      leaseSignal: lease.signal,
      maxActionsPerHour: o.maxActionsPerHour,
      pauseAfterFailures: o.pauseAfterFailures,
      retryBaseMs: o.retryBaseMs,
      jiraTimeoutMs: o.jiraTimeoutMs,
      verify: o.verify,
    })
      .then((outcome) => {
        recordRunMetrics(run.handler, outcome, (performance.now() - startedAt) / 1000);
        for (const listener of o.runListeners ?? []) {
          try {
            listener(run.id, outcome);
          } catch (error) {
            o.logger.error({ err: error, runId: run.id }, 'run outcome listener failed');
          }
        }
      })
      .catch((error) => o.logger.error({ err: error, runId: run.id }, 'run execution crashed'))
      .finally(() => {
        this.inFlight.delete(run.id);
        this.wake();
      });
    this.inFlight.set(run.id, { ticketKey: run.ticketKey, done, lease });
    return done;
  }

  /**
   * Stops the worker. Waits up to `graceMs` for in-flight runs, then aborts them and returns them to the queue.
   * @returns how many runs finished during the grace period and how many were released.
   */
  async stop(graceMs = 10_000): Promise<{ finished: number; released: number }> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.pruner?.stop();
    // No more jobs taken; resolves once the running ones returned (after the grace period's abort below, at the latest).
    const runnerStopped = this.jobRunner?.stop().catch((error) => this.options.logger.error({ err: error }, 'stopping graphile-worker failed'));
    this.jobRunner = null;
    const pending = [...this.inFlight.entries()];
    if (pending.length === 0) {
      await runnerStopped;
      this.stopLeases();
      return { finished: 0, released: 0 };
    }
    let graceTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(pending.map(([, r]) => r.done)),
      new Promise((resolve) => (graceTimer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(graceTimer);
    const unfinished = [...this.inFlight.keys()];
    this.shutdown.abort(new Error('deflect is shutting down'));
    await Promise.allSettled([...this.inFlight.values()].map((r) => r.done));
    await runnerStopped;
    this.stopLeases();
    const released = await this.options.db.releaseOwnedRuns(this.owner, unfinished);
    return { finished: pending.length - unfinished.length, released };
  }

  private stopLeases(): void {
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    this.leaseTimer = null;
  }
}
