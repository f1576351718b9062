/**
 * Reading a table's rows on either side in the same order and the same normalised form, and hashing them: the ground
 * `deflect migrate --to postgres` copies and verifies on (decision 018).
 *
 * - Order: by {@link TableShape.orderBy}; text keys compare byte by byte on both sides (SQLite's BINARY collation,
 *   PostgreSQL's `COLLATE "C"` on a UTF8 database), so both list rows in the same order.
 * - Normal form of a value ({@link normaliseValue}): `null`; an integer as its decimal text (exact: SQLite is read with
 *   `safeIntegers`, PostgreSQL returns bigint as text); a boolean as true/false (SQLite's 0/1); text as is.
 * - Checksum: SHA-256 (hex) over `JSON.stringify(<normalised row>) + "\n"` for every row in order.
 */
import { createHash, type Hash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { ColumnKind, TableShape } from './tables.js';

/** A normalised value: what is sent to PostgreSQL and what is hashed. */
export type NormalValue = string | boolean | null;

/** Rows and checksum of one table on one side. */
export interface TableDigest {
  rows: number;
  /** SHA-256 hex of the normalised rows in order. */
  sha256: string;
}

/** Raised when a stored value cannot be represented in the PostgreSQL column (names the table, row and column). */
export class UnstorableValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnstorableValueError';
  }
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * The normal form of `value` read from a `kind` column.
 * @throws UnstorableValueError for a value of the wrong type (SQLite does not enforce column types), a boolean column
 *   holding something else than 0/1, or text holding NUL (PostgreSQL text cannot store it); `where` names the row.
 */
export function normaliseValue(kind: ColumnKind, value: unknown, where: () => string): NormalValue {
  if (value === null || value === undefined) return null;
  if (kind === 'int') {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
    if (typeof value === 'string' && /^-?\d+$/.test(value)) return value;
  } else if (kind === 'bool') {
    if (typeof value === 'boolean') return value;
    if (value === 0n || value === 0) return false;
    if (value === 1n || value === 1) return true;
  } else if (typeof value === 'string') {
    if (value.includes('\u0000')) throw new UnstorableValueError(`${where()}: the text holds a NUL character, which PostgreSQL text cannot store`);
    return value;
  }
  const shown = Buffer.isBuffer(value) ? `a ${value.length}-byte blob` : `${typeof value} ${JSON.stringify(String(value)).slice(0, 40)}`;
  throw new UnstorableValueError(`${where()}: holds ${shown}, not ${kind === 'int' ? 'an integer' : kind === 'bool' ? 'a boolean (0 or 1)' : 'text'}`);
}

/** Normalises one raw row (values in `shape.columns` order). */
export function normaliseRow(shape: TableShape, raw: readonly unknown[]): NormalValue[] {
  const where = (column: string) => () => `${shape.name} row ${describeKey(shape, raw)}, column ${column}`;
  return shape.columns.map((c, i) => normaliseValue(c.kind, raw[i], where(c.name)));
}

/** `id=12`, `ticket_id=acme:1, label=vpn`: the key of a raw row, for messages. */
function describeKey(shape: TableShape, raw: readonly unknown[]): string {
  return shape.orderBy.map((k) => `${k}=${String(raw[shape.columns.findIndex((c) => c.name === k)])}`).join(', ');
}

/** Builds a {@link TableDigest} from normalised rows fed in order. */
export class RowHasher {
  private readonly hash: Hash = createHash('sha256');
  rows = 0;
  add(row: readonly NormalValue[]): void {
    this.hash.update(`${JSON.stringify(row)}\n`);
    this.rows += 1;
  }
  digest(): TableDigest {
    return { rows: this.rows, sha256: this.hash.digest('hex') };
  }
}

/**
 * Iterates the raw rows of a table in the SQLite file (integers as bigint), in key order. The connection is busy until
 * the iteration ends: run no other statement on it meanwhile.
 */
export function iterateSqliteRows(sqlite: Database.Database, shape: TableShape): IterableIterator<unknown[]> {
  const columns = shape.columns.map((c) => quote(c.name)).join(', ');
  const order = shape.orderBy.map(quote).join(', ');
  return sqlite.prepare(`SELECT ${columns} FROM ${quote(shape.name)} ORDER BY ${order}`).raw(true).safeIntegers(true).iterate() as IterableIterator<unknown[]>;
}

/** Rows and checksum of a table in the SQLite file. @throws UnstorableValueError (see {@link normaliseValue}). */
export function digestSqliteTable(sqlite: Database.Database, shape: TableShape, onRow?: () => void): TableDigest {
  const hasher = new RowHasher();
  for (const raw of iterateSqliteRows(sqlite, shape)) {
    hasher.add(normaliseRow(shape, raw));
    onRow?.();
  }
  return hasher.digest();
}

/** How many rows one FETCH reads from PostgreSQL. */
const FETCH_ROWS = 2000;

/**
 * Rows and checksum of a table in PostgreSQL, read through a cursor (`FETCH` {@link FETCH_ROWS} at a time). `client`
 * must be inside a transaction (cursors live in one); its snapshot is what is digested.
 */
export async function digestPostgresTable(client: pg.PoolClient, shape: TableShape, onRows?: (n: number) => void): Promise<TableDigest> {
  const columns = shape.columns.map((c) => quote(c.name)).join(', ');
  const order = shape.orderBy.map((k) => (shape.columns.find((c) => c.name === k)?.kind === 'text' ? `${quote(k)} COLLATE "C"` : quote(k))).join(', ');
  await client.query(`DECLARE deflect_digest NO SCROLL CURSOR FOR SELECT ${columns} FROM ${quote(shape.name)} ORDER BY ${order}`);
  const hasher = new RowHasher();
  try {
    for (;;) {
      const batch = await client.query({ text: `FETCH FORWARD ${FETCH_ROWS} FROM deflect_digest`, rowMode: 'array' });
      for (const raw of batch.rows as unknown[][]) hasher.add(normaliseRow(shape, raw));
      onRows?.(batch.rows.length);
      if (batch.rows.length < FETCH_ROWS) break;
    }
  } finally {
    await client.query('CLOSE deflect_digest');
  }
  return hasher.digest();
}

export { quote as quoteIdentifier };
