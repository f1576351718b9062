/**
 * `deflect backtest <handler> [--rule NAME] [--since 90d | --from D --to D] [--type TYPE_ID] [--rules FILE]
 * [--integrations stand-in|unconfigured] [--format table|json] [--save FILE] [--compare FILE]` (issue 12):
 * what a handler would do to the stored tickets its rules match or would match, in dry run, before it is enabled —
 * the step before shadow mode (README "Rolling out" → "Backtest"). See src/backtest/run-backtest.ts.
 *
 * The database is opened read-only and nothing is sent: it works with no tracker credentials (none are used even when
 * set). Progress goes to stderr (a bar on a TTY, a line every 2 s otherwise); the result to stdout.
 *
 * JSON (an interface other tools use): `{ "handler", "tickets": [ { "key", "actions": [ { "kind", ... } ],
 * "problems": [...] } ], ... }` (src/backtest/backtest-types.ts); with `--compare`, the diff
 * (src/backtest/compare-backtests.ts). Exit codes: 0 done (also when the compare finds changes), 1 runtime failure
 * (no database, unreadable rules or saved file), 2 bad usage (unknown handler — the message lists the installed ones —,
 * unknown rule, bad option).
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { commandDescription } from '../command-manifest.js';
import { findHandler, handlers } from '../../../handlers/index.js';
import type { Backtest } from '../../backtest/backtest-types.js';
import { compareBacktests, readSavedBacktest } from '../../backtest/compare-backtests.js';
import { BacktestUsageError } from '../../backtest/match-ticket.js';
import { runBacktest } from '../../backtest/run-backtest.js';
import type { BacktestIntegrations } from '../../backtest/stand-in-integrations.js';
import { cliConfig, openReadDatabase } from '../cli-database.js';
import { UsageError } from '../cli-errors.js';
import { resolveWindow } from '../../reports/report-window.js';
import { readRulesSnapshot } from '../../rules/live-rules.js';
import { parseFormat } from '../output.js';
import { startProgress } from '../progress.js';
import { renderBacktest, renderComparison } from './backtest-render.js';

interface BacktestCliOptions {
  rule?: string;
  since: string;
  from?: string;
  to?: string;
  type?: string;
  rules?: string;
  integrations: string;
  format: string;
  save?: string;
  compare?: string;
}

const INTEGRATION_KINDS = ['stand-in', 'unconfigured'] as const;
/** Backtests over fewer tickets than this show no progress. */
const PROGRESS_FROM_TICKETS = 1000;

export function registerBacktestCommand(program: Command): void {
  const command = program
    .command('backtest')
    .argument('<handler>', `the handler (${handlers.map((h) => h.name).join(', ')})`)
    .description(commandDescription('backtest'))
    .option('--rule <name>', 'only this rule of the handler (a rule in mode off or shadow still counts: "would match")')
    .option('--since <window>', 'tickets created in this window: 90d, 12h, 2w or all', '90d')
    .option('--from <date>', 'window start, e.g. 2026-01-01 (with --to; wins over --since)')
    .option('--to <date>', 'window end (exclusive), default now')
    .option('--type <id>', 'only tickets of this request type (id from deflect report --format json), each as if it carried the rule\'s first label')
    .option('--rules <file>', 'rules file (default: DEFLECT_RULES, else ./rules.yaml)')
    .option('--integrations <kind>', 'stand-in: integrations present, every call planned; unconfigured: as with no credentials', 'stand-in')
    .option('--format <format>', 'table or json', 'table')
    .option('--save <file>', 'also write this backtest (JSON) to FILE, for a later --compare')
    .option('--compare <file>', 'show which tickets change behaviour against a backtest saved with --save');
  command.action(async (handlerName: string, options: BacktestCliOptions) => {
    const usage = (message: string): never => {
      throw new UsageError(message);
    };
    const handler = findHandler(handlerName);
    if (!handler) return usage(`unknown handler "${handlerName.slice(0, 100)}": use one of ${handlers.map((h) => h.name).join(', ')}`);
    let format: string;
    let window: { from: number | null; to: number };
    try {
      format = parseFormat(options.format, ['table', 'json']);
      if (!(INTEGRATION_KINDS as readonly string[]).includes(options.integrations)) throw new Error(`invalid --integrations "${options.integrations}": use ${INTEGRATION_KINDS.join(' or ')}`);
      window = resolveWindow(options);
    } catch (error) {
      return usage((error as Error).message);
    }
    const config = cliConfig();
    const rulesPath = options.rules ?? config.rulesPath;
    if (!rulesPath) throw new Error('no rules file: pass --rules <file> or set DEFLECT_RULES');
    // Every handler's options schema, so `with:` is validated and gets its defaults, as `deflect serve` loads it.
    const snapshot = await readRulesSnapshot(rulesPath, handlers);
    // Read before the run: a missing or malformed saved file fails fast.
    const before = options.compare ? readSavedBacktest(options.compare) : null;

    const db = await openReadDatabase(config);
    let progress: ReturnType<typeof startProgress> | null = null;
    const started = Date.now();
    let backtest: Backtest;
    try {
      backtest = await runBacktest({
        db,
        handler,
        rules: snapshot.rules,
        rulesFile: rulesPath,
        rulesVersion: snapshot.version!,
        ruleName: options.rule ?? null,
        window,
        since: options.from || options.to ? null : options.since,
        typeId: options.type ?? null,
        integrations: options.integrations as BacktestIntegrations,
        config,
        onProgress: (done, total, matched) => {
          // A few hundred tickets take well under a second: no progress line for them.
          if (total < PROGRESS_FROM_TICKETS) return;
          progress ??= startProgress(`backtest ${handler.name}`, total, 'tickets', ['matched']);
          progress.update(done, { matched, rate: Math.round(done / Math.max(0.001, (Date.now() - started) / 1000)) });
        },
      });
    } catch (error) {
      if (error instanceof BacktestUsageError) return usage(error.message);
      throw error;
    } finally {
      (progress as ReturnType<typeof startProgress> | null)?.stop();
      await db.close();
    }
    if (options.save) {
      writeFileSync(options.save, `${JSON.stringify(backtest, null, 2)}\n`);
      process.stderr.write(`saved the backtest of ${backtest.handler} (${backtest.tickets.length} tickets) to ${options.save}\n`);
    }
    if (before) {
      const comparison = compareBacktests(before, backtest, options.compare!);
      console.log(format === 'json' ? JSON.stringify(comparison, null, 2) : renderComparison(comparison));
      return;
    }
    console.log(format === 'json' ? JSON.stringify(backtest, null, 2) : renderBacktest(backtest));
  });
}
