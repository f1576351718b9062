/**
 * The PostgreSQL side of `deflect migrate` (decision 018):
 * - {@link applyPostgresMigrations}: apply `migrations-postgres/` to `DATABASE_URL`.
 * - {@link copyToPostgres}: `--to postgres --from FILE`: migrate the target, copy the SQLite file into it in one
 *   transaction and verify per table (rows, SHA-256 of the normalised rows); print the comparison (table on stdout,
 *   progress on stderr); exit 1 when a table differs (the copy is then rolled back) or the target already holds data
 *   (without `--replace`). `--verify-only` compares without copying.
 * Messages name the server as host:port and the URL without its password.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { migrationStatus, openDatabase } from '../../db/client.js';
import { migratePostgres, openPostgres, type PostgresDatabase } from '../../db/postgres/client.js';
import { copySqliteToPostgres, TargetNotEmptyError, verifyCopy, type CopyProgress, type TableCheck } from '../../db/postgres/copy-from-sqlite.js';
import type { PostgresTarget } from '../../db/postgres/postgres-config.js';
import { renderTable } from '../output.js';
import { startProgress, type Progress } from '../progress.js';

/** `deflect migrate` with `DATABASE_URL`: applies pending PostgreSQL migrations; resolves with the counts before and after. */
export async function applyPostgresMigrations(target: PostgresTarget): Promise<{ before: number; after: number; shipped: number }> {
  const database = await openPostgres(target, { max: 1 });
  try {
    return await migratePostgres(database);
  } finally {
    await database.close();
  }
}

/**
 * `deflect migrate --to postgres --from FILE [--replace] [--verify-only]`.
 * @throws Error (exit 1) for a missing or out-of-date SQLite file, an unreachable server, a non-empty target without
 *   `replace`, a value PostgreSQL cannot store, or any table that differs after the copy.
 */
export async function copyToPostgres(
  target: PostgresTarget,
  file: string,
  options: { replace: boolean; verifyOnly: boolean; format: 'text' | 'json' },
): Promise<void> {
  const sqlite = await openSource(file);
  let database: PostgresDatabase | null = null;
  try {
    database = await openPostgres(target, { max: 1 });
    const migrated = await migratePostgres(database);
    const applied = migrated.after - migrated.before;
    if (applied > 0) process.stderr.write(`${target.display}: applied ${applied} PostgreSQL migration${applied === 1 ? '' : 's'}\n`);
    const progress = progressDisplay();
    let checks: TableCheck[];
    let summary: string;
    let copied = 0;
    let replaced: Array<{ table: string; rows: number }> = [];
    if (options.verifyOnly) {
      checks = await verifyCopy(sqlite.$client, database, progress.update);
      progress.stop();
      summary = `compared ${resolve(file)} with ${target.display}`;
    } else {
      const result = await copySqliteToPostgres(sqlite.$client, database, { replace: options.replace, onProgress: progress.update })
        .catch((error: unknown) => {
          if (error instanceof TargetNotEmptyError) throw new Error(`${error.message}. Pass --replace to delete it and copy again (in one transaction)`, { cause: error });
          throw error;
        });
      progress.stop();
      ({ checks, copied, replaced } = result);
      const emptied = replaced.length > 0 ? ` (replacing ${replaced.reduce((n, r) => n + r.rows, 0)} rows it held)` : '';
      summary = result.committed
        ? `copied ${copied} rows in ${checks.length} tables from ${resolve(file)} to ${target.display}${emptied}`
        : `copied ${copied} rows from ${resolve(file)} to ${target.display}, but verification failed: rolled back, the PostgreSQL database is unchanged`;
    }
    const differing = checks.filter((c) => !c.match).map((c) => c.table);
    if (options.format === 'json') {
      console.log(JSON.stringify({ source: resolve(file), target: target.display, mode: options.verifyOnly ? 'verify' : 'copy', copied, replaced, ok: differing.length === 0, tables: checks }));
    } else {
      console.log(summary);
      console.log(renderTable(['table', 'rows sqlite', 'rows postgres', 'checksum'], checks.map((c) => [c.table, c.sqliteRows, c.postgresRows, c.match ? 'match' : c.sqliteRows === c.postgresRows ? 'MISMATCH' : 'MISMATCH (rows)'])));
    }
    if (differing.length > 0) {
      throw new Error(
        `${differing.length} table${differing.length === 1 ? '' : 's'} differ${differing.length === 1 ? 's' : ''} between SQLite and PostgreSQL (${differing.join(', ')})` +
          (options.verifyOnly ? '' : ': nothing was committed'),
      );
    }
  } finally {
    sqlite.$client.close();
    await database?.close();
  }
}

/** Opens FILE read-only. @throws Error when it does not exist or is not at the latest SQLite migration. */
async function openSource(file: string) {
  const path = resolve(file);
  if (!existsSync(path)) throw new Error(`no SQLite database at ${path} (check --from)`);
  const db = openDatabase(path, { readonly: true });
  const { applied, shipped } = migrationStatus(db);
  if (applied !== shipped) {
    db.$client.close();
    throw new Error(
      `the SQLite database at ${path} is at migration ${applied} of ${shipped}: bring it up to date first with \`DEFLECT_DB=${file} deflect migrate\` (DATABASE_URL unset), then copy`,
    );
  }
  return db;
}

/** Progress on stderr: one display for the copy, then one for the verification. */
function progressDisplay(): { update: CopyProgress; stop: () => void } {
  let current: { phase: string; display: Progress } | null = null;
  const stop = () => {
    current?.display.stop();
    current = null;
  };
  const update: CopyProgress = ({ phase, done, total }) => {
    if (current?.phase !== phase) {
      stop();
      current = { phase, display: startProgress(phase === 'copy' ? 'copy to postgres' : 'verify', total, 'rows', [phase === 'copy' ? 'copied' : 'verified']) };
    }
    current.display.update(done, { [phase === 'copy' ? 'copied' : 'verified']: done });
  };
  return { update, stop };
}
