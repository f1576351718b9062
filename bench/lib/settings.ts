/**
 * Durations and sizes of every scenario, overridable by environment variables. `BENCH_QUICK=1` shrinks everything
 * for a ~1-minute smoke run (the figures are then indicative only, and the table says so).
 */
const quick = process.env.BENCH_QUICK === '1' || process.env.BENCH_QUICK === 'true';

const num = (name: string, full: number, quickValue: number): number => {
  const raw = process.env[name];
  if (raw !== undefined && raw !== '') {
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}=${raw}: expected a positive number`);
    return value;
  }
  return quick ? quickValue : full;
};

export const settings = {
  quick,
  /** Ingest: connections, measured seconds, and warm-up seconds per server. */
  ingestConnections: num('BENCH_INGEST_CONNECTIONS', 50, 50),
  ingestSeconds: num('BENCH_INGEST_SECONDS', 10, 3),
  ingestWarmupSeconds: num('BENCH_INGEST_WARMUP_SECONDS', 2, 1),
  /** End to end: deliveries per second and seconds. */
  e2eRate: num('BENCH_E2E_RATE', 100, 100),
  e2eSeconds: num('BENCH_E2E_SECONDS', 30, 5),
  /** Report: tickets in the generated database, and timed repetitions of the CLI and of the HTTP call. */
  reportTickets: num('BENCH_REPORT_TICKETS', 1_000_000, 100_000),
  reportRepeats: num('BENCH_REPORT_REPEATS', 3, 2),
  /** Audit view: runs in the generated database (BENCH_AUDIT_RUNS). */
  auditRuns: num('BENCH_AUDIT_RUNS', 500_000, 50_000),
  /** Import and grouping sizes (BENCH_SIZES=10000,100000). */
  sizes: process.env.BENCH_SIZES
    ? process.env.BENCH_SIZES.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0)
    : quick
      ? [10_000]
      : [10_000, 100_000],
  /** Before each scenario, wait up to this long for other processes to leave the CPU (BENCH_QUIET_WAIT_SECONDS). */
  quietWaitSeconds: num('BENCH_QUIET_WAIT_SECONDS', 20, 3),
};

export type Settings = typeof settings;
