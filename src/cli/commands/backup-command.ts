import type { Command } from 'commander';
import { backupDatabase } from '../../db/backup.js';
import { openDatabase } from '../../db/client.js';
import { sqliteStore } from '../../db/sqlite-store.js';
import { verifyAuditChain } from '../../audit/verify-chain.js';
import { describeReport } from './audit-verify-command.js';
import { commandDescription } from '../command-manifest.js';
import { cliConfig, openReadDatabase } from '../cli-database.js';
import { formatOption } from '../options.js';
import { PLAIN_LINE_EVERY_MS } from '../progress.js';

/**
 * `deflect backup <file> [--format text|json]`: an online, consistent copy of the SQLite database (`DEFLECT_DB`)
 * while `deflect serve` keeps running (SQLite's backup API, `src/db/backup.ts`), then checks the copy:
 * `PRAGMA integrity_check` and the audit chain (decision 011). Prints
 * `backup written: FILE (N bytes) in T ms; integrity ok; chain intact: …`; exit 0, 1 when the database is missing,
 * the file exists or a check fails (the partial copy is removed), 2 for bad usage. For continuous backups use
 * Litestream (docs/deploy.md); this is the one-off copy before an upgrade or a move.
 */
export function registerBackupCommand(program: Command): void {
  program
    .command('backup')
    .description(commandDescription('backup'))
    .argument('<file>', 'the new file to write (never overwritten)')
    .addOption(formatOption(['text', 'json']))
    .action(async (file: string, options: { format: 'text' | 'json' }) => {
      const config = cliConfig();
      const db = await openReadDatabase(config);
      let result;
      try {
        let last = Date.now();
        if (!db.sqlite) throw new Error('deflect backup copies the SQLite file; on PostgreSQL use its own backups (pg_dump, point-in-time recovery: docs/deploy.md)');
        result = await backupDatabase(db.sqlite, file, (copied, total) => {
          if (Date.now() - last < PLAIN_LINE_EVERY_MS) return;
          last = Date.now();
          process.stderr.write(`backing up: ${Math.round((copied / Math.max(total, 1)) * 100)}% (${copied} of ${total} pages)\n`);
        });
      } finally {
        await db.close();
      }
      const copy = sqliteStore(openDatabase(file, { readonly: true }));
      let chain;
      try {
        chain = await verifyAuditChain(copy);
      } finally {
        await copy.close();
      }
      if (chain.state === 'broken') process.exitCode = 1;
      if (options.format === 'json') {
        console.log(JSON.stringify({ ...result, chain: { state: chain.state, runs: chain.runs, actions: chain.actions, firstBad: chain.firstBad } }, null, 2));
        return;
      }
      console.log(`backup written: ${result.target} (${result.bytes} bytes, ${result.pages} pages) in ${result.elapsedMs} ms; integrity ok; ${describeReport(chain)}`);
    });
}
