/**
 * The audit chain's canonical forms and hashes (decision 011, docs/decisions/011-tamper-evident-audit.md). Pure
 * functions: the SQL that reads rows and appends entries is in `db/audit-chain.ts`, the walk in `audit/verify-chain.ts`.
 *
 * Canonical form: JSON with object keys sorted at every level and no whitespace, values exactly as SQLite stores them
 * (integers, text, null; booleans as 0/1; JSON columns as their text), every recorded column present (explicit null).
 * Hash: SHA-256 (node:crypto), lower-case hex.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';

/** The tables the chain covers. */
export type AuditTable = 'runs' | 'actions';

/** `prev_hash` of the first entry (and of the first checkpoint): 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The recorded columns of each table (SQL names), in the order they are selected. Runs leave out scheduling state
 * (`run_after`, `locked_at`, `owner`, `lease_expires_at`): it is cleared or meaningless once a run has ended.
 */
export const RECORDED_COLUMNS: Readonly<Record<AuditTable, readonly string[]>> = Object.freeze({
  runs: [
    'id', 'delivery_id', 'ticket_key', 'handler', 'reason', 'status', 'dry_run', 'shadow', 'idempotency_key', 'attempts',
    'max_attempts', 'manual_retries', 'started_at', 'finished_at', 'duration_ms', 'applied', 'summary', 'error',
    'ticket_snapshot', 'rules_version', 'created_at',
  ],
  actions: [
    'id', 'run_id', 'seq', 'kind', 'ticket_key', 'idempotency_key', 'request', 'status', 'response', 'error', 'created_at',
    'finished_at',
  ],
});

/** Run statuses after which a run is sealed (everything but `queued`, `running`, `awaiting-approval`). */
export const FINAL_RUN_STATUSES: readonly string[] = ['succeeded', 'failed', 'skipped', 'planned', 'shadow', 'dead', 'denied', 'expired'];
/** Action statuses after which an action is sealed (everything but `started`). */
export const FINAL_ACTION_STATUSES: readonly string[] = ['planned', 'applied', 'failed'];

/** Whether a row of `table` with `status` is final (sealed). */
export function isFinalStatus(table: AuditTable, status: unknown): boolean {
  return (table === 'runs' ? FINAL_RUN_STATUSES : FINAL_ACTION_STATUSES).includes(String(status));
}

/** `seal` (a row reached a final status), `genesis` (sealed by the upgrade pass), `reopen` (a sealed row moved on). */
export type AuditEntryKind = 'seal' | 'genesis' | 'reopen';

/** An entry's hashed fields (camelCase, as `db/audit-chain.ts` reads them). */
export interface AuditEntryFields {
  seq: number;
  kind: AuditEntryKind;
  rowTable: AuditTable;
  rowId: number;
  runId: number;
  rowHash: string;
  prevHash: string;
  sealedAt: number;
  sealedBy: string;
}

/** A checkpoint's hashed fields (see `auditCheckpoints` in db/schema.ts). */
export interface AuditCheckpointFields {
  id: number;
  firstSeq: number;
  throughSeq: number;
  fromHash: string;
  throughHash: string;
  runs: number;
  actions: number;
  entries: number;
  oldestCreatedAt: number | null;
  newestCreatedAt: number | null;
  archive: string | null;
  createdAt: number;
  createdBy: string;
  prevHash: string;
}

/**
 * JSON with sorted keys at every level, `undefined` written as null. Arrays keep their order.
 * @example canonicalJson({ b: 1, a: [null, { d: 2, c: 'x' }] }) === '{"a":[null,{"c":"x","d":2}],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const object = value as Record<string, unknown>;
    return `{${Object.keys(object).sort().map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** SHA-256 of `text` (UTF-8), lower-case hex. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The hash of a row's recorded state: SHA-256 of `{"row":{<recorded columns>},"table":<table>}` in canonical form.
 * Columns of {@link RECORDED_COLUMNS} missing from `row` count as null.
 */
export function hashRow(table: AuditTable, row: Readonly<Record<string, unknown>>): string {
  const recorded: Record<string, unknown> = {};
  for (const column of RECORDED_COLUMNS[table]) recorded[column] = row[column] ?? null;
  return sha256Hex(canonicalJson({ row: recorded, table }));
}

/** The `hash` of an entry: SHA-256 of its fields (which include `prevHash`) in canonical form. */
export function hashEntry(entry: AuditEntryFields): string {
  const { seq, kind, rowTable, rowId, runId, rowHash, prevHash, sealedAt, sealedBy } = entry;
  return sha256Hex(canonicalJson({ kind, prevHash, rowHash, rowId, rowTable, runId, sealedAt, sealedBy, seq }));
}

/** The `hash` of a checkpoint: SHA-256 of its fields (which include `prevHash`) in canonical form. */
export function hashCheckpoint(checkpoint: AuditCheckpointFields): string {
  const { id, firstSeq, throughSeq, fromHash, throughHash, runs, actions, entries, oldestCreatedAt, newestCreatedAt, archive, createdAt, createdBy, prevHash } = checkpoint;
  return sha256Hex(
    canonicalJson({ actions, archive, createdAt, createdBy, entries, firstSeq, fromHash, id, newestCreatedAt, oldestCreatedAt, prevHash, runs, throughHash, throughSeq }),
  );
}

/** This process as written in `sealed_by` / `created_by`: `<hostname>:<pid>`. */
export function auditProcessId(): string {
  return `${hostname()}:${process.pid}`;
}
