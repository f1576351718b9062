/**
 * The worker's side of the metrics (`metrics.ts`): one call per ended run attempt and per action, counter and
 * histogram updates only (no I/O), so instrumenting the worker never slows or fails a run.
 */
import { actionsTotal, runDurationSeconds, runsTotal } from './metrics.js';

/**
 * Records one ended run attempt.
 * @param outcome what `executeRun` resolved with (`succeeded`, `planned`, `skipped`, `failed`, `queued`, `dead`,
 *   `interrupted`, `lost`).
 * @param seconds wall time of the attempt, seconds.
 */
export function recordRunMetrics(handler: string, outcome: string, seconds: number): void {
  runsTotal.labels(handler, outcome).inc();
  runDurationSeconds.labels(handler).observe(seconds);
}

/** Records one action: `status` is `applied`, `failed`, `planned`, `already_applied` or `verified`. */
export function countAction(kind: string, status: string): void {
  actionsTotal.labels(kind, status).inc();
}
