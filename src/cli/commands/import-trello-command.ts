/**
 * `deflect import trello --board ID`: imports a Trello board's cards (open and archived) through the REST API
 * (`TRELLO_API_KEY`, `TRELLO_TOKEN`, `TRELLO_API_URL`; done lists from `DEFLECT_TRELLO_LISTS`) into the ticket table,
 * then regroups by text like the other imports. Paging, resuming and mapping live with the adapter
 * (`trackers/trello/trello-import.ts`).
 */
import type { Command } from 'commander';
import { loadProcessConfig } from '../../config.js';
import { openDatabase } from '../../db/client.js';
import { regroupTickets } from '../../reports/regroup.js';
import { createTrelloClient, TrelloRequestError } from '../../trackers/trello/trello-client.js';
import { importTrelloBoard } from '../../trackers/trello/trello-import.js';
import { groupedLine } from './group-command.js';

interface TrelloImportFlags {
  board: string;
  pageSize: string;
  group: boolean;
}

async function importTrello(flags: TrelloImportFlags): Promise<void> {
  const config = loadProcessConfig();
  if (!config.trello.api) {
    throw new Error('deflect import trello needs TRELLO_API_KEY and TRELLO_TOKEN (the app key from https://trello.com/power-ups/admin and a token with read scope)');
  }
  const board = flags.board.trim();
  if (!/^[A-Za-z0-9]{8}$|^[0-9a-f]{24}$/i.test(board)) throw new Error(`--board "${flags.board}" is not a Trello board id (24 hex digits) or shortLink (8 characters, from the board URL)`);
  const pageSize = Number(flags.pageSize);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new Error('--page-size must be a whole number from 1 to 1000');
  const db = openDatabase(config.dbPath);
  try {
    const result = await importTrelloBoard(db, createTrelloClient({ ...config.trello.api, lists: config.trello.lists }), {
      board,
      pageSize,
      onPage: ({ imported, pages }) => process.stderr.write(`import trello: page ${pages}, ${imported} imported\n`),
      onBadCard: ({ id, error }) => process.stderr.write(`card ${id ?? '?'}: skipped: ${error}\n`),
    });
    if (result.resumedBefore !== null) console.log('resumed an interrupted import after its last written page');
    console.log(
      `imported ${result.imported} tickets from Trello board ${result.boardId} (${result.pages} pages, ${result.retries} retries after rate limits/5xx) in ${(result.ms / 1000).toFixed(1)} s; ${result.skipped} bad cards skipped`,
    );
    if (flags.group) console.log(groupedLine(regroupTickets(db)));
  } catch (error) {
    if (error instanceof TrelloRequestError && error.status === 401) throw new Error(`Trello refused TRELLO_API_KEY/TRELLO_TOKEN (HTTP 401): check both and that the token can read board ${board}`);
    if (error instanceof TrelloRequestError && error.status === 404) throw new Error(`no Trello board "${board}" (or TRELLO_TOKEN cannot see it)`);
    throw error;
  } finally {
    db.$client.close();
  }
}

/** Adds `trello` under `deflect import`. */
export function registerImportTrelloCommand(importCommand: Command): void {
  importCommand
    .command('trello')
    .requiredOption('--board <id>', 'the Trello board id, or its shortLink from the board URL (trello.com/b/<shortLink>/…)')
    .option('--page-size <n>', 'cards per request (1-1000)', '500')
    .option('--no-group', 'do not regroup tickets by text afterwards')
    .description("import a Trello board's cards through the REST API (needs TRELLO_API_KEY and TRELLO_TOKEN)")
    .action((flags: TrelloImportFlags) => importTrello(flags));
}
