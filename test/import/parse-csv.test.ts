import { createReadStream, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseJiraCsv, parseJiraCsvDate, type CsvInput, type ParsedTicketRow } from '../../src/import/parse-csv.js';

const fixture = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/tickets/sample-export.csv');
const text = readFileSync(fixture, 'utf8');

async function collect(input: CsvInput): Promise<ParsedTicketRow[]> {
  const rows: ParsedTicketRow[] = [];
  for await (const row of parseJiraCsv(input)) rows.push(row);
  return rows;
}

/** The physical line on which a key's row starts, found independently of the parser. */
const lineOf = (key: string) => text.split('\n').findIndex((l) => l.includes(`,${key},`)) + 1;

describe('parseJiraCsv on the sample export', () => {
  it('parses the good rows and reports the bad one with its line number', async () => {
    const rows = await collect(createReadStream(fixture));
    const errors = rows.filter((r) => r.error);
    expect(errors).toEqual([{ line: lineOf('PLAT-109'), error: expect.stringMatching(/expected 20 cells .* found 13/) }]);
    const keys = rows.filter((r) => r.ticket).map((r) => r.ticket!.key);
    expect(keys).toHaveLength(14);
    expect(keys).not.toContain('PLAT-109');
    for (const row of rows) if (row.ticket) expect(row.line, row.ticket.key).toBe(lineOf(row.ticket.key));
  });

  it('collects every Labels column, in order, and [] when a row has none', async () => {
    const byKey = new Map((await collect(text)).filter((r) => r.ticket).map((r) => [r.ticket!.key, r.ticket!]));
    expect(byKey.get('PLAT-105')!.labels).toEqual(['vpn', 'access', 'onboarding']);
    expect(byKey.get('PLAT-101')!.labels).toEqual(['token-reset', 'ci']);
    expect(byKey.get('PLAT-103')!.labels).toEqual([]);
  });

  it('keeps a quoted multi-line description with escaped quotes', async () => {
    const t = (await collect(text)).find((r) => r.ticket?.key === 'PLAT-102')!.ticket!;
    expect(t.description).toBe('Hi team,\n\nI need write access to acme/billing-api for the Q2 migration.\nManager approval: "yes, approved" (Tom)\n\nThanks!');
    expect(t.summary).toBe('Grant write access to acme/billing-api');
  });

  it('maps the Jira columns and reads dates in the default Jira format as UTC', async () => {
    const t = (await collect(text)).find((r) => r.ticket?.key === 'PLAT-102')!.ticket!;
    expect(t).toMatchObject({
      id: '20102',
      project: 'PLAT',
      issueType: 'Access',
      status: 'Done',
      reporter: 'Lena Fischer',
      reporterId: null,
      created: Date.UTC(2025, 2, 3, 14, 17),
      updated: Date.UTC(2025, 2, 4, 8, 2),
      resolved: Date.UTC(2025, 2, 4, 8, 2),
      siteUrl: null,
    });
    const open = (await collect(text)).find((r) => r.ticket?.key === 'PLAT-105')!.ticket!;
    expect(open.resolved).toBeNull();
  });

  it('gives the same tickets and line numbers for CRLF input split into small chunks', async () => {
    const lf = await collect(text);
    const crlf = text.replace(/\n/g, '\r\n');
    const chunks = crlf.match(/[\s\S]{1,7}/g)!.map((c) => Buffer.from(c, 'utf8'));
    expect(await collect(Readable.from(chunks))).toEqual(lf);
  });
});

describe('parseJiraCsv on small inputs', () => {
  it('reads null labels when the export has no Labels column', async () => {
    const rows = await collect('Issue key,Issue id,Summary\nA-1,1,hello\n');
    expect(rows).toEqual([{ line: 2, ticket: expect.objectContaining({ key: 'A-1', labels: null, summary: 'hello' }) }]);
  });

  it('reports a file without an Issue key column once, on line 1', async () => {
    expect(await collect('Summary,Status\nhello,Done\n')).toEqual([{ line: 1, error: expect.stringMatching(/no "Issue key" column/) }]);
  });

  it('reports a bad key, a missing id and an unreadable date, and keeps the good rows', async () => {
    const rows = await collect('Issue key,Issue id,Created\nnot a key,1,\nA-2,,\nA-3,3,someday\nA-4,4,2024-03-05 14:22\n');
    expect(rows.map((r) => [r.line, r.ticket?.key ?? r.error])).toEqual([
      [2, 'invalid Issue key "not a key"'],
      [3, 'A-2: missing Issue id'],
      [4, 'A-3: unreadable created date "someday"'],
      [5, 'A-4'],
    ]);
    expect(rows[3].ticket!.created).toBe(Date.UTC(2024, 2, 5, 14, 22));
  });

  it('reports an unclosed quote at the line where its row starts, after the rows before it', async () => {
    const rows = await collect('Issue key,Issue id,Summary\nA-1,1,ok\nA-2,2,"broken\nA-3,3,x\n');
    expect(rows.map((r) => [r.line, r.ticket?.key ?? 'error'])).toEqual([
      [2, 'A-1'],
      [3, 'error'],
    ]);
    expect(rows[1].error).toMatch(/Quote Not Closed/);
  });
});

describe('parseJiraCsvDate', () => {
  it.each([
    ['21/Nov/26 9:05 AM', Date.UTC(2026, 10, 21, 9, 5)],
    ['21/Nov/26 9:05 PM', Date.UTC(2026, 10, 21, 21, 5)],
    ['01/Jan/24 12:30 AM', Date.UTC(2024, 0, 1, 0, 30)],
    ['01/Jan/24 12:30 PM', Date.UTC(2024, 0, 1, 12, 30)],
    ['05/mar/2024 14:22', Date.UTC(2024, 2, 5, 14, 22)],
    ['2024-03-05 14:22', Date.UTC(2024, 2, 5, 14, 22)],
    ['2024-03-05', Date.UTC(2024, 2, 5)],
    ['2018-04-30T13:22:33.903-0400', Date.UTC(2018, 3, 30, 17, 22, 33, 903)],
    ['2024-03-05T14:22:00Z', Date.UTC(2024, 2, 5, 14, 22)],
  ])('reads %s', (input, expected) => {
    expect(parseJiraCsvDate(input)).toBe(expected);
  });

  it('returns null for an empty cell and undefined for text it cannot read', () => {
    expect(parseJiraCsvDate('  ')).toBeNull();
    for (const bad of ['someday', '31/Feb/25 9:00 AM', '21/Foo/26 9:05 AM', '21/Nov/26 13:05 PM', '2024-13-01']) {
      expect(parseJiraCsvDate(bad), bad).toBeUndefined();
    }
  });
});
