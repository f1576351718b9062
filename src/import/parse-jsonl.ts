/**
 * Streaming parser for JSONL ticket dumps: one Jira REST issue (`{ id, key, fields }`) per line, as
 * `jq -c '.issues[]'` over search results gives. Pure: it reads the lines it is given and yields results;
 * nothing is written anywhere.
 */
import type { Ticket } from '../ticket.js';
import { jiraTracker } from '../trackers/jira/jira-tracker.js';

/** One parsed row: a ticket, or the reason the row was skipped. `line` is 1-based in the source. */
export interface ParsedTicketRow {
  line: number;
  ticket?: Ticket;
  error?: string;
}

/**
 * Parses JSONL lines into tickets, one result per non-blank line, in order. A line that is not JSON or not
 * an issue yields `{ line, error }` and parsing goes on. A UTF-8 BOM and a trailing `\r` are ignored.
 *
 * @example
 * import { createReadStream } from 'node:fs';
 * import { createInterface } from 'node:readline';
 * const lines = createInterface({ input: createReadStream('issues.jsonl'), crlfDelay: Infinity });
 * for await (const row of parseJsonlLines(lines)) {
 *   if (row.error) console.warn(`line ${row.line}: ${row.error}`);
 *   else tickets.push(row.ticket!);
 * }
 */
export async function* parseJsonlLines(lines: AsyncIterable<string> | Iterable<string>): AsyncGenerator<ParsedTicketRow> {
  let line = 0;
  for await (const raw of lines) {
    line++;
    const text = (line === 1 ? raw.replace(/^\uFEFF/, '') : raw).replace(/\r$/, '').trim();
    if (text === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      yield { line, error: `not valid JSON: ${(err as Error).message}` };
      continue;
    }
    try {
      yield { line, ticket: jiraTracker.issueToTicket(value) };
    } catch (err) {
      yield { line, error: (err as Error).message };
    }
  }
}
