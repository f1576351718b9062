/**
 * Every top-level `deflect` command: its name, its one-line description (the one its module gives
 * commander, and the root `--help` lists) and how to load the module that registers it. `main.ts` loads only the
 * module of the command being run, so `deflect --help` and `deflect --version` start without importing zod, the
 * database or any tracker SDK. Adding a command: write `commands/<name>-command.ts` exporting
 * `register<Name>Command(program)` that calls `.description(commandDescription('<name>'))`, and add its entry here.
 */
import type { Command } from 'commander';

/** One command of the manifest. */
export interface CommandEntry {
  name: string;
  description: string;
  /** Resolves with the module's register function (one module may register several commands: group and explain). */
  load: () => Promise<(program: Command) => void>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'serve',
    description: 'receive tracker webhooks and Slack requests and run handlers (PORT, HOST, DEFLECT_DB, DEFLECT_RULES, ...)',
    load: async () => (await import('./commands/serve-command.js')).registerServeCommand,
  },
  {
    name: 'migrate',
    description: 'apply pending migrations of the configured database (SQLite DEFLECT_DB, or PostgreSQL DATABASE_URL); says what it applied; --to postgres --from FILE copies a SQLite database into PostgreSQL and verifies it',
    load: async () => (await import('./commands/migrate-command.js')).registerMigrateCommand,
  },
  {
    name: 'report',
    description: 'most repeated requests (request types with their variants, and labels) ranked by unmet automatable demand',
    load: async () => (await import('./commands/report-command.js')).registerReportCommand,
  },
  {
    name: 'impact',
    description: 'what automation changed per request type: before vs after its first automated run (tickets/week, time to resolution, hours returned, adoption)',
    load: async () => (await import('./commands/impact-command.js')).registerImpactCommand,
  },
  {
    name: 'audit',
    description: 'automated runs, newest first, with every action they took (filter, page, or export as csv/json/jsonl)',
    load: async () => (await import('./commands/audit-command.js')).registerAuditCommand,
  },
  {
    name: 'replay',
    description: 'post stored webhook payloads to a running deflect (signed when a secret is configured), or with --delivery replay a stored delivery',
    load: async () => (await import('./commands/replay-command.js')).registerReplayCommand,
  },
  {
    name: 'runs',
    description: 'inspect and re-run automation runs',
    load: async () => (await import('./commands/runs-command.js')).registerRunsCommand,
  },
  {
    name: 'rules',
    description: 'work with the rules file',
    load: async () => (await import('./commands/rules-command.js')).registerRulesCommand,
  },
  {
    name: 'handlers',
    description: 'list handlers with their health; pause or resume one',
    load: async () => (await import('./commands/handlers-command.js')).registerHandlersCommand,
  },
  {
    name: 'backtest',
    description: 'dry-run a handler over stored tickets its rules match (or would match): the actions it would take and the input problems it would report; sends nothing',
    load: async () => (await import('./commands/backtest-command.js')).registerBacktestCommand,
  },
  {
    name: 'reconcile',
    description: 'find tickets updated in Jira (or GitHub, or Trello) whose webhook never arrived, and process them like a webhook',
    load: async () => (await import('./commands/reconcile-command.js')).registerReconcileCommand,
  },
  {
    name: 'backup',
    description: 'write an online, consistent copy of the SQLite database (DEFLECT_DB) to a new file and check it (integrity, audit chain)',
    load: async () => (await import('./commands/backup-command.js')).registerBackupCommand,
  },
  {
    name: 'prune',
    description: 'prune delivery bodies older than DEFLECT_DELIVERY_RETENTION, and runs older than DEFLECT_AUDIT_RETENTION (archived first)',
    load: async () => (await import('./commands/prune-command.js')).registerPruneCommand,
  },
  {
    name: 'import',
    description: 'import ticket history (resumable, safe to run twice), then group tickets by text',
    load: async () => (await import('./commands/import-command.js')).registerImportCommand,
  },
  {
    name: 'group',
    description: 'group every ticket by the text of its summary and store the result for the report',
    load: async () => (await import('./commands/group-command.js')).registerGroupCommand,
  },
  {
    name: 'explain',
    description: 'say which request type and variant a ticket fell into, and why (or the nearest type for one that repeats nothing)',
    load: async () => (await import('./commands/group-command.js')).registerGroupCommand,
  },
  {
    name: 'scaffold',
    description: "from a group to an automation: write a rule, a handler skeleton and its test built from the group's real tickets",
    load: async () => (await import('./commands/scaffold-command.js')).registerScaffoldCommand,
  },
  {
    name: 'tokens',
    description: 'create, list and revoke API tokens for the HTTP API and the pages',
    load: async () => (await import('./commands/tokens-command.js')).registerTokensCommand,
  },
];

/**
 * The description of command `name`.
 * @throws Error for a name not in {@link COMMANDS} (a programming error).
 */
export function commandDescription(name: string): string {
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) throw new Error(`command ${name} is not in src/cli/command-manifest.ts`);
  return entry.description;
}
