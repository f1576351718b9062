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
  const rows = statement(db, sql).pluck().all(params(scope)) as string[];
  const size = rows.length;
  const out: ScopeTickets = {
    size,
    created: new Float64Array(size),
    resolved: new Float64Array(size),
    automated: new Uint8Array(size),
    tracker: new Uint8Array(size),
    trackers: [],
    type: new Int32Array(size),
    types: [],
    variant: new Int32Array(size),
    variants: [],
    labelSet: new Int32Array(size),
    labelSets: [],
    labels: [],
  };
  const trackers = dictionary(out.trackers);
  const types = dictionary(out.types);
  const variants = dictionary(out.variants);
  const labels = dictionary(out.labels);
  // Automated, tracker, type and variant are read as one field: few distinct values, each split once.
  const combos = new Map<string, number>();
  const comboFields: Array<[automated: number, tracker: number, type: number, variant: number]> = [];
  const labelSets = new Map<string, number>();
  for (let i = 0; i < size; i++) {
    const row = rows[i];
    const a = row.indexOf(SEP);
    const b = row.indexOf(SEP, a + 1);
    const c = row.indexOf(SEP, row.indexOf(SEP, row.indexOf(SEP, b + 1) + 1) + 1);
    out.created[i] = numberAt(row, 0, a);
    out.resolved[i] = numberAt(row, a + 1, b);
    const comboText = row.slice(b + 1, c);
    let combo = combos.get(comboText);
    if (combo === undefined) {
      const [automatedAndTracker, type, variant] = comboText.split(SEP);
      combos.set(comboText, (combo = comboFields.length));
      comboFields.push([
        automatedAndTracker[0] === '1' ? 1 : 0,
        trackers(automatedAndTracker.slice(1)),
        type === '' ? -1 : types(type),
        variant === '' ? -1 : variants(variant),
      ]);
    }
    const fields = comboFields[combo];
    out.automated[i] = fields[0];
    out.tracker[i] = fields[1];
    out.type[i] = fields[2];
    out.variant[i] = fields[3];
    const json = row.slice(c + 1);
    let set = labelSets.get(json);
    if (set === undefined) {
      labelSets.set(json, (set = out.labelSets.length));
      out.labelSets.push(parseLabels(json).map(labels));
    }
    out.labelSet[i] = set;
  }
  return out;
}

/** The stored names of those of `typeIds` that are stored request types (`request_types`), by id. */
export function requestTypeNames(db: Db, typeIds: readonly string[]): Map<string, string> {
  if (typeIds.length === 0) return new Map();
  const rows = statement(db, 'SELECT id, name FROM request_types WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(typeIds)) as Array<{ id: string; name: string }>;
  return new Map(rows.map((r) => [r.id, r.name]));
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
