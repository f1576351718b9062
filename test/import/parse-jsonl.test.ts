import { createReadStream, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseJsonlLines, type ParsedTicketRow } from '../../src/import/parse-jsonl.js';
import { restIssueToTicket } from '../../src/trackers/jira/jira-issue.js';
import { InvalidIssueError } from '../../src/trackers/tracker.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fixture = resolve(root, 'examples/history/platform-requests.jsonl');
const corpus = resolve(root, '../shared/fixtures/tickets/fluid-jira-issues.jsonl');

async function collect(lines: AsyncIterable<string> | Iterable<string>): Promise<ParsedTicketRow[]> {
  const rows: ParsedTicketRow[] = [];
  for await (const row of parseJsonlLines(lines)) rows.push(row);
  return rows;
}

const fileLines = (path: string) => createInterface({ input: createReadStream(path), crlfDelay: Infinity });

describe('parseJsonlLines', () => {
  it('parses every issue of the platform fixture into a Ticket', async () => {
    const rows = await collect(fileLines(fixture));
    expect(rows).toHaveLength(60);
    expect(rows.filter((r) => r.error)).toEqual([]);
    expect(rows.map((r) => r.line)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    const first = rows[0].ticket!;
    expect(first).toEqual({
      id: '30201',
      key: 'PLAT-201',
      project: 'PLAT',
      issueType: 'Task',
      status: 'To Do',
      labels: ['token-reset'],
      summary: 'Reset sweet-chem feedstock token',
      description: 'The upload token for sweet-chem-feedstock is rejected (403).',
      reporter: 'Sam Okafor',
      reporterId: '5b10a2844c20165700ede200',
      created: Date.parse('2025-04-01T09:00:00.000Z'),
      updated: Date.parse('2025-04-01T17:00:00.000Z'),
      resolved: null,
      siteUrl: 'https://acme.atlassian.net',
    });
  });

  it('flattens an ADF description to text', async () => {
    const rows = await collect(fileLines(fixture));
    const adf = rows.find((r) => r.ticket?.key === 'PLAT-204')!.ticket!;
    expect(adf.description).toBe('Please reset the token for tiny-lib-feedstock.');
  });

  it('reports bad lines with their line number and goes on', async () => {
    const good = (key: string) => JSON.stringify({ id: '1', key, fields: { summary: 'ok', labels: [] } });
    const rows = await collect([
      '\uFEFF' + good('A-1'),
      '',
      '{"id": "2", "key": "A-2", "fields": {',
      JSON.stringify({ id: '3', fields: { summary: 'no key' } }),
      '[1, 2]',
      JSON.stringify({ id: '4', key: 'A-4', fields: { labels: 'not-a-list' } }),
      good('A-7') + '\r',
    ]);
    expect(rows.map((r) => [r.line, r.ticket?.key ?? 'error'])).toEqual([
      [1, 'A-1'],
      [3, 'error'],
      [4, 'error'],
      [5, 'error'],
      [6, 'error'],
      [7, 'A-7'],
    ]);
    expect(rows[1].error).toMatch(/^not valid JSON/);
    expect(rows[2].error).toMatch(/key/);
    expect(rows[3].error).toMatch(/not a Jira issue/);
    expect(rows[4].error).toMatch(/fields\.labels/);
  });

  it.skipIf(!existsSync(corpus))('reads the whole fluid corpus without an error (skipped when ../shared is absent)', async () => {
    let count = 0;
    for await (const row of parseJsonlLines(fileLines(corpus))) {
      expect(row.error, `line ${row.line}`).toBeUndefined();
      expect(row.ticket!.key).toMatch(/^[A-Z0-9]+-\d+$/);
      count++;
    }
    expect(count).toBe(10_052);
  });
});

describe('restIssueToTicket', () => {
  it('tells labels absent (null) from no labels ([]) and reads a numeric id', () => {
    expect(restIssueToTicket({ id: 5, key: 'X-5', fields: {} })).toMatchObject({ id: '5', labels: null, project: 'X', siteUrl: null });
    expect(restIssueToTicket({ id: '6', key: 'X-6', fields: { labels: [] } }).labels).toEqual([]);
  });

  it('throws InvalidIssueError naming the bad field', () => {
    expect(() => restIssueToTicket('nope')).toThrow(InvalidIssueError);
    expect(() => restIssueToTicket({ id: '1', key: '', fields: {} })).toThrow(/key/);
  });
});
