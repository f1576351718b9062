/**
 * `deflect import trello --board ID`: imports a Trello board's cards (open and archived) through the REST API
 * (`TRELLO_API_KEY`, `TRELLO_TOKEN`, `TRELLO_API_URL`; done lists from `DEFLECT_TRELLO_LISTS`) into the ticket table,
 * then regroups by text like the other imports. Paging, resuming and mapping live with the adapter
 * (`trackers/trello/trello-import.ts`).
 */
import type { Command } from 'commander';
import type { Config } from '../../config.js';
import { cliConfig, openWriteDatabase } from '../cli-database.js';
import { regroupTickets } from '../../reports/regroup.js';
import { createTrelloClient, TrelloRequestError } from '../../trackers/trello/trello-client.js';
import { importTrelloBoard } from '../../trackers/trello/trello-import.js';
import { DEFAULT_TRELLO_SETTLE_MS, reconcileTrello } from '../../trackers/trello/trello-reconcile.js';
import { parseFormat, renderTable } from '../output.js';
import { groupedLine } from './group-command.js';

interface TrelloImportFlags {
  board: string;
  pageSize: string;
  group: boolean;
}

/** The Trello client of the configuration. @throws Error naming the variables when they are not set. */
function trelloClientOf(config: Config, command: string) {
  if (!config.trello.api) {
    throw new Error(`deflect ${command} needs TRELLO_API_KEY and TRELLO_TOKEN (the app key from https://trello.com/power-ups/admin and a token with read scope)`);
  }
  return createTrelloClient({ ...config.trello.api, lists: config.trello.lists });
}

/** A `--board` value, checked. @throws Error saying what a board id looks like. */
function checkBoard(value: string): string {
  const board = value.trim();
  if (!/^[A-Za-z0-9]{8}$|^[0-9a-f]{24}$/i.test(board)) throw new Error(`--board "${value}" is not a Trello board id (24 hex digits) or shortLink (8 characters, from the board URL)`);
  return board;
}

async function importTrello(flags: TrelloImportFlags): Promise<void> {
  const config = cliConfig();
  const client = trelloClientOf(config, 'import trello');
  const board = checkBoard(flags.board);
  const pageSize = Number(flags.pageSize);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new Error('--page-size must be a whole number from 1 to 1000');
  const db = await openWriteDatabase(config);
  try {
    const result = await importTrelloBoard(db, client, {
      board,
      pageSize,
      onPage: ({ imported, pages }) => process.stderr.write(`import trello: page ${pages}, ${imported} imported\n`),
      onBadCard: ({ id, error }) => process.stderr.write(`card ${id ?? '?'}: skipped: ${error}\n`),
    });
    if (result.resumedBefore !== null) console.log('resumed an interrupted import after its last written page');
    console.log(
      `imported ${result.imported} tickets from Trello board ${result.boardId} (${result.pages} pages, ${result.retries} retries after rate limits/5xx) in ${(result.ms / 1000).toFixed(1)} s; ${result.skipped} bad cards skipped`,
    );
    if (flags.group) console.log(groupedLine(await regroupTickets(db)));
  } catch (error) {
    if (error instanceof TrelloRequestError && error.status === 401) throw new Error(`Trello refused TRELLO_API_KEY/TRELLO_TOKEN (HTTP 401): check both and that the token can read board ${board}`);
    if (error instanceof TrelloRequestError && error.status === 404) throw new Error(`no Trello board "${board}" (or TRELLO_TOKEN cannot see it)`);
    throw error;
  } finally {
    await db.close();
  }
}

/** `deflect reconcile --tracker trello --board ID…`: the options are those of the reconcile command (`--board` may repeat). */
export async function reconcileTrelloCommand(options: { board?: string[]; since?: number; settle?: number; dryRun?: boolean; format: string }): Promise<void> {
  const format = parseFormat(options.format, ['table', 'json']);
  const boards = (options.board ?? []).map(checkBoard);
  if (boards.length === 0) throw new Error('reconcile --tracker trello needs --board ID (repeat it for several boards)');
  const now = Date.now();
  const since = options.since === undefined ? null : now - options.since;
  const settleMs = options.settle ?? DEFAULT_TRELLO_SETTLE_MS;
  const config = cliConfig();
  const client = trelloClientOf(config, 'reconcile --tracker trello');
  const db = await openWriteDatabase(config);
  try {
    const result = await reconcileTrello({ db, client, boards, since, settleMs, dryRun: options.dryRun, now });
    if (format === 'json') return void console.log(JSON.stringify(result, null, 2));
    const fresh = result.missed.filter((m) => !m.duplicate).length;
    console.log(`card actions of ${boards.join(', ')} since ${new Date(result.since).toISOString()}`);
    console.log(
      `${result.scanned} actions checked: ${result.upToDate} already delivered, ${result.skipped} skipped (settling or not a card action), ` +
        `${result.missed.length} missed` +
        (options.dryRun ? ' (dry run: nothing stored)' : `, ${fresh} stored as deliveries`),
    );
    if (result.missed.length > 0) {
      console.log(renderTable(['card', 'action', 'why', 'delivery'], result.missed.map((m) => [m.key ?? '—', m.event, m.why, m.deliveryId ?? '—'])));
    }
  } finally {
    await db.close();
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
