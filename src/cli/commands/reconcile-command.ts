import type { Command } from 'commander';
import { loadProcessConfig } from '../../config.js';
import { openDatabase } from '../../db/client.js';
import { JIRA_CREDENTIAL_HELP, jiraApiFor } from '../../jira/jira-api-for.js';
import { DEFAULT_SETTLE_MS, reconcile } from '../../worker/reconcile.js';
import { parseFormat, renderTable } from '../output.js';
import { parseDuration } from './duration-option.js';

/**
 * `deflect reconcile --since 2h`: asks Jira (JQL on `updated`) for tickets whose webhook never arrived and stores
 * them as deliveries, which the worker routes like any webhook (see src/worker/reconcile.ts for what counts as missed
 * and which event each becomes). Needs JIRA_BASE_URL, JIRA_EMAIL and JIRA_API_TOKEN.
 */
export function registerReconcileCommand(program: Command): void {
  program
    .command('reconcile')
    .description("find tickets updated in Jira whose webhook never arrived, and process them like a webhook")
    .option('--since <window>', 'how far back to look: 30m, 2h, 1d, 1w', '2h')
    .option('--settle <window>', "skip tickets updated more recently than this (Jira's own retries may still deliver them); 0m to include all", `${DEFAULT_SETTLE_MS / 60_000}m`)
    .option('--jql <clause>', 'extra JQL ANDed to the window, e.g. "project = PLAT"')
    .option('--dry-run', 'only list what would be processed')
    .option('--format <format>', 'table or json', 'table')
    .action(async (options: { since: string; settle: string; jql?: string; dryRun?: boolean; format: string }) => {
      const format = parseFormat(options.format, ['table', 'json']);
      const sinceMs = parseDuration(options.since, '--since');
      const settleMs = parseDuration(options.settle, '--settle');
      const config = loadProcessConfig();
      if (!config.jira) throw new Error(`reconcile asks Jira: set ${JIRA_CREDENTIAL_HELP}`);
      const api = jiraApiFor(config.jira, config.jiraTimeoutMs);
      const db = openDatabase(config.dbPath);
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
        db.$client.close();
      }
    });
}
