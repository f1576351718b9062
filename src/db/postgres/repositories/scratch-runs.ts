/**
 * PostgreSQL twin of `../../scratch-runs.ts` (the reference). A backtest's scratch database is always an in-memory
 * SQLite database (`src/backtest/run-backtest.ts` opens its own), never the stored one; on PostgreSQL every database
 * is a stored one, so `clearScratchRuns` always refuses, with the SQLite twin's message naming PostgreSQL, and
 * deletes nothing.
 */
import type { Repositories } from '../../store.js';
import type { PgSession } from '../pg-session.js';

export const scratchRuns = (_pg: PgSession): Repositories['scratchRuns'] => ({
  clearScratchRuns: async () => {
    throw new Error("refusing to clear runs of the PostgreSQL database: only a backtest's in-memory scratch database may be cleared");
  },
});
