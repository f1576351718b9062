/**
 * `deflect import linear --team KEY [--since ISO]`: imports a Linear team's issues through the GraphQL API
 * (`LINEAR_API_KEY`, `LINEAR_API_URL`) into the ticket table, then regroups by text like the other imports.
 * The paging and mapping live with the adapter (`trackers/linear/linear-import.ts`).
 */
import type { Command } from 'commander';
import { cliConfig, openWriteDatabase } from '../cli-database.js';
import { regroupTickets } from '../../reports/regroup.js';
import { createLinearApi, LinearRequestError } from '../../trackers/linear/linear-api.js';
import { importLinearTeam } from '../../trackers/linear/linear-import.js';
import { groupedLine } from './group-command.js';

interface LinearImportFlags {
  team: string;
  since?: string;
  pageSize: string;
  group: boolean;
}

/** Parses `--since` (an ISO 8601 date or date-time) to epoch ms. @throws Error naming the expected form. */
export function parseSince(value: string | undefined): number | null {
  if (value === undefined) return null;
  const ms = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim()) ? Date.parse(value.trim()) : NaN;
  if (Number.isNaN(ms)) throw new Error(`--since "${value}" is not a date: use ISO 8601, e.g. 2026-01-31 or 2026-01-31T12:00:00Z`);
  return ms;
}

async function importLinear(flags: LinearImportFlags): Promise<void> {
  const config = cliConfig();
  if (!config.linear) throw new Error('deflect import linear needs LINEAR_API_KEY (a Linear personal API key: Settings → Account → Security & access)');
  const team = flags.team.trim();
  if (!/^[A-Za-z0-9_]{1,10}$/.test(team)) throw new Error(`--team "${flags.team}" is not a Linear team key (letters and digits, e.g. ENG)`);
  const since = parseSince(flags.since);
  const pageSize = Number(flags.pageSize);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 250) throw new Error('--page-size must be a whole number from 1 to 250');
  const db = await openWriteDatabase(config);
  try {
    const result = await importLinearTeam(db, createLinearApi(config.linear), {
      team,
      since,
      pageSize,
      onPage: ({ imported, pages }) => process.stderr.write(`import linear: page ${pages}, ${imported} imported\n`),
      onBadIssue: ({ index, key, error }) => process.stderr.write(`issue #${index}${key ? ` ${key}` : ''}: skipped: ${error}\n`),
    });
    if (result.resumedAfter !== null) console.log('resumed an interrupted import after its last written page');
    console.log(
      `imported ${result.imported} tickets from Linear team ${team.toUpperCase()} (${result.pages} pages, ${result.retries} retries after rate limits/5xx) in ${(result.ms / 1000).toFixed(1)} s; ${result.skipped} bad issues skipped`,
    );
    if (flags.group) console.log(groupedLine(await regroupTickets(db)));
  } catch (error) {
    if (error instanceof LinearRequestError && (error.status === 401 || error.code === 'AUTHENTICATION_ERROR')) {
      throw new Error(`Linear refused LINEAR_API_KEY (HTTP ${error.status}): check the key and that it can read team ${team}`);
    }
    throw error;
  } finally {
    await db.close();
  }
}

/** Adds `linear` under `deflect import`. */
export function registerImportLinearCommand(importCommand: Command): void {
  importCommand
    .command('linear')
    .requiredOption('--team <key>', 'the Linear team key, e.g. ENG')
    .option('--since <iso>', 'only issues updated at or after this date (ISO 8601)')
    .option('--page-size <n>', 'issues per request (1-250)', '50')
    .option('--no-group', 'do not regroup tickets by text afterwards')
    .description("import a Linear team's issues through the GraphQL API (needs LINEAR_API_KEY)")
    .action((flags: LinearImportFlags) => importLinear(flags));
}
