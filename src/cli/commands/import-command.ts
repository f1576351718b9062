import { createReadStream, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { commandDescription } from '../command-manifest.js';
import { cliConfig, openWriteDatabase } from '../cli-database.js';
import { formatOption, wholeNumber } from '../options.js';
import type { Store } from '../../db/store.js';
import { importFromJql } from '../../import/import-jql.js';
import { importParsedRows, type ImportResult } from '../../import/import-tickets.js';
import { JIRA_CREDENTIAL_HELP, jiraApiFor } from '../../jira/jira-api-for.js';
import { parseJiraCsv } from '../../import/parse-csv.js';
import { parseJsonlLines, type ParsedTicketRow } from '../../import/parse-jsonl.js';
import { regroupTickets } from '../../reports/regroup.js';
import { startProgress } from '../progress.js';
import { groupedJson, groupedLine } from './group-command.js';
import { registerImportGitHubCommand } from './import-github-command.js';
import { registerImportLinearCommand } from './import-linear-command.js';
import { registerImportTrelloCommand } from './import-trello-command.js';

const MAX_BAD_ROWS_SHOWN = 20;

/** What `deflect import … --format json` prints: `{ "source", "imported", "skipped", "ms", "resumedAfterLine", "grouped" }`. */
interface ImportSummary {
  source: string;
  imported: number;
  skipped: number;
  ms: number;
  resumedAfterLine?: number;
  pages?: number;
  retries?: number;
  grouped: ReturnType<typeof groupedJson> | null;
}

interface ImportOptions {
  group: boolean;
  format: 'text' | 'json';
}

/**
 * Runs one file import (`-` reads standard input) with progress on stderr (by bytes read; a stream of unknown size
 * shows counts only), prints bad rows (first 20) and a summary, then regroups. Standard input is never resumed: an
 * interrupted `import jsonl -` starts again from its first line (rows already stored are updated, not duplicated).
 */
async function importFile(kind: 'jsonl' | 'csv', file: string, options: ImportOptions): Promise<void> {
  const fromStdin = file === '-';
  const path = fromStdin ? '-' : resolve(file);
  const stat = fromStdin ? null : statSync(path, { throwIfNoEntry: false });
  if (!fromStdin && !stat?.isFile()) throw new Error(`${file}: no such file`);
  const config = cliConfig();
  const db = await openWriteDatabase(config);
  let bytes = 0;
  // The file is opened when the import starts reading rows, not before: the import first awaits its checkpoint (a
  // round trip on PostgreSQL), and a stream already flowing would hand its lines to nobody meanwhile.
  const openRows = (): AsyncIterable<ParsedTicketRow> => {
    const stream = fromStdin ? process.stdin : createReadStream(path);
    stream.on('data', (chunk: Buffer | string) => (bytes += chunk.length));
    return kind === 'jsonl' ? parseJsonlLines(createInterface({ input: stream, crlfDelay: Infinity })) : parseJiraCsv(stream);
  };
  const rows: AsyncIterable<ParsedTicketRow> = { [Symbol.asyncIterator]: () => openRows()[Symbol.asyncIterator]() };
  const progress = startProgress(`import ${kind}`, stat ? stat.size : null, 'bytes');
  const started = Date.now();
  let shown = 0;
  let result: ImportResult;
  try {
    result = await importParsedRows(db, rows, {
      source: `${kind}:${fromStdin ? `stdin:${started}` : path}`,
      fingerprint: stat ? `${stat.size}:${Math.round(stat.mtimeMs)}` : `stdin:${started}`,
      onProgress: ({ imported, skipped }) =>
        progress.update(bytes, { imported, skipped, rate: Math.round(imported / Math.max(0.001, (Date.now() - started) / 1000)) }),
      onBadRow: ({ line, error }) => {
        if (shown++ < MAX_BAD_ROWS_SHOWN) process.stderr.write(`\n${fromStdin ? 'stdin' : file}:${line}: skipped: ${error}\n`);
      },
    });
  } finally {
    progress.stop();
  }
  const summary: ImportSummary = { source: fromStdin ? 'stdin' : file, imported: result.imported, skipped: result.skipped, ms: result.ms, resumedAfterLine: result.resumedAfterLine, grouped: null };
  if (options.format === 'text') {
    if (result.resumedAfterLine > 0) console.log(`resumed an interrupted import after line ${result.resumedAfterLine}`);
    const rate = Math.round(result.imported / Math.max(0.001, result.ms / 1000));
    console.log(`imported ${result.imported} tickets from ${summary.source} in ${(result.ms / 1000).toFixed(1)} s (${rate} tickets/s); ${result.skipped} bad rows skipped`);
    if (result.skipped > MAX_BAD_ROWS_SHOWN) console.log(`(${result.skipped - MAX_BAD_ROWS_SHOWN} more bad rows not shown)`);
  }
  await finish(db, summary, options);
}

/** Regroups (unless `--no-group`), closes the database and prints the JSON summary when asked for. */
async function finish(db: Store, summary: ImportSummary, options: ImportOptions): Promise<void> {
  try {
    if (options.group) {
      const grouped = await regroupTickets(db);
      summary.grouped = groupedJson(grouped);
      if (options.format === 'text') console.log(groupedLine(grouped));
    }
  } finally {
    await db.close();
  }
  if (options.format === 'json') console.log(JSON.stringify(summary, null, 2));
}

/** Imports the issues a JQL query matches through the Jira REST API (needs the JIRA_* credentials). */
async function importJql(jql: string, options: ImportOptions & { pageSize: number }): Promise<void> {
  const config = cliConfig();
  if (!config.jira) throw new Error(`deflect import jql needs ${JIRA_CREDENTIAL_HELP}`);
  const api = jiraApiFor(config.jira);
  const db = await openWriteDatabase(config);
  let lastPrint = 0;
  const result = await importFromJql(db, api, jql, {
    pageSize: options.pageSize,
    onPage: ({ imported, skipped, pages }) => {
      if (Date.now() - lastPrint < 1000) return;
      lastPrint = Date.now();
      process.stderr.write(`import jql: page ${pages}, ${imported} imported, ${skipped} skipped\n`);
    },
    onBadRow: ({ index, key, error }) => process.stderr.write(`issue #${index}${key ? ` ${key}` : ''}: skipped: ${error}\n`),
  });
  if (options.format === 'text') {
    if (result.resumedFrom !== null) console.log(`resumed an interrupted import from issues updated since ${new Date(result.resumedFrom).toISOString()}`);
    console.log(
      `imported ${result.imported} tickets from Jira (${result.pages} pages, ${result.retries} retries after 429/5xx) in ${(result.ms / 1000).toFixed(1)} s; ${result.skipped} bad issues skipped`,
    );
  }
  await finish(db, { source: 'jira', imported: result.imported, skipped: result.skipped, ms: result.ms, pages: result.pages, retries: result.retries, grouped: null }, options);
}

/** `deflect import jsonl|csv|jql|github`: load ticket history, then regroup by text. */
export function registerImportCommand(program: Command): void {
  const command = program.command('import').description(commandDescription('import'));
  command
    .command('jsonl')
    .argument('<file>', 'one Jira REST issue ({id, key, fields}) per line, as the search API returns them; - reads standard input')
    .option('--no-group', 'do not regroup tickets by text afterwards')
    .addOption(formatOption(['text', 'json']))
    .description('import a JSONL dump of Jira issues')
    .action((file: string, options: ImportOptions) => importFile('jsonl', file, options));
  command
    .command('jql')
    .requiredOption('--jql <query>', 'which issues, e.g. "project = PLAT AND created >= -365d" (no ORDER BY)')
    .option('--page-size <n>', 'issues per request (1–5000)', wholeNumber(1, 5000), 100)
    .option('--no-group', 'do not regroup tickets by text afterwards')
    .addOption(formatOption(['text', 'json']))
    .description('import issues from Jira with a JQL query (enhanced search; honours 429 Retry-After)')
    .action((options: ImportOptions & { jql: string; pageSize: number }) => importJql(options.jql, options));
  command
    .command('csv')
    .argument('<file>', "Jira's CSV export (Filters → Export → CSV); - reads standard input")
    .option('--no-group', 'do not regroup tickets by text afterwards')
    .addOption(formatOption(['text', 'json']))
    .description("import Jira's CSV export")
    .action((file: string, options: ImportOptions) => importFile('csv', file, options));
  registerImportGitHubCommand(command);
  registerImportLinearCommand(command);
  registerImportTrelloCommand(command);
}


