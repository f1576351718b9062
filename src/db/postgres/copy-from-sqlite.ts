/**
 * `deflect migrate --to postgres --from FILE` (decision 018): copy every table of a SQLite file into a migrated
 * PostgreSQL database, then verify it, all inside one PostgreSQL transaction: the target ends with a complete,
 * verified copy or unchanged.
 *
 * - The SQLite file is read inside one read transaction (one snapshot: a server writing it meanwhile changes nothing
 *   the copy sees; its later writes are not copied).
 * - Tables go in foreign-key order (`tables.ts`), each with one `COPY … FROM STDIN` (text format, sent in chunks of
 *   about {@link COPY_CHUNK_CHARS} characters: rows go at the speed the server takes them, with no statement per
 *   batch to parse and bind); ids are copied as stored, then each identity sequence is moved past
 *   max(max(id), SQLite's `sqlite_sequence`), so no id SQLite ever handed out is handed out again.
 * - The target's secondary indexes are dropped before the copy and built again after it, in the same transaction
 *   ({@link dropSecondaryIndexes}).
 * - A target holding any deflect row is refused ({@link TargetNotEmptyError}) unless `replace`, which empties the
 *   tables first (TRUNCATE … RESTART IDENTITY, in the same transaction).
 * - Verification: per table, rows and SHA-256 of the normalised rows on both sides (`table-rows.ts`); any mismatch
 *   rolls the copy back. The SQLite side is hashed while it is copied (the rows sent, in key order, in the read
 *   transaction's one snapshot), the PostgreSQL side read back after the copy.
 * API token hashes are copied as stored (they are SHA-256 hashes, not tokens).
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { PostgresDatabase } from './client.js';
import {
  digestPostgresTable,
  digestSqliteTable,
  iterateSqliteRows,
  normaliseRow,
  quoteIdentifier as q,
  RowHasher,
  type NormalValue,
  type TableDigest,
} from './table-rows.js';
import { TABLES_IN_FK_ORDER, tableShape, type TableShape } from './tables.js';

/** About this many characters of COPY data go to the socket at once (one CopyData message each). */
export const COPY_CHUNK_CHARS = 1 << 20;
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
      const sources = new Map<string, TableDigest>();
      const indexes = await dropSecondaryIndexes(client);
      for (const shape of SHAPES) {
        const table = await copyTable(sqlite, client, shape, copied, (done) => options.onProgress?.({ phase: 'copy', table: shape.name, done, total }));
        copied = table.done;
        sources.set(shape.name, table.source);
        await resetSequence(sqlite, client, shape);
      }
      for (const definition of indexes) await client.query(definition);
      const checks = await compareTables(sqlite, client, total, options.onProgress, sources);
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

/**
 * Copies one table with `COPY … FROM STDIN` (text format), fed from the SQLite iterator in chunks of about
 * {@link COPY_CHUNK_CHARS}; resolves with the rows copied so far and the source side's digest of this table (the same
 * normalised rows, in the same order and snapshot, that {@link digestSqliteTable} would hash).
 */
async function copyTable(
  sqlite: Database.Database,
  client: pg.PoolClient,
  shape: TableShape,
  before: number,
  progress: (done: number) => void,
): Promise<{ done: number; source: TableDigest }> {
  const hasher = new RowHasher();
  let done = before;
  const rows = iterateSqliteRows(sqlite, shape);
  const text = `COPY ${q(shape.name)} (${shape.columns.map((c) => q(c.name)).join(', ')}) FROM STDIN`;
  const copy = new CopyIn(text, function* () {
    let lines: string[] = [];
    let chars = 0;
    for (const raw of rows) {
      const row = normaliseRow(shape, raw);
      hasher.add(row);
      const line = copyLine(row);
      lines.push(line);
      chars += line.length;
      if (chars >= COPY_CHUNK_CHARS) {
        yield lines.join('');
        done += lines.length;
        progress(done);
        lines = [];
        chars = 0;
      }
    }
    if (lines.length > 0) {
      yield lines.join('');
      done += lines.length;
      progress(done);
    }
  });
  void client.query(copy);
  await copy.finished.finally(() => rows.return?.());
  return { done, source: hasher.digest() };
}

