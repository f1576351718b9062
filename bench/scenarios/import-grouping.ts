/**
 * Scenario 4, import and grouping: JSONL import rate (tickets/s: stream → `parseJsonlLines` → `importParsedRows` into
 * a fresh database, as `deflect import jsonl` does) and text grouping time (`groupTickets`) at 10k and 100k generated tickets, each measurement in
 * its own process (import-grouping-child.ts) with its peak RSS. When ../shared is present, the real Fluid Jira
 * export (10k issues, longer texts) is measured too, as a realism check on the generated text.
 * The JSONL files are written by this process first (not timed), so the children's memory is theirs alone.
 * A missing module (src/import or src/grouping still being written) makes its lines SKIPPED, not an error.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { baseEnv, runNode, tempDir, tsNode } from '../lib/processes.js';
import { FLUID_CORPUS } from '../lib/payloads.js';
import { ticketGenerator, toRestIssue } from '../lib/tickets.js';
import type { Settings } from '../lib/settings.js';
import { check, fmt, info, type Row, type ScenarioResult } from '../lib/table.js';

interface ChildResult {
  size: number;
  seconds: number;
  ticketsPerSecond: number;
  maxRssMb: number;
  written?: number;
  errors?: number;
  bytes?: number;
  parseOnly?: { ticketsPerSecond: number };
  groups?: number;
  grouped?: number;
  loadedRssMb?: number;
}

/** Writes `size` generated tickets as a JSONL export (Jira REST issues). */
async function writeGenerated(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  const generator = ticketGenerator(size, Date.now() - 730 * 86_400_000, Date.now(), 4242);
  for (let i = 0; i < size; i++) {
    if (!out.write(`${JSON.stringify(toRestIssue(generator.next()))}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function child(args: string[]): Promise<ChildResult | { skipped: string }> {
  const result = await runNode(tsNode('bench/scenarios/import-grouping-child.ts', ...args), baseEnv(), 300_000);
  if (result.code !== 0) {
    const firstLine = result.stderr.split('\n').find((l) => /Error|Cannot find|not found/.test(l)) ?? result.stderr.split('\n')[0];
    return { skipped: firstLine.trim().slice(0, 160) || `exit code ${result.code}` };
  }
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as ChildResult;
}

const label = (n: number) => (n >= 1000 ? `${fmt(n / 1000)}k` : fmt(n));

export async function runImportGrouping(settings: Settings): Promise<ScenarioResult> {
  const tmp = tempDir('import-');
  const s = 'import & grouping';
  const rows: Row[] = [];
  const data: Record<string, unknown> = {};
  const sources: Array<[string, number]> = settings.sizes.map((n) => ['generated', n] as [string, number]);
  if (existsSync(FLUID_CORPUS)) sources.push(['fluid', 10_052]);
  let importRss = 0;
  let groupRss = 0;
  try {
    for (const [source, size] of sources) {
      const what = source === 'fluid' ? 'real Fluid export' : 'generated';
      const file = source === 'fluid' ? FLUID_CORPUS : join(tmp.path, `generated-${size}.jsonl`);
      if (source === 'generated') await writeGenerated(file, size);
      const imported = await child(['import', file, tmp.path]);
      data[`import-${source}-${size}`] = imported;
      if ('skipped' in imported) rows.push({ ...info(s, `JSONL import, ${label(size)} ${what}`, `SKIPPED: ${imported.skipped}`), pass: null });
      else {
        importRss = Math.max(importRss, imported.maxRssMb);
        const value = `${fmt(imported.ticketsPerSecond)} tickets/s (parse alone ${fmt(imported.parseOnly?.ticketsPerSecond)}/s; ${fmt(imported.errors)} errors)`;
        rows.push(source === 'generated' ? check(s, `JSONL import, ${label(size)} ${what}`, value, '≥ 20,000/s', imported.ticketsPerSecond >= 20_000) : info(s, `JSONL import, ${label(size)} ${what}`, value));
      }
      const grouped = await child(['group', file]);
      data[`group-${source}-${size}`] = grouped;
      if ('skipped' in grouped) rows.push({ ...info(s, `grouping, ${label(size)} ${what}`, `SKIPPED: ${grouped.skipped}`), pass: null });
      else {
        groupRss = Math.max(groupRss, grouped.maxRssMb);
        const value = `${fmt(grouped.seconds, 2)} s (${fmt(grouped.groups)} groups, ${fmt(grouped.grouped)} tickets grouped)`;
        rows.push(
          source === 'generated' && size >= 100_000
            ? check(s, `grouping, ${label(size)} ${what}`, value, '≤ 30 s', grouped.seconds <= 30)
            : info(s, `grouping, ${label(size)} ${what}`, value),
        );
      }
      rows.push(info(s, `peak RSS import · grouping, ${label(size)} ${what}`, `${'skipped' in imported ? 'n/a' : fmt(imported.maxRssMb)} MB · ${'skipped' in grouped ? 'n/a' : `${fmt(grouped.maxRssMb)} MB (${fmt(grouped.loadedRssMb)} MB with the tickets loaded, before grouping)`}`));
    }
    rows.push(check(s, 'peak RSS import (largest above)', `${fmt(importRss || null)} MB`, '≤ 250 MB', importRss ? importRss <= 250 : null));
    rows.push(check(s, 'peak RSS grouping (largest above)', `${fmt(groupRss || null)} MB`, '≤ 250 MB', groupRss ? groupRss <= 250 : null));
    return { rows, data };
  } finally {
    tmp.cleanup();
  }
}
