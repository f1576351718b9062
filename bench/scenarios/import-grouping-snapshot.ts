/**
 * Grouping snapshots, to prove a change to `src/grouping/` leaves its results identical (not a benchmark, not a test).
 *
 *   node --import tsx bench/scenarios/import-grouping-snapshot.ts generate <file.jsonl> <count>   # the bench's tickets
 *   node --import tsx bench/scenarios/import-grouping-snapshot.ts snapshot <file.jsonl> <out.json>
 *
 * generate: writes `count` tickets of the import-grouping scenario's generator (seed 4242, fixed dates) as Jira REST
 * issues, one a line. snapshot: loads a JSONL export the way `import-grouping-child.ts` does, runs `groupTickets`, and
 * writes the whole result as canonical JSON — every type (id, name, key words, count, keys, example keys, labels,
 * variants with id, template, count, keys) and every assignment (type, variant, reason, deciding words, nearest,
 * summary), in the order of the Map — then prints its SHA-256, the number of types and the tickets grouped. Two snapshots are
 * the same grouping exactly when their digests are equal (`cmp` the files to find where they differ).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { groupTickets, type GroupableTicket } from '../../src/grouping/group-tickets.js';
import { ticketGenerator, toRestIssue } from '../lib/tickets.js';

const [mode, file, arg] = process.argv.slice(2);

async function generate(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  const generator = ticketGenerator(size, Date.UTC(2025, 0, 1), Date.UTC(2027, 0, 1), 4242);
  for (let i = 0; i < size; i++) {
    if (!out.write(`${JSON.stringify(toRestIssue(generator.next()))}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function load(path: string): Promise<GroupableTicket[]> {
  const tickets: GroupableTicket[] = [];
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    if (!line.trim()) continue;
    const issue = JSON.parse(line) as { key: string; fields: { summary?: string | null; description?: string | null; labels?: string[] } };
    tickets.push({ key: issue.key, summary: issue.fields.summary ?? null, description: issue.fields.description ?? null, labels: issue.fields.labels ?? [] });
  }
  return tickets;
}

if (mode === 'generate') await generate(file, Number(arg));
else if (mode === 'snapshot') {
  const grouping = groupTickets(await load(file));
  const assignments = [...grouping.assignments.entries()];
  const text = JSON.stringify({ algorithm: grouping.algorithm, parameters: grouping.parameters, types: grouping.types, assignments }, null, 1);
  writeFileSync(arg, text);
  const grouped = grouping.types.reduce((n, t) => n + t.count, 0);
  console.log(`${createHash('sha256').update(text).digest('hex')}  ${grouping.types.length} types, ${grouped} grouped, ${assignments.length} assignments  ${arg}`);
} else {
  console.error('usage: import-grouping-snapshot.ts generate <file.jsonl> <count> | snapshot <file.jsonl> <out.json>');
  process.exitCode = 2;
}
