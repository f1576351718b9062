/**
 * `deflect migrate --to postgres --from FILE` (decision 018): copy every table of a SQLite file into a migrated
 * PostgreSQL database, then verify it, all inside one PostgreSQL transaction: the target ends with a complete,
 * verified copy or unchanged.
 *
 * - The SQLite file is read inside one read transaction (one snapshot: a server writing it meanwhile changes nothing
 *   the copy sees; its later writes are not copied).
 * - Tables go in foreign-key order (`tables.ts`), in multi-row INSERTs of at most {@link BATCH_ROWS} rows or
 *   {@link BATCH_BYTES} of text; ids are copied as stored, then each identity sequence is moved past
 *   max(max(id), SQLite's `sqlite_sequence`), so no id SQLite ever handed out is handed out again.
 * - A target holding any deflect row is refused ({@link TargetNotEmptyError}) unless `replace`, which empties the
 *   tables first (TRUNCATE … RESTART IDENTITY, in the same transaction).
 * - Verification: per table, rows and SHA-256 of the normalised rows on both sides (`table-rows.ts`); any mismatch
 *   rolls the copy back.
 * API token hashes are copied as stored (they are SHA-256 hashes, not tokens).
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { PostgresDatabase } from './client.js';
import { digestPostgresTable, digestSqliteTable, iterateSqliteRows, normaliseRow, quoteIdentifier as q, type NormalValue } from './table-rows.js';
import { TABLES_IN_FK_ORDER, tableShape, type TableShape } from './tables.js';

/** Most rows in one INSERT (PostgreSQL allows 65535 parameters per statement; the widest table has 25 columns). */
export const BATCH_ROWS = 1000;
/** Most text in one INSERT, bytes (delivery bodies can be MiBs each). */
export const BATCH_BYTES = 8 * 1024 * 1024;
/** Key of the transaction advisory lock a copy holds: two copies into one database never interleave. */
const COPY_LOCK_KEY = BigInt('0x6465666c65637402').toString();

/** The comparison of one table. */
export interface TableCheck {
  table: string;
  sqliteRows: number;
  postgresRows: number;
  sqliteSha256: string;
  postgresSha256: string;
  match: boolean;
}

/** What a copy did. */
export interface CopyResult {
  /** Rows inserted into PostgreSQL. */
  copied: number;
  /** Per table, in copy order. */
  checks: TableCheck[];
  /** True when every table matched and the transaction committed; false = rolled back, the target is unchanged. */
  committed: boolean;
  /** Tables (with their row counts) emptied first because of `replace`. */
  replaced: Array<{ table: string; rows: number }>;
}

/** Progress of a copy or verification: `done` of `total` rows, in `table`. */
export type CopyProgress = (event: { phase: 'copy' | 'verify'; table: string; done: number; total: number }) => void;

/** The target already holds deflect rows; nothing was copied. `occupied` lists the tables and their row counts. */
export class TargetNotEmptyError extends Error {
  constructor(readonly where: string, readonly occupied: Array<{ table: string; rows: number }>) {
    super(`the PostgreSQL database at ${where} already holds deflect data (${occupied.map((o) => `${o.table}: ${o.rows}`).join(', ')}): nothing was copied`);
    this.name = 'TargetNotEmptyError';
  }
}

const SHAPES: readonly TableShape[] = TABLES_IN_FK_ORDER.map((t) => tableShape(t.postgres));

/**
 * Copies `sqlite` (a read-only connection to a database at the latest migration) into `database` (migrated, and
 * empty unless `replace`), then verifies. Resolves with `committed: false` when verification found a difference.
 * @throws TargetNotEmptyError; UnstorableValueError naming the table, row and column of a value PostgreSQL cannot
 *   hold; Error for a database whose encoding is not UTF8. Nothing is committed in any of these cases.
 */
export async function copySqliteToPostgres(
  sqlite: Database.Database,
  database: PostgresDatabase,
  options: { replace?: boolean; onProgress?: CopyProgress } = {},
): Promise<CopyResult> {
  const client = await database.pool.connect();
  sqlite.exec('BEGIN');
  try {
    await checkEncoding(client, database.target.hostPort);
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [COPY_LOCK_KEY]);
      const occupied = (await countPostgresRows(client)).filter((t) => t.rows > 0);
      if (occupied.length > 0 && !options.replace) throw new TargetNotEmptyError(database.target.hostPort, occupied);
      if (occupied.length > 0) await client.query(`TRUNCATE TABLE ${SHAPES.map((s) => q(s.name)).join(', ')} RESTART IDENTITY`);
      const total = SHAPES.reduce((sum, s) => sum + countSqliteRows(sqlite, s.name), 0);
      let copied = 0;
      for (const shape of SHAPES) {
        copied = await copyTable(sqlite, client, shape, copied, (done) => options.onProgress?.({ phase: 'copy', table: shape.name, done, total }));
        await resetSequence(sqlite, client, shape);
      }
      const checks = await compareTables(sqlite, client, total, options.onProgress);
      const committed = checks.every((c) => c.match);
      await client.query(committed ? 'COMMIT' : 'ROLLBACK');
      return { copied, checks, committed, replaced: occupied };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  } finally {
    sqlite.exec('COMMIT');
    client.release();
  }
}

