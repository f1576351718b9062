/**
 * `deflect` — the command line. Each command lives in its own module under `src/cli/commands/` and registers itself
 * on the commander program. Errors print one line (`deflect: <message>`) and exit 1; bad usage exits 2.
 */
import { Command } from 'commander';
import { registerAuditCommand } from './commands/audit-command.js';
import { registerMigrateCommand } from './commands/migrate-command.js';
import { registerReplayCommand } from './commands/replay-command.js';
import { registerReportCommand } from './commands/report-command.js';
import { registerServeCommand } from './commands/serve-command.js';

const program = new Command()
  .name('deflect')
  .description('Jira ticket automation for platform teams: receive webhooks, route by label, run handlers, report repeats.')
  .showHelpAfterError()
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

for (const register of [registerServeCommand, registerMigrateCommand, registerReportCommand, registerAuditCommand, registerReplayCommand]) {
  register(program);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  console.error(`deflect: ${(error as Error).message}`);
  process.exit(1);
}
