import type { Command } from 'commander';
import { loadProcessConfig } from '../../config.js';
import { migrationStatus, openDatabase } from '../../db/client.js';

/** `deflect migrate`: create the database if needed and apply pending migrations (serve does it too). */
export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('create the SQLite database (DEFLECT_DB) and apply pending migrations')
    .action(() => {
      const config = loadProcessConfig();
      const db = openDatabase(config.dbPath);
      const { applied, shipped } = migrationStatus(db);
      db.$client.close();
      console.log(`${config.dbPath}: ${applied} of ${shipped} migrations applied`);
    });
}
