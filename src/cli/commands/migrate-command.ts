import type { Command } from 'commander';
import { commandDescription } from '../command-manifest.js';
import { cliConfig, openWriteDatabase } from '../cli-database.js';
import { migrationStatus, openDatabase } from '../../db/client.js';
import { formatOption } from '../options.js';
import { existsSync } from 'node:fs';

/**
 * `deflect migrate [--format json]`: create the database if needed and apply pending migrations (serve does it too),
 * then say what it did: `created ./data/deflect.db and applied 16 migrations`, `applied 2 migrations (16 → 18)` or
 * `up to date (18 migrations)`. JSON: `{ "database", "created", "before", "after", "applied", "shipped" }`.
 */
export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description(commandDescription('migrate'))
    .addOption(formatOption(['text', 'json']))
    .action((options: { format: 'text' | 'json' }) => {
      const config = cliConfig();
      const created = config.dbPath !== ':memory:' && !existsSync(config.dbPath);
      const before = created ? 0 : migrationsApplied(config.dbPath);
      const db = openWriteDatabase(config.dbPath);
      const { applied: after, shipped } = migrationStatus(db);
      db.$client.close();
      const applied = after - before;
      if (options.format === 'json') {
        return void console.log(JSON.stringify({ database: config.dbPath, created, before, after, applied, shipped }));
      }
      const plural = (n: number) => `${n} migration${n === 1 ? '' : 's'}`;
      if (created) console.log(`${config.dbPath}: created, applied ${plural(applied)}`);
      else if (applied > 0) console.log(`${config.dbPath}: applied ${plural(applied)} (${before} → ${after} of ${shipped})`);
      else console.log(`${config.dbPath}: up to date (${plural(after)}), nothing applied`);
    });
}

/** Migrations already applied to the database at `path`, read without migrating it. */
function migrationsApplied(path: string): number {
  const db = openDatabase(path, { readonly: true });
  try {
    return migrationStatus(db).applied;
  } finally {
    db.$client.close();
  }
}
