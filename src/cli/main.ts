/**
 * `deflect` — the command line. Each command lives in its own module under `src/cli/commands/` and registers itself
 * on the commander program. Exit codes: 0 ok, 1 failure, 2 bad usage (src/cli/cli-errors.ts). Errors print one line
 * (`deflect: <message>`) on stderr.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { exitCodeOf } from './cli-errors.js';
import { registerAuditCommand } from './commands/audit-command.js';
import { registerBacktestCommand } from './commands/backtest-command.js';
import { registerGroupCommand } from './commands/group-command.js';
import { registerImpactCommand } from './commands/impact-command.js';
import { registerImportCommand } from './commands/import-command.js';
import { registerHandlersCommand } from './commands/handlers-command.js';
import { registerMigrateCommand } from './commands/migrate-command.js';
import { registerPruneCommand } from './commands/prune-command.js';
import { registerReconcileCommand } from './commands/reconcile-command.js';
import { registerReplayCommand } from './commands/replay-command.js';
import { registerReportCommand } from './commands/report-command.js';
import { registerRulesCommand } from './commands/rules-command.js';
import { registerRunsCommand } from './commands/runs-command.js';
import { registerScaffoldCommand } from './commands/scaffold-command.js';
import { registerServeCommand } from './commands/serve-command.js';
import { registerTokensCommand } from './commands/tokens-command.js';

const program = new Command()
  .name('deflect')
  .description('Jira ticket automation for platform teams: receive webhooks, route by label, run handlers, report repeats.')
  .version(packageVersion(), '-V, --version', 'print the version of deflect')
  .showHelpAfterError()
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

for (const register of [
  registerServeCommand,
  registerMigrateCommand,
  registerReportCommand,
  registerImpactCommand,
  registerAuditCommand,
  registerReplayCommand,
  registerRunsCommand,
  registerRulesCommand,
  registerHandlersCommand,
  registerBacktestCommand,
  registerReconcileCommand,
  registerPruneCommand,
  registerImportCommand,
  registerGroupCommand,
  registerScaffoldCommand,
  registerTokensCommand,
]) {
  register(program);
}

// `deflect report | head` closes stdout early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  console.error(`deflect: ${(error as Error).message}`);
  process.exit(exitCodeOf(error));
}

/** The `version` of package.json (two levels above src/cli when run by tsx, three above dist/src/cli when built). */
function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'deflect' && pkg.version) return pkg.version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}
