import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { Store } from '../../db/store.js';
import { cliConfig, openReadDatabase } from '../cli-database.js';
import { UsageError } from '../cli-errors.js';
import { verifyAuditArchive } from '../../audit/verify-archive.js';
import { verifyAuditChain, type ChainReport } from '../../audit/verify-chain.js';

/** Walks longer than this many entries report progress on stderr. */
const PROGRESS_FROM_ENTRIES = 20_000;

/**
 * `deflect audit verify [--format text|json] [--archive FILE]`: walks the audit chain of the database (opened
 * read-only; decision 011) and prints `chain intact: N runs, M actions, K checkpoints` (exit 0), or the first bad row,
 * e.g. `actions 1234: changed (recorded hash …, computed …)` (exit 1). With `--archive`, checks a retention archive
 * instead: its entries link from its checkpoint's start to its end, every archived row matches its entry, and the
 * checkpoint is the one the database holds (when the database has it). Bad usage exits 2.
 */
export function registerAuditVerifyCommand(audit: Command): void {
  audit
    .command('verify')
    .description('check that no run or action was changed, removed or inserted out of order (exit 0 intact, 1 broken)')
    .option('--format <format>', 'text or json', 'text')
    .option('--archive <file>', 'verify a retention archive (DEFLECT_AUDIT_ARCHIVE_DIR) against its checkpoint instead of the database')
    .action(async (options: { format: string; archive?: string }) => {
      // `deflect audit` has its own --format (table|json|csv), which commander gives the parent: read either.
      const given = options.format !== 'text' ? options.format : (audit.opts() as { format?: string }).format ?? 'text';
      const format = given === 'table' ? 'text' : given;
      if (format !== 'text' && format !== 'json') throw new UsageError(`invalid --format "${given}": use text or json`);
      const config = cliConfig();
      if (options.archive && !config.databaseUrl && !existsSync(config.dbPath)) {
        // An archive copied elsewhere: check it on its own.
        console.error(`deflect: no database at ${config.dbPath}: the archive's checkpoint is not compared with the database's`);
        return printReport(await verifyAuditArchive(options.archive), format);
      }
      const db = await openReadDatabase(config);
      try {
        printReport(options.archive ? await verifyAuditArchive(options.archive, db) : await verifyAuditChain(db, progressOnStderr()), format);
      } finally {
        await db.close();
      }
    });
}

/** Prints the report (one line, or JSON) and sets exit code 1 when the chain is broken. */
function printReport(report: ChainReport, format: 'text' | 'json'): void {
  console.log(format === 'json' ? JSON.stringify(report, null, 2) : describeReport(report));
  if (report.state === 'broken') process.exitCode = 1;
}

/** One line: `chain intact: …` or `<table> <id>: <problem>`. */
export function describeReport(report: Pick<ChainReport, 'state' | 'runs' | 'actions' | 'checkpoints' | 'firstBad' | 'head'>): string {
  if (report.firstBad) return `${report.firstBad.table} ${report.firstBad.id}: ${report.firstBad.problem}`;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const counts = `${plural(report.runs, 'run')}, ${plural(report.actions, 'action')}, ${plural(report.checkpoints, 'checkpoint')}`;
  return report.state === 'empty' ? `chain intact: ${counts} (nothing sealed yet)` : `chain intact: ${counts} (head ${report.head.seq} ${report.head.hash})`;
}

function progressOnStderr(): (walked: number, total: number) => void {
  let last = Date.now();
  return (walked, total) => {
    if (total < PROGRESS_FROM_ENTRIES || Date.now() - last < 2000) return;
    last = Date.now();
    process.stderr.write(`verifying the audit chain: ${Math.round((walked / total) * 100)}% (${walked} of ${total} entries)\n`);
  };
}
