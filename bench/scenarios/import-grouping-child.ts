/**
 * One measurement of scenario 4, in its own process so its peak RSS is its own (getrusage maxrss). Prints one JSON line.
 *
 *   node --import tsx bench/scenarios/import-grouping-child.ts import <file.jsonl> <tmp dir>
 *   node --import tsx bench/scenarios/import-grouping-child.ts group  <file.jsonl>
 *
 * import: times the import of a JSONL export (Jira REST issues, one per line) the way `deflect import jsonl --no-group`
 * does it: stream the file (readline) → the project's `parseJsonlLines` → `importParsedRows` (batched, checkpointed
 * upserts) into a fresh database opened with `openDatabase`. Parsing alone is timed first.
 * group: loads the file line by line into `{ key, summary, description, labels }` (not timed), then times the
 * project's `groupTickets` over them. It loads no database module (better-sqlite3, drizzle: about 12 MB of RSS), so
 * its peak RSS is the tickets' and the grouping's.
 */
import { createReadStream } from 'node:fs';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { sqliteStore } from '../../src/db/sqlite-store.js';

const [mode, file, dir] = process.argv.slice(2);
const openLines = () => createInterface({ input: createReadStream(file), crlfDelay: Infinity });

async function runImport(): Promise<Record<string, unknown>> {
  // Loaded here so a missing module is reported as SKIPPED by the scenario instead of crashing the bench.
  const { parseJsonlLines } = await import('../../src/import/parse-jsonl.js');
  const { importParsedRows } = await import('../../src/import/import-tickets.js');
  const { openDatabase } = await import('../../src/db/client.js');
  let t = performance.now();
  let parsed = 0;
  for await (const row of parseJsonlLines(openLines())) if (row.ticket) parsed++;
  const parseSeconds = (performance.now() - t) / 1000;

  const db = openDatabase(join(dir, `${basename(file)}.db`));
  t = performance.now();
  const result = await importParsedRows(sqliteStore(db), parseJsonlLines(openLines()), { source: `jsonl:${file}`, fingerprint: 'bench' });
  const seconds = (performance.now() - t) / 1000;
  db.$client.close();
  return {
    size: result.imported + result.skipped,
    written: result.imported,
    errors: result.skipped,
    seconds,
    ticketsPerSecond: result.imported / seconds,
    parseOnly: { parsed, seconds: parseSeconds, ticketsPerSecond: parsed / parseSeconds },
  };
}

async function runGroup(): Promise<Record<string, unknown>> {
  const { groupTickets } = await import('../../src/grouping/group-tickets.js');
  const tickets: Array<{ key: string; summary: string | null; description: string | null; labels: string[] }> = [];
  for await (const line of openLines()) {
    if (!line.trim()) continue;
    const issue = JSON.parse(line) as { key: string; fields: { summary?: string | null; description?: string | null; labels?: string[] } };
    tickets.push({ key: issue.key, summary: issue.fields.summary ?? null, description: issue.fields.description ?? null, labels: issue.fields.labels ?? [] });
  }
  const loadedRssMb = process.memoryUsage().rss / 1024 / 1024;
  const t = performance.now();
  const grouping = groupTickets(tickets);
  const seconds = (performance.now() - t) / 1000;
  const grouped = grouping.types.reduce((sum, g) => sum + g.count, 0);
  return { size: tickets.length, seconds, ticketsPerSecond: tickets.length / seconds, groups: grouping.types.length, grouped, loadedRssMb, algorithm: grouping.algorithm };
}

const result = mode === 'import' ? await runImport() : await runGroup();
console.log(JSON.stringify({ mode, ...result, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
