import { createReadStream, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { loadProcessConfig } from '../../config.js';
import { openDatabase, type Db } from '../../db/client.js';
import { importFromJql } from '../../import/import-jql.js';
import { importParsedRows, type ImportResult } from '../../import/import-tickets.js';
import { JIRA_CREDENTIAL_HELP, jiraApiFor } from '../../jira/jira-api-for.js';
import { parseJiraCsv } from '../../import/parse-csv.js';
import { parseJsonlLines, type ParsedTicketRow } from '../../import/parse-jsonl.js';
import { regroupTickets } from '../../reports/regroup.js';
import { startProgress } from '../progress.js';
import { groupedLine } from './group-command.js';
import { registerImportGitHubCommand } from './import-github-command.js';
import { registerImportLinearCommand } from './import-linear-command.js';
import { registerImportTrelloCommand } from './import-trello-command.js';

const MAX_BAD_ROWS_SHOWN = 20;

/** Runs one file import with progress by bytes read, prints bad rows (first 20) and a summary, then regroups. */
async function importFile(kind: 'jsonl' | 'csv', file: string, options: { group: boolean }): Promise<void> {
  const path = resolve(file);
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat?.isFile()) throw new Error(`${file}: no such file`);
  const config = loadProcessConfig();
  const db = openDatabase(config.dbPath);
  const stream = createReadStream(path);
  let bytes = 0;
  stream.on('data', (chunk) => (bytes += chunk.length));
  const rows: AsyncIterable<ParsedTicketRow> =
    kind === 'jsonl' ? parseJsonlLines(createInterface({ input: stream, crlfDelay: Infinity })) : parseJiraCsv(stream);
  const progress = startProgress(`import ${kind}`, stat.size, 'bytes');
  const started = Date.now();
  let shown = 0;
  let result: ImportResult;
  try {
    result = await importParsedRows(db, rows, {
      source: `${kind}:${path}`,
      fingerprint: `${stat.size}:${Math.round(stat.mtimeMs)}`,
      onProgress: ({ imported, skipped }) =>
        progress.update(bytes, { imported, skipped, rate: Math.round(imported / Math.max(0.001, (Date.now() - started) / 1000)) }),
      onBadRow: ({ line, error }) => {
        if (shown++ < MAX_BAD_ROWS_SHOWN) process.stderr.write(`\n${file}:${line}: skipped: ${error}\n`);
      },
    });
  } finally {
    progress.stop();
  }
  if (result.resumedAfterLine > 0) console.log(`resumed an interrupted import after line ${result.resumedAfterLine}`);
  const rate = Math.round(result.imported / Math.max(0.001, result.ms / 1000));
  console.log(`imported ${result.imported} tickets from ${file} in ${(result.ms / 1000).toFixed(1)} s (${rate} tickets/s); ${result.skipped} bad rows skipped`);
  if (result.skipped > MAX_BAD_ROWS_SHOWN) console.log(`(${result.skipped - MAX_BAD_ROWS_SHOWN} more bad rows not shown)`);
  finish(db, options.group);
}

function finish(db: Db, group: boolean): void {
  if (group) {
    const grouped = regroupTickets(db);
    console.log(groupedLine(grouped));
  }
  db.$client.close();
}

/** Imports the issues a JQL query matches through the Jira REST API (needs the JIRA_* credentials). */
async function importJql(jql: string, options: { group: boolean; pageSize: string }): Promise<void> {
  const config = loadProcessConfig();
  if (!config.jira) throw new Error(`deflect import jql needs ${JIRA_CREDENTIAL_HELP}`);
  const api = jiraApiFor(config.jira);
  const db = openDatabase(config.dbPath);
  let lastPrint = 0;
  const result = await importFromJql(db, api, jql, {
    pageSize: Number(options.pageSize),
    onPage: ({ imported, skipped, pages }) => {
      if (Date.now() - lastPrint < 1000) return;
      lastPrint = Date.now();
      process.stderr.write(`import jql: page ${pages}, ${imported} imported, ${skipped} skipped\n`);
    },
    onBadRow: ({ index, key, error }) => process.stderr.write(`issue #${index}${key ? ` ${key}` : ''}: skipped: ${error}\n`),
  });
  if (result.resumedFrom !== null) console.log(`resumed an interrupted import from issues updated since ${new Date(result.resumedFrom).toISOString()}`);
  console.log(
    `imported ${result.imported} tickets from Jira (${result.pages} pages, ${result.retries} retries after 429/5xx) in ${(result.ms / 1000).toFixed(1)} s; ${result.skipped} bad issues skipped`,
  );
  finish(db, options.group);
}

/** `deflect import jsonl|csv|jql|github`: load ticket history, then regroup by text. */
export function registerImportCommand(program: Command): void {
  const command = program.command('import').description('import ticket history (resumable, safe to run twice), then group tickets by text');
  command
    .command('jsonl')
    .argument('<file>', 'one Jira REST issue ({id, key, fields}) per line, as the search API returns them')
    .option('--no-group', 'do not regroup tickets by text afterwards')
    .description('import a JSONL dump of Jira issues')
    .action((file: string, options: { group: boolean }) => importFile('jsonl', file, options));
  command
    .command('jql')
    .requiredOption('--jql <query>', 'which issues, e.g. "project = PLAT AND created >= -365d" (no ORDER BY)')
    .option('--page-size <n>', 'issues per request', '100')
    .option('--no-group', 'do not regroup tickets by text afterwards')
    .description('import issues from Jira with a JQL query (enhanced search; honours 429 Retry-After)')
    .action((options: { jql: string; group: boolean; pageSize: string }) => importJql(options.jql, options));
  command
    .command('csv')
    .argument('<file>', "Jira's CSV export (Filters → Export → CSV)")
    .option('--no-group', 'do not regroup tickets by text afterwards')
    .description("import Jira's CSV export")
    .action((file: string, options: { group: boolean }) => importFile('csv', file, options));
  registerImportGitHubCommand(command);
  registerImportLinearCommand(command);
  registerImportTrelloCommand(command);
}


