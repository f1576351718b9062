/**
 * `deflect audit`: automated runs, newest first, with every action they took, filtered like `GET /api/runs` (the same
 * parser: reports/audit-filter.ts). `--format table` (default) prints one page (`--limit`, default 50) and the command
 * for the next one; `csv`, `json` and `jsonl` stream every matching run (or `--limit` of them) to stdout in constant
 * memory (reports/audit-export.ts).
 */
import type { Command } from 'commander';
import { commandDescription } from '../command-manifest.js';
import { RUN_STATUSES } from '../../db/runs.js';
import { listAudit, type AuditRun } from '../../reports/audit.js';
import { AUDIT_CSV_HEAD, auditRowCells, exportAudit, writeAuditExport, type AuditExportFormat } from '../../reports/audit-export.js';
import { cliConfig, openReadDatabase } from '../cli-database.js';
import { UsageError } from '../cli-errors.js';
import { remoteJson, remoteOf, urlOption, type Remote } from '../remote.js';
import { parseAuditQuery } from '../../reports/audit-filter.js';
import { parseFormat, renderTable } from '../output.js';
import { addTrackerOption } from './tracker-option.js';
import { registerAuditVerifyCommand } from './audit-verify-command.js';

interface AuditOptions {
  since: string;
  from?: string;
  to?: string;
  status?: string;
  outcome?: string;
  handler?: string;
  rule?: string;
  ticket?: string;
  reporter?: string;
  search?: string;
  tracker?: string[];
  cursor?: string;
  limit?: string;
  format: string;
  url?: string;
}

/** One page of `GET /api/runs`, the same object `listAudit` returns. */
type AuditPage = Awaited<ReturnType<typeof listAudit>>;

/** Runs a remote export reads per request. */
const REMOTE_PAGE_SIZE = 500;

/** Table page size when `--limit` is not given. */
const TABLE_LIMIT = 50;

export function registerAuditCommand(program: Command): void {
  const command = program
    .command('audit')
    .description(commandDescription('audit'))
    .option('--since <window>', 'window: 30d, 12h, 2w or all', 'all')
    .option('--from <date>', 'only runs created at or after this date (YYYY-MM-DD or ISO 8601; wins over --since)')
    .option('--to <date>', 'only runs created before this date (exclusive)')
    .option('--outcome <statuses>', `only runs with these outcomes, comma-separated (${RUN_STATUSES.join(', ')})`)
    .option('--status <statuses>', 'the same as --outcome')
    .option('--handler <name>', 'only this handler')
    .option('--rule <name>', 'only runs routed by this rule')
    .option('--ticket <key>', 'only this ticket (display key: PLAT-12, acme/api#12, ENG-12)')
    .option('--reporter <who>', "only tickets of this reporter (name or account id / login)")
    .option('--search <text>', 'free text in run summaries, errors and ticket summaries (at most 200 characters)')
    .option('--cursor <cursor>', 'start at this page (the cursor printed under the table)')
    .option('--limit <n>', `at most this many runs (table: default ${TABLE_LIMIT}; exports: default all)`)
    .option('--format <format>', 'table, csv, json or jsonl (exports stream every matching run)', 'table')
    .addOption(urlOption());
  registerAuditVerifyCommand(command);
  addTrackerOption(command, 'runs on tickets').action(async (options: AuditOptions) => {
    const format = parseFormat(options.format, ['table', 'csv', 'json', 'jsonl']);
    if (options.limit !== undefined && !/^\d{1,9}$/.test(options.limit)) throw new UsageError(`invalid --limit "${options.limit}": use a whole number of runs`);
    let query;
    try {
      query = parseAuditQuery({
        since: options.since,
        from: options.from,
        to: options.to,
        outcome: options.outcome,
        status: options.status,
        handler: options.handler,
        rule: options.rule,
        ticket: options.ticket,
        reporter: options.reporter,
        q: options.search,
        tracker: options.tracker,
        cursor: options.cursor,
        limit: format === 'table' ? (options.limit ?? TABLE_LIMIT) : undefined,
      });
    } catch (error) {
      // `handler: …; outcome: …` → `invalid --handler: …; --outcome: …` (flags as the user typed them).
      throw new UsageError(`invalid ${(error as Error).message.replace(/(^|; )q:/g, '$1search:').replace(/(^|; )([a-z]+):/g, '$1--$2:')}`, { cause: error });
    }
    if (format !== 'table' && query.cursor?.direction === 'newer') {
      throw new UsageError('invalid --cursor: an export reads older runs from a cursor: use an "older runs" cursor');
    }
    const remote = remoteOf(options.url);
    if (remote) return auditRemote(remote, options, format);
    const config = cliConfig();
    const db = await openReadDatabase(config);
    const jiraBaseUrl = config.jira?.baseUrl ?? null;
    try {
      if (format !== 'table') {
        const limit = options.limit === undefined ? undefined : Number(options.limit);
        await exportAudit(db, query.filter, process.stdout, { format: format as AuditExportFormat, limit, jiraBaseUrl, after: query.cursor });
        return;
      }
      printTable(await listAudit(db, { ...query.filter, cursor: query.cursor, limit: query.limit, jiraBaseUrl }), query.cursor !== null && query.cursor !== undefined);
    } finally {
      await db.close();
    }
  });
}

