/**
 * Scheduled reconcile (`DEFLECT_RECONCILE_EVERY`, default 15 min; `off` disables): `deflect serve` runs the reconcile
 * of every tracker that has credentials on a timer, so a missed webhook is caught without anyone running
 * `deflect reconcile` (GitHub never redelivers by itself; Jira retries only for a while).
 *
 * - Jira (credentials set): `reconcile()` of `worker/reconcile.ts`, Jira's settle time (30 min) kept;
 * - GitHub (`GITHUB_TOKEN` and `DEFLECT_GITHUB_REPOS=owner/a,owner/b`): `reconcileGitHub()`; without repositories it
 *   is skipped, said once at start-up;
 * - Linear: there is no Linear reconcile yet; skipped, said once at start-up.
 *
 * Timing (croner, https://croner.56k.guru/: a per-second pattern with `interval` = the period, `protect` so a tick
 * never starts while the previous one runs; a blocked tick is counted `skipped`). The first tick comes one period after
 * start. Each tick checks, per tracker, the window from where the previous successful tick's window ended (its time
 * minus the settle time) minus {@link WINDOW_OVERLAP_MS}; the first tick goes back to the newest delivery stored from
 * that tracker when older than one period (deflect was down), at most {@link MAX_FIRST_LOOKBACK_MS}. Reconcile's
 * delivery keys make re-checking an issue store nothing twice.
 *
 * Each tick logs one line (`reconcile tick`, with per-tracker counts or the error message; never credentials) and
 * updates `deflect_reconcile_runs_total{tracker,result}`, `deflect_reconcile_missed_total{tracker}` and
 * `deflect_reconcile_last_success_timestamp_seconds{tracker}`.
 */
import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Store } from '../db/store.js';
import { jiraApiFor } from '../jira/jira-api-for.js';
import { describeJiraError } from '../jira/jira-client.js';
import { reconcileLastSuccess, reconcileMissedTotal, reconcileRunsTotal } from '../metrics/metrics.js';
import { createGitHubIssuesClient } from '../trackers/github/github-client.js';
import { DEFAULT_GITHUB_SETTLE_MS, reconcileGitHub } from '../trackers/github/github-reconcile.js';
import type { TrackerName } from '../trackers/tracker.js';
import { DEFAULT_SETTLE_MS, reconcile } from './reconcile.js';

/** How far each window reaches back before the end of the previous one, ms (clock skew, JQL minute granularity). */
export const WINDOW_OVERLAP_MS = 10 * 60_000;
/** Furthest back the first tick after start looks, ms. */
export const MAX_FIRST_LOOKBACK_MS = 24 * 3_600_000;

/** What one reconcile of one tracker found; `stored` = new deliveries (missed minus those an earlier run stored). */
export interface ReconcileCounts {
  scanned: number;
  upToDate: number;
  skipped: number;
  missed: number;
  stored: number;
}

/** One tracker to reconcile: its settle time (ms) and the reconcile of a window `[since, now - settleMs]`. */
export interface ReconcileTarget {
  tracker: TrackerName;
  settleMs: number;
  run(since: number, now: number): Promise<ReconcileCounts>;
  /** The error's message fit for the log (no credentials). */
  describe(error: unknown): string;
}

export interface ReconcileScheduleOptions {
  db: Store;
  logger: Logger;
  /** Period, ms (croner's granularity is 1 s: rounded to whole seconds, at least 1). */
  everyMs: number;
  targets: readonly ReconcileTarget[];
  /** Clock, ms (tests). */
  now?: () => number;
}

/** The timer of scheduled reconcile; `start` once, `stop` on shutdown (waits for a running tick). */
export class ReconcileSchedule {
  private job: Cron | null = null;
  private running: Promise<void> | null = null;
  /** Per tracker: the end of the last successful window, ms. */
  private readonly windowEnd = new Map<TrackerName, number>();
  /** Ticks run (not counting skipped ones). */
  ticks = 0;

  constructor(private readonly options: ReconcileScheduleOptions) {}

  /** The period, ms. */
  get everyMs(): number {
    return this.options.everyMs;
  }

  start(): void {
    const seconds = Math.max(1, Math.round(this.options.everyMs / 1000));
    this.job = new Cron(
      '* * * * * *',
      {
        interval: seconds,
        startAt: new Date(Date.now() + seconds * 1000),
        unref: true,
        protect: () => {
          for (const t of this.options.targets) reconcileRunsTotal.labels(t.tracker, 'skipped').inc();
          this.options.logger.warn({ trackers: this.options.targets.map((t) => t.tracker) }, 'reconcile tick skipped: the previous one is still running');
        },
      },
      () => this.tick(),
    );
    this.options.logger.info({ everySeconds: seconds, trackers: this.options.targets.map((t) => t.tracker) }, 'scheduled reconcile started');
  }

