/**
 * Other work on the machine skews every figure (these are shared 2-core machines: someone's test run next to the
 * bench halves it). This measures it instead of hiding it: the CPU used by processes outside the bench's own tree
 * during a scenario, as a share of the whole machine, from /proc/stat (all CPU time) minus /proc/self/stat
 * (this process plus its reaped children: the servers, once stopped). `waitForQuiet` holds a scenario back until
 * the machine is idle for a moment, up to a limit. Linux only; elsewhere both report null and do nothing.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface Sample {
  wall: number;
  busyTicks: number;
  ownTicks: number;
}

function sample(): Sample | null {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    const busyTicks = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + (cpu[7] ?? 0);
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    // after ")": state(0) ... utime(11) stime(12) cutime(13) cstime(14)
    const ownTicks = fields[11] + fields[12] + fields[13] + fields[14];
    return { wall: performance.now(), busyTicks, ownTicks };
  } catch {
    return null;
  }
}

/** Starts measuring; `stop()` returns the share (0..1) of the machine's CPU that other processes used meanwhile. */
export function measureForeignCpu(): { stop(): number | null } {
  const start = sample();
  return {
    stop() {
      const end = sample();
      if (!start || !end) return null;
      const capacity = ((end.wall - start.wall) / 1000) * TICKS_PER_SECOND * cpus().length;
      if (capacity <= 0) return null;
      const foreign = end.busyTicks - start.busyTicks - (end.ownTicks - start.ownTicks);
      return Math.max(0, Math.min(1, foreign / capacity));
    },
  };
}

/**
 * Waits until other processes use under `threshold` of the machine over a 1-second window, at most `maxMs`.
 * @returns the last measured foreign share, and how long it waited.
 */
export async function waitForQuiet(threshold = 0.1, maxMs = 30_000): Promise<{ foreign: number | null; waitedMs: number }> {
  const started = performance.now();
  for (;;) {
    const m = measureForeignCpu();
    await new Promise((r) => setTimeout(r, 1000));
    const foreign = m.stop();
    const waitedMs = performance.now() - started;
    if (foreign === null || foreign < threshold || waitedMs >= maxMs) return { foreign, waitedMs };
  }
}
