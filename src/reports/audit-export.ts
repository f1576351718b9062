/**
 * Streamed exports of the audit view (`deflect audit --format csv|json|jsonl`): the filtered runs are read a keyset
 * page at a time (`iterateAudit` in reports/audit.ts, 500 runs a page) and written to `out` as they are read; when
 * `out` signals backpressure (`write` returns false) the export waits for `drain` before reading the next page. Memory
 * therefore stays constant whatever the number of runs (a year of runs exports like a day's).
 *
 * Formats:
 * - `csv`: RFC 4180 via csv-stringify, one line per run, columns {@link AUDIT_CSV_HEAD};
 * - `json`: the same shape as `GET /api/runs` without paging — `{ "pausedHandlers": [...], "runs": [AuditRun, ...] }`
 *   — written as a stream (the array is opened, each run appended, then closed), so it parses as one JSON document;
 * - `jsonl`: JSON Lines (https://jsonlines.org/), one `AuditRun` object per line, for tools that read line by line.
 */
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import type { Store } from '../db/store.js';
import type { RunCursor, RunFilter } from '../db/run-search.js';
import { iterateAudit, listPausedHandlers, type AuditRun, type AuditVerification } from './audit.js';

export const AUDIT_EXPORT_FORMATS = ['csv', 'json', 'jsonl'] as const;
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number];

/** The CSV columns: the table's, then the ones an export needs to stand alone. */
export const AUDIT_CSV_HEAD = ['run', 'created', 'ticket', 'tracker', 'handler', 'status', 'attempts', 'ms', 'verified', 'actions', 'summary / error', 'reason', 'rules_version', 'finished', 'ticket_url'];

/** A run's status cell: the status and what qualifies it (shadow, not applied, replay, manual retries, approvals). */
export function statusCell(r: AuditRun): string {
  return [
    r.status,
    r.shadow && r.status !== 'shadow' ? 'shadow run' : '',
    r.status === 'succeeded' && !r.applied ? 'not applied' : '',
    r.replayOf !== null ? `replay of delivery #${r.replayOf}` : '',
    r.manualRetries > 0 ? `retried ×${r.manualRetries}` : '',
    ...r.approvals.map((a) => `${a.decision}${a.by ? ` by ${a.by}` : ''} ${a.at}`),
  ]
    .filter(Boolean)
    .join('\n');
}

/** (verified resolution) `pending until …`, `verified`, `reopened: <evidence>` …, and the reporter's answer; empty for a run that resolved nothing. */
export function verifiedCell(v: AuditVerification | null): string {
  if (!v) return '';
  const answer = v.feedback ? ` (reporter: /${v.feedback})` : '';
  if (v.state === 'pending') return `pending until ${v.windowEndsAt}${answer}`;
  return `${v.state}${v.evidence ? `: ${v.evidence}` : ''}${answer}`;
}

/** The table's cells of a run (`deflect audit`), the first eleven CSV columns. */
export function auditRowCells(r: AuditRun): Array<string | number> {
  return [
    r.id,
    r.createdAt,
    r.ticketKey,
    r.tracker,
    r.handler,
    statusCell(r),
    r.attempts,
    r.durationMs ?? '',
    verifiedCell(r.verification),
    r.actions.map((a) => `${a.seq}. ${a.kind} ${a.status}${a.error ? ` (${a.error})` : ''}`).join('\n'),
    r.summary ?? r.error ?? '',
  ];
}

/** Writes `chunk`, resolving once `out` can take more (after `drain` when it signalled backpressure). */
function write(out: Writable, chunk: string): Promise<void> | void {
  if (out.write(chunk)) return;
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      out.off('drain', done);
      out.off('error', done);
      if (error) reject(error);
      else resolve();
    };
    out.once('drain', done);
    out.once('error', done);
  });
}

export interface ExportAuditOptions {
  format: AuditExportFormat;
  /** Stop after this many runs (default: every matching run). */
  limit?: number;
  jiraBaseUrl?: string | null;
  /** Start below this run (a page's `older` cursor): the export goes on from where a listed page ended. */
  after?: RunCursor | null;
  /** Runs read per keyset page (default 500). */
  pageSize?: number;
  /** Called after each page is read, with the runs read so far (progress; tests use it to see that output streams). */
  onPage?: (runsRead: number) => void;
}

/**
 * Streams the runs matching `filter` to `out` in `options.format`.
 * @returns the number of runs written.
 * @throws what `out` emits as an error (e.g. EPIPE when the reader went away).
 */
export async function exportAudit(db: Store, filter: RunFilter, out: Writable, options: ExportAuditOptions): Promise<number> {
  const pages = await iterateAudit(db, filter, { limit: options.limit, jiraBaseUrl: options.jiraBaseUrl, pageSize: options.pageSize, after: options.after });
  return writeAuditExport(pages, await listPausedHandlers(db), out, options);
}

/**
 * Writes pages of runs (from the database, or from `GET /api/runs` in the CLI's remote mode) to `out` in
 * `options.format`, a page at a time with backpressure. `options.limit` is applied by whoever reads the pages.
 * @returns the number of runs written.
 */
export async function writeAuditExport(
  pages: Iterable<AuditRun[]> | AsyncIterable<AuditRun[]>,
  pausedHandlers: unknown,
  out: Writable,
  options: Pick<ExportAuditOptions, 'format' | 'onPage'>,
): Promise<number> {
  let count = 0;
  if (options.format === 'csv') await write(out, stringify([AUDIT_CSV_HEAD]));
  if (options.format === 'json') await write(out, `{"pausedHandlers":${JSON.stringify(pausedHandlers)},"runs":[`);
  for await (const page of pages) {
    let chunk: string;
    if (options.format === 'csv') {
      chunk = stringify(page.map((r) => [...auditRowCells(r), r.reason, r.rulesVersion ?? '', r.finishedAt ?? '', r.ticketUrl ?? '']));
    } else if (options.format === 'json') {
      chunk = page.map((r, i) => `${count + i === 0 ? '\n' : ',\n'}${JSON.stringify(r)}`).join('');
    } else {
      chunk = page.map((r) => `${JSON.stringify(r)}\n`).join('');
    }
    count += page.length;
    options.onPage?.(count);
    await write(out, chunk);
  }
  if (options.format === 'json') await write(out, '\n]}\n');
  return count;
}
