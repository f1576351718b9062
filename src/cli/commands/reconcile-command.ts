import type { Command } from 'commander';
import { commandDescription } from '../command-manifest.js';
import { cliConfig, openWriteDatabase } from '../cli-database.js';
import { JIRA_CREDENTIAL_HELP, jiraApiFor } from '../../jira/jira-api-for.js';
import { DEFAULT_SETTLE_MS, reconcile } from '../../worker/reconcile.js';
import { parseFormat, renderTable } from '../output.js';
import { durationOption } from '../../duration.js';
import { reconcileGitHubCommand } from './import-github-command.js';
import { reconcileTrelloCommand } from './import-trello-command.js';

/**
 * `deflect reconcile --since 2h`: asks Jira (JQL on `updated`) for tickets whose webhook never arrived and stores
 * them as deliveries, which the worker routes like any webhook (see src/worker/reconcile.ts for what counts as missed
 * and which event each becomes). Needs JIRA_BASE_URL, JIRA_EMAIL and JIRA_API_TOKEN. `--tracker github --repo OWNER/NAME`
 * does the same for GitHub Issues (`import-github-command.ts`, `trackers/github/github-reconcile.ts`), `--tracker trello
 * --board ID` for Trello boards (`import-trello-command.ts`, `trackers/trello/trello-reconcile.ts`).
 */
export function registerReconcileCommand(program: Command): void {
  program
    .command('reconcile')
    .description(commandDescription('reconcile'))
    .option('--tracker <name>', 'jira, github (with --repo) or trello (with --board)', 'jira')
    .option('--repo <owner/name...>', 'github: the repositories to check')
    .option('--board <id...>', 'trello: the boards to check (id or shortLink)')
    .addOption(durationOption('--since <window>', 'how far back to look (Jira default 2h; GitHub default: since the newest GitHub delivery stored)'))
    .addOption(durationOption('--settle <window>', `skip tickets updated more recently than this (their webhook may still come; Jira default ${DEFAULT_SETTLE_MS / 60_000}m, GitHub 1m); 0m to include all`, { allowZero: true }))
    .option('--jql <clause>', 'extra JQL ANDed to the window, e.g. "project = PLAT"')
    .option('--dry-run', 'only list what would be processed')
    .option('--format <format>', 'table or json', 'table')
    .action(async (options: { tracker: string; repo?: string[]; board?: string[]; since?: number; settle?: number; jql?: string; dryRun?: boolean; format: string }) => {
      if (options.tracker === 'github') return reconcileGitHubCommand(options);
      if (options.tracker === 'trello') return reconcileTrelloCommand(options);
      if (options.tracker !== 'jira') throw new Error(`--tracker "${options.tracker}": reconcile supports jira, github and trello`);
      const format = parseFormat(options.format, ['table', 'json']);
      const sinceMs = options.since ?? 2 * 3_600_000;
      const settleMs = options.settle ?? DEFAULT_SETTLE_MS;
      const config = cliConfig();
      if (!config.jira) throw new Error(`reconcile asks Jira: set ${JIRA_CREDENTIAL_HELP}`);
      const api = jiraApiFor(config.jira, config.jiraTimeoutMs);
      const db = await openWriteDatabase(config);
      try {
        // One "now" for the window start and the JQL, so `--since 2h` is exactly `updated >= -120m`.
        const now = Date.now();
        const result = await reconcile({
          db,
          api,
          now,
          since: now - sinceMs,
          settleMs,
          jql: options.jql,
          siteHost: new URL(config.jira.baseUrl).host,
          dryRun: options.dryRun,
        });
        if (format === 'json') return void console.log(JSON.stringify(result, null, 2));
        const fresh = result.missed.filter((m) => !m.duplicate).length;
        console.log(`JQL: ${result.jql}`);
        console.log(
          `${result.scanned} tickets checked: ${result.upToDate} up to date, ${result.skipped} skipped (settling or outside the window), ` +
            `${result.missed.length} missed` +
            (options.dryRun ? ' (dry run: nothing stored)' : `, ${fresh} stored as deliveries (${result.missed.length - fresh} already stored by an earlier reconcile)`),
        );
        if (result.missed.length > 0) {
          console.log(renderTable(['ticket', 'processed as', 'why', 'delivery'], result.missed.map((m) => [m.key, m.event, m.why, m.deliveryId ?? '—'])));
        }
      } finally {
        await db.close();
      }
    });
}
