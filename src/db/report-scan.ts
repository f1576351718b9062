/**
 * The top-tickets report's one pass over the tickets of a scope: every ticket created in the window (and of the
 * project and trackers) read once, with what every figure of the report needs — created, resolved, tracker, whether
 * it was automated, its request type and variant, its labels — into columns (typed arrays, one index per ticket),
 * which the report aggregates in JavaScript (`src/reports/report-aggregates.ts`).
 *
 * Why one pass and columns: the report used to ask SQLite for each figure separately (label counts, type counts,
 * weekly counts, label/type overlaps, repeat ratio, then every member row of every group shown), about eight passes
 * over the same ~120,000 tickets of a 90-day window on a 1M-ticket database; each pass pays an index lookup per
 * ticket into `tickets`, `ticket_groups` or `runs`. One pass pays them once. Each ticket comes back as one text value
 * (fields joined by U+001F, the labels JSON last): better-sqlite3 then builds one string per row instead of an object
 * with seven properties, about half the cost at this size (measured, 2 cores: ~0.25 s against ~0.5 s).
 *
 * Labels are read from `tickets.labels` (the JSON the tracker gave), lower-cased and de-duplicated: exactly the rows
 * `src/db/tickets.ts` writes to `ticket_labels` from the same snapshot. The request type and variant come from
 * `ticket_groups`, and the window is the ticket's own `created` (the copies in `ticket_labels` / `ticket_groups` hold
 * the same value; the key pages in `report-queries.ts` read them for their indexes).
 */
import type { Db } from './client.js';
import { AUTOMATED_SQL, inWindow, params, type ReportScope } from './report-queries.js';
import { statement } from './statements.js';

/** The tickets of a scope as columns: entry `i` of every array is ticket `i` (in no particular order). */
export interface ScopeTickets {
  size: number;
  /** `created`, epoch ms; NaN when unknown. */
  created: Float64Array;
  /** `resolved`, epoch ms; NaN when unresolved. */
  resolved: Float64Array;
  /** 1 when a succeeded run carried the request out (`automatedRunSql` in report-queries.ts), else 0. */
  automated: Uint8Array;
  /** Index into `trackers` (`tickets.tracker`). */
  tracker: Uint8Array;
  trackers: string[];
  /** Index into `types` (`ticket_groups.type_id`, any stored type), or -1 without one. */
  type: Int32Array;
  types: string[];
  /** Index into `variants` (`ticket_groups.variant_id`), or -1 without one. */
  variant: Int32Array;
  variants: string[];
  /** Index into `labelSets`: the ticket's labels (lower-cased, distinct) as indexes into `labels`. */
  labelSet: Int32Array;
  labelSets: number[][];
  labels: string[];
}

const SEP = '\u001f';

/** Every ticket of the scope, read in one statement. An empty scope gives `size` 0. */
export function scanScopeTickets(db: Db, scope: ReportScope): ScopeTickets {
  // U+001F cannot occur in the numbers, the tracker names or the stored type and variant ids; the labels JSON is last,
  // so whatever it holds stays in the final field. `automated` is 0 or 1, one character before the tracker.
  const sql = `SELECT ifnull(t.created, '') || char(31) || ifnull(t.resolved, '') || char(31) || ${AUTOMATED_SQL} || t.tracker
                      || char(31) || ifnull(g.type_id, '') || char(31) || ifnull(g.variant_id, '') || char(31) || t.labels
               FROM tickets t LEFT JOIN ticket_groups g ON g.ticket_id = t.id WHERE ${inWindow(scope, 't')}`;
  // Row by row (not `.all()`): each row's text is garbage as soon as it is read, instead of ~10 MB kept to the end
  // (which the young generation would promote, growing the server's heap by that much per report).
  return decodeScopeRows(statement(db, sql).pluck().iterate(params(scope)) as IterableIterator<string>);
}

/**
 * Decodes the scan's rows — one text per ticket: created, resolved, then the automated flag (`0`/`1`) directly followed
 * by the tracker, type id, variant id, each separated by U+001F, the labels JSON last — into columns. Shared by the
 * PostgreSQL twin, whose SQL builds the same text.
 */
