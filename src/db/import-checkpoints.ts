/**
 * Import checkpoints (table `import_checkpoints`): where an import of one source (`jsonl:<path>`, `jql:<query>`,
 * `linear:<team>`, `trello:<board>`, …) got to, so an interrupted import resumes after its last committed batch.
 * SQL only: the importers (`import/*`, `trackers/<tracker>/*-import.ts`) decide what a cursor means.
 */
import type { Db } from './client.js';
import { statement } from './statements.js';

/** One import's progress: `cursor` is the importer's own (a line number, a time in ms, a page cursor). */
export interface ImportCheckpoint {
  cursor: string | null;
  imported: number;
  skipped: number;
  /** `running` (interrupted or in progress: resumable) | `done`. */
  status: string;
  /** `<size>:<mtime>` of an imported file; a changed file restarts from the beginning. */
  fingerprint: string | null;
}

/** The stored checkpoint of `source`, if any. */
export function findImportCheckpoint(db: Db, source: string): ImportCheckpoint | undefined {
  return statement(db, 'SELECT cursor, imported, skipped, status, fingerprint FROM import_checkpoints WHERE source = ?').get(source) as
    | ImportCheckpoint
    | undefined;
}

/** Writes (inserts or replaces) the checkpoint of `source`; `now` in ms. Inside the caller's transaction when there is one. */
export function saveImportCheckpoint(db: Db, source: string, value: ImportCheckpoint, now = Date.now()): void {
  statement(
    db,
    `INSERT INTO import_checkpoints (source, cursor, imported, skipped, status, fingerprint, started_at, updated_at)
     VALUES (@source, @cursor, @imported, @skipped, @status, @fingerprint, @now, @now)
     ON CONFLICT(source) DO UPDATE SET cursor = excluded.cursor, imported = excluded.imported, skipped = excluded.skipped,
       status = excluded.status, fingerprint = excluded.fingerprint, updated_at = excluded.updated_at`,
  ).run({ source, ...value, now });
}
