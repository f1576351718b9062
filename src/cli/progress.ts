/**
 * Progress for long CLI work, always on stderr (stdout stays for results):
 * - on a terminal, a cli-progress bar (plain ASCII, no colour codes);
 * - otherwise (a pipe, CI, a log file), or when `NO_COLOR` / `TERM=dumb` is set, plain lines: the first update, then
 *   one line every {@link PLAIN_LINE_EVERY_MS}, and a last line at the end, so a log never stops at "16%".
 */
import cliProgress from 'cli-progress';

/** How often plain progress lines are written, ms. */
export const PLAIN_LINE_EVERY_MS = 2000;

export interface Progress {
  /** Updates the done amount (same unit as total) and the counters shown after the bar. */
  update(done: number, payload: Record<string, string | number>): void;
  stop(): void;
}

/** True when stderr is an interactive terminal that may show a redrawn bar (`NO_COLOR` and `TERM=dumb` say no). */
export function fancyStderr(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(process.stderr.isTTY) && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}

/**
 * Starts a progress display for `total` units (`unit` names them, e.g. "bytes"); `total` null when unknown (standard
 * input): then only the counters are shown. `counters` are the payload keys shown after the bar on a terminal
 * (default: the import's `imported` and `skipped`); `rate` is shown when the payload has it.
 */
export function startProgress(label: string, total: number | null, unit: string, counters: readonly string[] = ['imported', 'skipped']): Progress {
  if (fancyStderr() && total !== null) {
    const shown = counters.map((c) => `{${c}} ${c}`).join(', ');
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% | ${shown} | {rate}/s | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { ...Object.fromEntries(counters.map((c) => [c, 0])), rate: 0 });
    return { update: (done, payload) => bar.update(done, payload), stop: () => bar.stop() };
  }
  let last = 0;
  let latest: { done: number; payload: Record<string, string | number> } | null = null;
  const line = (done: number, payload: Record<string, string | number>, final: boolean) => {
    const counters = Object.entries(payload).map(([k, v]) => (k === "rate" ? `${v}/s` : `${v} ${k}`)).join(', ');
    const where = total === null ? `${done} ${unit}` : `${final ? 100 : total ? Math.min(100, Math.round((done / total) * 100)) : 0}% of ${total} ${unit}`;
    process.stderr.write(`${label}: ${final ? 'done, ' : ''}${where}${counters ? `, ${counters}` : ''}\n`);
  };
  return {
    update(done, payload) {
      latest = { done, payload };
      if (Date.now() - last < PLAIN_LINE_EVERY_MS) return;
      last = Date.now();
      line(done, payload, false);
    },
    stop() {
      if (latest) line(latest.done, latest.payload, true);
    },
  };
}
