/**
 * Streaming parser for Jira's CSV export ("Export > Export CSV (all fields)" or "(current fields)").
 *
 * Jira writes multi-valued fields by repeating the column header (three `Labels` columns when some issue
 * has three labels; likewise `Component/s`, `Sprint`, ...), so the header is read as a list of positions
 * per name (csv-parse with `columns: false`) and every cell of a repeated column is collected. Dates are in
 * the exporting user's date format without a zone: `21/Nov/26 9:05 AM` (Jira's default), `2024-03-05 14:22`,
 * or ISO 8601; zone-less dates are read as UTC.
 *
 * Pure: it reads the given input and yields results. Line endings may be LF or CRLF.
 */
import { Readable, pipeline } from 'node:stream';
import { parse } from 'csv-parse';
import { parseJiraDate, type Ticket } from '../ticket.js';
import type { ParsedTicketRow } from './parse-jsonl.js';

export type { ParsedTicketRow } from './parse-jsonl.js';

/** What {@link parseJiraCsv} reads: a file stream, chunks (strings or UTF-8 bytes), or the whole text. */
export type CsvInput = Readable | AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array> | string;

const MONTHS: Record<string, number> = {
  jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11,
};

/**
 * Parses a date as Jira writes it in CSV exports. Returns epoch ms, or null for an empty cell, or
 * `undefined` when the text is not a date format this parser knows (the caller reports the row).
 * Two-digit years are 20yy below 70, else 19yy.
 *
 * @example parseJiraCsvDate('21/Nov/26 9:05 AM') // Date.UTC(2026, 10, 21, 9, 5)
 * @example parseJiraCsvDate('2024-03-05 14:22')  // Date.UTC(2024, 2, 5, 14, 22)
 * @example parseJiraCsvDate('2018-04-30T13:22:33.903-0400') // ISO with offset, via parseJiraDate
 */