export function decodeScopeRows(rows: Iterable<string>): ScopeTickets {
  const created = new GrowingColumn(Float64Array);
  const resolved = new GrowingColumn(Float64Array);
  const combo = new GrowingColumn(Int32Array);
  const labelSet = new GrowingColumn(Int32Array);
  const trackers: string[] = [];
  const types: string[] = [];
  const variants: string[] = [];
  const labels: string[] = [];
  const trackerOf = dictionary(trackers);
  const typeOf = dictionary(types);
  const variantOf = dictionary(variants);
  const labelOf = dictionary(labels);
  // Automated, tracker, type and variant are read as one field: few distinct values, each split once.
  const combos = new Map<string, number>();
  const comboFields: Array<[automated: number, tracker: number, type: number, variant: number]> = [];
  const labelSetOf = new Map<string, number>();
  const labelSets: number[][] = [];
  for (const row of rows) {
    const a = row.indexOf(SEP);
    const b = row.indexOf(SEP, a + 1);
    const c = row.indexOf(SEP, row.indexOf(SEP, row.indexOf(SEP, b + 1) + 1) + 1);
    created.push(numberAt(row, 0, a));
    resolved.push(numberAt(row, a + 1, b));
    const comboText = row.slice(b + 1, c);
    let id = combos.get(comboText);
    if (id === undefined) {
      const [automatedAndTracker, type, variant] = comboText.split(SEP);
      combos.set(comboText, (id = comboFields.length));
      comboFields.push([
        automatedAndTracker[0] === '1' ? 1 : 0,
        trackerOf(automatedAndTracker.slice(1)),
        type === '' ? -1 : typeOf(type),
        variant === '' ? -1 : variantOf(variant),
      ]);
    }
    combo.push(id);
    const json = row.slice(c + 1);
    let set = labelSetOf.get(json);
    if (set === undefined) {
      labelSetOf.set(json, (set = labelSets.length));
      labelSets.push(parseLabels(json).map(labelOf));
    }
    labelSet.push(set);
  }
  const size = created.length;
  const comboOf = combo.values();
  const out: ScopeTickets = {
    size,
    created: created.values(),
    resolved: resolved.values(),
    automated: new Uint8Array(size),
    tracker: new Uint8Array(size),
    trackers,
    type: new Int32Array(size),
    types,
    variant: new Int32Array(size),
    variants,
    labelSet: labelSet.values(),
    labelSets,
    labels,
  };
  for (let i = 0; i < size; i++) {
    const fields = comboFields[comboOf[i]];
    out.automated[i] = fields[0];
    out.tracker[i] = fields[1];
    out.type[i] = fields[2];
    out.variant[i] = fields[3];
  }
  return out;
}

/** The stored names of those of `typeIds` that are stored request types (`request_types`), by id. */
export function requestTypeNames(db: Db, typeIds: readonly string[]): Map<string, string> {
  if (typeIds.length === 0) return new Map();
  const rows = statement(db, 'SELECT id, name FROM request_types WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(typeIds)) as Array<{ id: string; name: string }>;
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** A typed array that grows as values are pushed (doubling), so a column is one buffer however many tickets come. */
class GrowingColumn<T extends Float64Array | Int32Array> {
  private array: T;
  length = 0;
  constructor(private readonly type: { new (length: number): T }) {
    this.array = new type(4096);
  }
  push(value: number): void {
    if (this.length === this.array.length) {
      const bigger = new this.type(this.array.length * 2);
      bigger.set(this.array);
      this.array = bigger;
    }
    this.array[this.length++] = value;
  }
  /** The values pushed (a view of the buffer, no copy). */
  values(): T {
    return this.array.subarray(0, this.length) as T;
  }
}

/** The number written in `text` from `start` to `end` (NaN when empty), read without cutting a substring. */
function numberAt(text: string, start: number, end: number): number {
  if (start === end) return NaN;
  if (end - start > 15) return Number(text.slice(start, end));
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = text.charCodeAt(i) - 48;
    // Anything but plain digits (a sign, a decimal point, an exponent) is left to Number.
    if (digit < 0 || digit > 9) return Number(text.slice(start, end));
    value = value * 10 + digit;
  }
  return value;
}

/** A function giving each distinct string its index in `list` (appending new ones). */
function dictionary(list: string[]): (value: string) => number {
  const index = new Map<string, number>();
  return (value) => {
    let i = index.get(value);
    if (i === undefined) {
      index.set(value, (i = list.length));
      list.push(value);
    }
    return i;
  };
}

/** `tickets.labels` as `ticket_labels` holds it: lower-cased and distinct; anything but strings left out. */
function parseLabels(json: string): string[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? [...new Set(value.filter((l): l is string => typeof l === 'string').map((l) => l.toLowerCase()))] : [];
  } catch {
    return [];
  }
}
