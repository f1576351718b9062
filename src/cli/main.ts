/**
 * `deflect` — the command line. Each command lives in its own module under `src/cli/commands/` and registers itself
 * on the commander program. Exit codes: 0 ok, 1 failure, 2 bad usage (src/cli/cli-errors.ts). Errors print one line
 * (`deflect: <message>`) on stderr.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { exitCodeOf } from './cli-errors.js';
import { COMMANDS } from './command-manifest.js';

const program = new Command()
  .name('deflect')
  .description('Ticket automation for platform teams: receive webhooks from Jira, GitHub, Linear and Trello (and requests from Slack), route by label, run handlers, record every outcome, report repeats.')
  .version(packageVersion(), '-V, --version', 'print the version of deflect')
  .showHelpAfterError()
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

// Only the module of the command being run is loaded (src/cli/command-manifest.ts): `deflect --help`, `deflect
// --version` and a mistyped command register light stand-ins with the same name and description.
const requested = requestedCommand(process.argv.slice(2));
const wanted = COMMANDS.filter((c) => c.name === requested);
if (wanted.length > 0) {
  const register = await wanted[0].load();
  register(program);
} else {
  for (const c of COMMANDS) program.command(c.name).description(c.description).allowUnknownOption().allowExcessArguments();
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

/** The command `argv` names (`deflect report …`, `deflect help report`), or null for none (`deflect --help`). */
function requestedCommand(argv: readonly string[]): string | null {
  const words = argv.filter((a) => !a.startsWith('-'));
  if (words[0] === 'help') return words[1] ?? null;
  return words[0] ?? null;
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
