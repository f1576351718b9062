/**
 * (backtest) The scratch database a backtest executes its dry runs in (src/backtest/run-backtest.ts): an in-memory
 * SQLite database with the migrations applied, never the stored one.
 */
import type { Db } from './client.js';
import { statement } from './statements.js';

/** The tables one run writes, children first (foreign keys). */
const RUN_TABLES = ['actions', 'approvals', 'run_rule_settings', 'runs', 'deliveries'] as const;

/**
 * Empties the run tables of a scratch database once a ticket's run has been read back, so claiming the next run
 * stays constant-time over a long backtest.
 * @throws Error when `db` is not an in-memory database: this must never touch stored runs, actions or deliveries.
 */
export function clearScratchRuns(db: Db): void {
  if (!db.$client.memory) throw new Error(`refusing to clear runs of ${db.$client.name}: only a backtest's in-memory scratch database may be cleared`);
  db.$client.transaction(() => {
    for (const table of RUN_TABLES) statement(db, `DELETE FROM ${table}`).run();
  })();
}
