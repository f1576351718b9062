import type { Command } from 'commander';
import { Option } from 'commander';
import { existsSync } from 'node:fs';
import { commandDescription } from '../command-manifest.js';
import { UsageError } from '../cli-errors.js';
import { openWriteDatabase } from '../cli-database.js';
import { loadConfig, SERVER_ONLY_VARIABLES } from '../../config.js';
import { migrationStatus, openDatabase } from '../../db/client.js';
import { formatOption } from '../options.js';
import { applyPostgresMigrations, copyToPostgres } from './migrate-postgres.js';

/** Options of `deflect migrate`. */
interface MigrateOptions {
  format: 'text' | 'json';
  to?: 'postgres';
  from?: string;
  replace?: boolean;
  verifyOnly?: boolean;
}

/**
 * `deflect migrate [--format json]`: apply pending migrations to the configured database, then say what it did.
 * - SQLite (`DEFLECT_DB`, the default): creates the file if needed: `created ./data/deflect.db and applied 16
 *   migrations`, `applied 2 migrations (16 → 18)` or `up to date (18 migrations)`. JSON:
 *   `{ "database", "created", "before", "after", "applied", "shipped" }`.
 * - PostgreSQL (`DATABASE_URL` set; `DEFLECT_DB` is then ignored and no SQLite file is created): applies
 *   `migrations-postgres/`; same lines and JSON (`"backend": "postgres"`, `"created": false`).
 * - `--to postgres --from FILE [--replace] [--verify-only]` (needs `DATABASE_URL`): copies the SQLite file into
 *   PostgreSQL and verifies it (`migrate-postgres.ts`).
 */
export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description(commandDescription('migrate'))
    .addOption(formatOption(['text', 'json']))
    .addOption(new Option('--to <backend>', 'copy a SQLite database (--from) into this backend (DATABASE_URL)').choices(['postgres']))
    .option('--from <file>', 'with --to postgres: the SQLite file to copy (opened read-only)')
    .option('--replace', 'with --to postgres: delete the deflect data the PostgreSQL database already holds, then copy (one transaction)')
    .option('--verify-only', 'with --to postgres: compare FILE with PostgreSQL (rows and checksum per table) without copying')
    .action(async (options: MigrateOptions) => {
      checkCombination(options);
      const config = loadConfig(process.env, existsSync, { ignore: SERVER_ONLY_VARIABLES });
      if (options.to === 'postgres') {
        if (!config.databaseUrl) {
          throw new UsageError('--to postgres needs DATABASE_URL, the PostgreSQL database to copy into (e.g. DATABASE_URL=postgres://deflect:PASSWORD@db:5432/deflect)');
        }
        return copyToPostgres(config.databaseUrl, options.from!, { replace: options.replace ?? false, verifyOnly: options.verifyOnly ?? false, format: options.format });
      }
      if (config.databaseUrl) {
        const { before, after, shipped } = await applyPostgresMigrations(config.databaseUrl);
        return printMigration(options.format, { database: config.databaseUrl.display, backend: 'postgres', created: false, before, after, shipped });
      }
      await migrateSqlite(config.dbPath, options.format);
    });
}

/** @throws UsageError for flags that only mean something together (`--from` without `--to`, …). */
function checkCombination(options: MigrateOptions): void {
  if (options.to && !options.from) throw new UsageError('--to postgres needs --from FILE, the SQLite database to copy');
  if (!options.to) {
    const stray = [options.from !== undefined && '--from', options.replace && '--replace', options.verifyOnly && '--verify-only'].filter(Boolean);
    if (stray.length > 0) throw new UsageError(`${stray.join(', ')} only work with --to postgres (deflect migrate --to postgres --from FILE)`);
  }
  if (options.replace && options.verifyOnly) throw new UsageError('--replace and --verify-only do not go together: --verify-only copies nothing');
}

async function migrateSqlite(path: string, format: 'text' | 'json'): Promise<void> {
  const created = path !== ':memory:' && !existsSync(path);
  const before = created ? 0 : await migrationsApplied(path);
  const db = await openWriteDatabase({ dbPath: path, databaseUrl: null });
  const { applied: after, shipped } = await db.migrationStatus();
  await db.close();
  printMigration(format, { database: path, created, before, after, shipped });
}

/** What `deflect migrate` did, on either backend: one line, or JSON (`backend` only for PostgreSQL). */
interface MigrationDone {
  database: string;
  backend?: 'postgres';
  created: boolean;
  before: number;
  after: number;
  shipped: number;
}

function printMigration(format: 'text' | 'json', m: MigrationDone): void {
  const applied = m.after - m.before;
  if (format === 'json') return void console.log(JSON.stringify({ database: m.database, ...(m.backend ? { backend: m.backend } : {}), created: m.created, before: m.before, after: m.after, applied, shipped: m.shipped }));
  const plural = (n: number) => `${n} migration${n === 1 ? '' : 's'}`;
  if (m.created) console.log(`${m.database}: created, applied ${plural(applied)}`);
  else if (applied > 0) console.log(`${m.database}: applied ${plural(applied)} (${m.before} → ${m.after} of ${m.shipped})`);
  else console.log(`${m.database}: up to date (${plural(m.after)}), nothing applied`);
}

/** Migrations already applied to the database at `path`, read without migrating it. */
async function migrationsApplied(path: string): Promise<number> {
  const db = openDatabase(path, { readonly: true });
  try {
    return migrationStatus(db).applied;
  } finally {
    db.$client.close();
  }
}