/** One row in COPY's text format: tab-separated, `\N` for null, t/f for booleans, backslash escapes in text. */
function copyLine(row: readonly NormalValue[]): string {
  let line = '';
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (i > 0) line += '\t';
    if (v === null) line += '\\N';
    else if (v === true) line += 't';
    else if (v === false) line += 'f';
    else line += /[\\\n\r\t]/.test(v) ? v.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]) : v;
  }
  return `${line}\n`;
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `COPY … FROM STDIN` on a node-postgres client without another package: a query object node-postgres accepts in
 * `client.query` (a "submittable", as pg-cursor is), which sends the statement, then the chunks `source` yields
 * (waiting for the socket to drain when its buffer is full), then CopyDone. A throw from `source` (an
 * {@link UnstorableValueError}) sends CopyFail, so the server aborts the statement, and the promise rejects with that
 * error; a server error rejects with the server's error.
 */
class CopyIn implements pg.Submittable {
  private resolve!: () => void;
  private reject!: (error: Error) => void;
  /** Settles once the server is ready for the next statement (or the connection failed). */
  readonly finished = new Promise<void>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });
  private failure: Error | null = null;
  private serverError: Error | null = null;

  constructor(private readonly text: string, private readonly source: () => Iterator<string>) {}

  submit(connection: pg.Connection): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: pg.Connection): void {
    void this.pump(connection);
  }

  private async pump(connection: pg.Connection): Promise<void> {
    const internal = connection as unknown as {
      sendCopyFromChunk(chunk: Buffer): void;
      endCopyFrom(): void;
      sendCopyFail(message: string): void;
      stream: NodeJS.WritableStream & { writableNeedDrain?: boolean };
    };
    try {
      const chunks = this.source();
      for (let next = chunks.next(); !next.done; next = chunks.next()) {
        internal.sendCopyFromChunk(Buffer.from(next.value, 'utf8'));
        if (internal.stream.writableNeedDrain) {
          await new Promise<void>((resolve) => {
            const go = () => {
              internal.stream.off('drain', go);
              internal.stream.off('close', go);
              resolve();
            };
            internal.stream.once('drain', go);
            internal.stream.once('close', go);
          });
        }
      }
      internal.endCopyFrom();
    } catch (error) {
      this.failure = error as Error;
      internal.sendCopyFail(this.failure.message.slice(0, 500));
    }
  }

  handleError(error: Error): void {
    this.serverError = error;
    this.reject(this.failure ?? error);
  }

  handleReadyForQuery(): void {
    if (this.failure) this.reject(this.failure);
    else if (this.serverError) this.reject(this.serverError);
    else this.resolve();
  }

  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
  handleEmptyQuery(): void {}
  handleCopyData(): void {}
}

/**
 * Drops the secondary indexes of the copied tables (those backing no constraint: primary keys, unique constraints and
 * the keys foreign keys reference stay) and resolves with their definitions (`pg_get_indexdef`, names included), to
 * build them again once the rows are in: one sort per index instead of one index insertion per row. Inside the copy's
 * transaction, so a rollback restores them.
 */
async function dropSecondaryIndexes(client: pg.PoolClient): Promise<string[]> {
  const { rows } = await client.query<{ name: string; definition: string }>(
    `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name, pg_get_indexdef(i.indexrelid) AS definition
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE i.indrelid = ANY($1::regclass[]) AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
      ORDER BY c.relname`,
    [SHAPES.map((s) => q(s.name))],
  );
  for (const index of rows) await client.query(`DROP INDEX ${index.name}`);
  return rows.map((index) => index.definition);
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

/**
 * Rows and checksums per table on both sides. `sources`: the SQLite side's digests already taken while copying (the
 * same rows of the same snapshot, hashed as they were sent); a table missing there is read again.
 */
async function compareTables(
  sqlite: Database.Database,
  client: pg.PoolClient,
  total: number,
  onProgress?: CopyProgress,
  sources?: ReadonlyMap<string, TableDigest>,
): Promise<TableCheck[]> {
  const checks: TableCheck[] = [];
  let done = 0;
  for (const shape of SHAPES) {
    const source = sources?.get(shape.name) ?? digestSqliteTable(sqlite, shape);
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