/**
 * Compares `sqlite` with `database` without copying (rows and checksum per table), each side read in one snapshot.
 * @throws Error for a database whose encoding is not UTF8 (text order would differ).
 */
export async function verifyCopy(sqlite: Database.Database, database: PostgresDatabase, onProgress?: CopyProgress): Promise<TableCheck[]> {
  const client = await database.pool.connect();
  sqlite.exec('BEGIN');
  try {
    await checkEncoding(client, database.target.hostPort);
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      const total = SHAPES.reduce((sum, s) => sum + countSqliteRows(sqlite, s.name), 0);
      return await compareTables(sqlite, client, total, onProgress);
    } finally {
      await client.query('COMMIT').catch(() => {});
    }
  } finally {
    sqlite.exec('COMMIT');
    client.release();
  }
}

/** Rows of every deflect table in PostgreSQL, in copy order. */
export async function countPostgresRows(client: pg.PoolClient | pg.Pool): Promise<Array<{ table: string; rows: number }>> {
  const union = SHAPES.map((s) => `SELECT '${s.name}' AS t, count(*) AS n FROM ${q(s.name)}`).join(' UNION ALL ');
  const counts = new Map((await client.query<{ t: string; n: string }>(union)).rows.map((r) => [r.t, Number(r.n)]));
  return SHAPES.map((s) => ({ table: s.name, rows: counts.get(s.name) ?? 0 }));
}

async function copyTable(sqlite: Database.Database, client: pg.PoolClient, shape: TableShape, before: number, progress: (done: number) => void): Promise<number> {
  const head = `INSERT INTO ${q(shape.name)} (${shape.columns.map((c) => q(c.name)).join(', ')}) VALUES `;
  const width = shape.columns.length;
  let batch: NormalValue[] = [];
  let bytes = 0;
  let done = before;
  const flush = async () => {
    if (batch.length === 0) return;
    const rows = batch.length / width;
    const tuples = Array.from({ length: rows }, (_, r) => `(${Array.from({ length: width }, (_, c) => `$${r * width + c + 1}`).join(', ')})`);
    await client.query(head + tuples.join(', '), batch);
    done += rows;
    progress(done);
    batch = [];
    bytes = 0;
  };
  for (const raw of iterateSqliteRows(sqlite, shape)) {
    const row = normaliseRow(shape, raw);
    batch.push(...row);
    for (const v of row) if (typeof v === 'string') bytes += v.length;
    if (batch.length / width >= BATCH_ROWS || bytes >= BATCH_BYTES) await flush();
  }
  await flush();
  return done;
}

/** Moves the identity sequence of `shape` past every id SQLite handed out (max id, or `sqlite_sequence` when higher). */
async function resetSequence(sqlite: Database.Database, client: pg.PoolClient, shape: TableShape): Promise<void> {
  if (!shape.identity) return;
  const hasSequences = sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'").get() !== undefined;
  const sqliteSeq = hasSequences ? ((sqlite.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?').get(shape.name) as { seq: number } | undefined)?.seq ?? 0) : 0;
  const id = q(shape.identity);
  await client.query(
    `SELECT setval(pg_get_serial_sequence($1, $2), GREATEST(COALESCE((SELECT max(${id}) FROM ${q(shape.name)}), 0), $3::bigint, 1),
       GREATEST(COALESCE((SELECT max(${id}) FROM ${q(shape.name)}), 0), $3::bigint) > 0)`,
    [q(shape.name), shape.identity, String(sqliteSeq)],
  );
}

async function compareTables(sqlite: Database.Database, client: pg.PoolClient, total: number, onProgress?: CopyProgress): Promise<TableCheck[]> {
  const checks: TableCheck[] = [];
  let done = 0;
  for (const shape of SHAPES) {
    const source = digestSqliteTable(sqlite, shape);
    const target = await digestPostgresTable(client, shape);
    done += source.rows;
    onProgress?.({ phase: 'verify', table: shape.name, done, total });
    checks.push({
      table: shape.name,
      sqliteRows: source.rows,
      postgresRows: target.rows,
      sqliteSha256: source.sha256,
      postgresSha256: target.sha256,
      match: source.rows === target.rows && source.sha256 === target.sha256,
    });
  }
  return checks;
}

function countSqliteRows(sqlite: Database.Database, table: string): number {
  return (sqlite.prepare(`SELECT count(*) AS n FROM ${q(table)}`).get() as { n: number }).n;
}

/** Text keys are ordered byte by byte (`COLLATE "C"`), which matches SQLite's order only on a UTF8 database. */
async function checkEncoding(client: pg.PoolClient, where: string): Promise<void> {
  const encoding = (await client.query<{ server_encoding: string }>('SHOW server_encoding')).rows[0].server_encoding;
  if (encoding !== 'UTF8') {
    throw new Error(`the PostgreSQL database at ${where} has encoding ${encoding}: deflect needs UTF8 (create it with \`createdb -E UTF8 -T template0 …\`)`);
  }
}
