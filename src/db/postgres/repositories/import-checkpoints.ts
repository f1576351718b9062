/**
 * PostgreSQL twin of `../../import-checkpoints.ts` (the reference). The SQL is the same; only the placeholders
 * (`$1…`) and the quoted camelCase aliases differ. Concurrency: the upsert is one `INSERT … ON CONFLICT (source) DO
 * UPDATE` (atomic on its row); two imports of one source at once would overwrite each other's cursor on either
 * backend — the importers do not run one source twice at once.
 */
import type { ImportCheckpoint } from '../../import-checkpoints.js';
import type { Repositories } from '../../store.js';
import type { PgSession } from '../pg-session.js';

export const importCheckpoints = (pg: PgSession): Repositories['importCheckpoints'] => ({
  findImportCheckpoint: async (source) =>
    (await pg.query<ImportCheckpoint>('SELECT cursor, imported, skipped, status, fingerprint FROM import_checkpoints WHERE source = $1', [source]))[0],

  saveImportCheckpoint: async (source, value, now = Date.now()) => {
    await pg.execute(
      `INSERT INTO import_checkpoints (source, cursor, imported, skipped, status, fingerprint, started_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
       ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, imported = excluded.imported, skipped = excluded.skipped,
         status = excluded.status, fingerprint = excluded.fingerprint, updated_at = excluded.updated_at`,
      [source, value.cursor, value.imported, value.skipped, value.status, value.fingerprint, now],
    );
  },
});