  /** Stops the timer and waits for a tick in progress (its deliveries are committed before the database closes). */
  async stop(): Promise<void> {
    this.job?.stop();
    this.job = null;
    await this.running;
  }

  /** Runs one tick now: each target in turn; never rejects (a failure is counted and logged). */
  tick(): Promise<void> {
    const run = this.runTick().catch((error) => this.options.logger.error({ problem: (error as Error).message }, 'reconcile tick failed'));
    this.running = run;
    void run.finally(() => {
      if (this.running === run) this.running = null;
    });
    return run;
  }

  private async runTick(): Promise<void> {
    this.ticks++;
    const o = this.options;
    const results: Record<string, ReconcileCounts | { error: string }> = {};
    for (const target of o.targets) {
      const now = o.now?.() ?? Date.now();
      try {
        const counts = await target.run(await this.windowStart(target, now), now);
        this.windowEnd.set(target.tracker, now - target.settleMs);
        results[target.tracker] = counts;
        reconcileRunsTotal.labels(target.tracker, 'success').inc();
        reconcileMissedTotal.labels(target.tracker).inc(counts.stored);
        reconcileLastSuccess.labels(target.tracker).set(Math.floor(now / 1000));
      } catch (error) {
        results[target.tracker] = { error: target.describe(error) };
        reconcileRunsTotal.labels(target.tracker, 'failure').inc();
      }
    }
    const failed = Object.values(results).some((r) => 'error' in r);
    o.logger[failed ? 'warn' : 'info']({ results }, failed ? 'reconcile tick: a tracker failed' : 'reconcile tick');
  }

  private async windowStart(target: ReconcileTarget, now: number): Promise<number> {
    const previous = this.windowEnd.get(target.tracker);
    if (previous !== undefined) return previous - WINDOW_OVERLAP_MS;
    const oneWindow = now - this.options.everyMs - target.settleMs;
    const newest = await this.options.db.newestDeliveryAt(target.tracker);
    const start = newest === null ? oneWindow : Math.max(Math.min(newest, oneWindow), now - MAX_FIRST_LOOKBACK_MS);
    return start - WINDOW_OVERLAP_MS;
  }
}

/**
 * The trackers to reconcile under `config`, logging one line for each tracker that is left out and why.
 * Builds the API clients (sends no request).
 */
export function reconcileTargets(config: Config, db: Store, logger: Logger): ReconcileTarget[] {
  const targets: ReconcileTarget[] = [];
  const counts = (result: { scanned: number; upToDate: number; skipped: number; missed: Array<{ duplicate: boolean }> }): ReconcileCounts => ({
    scanned: result.scanned,
    upToDate: result.upToDate,
    skipped: result.skipped,
    missed: result.missed.length,
    stored: result.missed.filter((m) => !m.duplicate).length,
  });
  if (config.jira) {
    const api = jiraApiFor(config.jira, config.jiraTimeoutMs);
    const siteHost = new URL(config.jira.baseUrl).host;
    targets.push({
      tracker: 'jira',
      settleMs: DEFAULT_SETTLE_MS,
      run: async (since, now) => counts(await reconcile({ db, api, since, now, settleMs: DEFAULT_SETTLE_MS, siteHost })),
      describe: describeJiraError,
    });
  }
  if (config.github.token) {
    if (config.githubRepos.length === 0) {
      logger.info('scheduled reconcile: GitHub skipped, DEFLECT_GITHUB_REPOS names no repositories (owner/a,owner/b)');
    } else {
      const client = createGitHubIssuesClient({ baseUrl: config.github.baseUrl, token: config.github.token, timeoutMs: config.github.timeoutMs, log: logger });
      targets.push({
        tracker: 'github',
        settleMs: DEFAULT_GITHUB_SETTLE_MS,
        run: async (since, now) => counts(await reconcileGitHub({ db, client, repositories: config.githubRepos, since, now, settleMs: DEFAULT_GITHUB_SETTLE_MS })),
        describe: (error) => (error instanceof Error ? error.message : String(error)),
      });
    }
  }
  if (config.linear) logger.info('scheduled reconcile: Linear skipped, deflect has no Linear reconcile yet');
  if (config.trello?.api) logger.info('scheduled reconcile: Trello skipped (no boards configured for it); run deflect reconcile --tracker trello --board ID');
  return targets;
}

/**
 * Starts scheduled reconcile for `config`, or returns null (and says why once) when it is off or no tracker qualifies.
 */
export function startReconcileSchedule(config: Config, db: Store, logger: Logger): ReconcileSchedule | null {
  if (config.reconcileEveryMs === null) {
    logger.info('scheduled reconcile off (DEFLECT_RECONCILE_EVERY=off)');
    return null;
  }
  const targets = reconcileTargets(config, db, logger);
  if (targets.length === 0) return null;
  const schedule = new ReconcileSchedule({ db, logger, everyMs: config.reconcileEveryMs, targets });
  schedule.start();
  return schedule;
}
