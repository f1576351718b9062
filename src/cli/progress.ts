/**
 * Progress for long CLI work: a cli-progress bar on a TTY (stderr), and a line every few seconds otherwise, so logs
 * and CI output stay readable. Both go to stderr, leaving stdout for results.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** Updates the done amount (same unit as total) and the counters shown after the bar. */
  update(done: number, payload: Record<string, string | number>): void;
  stop(): void;
}

/**
 * Starts a progress display for `total` units (`unit` names them, e.g. "bytes"). `counters` are the payload keys shown
 * after the bar on a TTY (default: the import's `imported` and `skipped`); `rate` is shown when the payload has it.
 */
export function startProgress(label: string, total: number, unit: string, counters: readonly string[] = ['imported', 'skipped']): Progress {
  if (process.stderr.isTTY) {
    const shown = counters.map((c) => `{${c}} ${c}`).join(', ');
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% | ${shown} | {rate}/s | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { ...Object.fromEntries(counters.map((c) => [c, 0])), rate: 0 });
    return { update: (done, payload) => bar.update(done, payload), stop: () => bar.stop() };
  }
  let last = 0;
  return {
    update(done, payload) {
      if (Date.now() - last < 2000) return;
      last = Date.now();
      const pct = total ? Math.round((done / total) * 100) : 0;
      process.stderr.write(`${label}: ${pct}% of ${total} ${unit}, ${Object.entries(payload).map(([k, v]) => `${v} ${k}`).join(', ')}\n`);
    },
    stop() {},
  };
}
