/**
 * Writing parsed tickets into the database: batches of upserts by issue id (safe to run twice), each batch in one
 * transaction together with the import's checkpoint, so an interrupted import never leaves a half-written batch and
 * resumes after the last committed line (`import_checkpoints`).
 */
import type { Store } from '../db/store.js';
import type { Ticket } from '../ticket.js';
import type { ParsedTicketRow } from './parse-jsonl.js';

export interface ImportOptions {
  /** Identifies the import for resuming: `jsonl:<abs path>`, `csv:<abs path>`, `jql:<query>`. */
  source: string;
  /** `<size>:<mtime>` of a file; a changed file restarts from the beginning. */
  fingerprint?: string | null;
  /** Tickets per transaction (default 2000). */
  batchSize?: number;
  /** Called after each committed batch. */
  onProgress?: (progress: { imported: number; skipped: number; line: number }) => void;
  /** Called for each bad row (it is skipped). */
  onBadRow?: (row: { line: number; error: string }) => void;
}

export interface ImportResult {
  /** Tickets written by this run. */
  imported: number;
  /** Bad rows skipped by this run. */
  skipped: number;
  /** Line the import resumed after (0 = from the start). */
  resumedAfterLine: number;
  ms: number;
}

/**
 * Imports parsed rows. An unfinished earlier import of the same source (same fingerprint) is resumed: rows up to its
 * last committed line are skipped. A finished one is imported again from the start (upserts make that safe).
 */
export async function importParsedRows(db: Store, rows: AsyncIterable<ParsedTicketRow>, options: ImportOptions): Promise<ImportResult> {
  const started = performance.now();
  const batchSize = options.batchSize ?? 2000;
  const previous = await db.findImportCheckpoint(options.source);
  const resume = previous && previous.status === 'running' && previous.fingerprint === (options.fingerprint ?? null);
  const resumedAfterLine = resume ? Number(previous.cursor ?? 0) : 0;
  let imported = resume ? previous.imported : 0;
  let skipped = resume ? previous.skipped : 0;
  let batch: Ticket[] = [];
  let lastLine = resumedAfterLine;

  const commit = async (status: 'running' | 'done') => {
    await db.transaction(async () => {
      if (batch.length > 0) await db.upsertTickets(batch.map((ticket) => ({ ticket })), 'import');
      imported += batch.length;
      await db.saveImportCheckpoint(options.source, { cursor: String(lastLine), imported, skipped, status, fingerprint: options.fingerprint ?? null });
    });
    batch = [];
    options.onProgress?.({ imported, skipped, line: lastLine });
  };

  await db.saveImportCheckpoint(options.source, { cursor: String(resumedAfterLine), imported, skipped, status: 'running', fingerprint: options.fingerprint ?? null });
  for await (const row of rows) {
    if (row.line <= resumedAfterLine) continue;
    lastLine = row.line;
    if (row.error || !row.ticket) {
      skipped++;
      options.onBadRow?.({ line: row.line, error: row.error ?? 'no ticket' });
    } else batch.push(row.ticket);
    if (batch.length >= batchSize) await commit('running');
  }
  await commit('done');
  return {
    imported: imported - (resume ? previous.imported : 0),
    skipped: skipped - (resume ? previous.skipped : 0),
    resumedAfterLine,
    ms: Math.round(performance.now() - started),
  };
}