export function parseJiraCsvDate(text: string): number | null | undefined {
  const value = text.trim();
  if (value === '') return null;
  const dmy = /^(\d{1,2})\/([A-Za-z]{3})\/(\d{2}|\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$/.exec(value);
  if (dmy) {
    const month = MONTHS[dmy[2].toLowerCase()];
    if (month === undefined) return undefined;
    let year = Number(dmy[3]);
    if (dmy[3].length === 2) year += year < 70 ? 2000 : 1900;
    let hour = Number(dmy[4] ?? 0);
    const ampm = dmy[7]?.toLowerCase();
    if (ampm && (hour < 1 || hour > 12)) return undefined;
    if (ampm === 'pm' && hour < 12) hour += 12;
    if (ampm === 'am' && hour === 12) hour = 0;
    return checked(year, month, Number(dmy[1]), hour, Number(dmy[5] ?? 0), Number(dmy[6] ?? 0));
  }
  const ymd = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$/.exec(value);
  if (ymd) {
    return checked(Number(ymd[1]), Number(ymd[2]) - 1, Number(ymd[3]), Number(ymd[4] ?? 0), Number(ymd[5] ?? 0), Number(ymd[6] ?? 0));
  }
  return parseJiraDate(value) ?? undefined;
}

/** Date.UTC, or undefined when a field is out of range (31/Feb, 25:00). */
function checked(y: number, mo: number, d: number, h: number, mi: number, s: number): number | undefined {
  const ms = Date.UTC(y, mo, d, h, mi, s);
  const t = new Date(ms);
  const ok = t.getUTCFullYear() === y && t.getUTCMonth() === mo && t.getUTCDate() === d && h < 24 && mi < 60 && s < 60;
  return ok ? ms : undefined;
}

/**
 * Parses a Jira CSV export into tickets, one result per data row, in order. A bad row (wrong number of
 * cells, missing or malformed `Issue key`/`Issue id`, unreadable date, broken quoting) yields
 * `{ line, error }` with the 1-based line where the row starts, and parsing goes on. A file without an
 * `Issue key` column yields a single error for line 1.
 *
 * Columns read (by header name, case-insensitive): `Summary`, `Issue key`, `Issue id`, `Issue Type`,
 * `Status`, `Project key`, `Reporter`, `Reporter Id` (when present), `Created`, `Updated`, `Resolved`,
 * `Labels` (every column of that name), `Description`. Others (`Priority`, `Resolution`, `Assignee`,
 * `Component/s`, custom fields) are not part of a {@link Ticket} and are ignored. `labels` is null when the
 * export has no `Labels` column at all, `[]` when the issue has none. `siteUrl` is null (CSV has no URL).
 *
 * @example
 * for await (const row of parseJiraCsv(createReadStream('jira.csv'))) {
 *   if (row.error) console.warn(`line ${row.line}: ${row.error}`);
 * }
 */
export async function* parseJiraCsv(input: CsvInput): AsyncGenerator<ParsedTicketRow> {
  const skipped: ParsedTicketRow[] = [];
  const parser = parse({
    columns: false,
    bom: true,
    info: true,
    raw: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (err, raw) => {
      const end = Number(err?.lines ?? 0);
      skipped.push({ line: startLine(end, raw ?? ''), error: `unreadable CSV: ${err?.message ?? 'bad record'}` });
      return undefined;
    },
  });
  pipeline(Readable.from(lfOnly(input)), parser, () => undefined); // an input error surfaces in the loop below

  let columns: Map<string, number[]> | null = null;
  let width = 0;
  for await (const { record, info, raw } of parser as AsyncIterable<{ record: string[]; info: { lines: number }; raw: string }>) {
    const line = startLine(info.lines, raw);
    // Skipped records are reported in line order (csv-parse may report one before emitting earlier rows).
    while (skipped.length > 0 && skipped[0].line < line) yield skipped.shift()!;
    if (!columns) {
      columns = new Map();
      record.forEach((name, i) => {
        const key = name.trim().toLowerCase();
        columns!.set(key, [...(columns!.get(key) ?? []), i]);
      });
      width = record.length;
      if (!columns.has('issue key')) {
        yield { line, error: `not a Jira CSV export: no "Issue key" column (columns: ${record.slice(0, 8).join(', ')})` };
        return;
      }
      continue;
    }
    yield rowToTicket(record, line, columns, width);
  }
  yield* skipped.splice(0);
}

function rowToTicket(record: string[], line: number, columns: Map<string, number[]>, width: number): ParsedTicketRow {
  if (record.length !== width) return { line, error: `expected ${width} cells like the header, found ${record.length}` };
  const cell = (name: string): string | null => {
    const at = columns.get(name)?.[0];
    const value = at === undefined ? '' : record[at].trim();
    return value === '' ? null : value;
  };
  const key = cell('issue key');
  if (!key || !/^[A-Za-z][A-Za-z0-9_]*-\d+$/.test(key)) return { line, error: `invalid Issue key ${JSON.stringify(key ?? '')}` };
  const id = cell('issue id');
  if (!id) return { line, error: `${key}: missing Issue id` };
  const dates: Partial<Record<'created' | 'updated' | 'resolved', number | null>> = {};
  for (const [field, column] of [['created', 'created'], ['updated', 'updated'], ['resolved', 'resolved']] as const) {
    const text = cell(column) ?? '';
    const ms = parseJiraCsvDate(text);
    if (ms === undefined) return { line, error: `${key}: unreadable ${column} date ${JSON.stringify(text)}` };
    dates[field] = ms;
  }
  const labelColumns = columns.get('labels');
  const labels = labelColumns ? labelColumns.map((i) => record[i].trim()).filter((l) => l !== '') : null;
  return {
    line,
    ticket: {
      id,
      key,
      project: cell('project key') ?? key.split('-')[0],
      issueType: cell('issue type'),
      status: cell('status'),
      labels: labels ? [...new Set(labels)] : null,
      summary: cell('summary'),
      description: columns.has('description') ? (record[columns.get('description')![0]] || null) : null,
      reporter: cell('reporter'),
      reporterId: cell('reporter id'),
      created: dates.created ?? null,
      updated: dates.updated ?? null,
      resolved: dates.resolved ?? null,
      siteUrl: null,
    },
  };
}

/** The line a record starts on, from the line it ends on (csv-parse `info.lines`) and its raw text. */
function startLine(endLine: number, raw: string): number {
  const body = raw.replace(/^\n+/, '').replace(/\n$/, '');
  let inner = 0;
  for (let i = body.indexOf('\n'); i !== -1; i = body.indexOf('\n', i + 1)) inner++;
  return Math.max(1, endLine - inner);
}

/**
 * The input as strings with CRLF (and lone CR) turned into LF, so csv-parse counts lines the same way for
 * every export (it counts CR and LF separately inside quoted cells) and descriptions get `\n` newlines.
 */
async function* lfOnly(input: CsvInput): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let pendingCr = false;
  const source: AsyncIterable<unknown> | Iterable<unknown> = typeof input === 'string' ? [input] : input;
  for await (const chunk of source) {
    let text = typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true });
    if (pendingCr) text = '\r' + text;
    pendingCr = text.endsWith('\r');
    if (pendingCr) text = text.slice(0, -1);
    if (text) yield text.replace(/\r\n?/g, '\n');
  }
  const rest = decoder.decode() + (pendingCr ? '\n' : '');
  if (rest) yield rest.replace(/\r\n?/g, '\n');
}
