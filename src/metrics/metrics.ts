/**
 * deflect's Prometheus instruments (prom-client, https://github.com/siimon/prom-client), in one registry per process.
 * Code on the hot path only increments them (a counter child bound once per label set, no SQL, no allocation per
 * request); gauges that describe the database (queue lag, dead letters, paused handlers, oldest pending delivery) are
 * read at scrape time by `metrics-route.ts`.
 *
 * Metric names (every one prefixed `deflect_`; units in the name, as Prometheus' naming guide asks:
 * https://prometheus.io/docs/practices/naming/):
 * - `deflect_deliveries_total{tracker,result}`: webhook POSTs answered by the receiver; `result` is `accepted`,
 *   `duplicate`, or the refusal's class ({@link deliveryResultOf}: `unauthorized` 401, `bad_request` 400,
 *   `unsupported_media_type` 415, `unprocessable` 422, `too_large` 413, `busy` 503, `rate_limited` 429, `refused`
 *   any other 4xx, `error` 5xx);
 * - `deflect_runs_total{handler,outcome}` and `deflect_run_duration_seconds{handler}` (histogram): each attempt of a
 *   run as the worker ends it (`succeeded`, `planned`, `skipped`, `failed`, `queued` = retry scheduled, `dead`,
 *   `interrupted` = released at shutdown, `lost` = lease lost), duration in seconds;
 * - `deflect_actions_total{kind,status}`: actions on tickets (`applied`, `failed`, `planned` in a dry run,
 *   `already_applied` skipped on a retry, `verified` found applied in the tracker);
 * - `deflect_reconcile_runs_total{tracker,result}` (`success` | `failure` | `skipped`), `deflect_reconcile_missed_total{tracker}`
 *   (deliveries stored by scheduled reconcile), `deflect_reconcile_last_success_timestamp_seconds{tracker}`;
 * - process metrics of prom-client's `collectDefaultMetrics`, prefixed `deflect_` (`deflect_process_cpu_seconds_total`,
 *   `deflect_nodejs_eventloop_lag_seconds`, ...), enabled by {@link enableProcessMetrics} when the server starts.
 *
 * One registry per process (as Prometheus client libraries keep it): an app built twice in one process (tests) adds
 * to the same counters, so tests compare before/after values.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Counters, histograms and process metrics (the database gauges live in the route's own registry). */
export const metricsRegistry = new Registry();

export const deliveriesTotal = new Counter({
  name: 'deflect_deliveries_total',
  help: 'Webhook deliveries answered by the receiver, by tracker and result (accepted, duplicate, or the refusal class).',
  labelNames: ['tracker', 'result'] as const,
  registers: [metricsRegistry],
});

export const runsTotal = new Counter({
  name: 'deflect_runs_total',
  help: 'Run attempts ended by the worker, by handler and outcome.',
  labelNames: ['handler', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const runDurationSeconds = new Histogram({
  name: 'deflect_run_duration_seconds',
  help: 'Duration of one run attempt (handler and its actions), seconds.',
  labelNames: ['handler'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  registers: [metricsRegistry],
});

export const actionsTotal = new Counter({
  name: 'deflect_actions_total',
  help: 'Actions on tickets and other systems, by kind and status (applied, failed, planned, already_applied, verified).',
  labelNames: ['kind', 'status'] as const,
  registers: [metricsRegistry],
});

export const reconcileRunsTotal = new Counter({
  name: 'deflect_reconcile_runs_total',
  help: 'Scheduled reconcile ticks, by tracker and result (success, failure, skipped: the previous tick was still running).',
  labelNames: ['tracker', 'result'] as const,
  registers: [metricsRegistry],
});

export const reconcileMissedTotal = new Counter({
  name: 'deflect_reconcile_missed_total',
  help: 'Deliveries stored by scheduled reconcile for tickets whose webhook never arrived, by tracker.',
  labelNames: ['tracker'] as const,
  registers: [metricsRegistry],
});

export const reconcileLastSuccess = new Gauge({
  name: 'deflect_reconcile_last_success_timestamp_seconds',
  help: 'Unix time of the last successful scheduled reconcile, by tracker, seconds.',
  labelNames: ['tracker'] as const,
  registers: [metricsRegistry],
});

/** The `result` label of a delivery answered with HTTP `statusCode` (accepted/duplicate are set by the receiver). */
export function deliveryResultOf(statusCode: number): string {
  switch (statusCode) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthorized';
    case 413:
      return 'too_large';
    case 415:
      return 'unsupported_media_type';
    case 422:
      return 'unprocessable';
    case 429:
      return 'rate_limited';
    case 503:
      return 'busy';
    default:
      return statusCode >= 500 ? 'error' : 'refused';
  }
}

let processMetrics = false;

/**
 * Starts prom-client's process metrics (CPU, memory, event-loop lag, GC, handles) on {@link metricsRegistry}, once per
 * process; the CLI never calls it, so short commands do not sample the event loop.
 */
export function enableProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: metricsRegistry, prefix: 'deflect_' });
}
