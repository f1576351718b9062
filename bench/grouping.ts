/**
 * Benchmark of `groupTickets` at 10k and 100k tickets (not a test).
 *
 *   node --import tsx bench/grouping.ts            # both sizes, each in its own child process
 *   node --import tsx bench/grouping.ts 250000     # other sizes
 *
 * Tickets come from the fluid corpus (`../shared/fixtures/tickets/fluid-jira-issues.jsonl`, read in place)
 * when it is present, replicated with varied substitutions (numbers, versions, names swapped into some
 * words, components appended) so copies are repeats with different wording rather than identical
 * strings; otherwise from synthetic platform-request templates. A seeded PRNG makes runs comparable.
 * Prints wall and CPU seconds (CPU time is the steadier figure on a busy machine), tickets/s, group count
 * and peak RSS (the child's max resident set size). Targets: 100k tickets in ≤ 30 s with peak RSS ≤ 250 MB.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { groupTickets, type GroupableTicket } from '../src/grouping/group-tickets.js';

import { seededRandom as prng } from '../test/support/seeded-random.js';

const here = dirname(fileURLToPath(import.meta.url));
const corpusPath = resolve(here, '../../shared/fixtures/tickets/fluid-jira-issues.jsonl');


const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'sor', 'tal', 'vex', 'qui', 'dra', 'pen', 'zu', 'bri', 'cho', 'fen'];
const COMPONENTS = ['api-gateway', 'billing', 'auth-service', 'search', 'ingest', 'web-ui', 'reporting', 'mobile'];

function nameFrom(rand: () => number): string {
  const n = 2 + Math.floor(rand() * 2);
  let s = '';
  for (let i = 0; i < n; i++) s += SYLLABLES[Math.floor(rand() * SYLLABLES.length)];
  return rand() < 0.5 ? s : `${s}-${SYLLABLES[Math.floor(rand() * SYLLABLES.length)]}`;
}

function loadBase(): GroupableTicket[] {
  if (existsSync(corpusPath)) {
    return readFileSync(corpusPath, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const issue = JSON.parse(line) as { key: string; fields: { summary?: string; description?: string | null; labels?: string[] } };
        return { key: issue.key, summary: issue.fields.summary ?? null, description: issue.fields.description ?? null, labels: issue.fields.labels ?? [] };
      });
  }
  const rand = prng(7);
  const templates = [
    'Reset {n} feedstock token',
    'Please give {n} access to the {n} repo',
    'Create new repository {n}',
    'Add DNS record for {n}.example.com',
    'VPN access for {n}',
    'Rotate credentials for {n}',
    'Bump {n} to {v}',
    'Investigate flaky test in {n}',
  ];
  return Array.from({ length: 10_000 }, (_, i) => ({
    key: `PLAT-${i + 1}`,
    summary: templates[i % templates.length].replace(/\{n\}/g, () => nameFrom(rand)).replace('{v}', `${1 + (i % 9)}.${i % 13}.0`),
    labels: i % 5 === 0 ? ['platform'] : [],
  }));
}

/** Replicates the base tickets to `size`, varying each copy's wording. */
function replicate(base: GroupableTicket[], size: number): GroupableTicket[] {
  const rand = prng(42);
  const out: GroupableTicket[] = [];
  for (let copy = 0; out.length < size; copy++) {
    for (const t of base) {
      if (out.length >= size) break;
      if (copy === 0) {
        out.push(t);
        continue;
      }
      let summary = (t.summary ?? '').replace(/\d+/g, () => String(Math.floor(rand() * 500)));
      const r = rand();
      if (r < 0.3) {
        const words = summary.split(' ');
        const at = Math.floor(rand() * words.length);
        if (words[at] && words[at].length > 3) words[at] = nameFrom(rand);
        summary = words.join(' ');
      } else if (r < 0.5) summary = `${summary} (${COMPONENTS[Math.floor(rand() * COMPONENTS.length)]})`;
      else if (r < 0.6) summary = `${nameFrom(rand)}: ${summary}`;
      const [project, num] = t.key.split('-');
      out.push({ ...t, key: `${project}R${copy}-${num}`, summary });
    }
  }
  return out;
}

function runOne(size: number): void {
  const tickets = replicate(loadBase(), size);
  global.gc?.();
  const loadedMb = process.memoryUsage().rss / 1024 / 1024;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const grouping = groupTickets(tickets);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const grouped = grouping.types.reduce((s, g) => s + g.count, 0);
  const variants = grouping.types.reduce((s, g) => s + g.variants.length, 0);
  const peakMb = process.resourceUsage().maxRSS / 1024;
  console.log(
    `${String(size).padStart(7)} tickets: ${seconds.toFixed(2)} s wall (${cpuSeconds.toFixed(2)} s CPU), ` +
      `${Math.round(size / seconds).toLocaleString('en')} tickets/s, ` +
      `${grouping.algorithm}: ${grouping.types.length} request types (${variants} variants) holding ${grouped} tickets, peak RSS ${peakMb.toFixed(0)} MB (${loadedMb.toFixed(0)} MB with the tickets loaded)`,
  );
}

const childSize = process.env.DEFLECT_BENCH_SIZE;
if (childSize) runOne(Number(childSize));
else {
  const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
  console.log(
    `groupTickets benchmark (${existsSync(corpusPath) ? 'fluid corpus, replicated with substitutions' : 'synthetic tickets'}), ` +
      `node ${process.version}, load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} CPUs`,
  );
  for (const size of sizes.length ? sizes : [10_000, 100_000]) {
    // One child per size, so peak RSS is that size's own.
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
      env: { ...process.env, DEFLECT_BENCH_SIZE: String(size) },
      stdio: 'inherit',
    });
    if (child.status !== 0) process.exitCode = 1;
  }
}