/** The table view of one page, with the paused handlers first and the cursors of the next pages after. */
function printTable(audit: AuditPage, paged: boolean): void {
  for (const p of audit.pausedHandlers) {
    console.log(`PAUSED handler ${p.handler} since ${p.pausedAt}: ${p.reason ?? ''} — resume with: deflect handlers resume ${p.handler}`);
  }
  for (const d of audit.demotedHandlers ?? []) console.log(`DEMOTED handler ${d.handler} to shadow since ${d.demotedAt}: ${d.reason} — put it back with: deflect handlers live ${d.handler}`);
  if (!audit.runs.length) return void console.log(paged ? 'No runs on this page.' : 'No runs recorded yet.');
  console.log(renderTable(AUDIT_CSV_HEAD.slice(0, 11), audit.runs.map(auditRowCells)));
  if (audit.page.older) console.log(`older runs: add --cursor ${audit.page.older}`);
  if (audit.page.newer) console.log(`newer runs: add --cursor ${audit.page.newer}`);
}

/**
 * `deflect audit --url …`: the same view through `GET /api/runs` (same filter words; the server validates them).
 * The table is one page; an export follows the `older` cursors page by page until `--limit` runs or the end.
 */
async function auditRemote(remote: Remote, options: AuditOptions, format: string): Promise<void> {
  const query = {
    since: options.since, from: options.from, to: options.to, outcome: options.outcome ?? options.status, handler: options.handler,
    rule: options.rule, ticket: options.ticket, reporter: options.reporter, q: options.search, tracker: options.tracker,
  };
  const get = (cursor: string | undefined, limit: number) => remoteJson<AuditPage>(remote, 'GET', '/api/runs', { ...query, cursor, limit });
  if (format === 'table') {
    return printTable(await get(options.cursor, options.limit === undefined ? TABLE_LIMIT : Number(options.limit)), options.cursor !== undefined);
  }
  const limit = options.limit === undefined ? Number.POSITIVE_INFINITY : Number(options.limit);
  const first = await get(options.cursor, Math.min(REMOTE_PAGE_SIZE, limit));
  async function* pages(): AsyncGenerator<AuditRun[]> {
    let page = first;
    let read = 0;
    for (;;) {
      const runs = page.runs.slice(0, limit - read);
      read += runs.length;
      if (runs.length) yield runs;
      if (!page.page.older || read >= limit) return;
      page = await get(page.page.older, Math.min(REMOTE_PAGE_SIZE, limit - read));
    }
  }
  await writeAuditExport(pages(), first.pausedHandlers, process.stdout, { format: format as AuditExportFormat });
}
