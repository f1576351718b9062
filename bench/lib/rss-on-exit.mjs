/**
 * Preloaded into a short-lived process (`node --import ./bench/lib/rss-on-exit.mjs …`): when the process exits, writes
 * its peak resident set size (getrusage maxrss, MB) to the file named by BENCH_RSS_FILE. Plain JavaScript so it
 * does not pull tsx into a compiled CLI it measures.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    writeFileSync(file, JSON.stringify({ maxRssMb: process.resourceUsage().maxRSS / 1024 }));
  });
}
