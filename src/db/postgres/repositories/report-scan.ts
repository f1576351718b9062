/**
 * PostgreSQL twin of `../../report-scan.ts`: the report's one pass over a scope's tickets, into the same columns
 * (`ScopeTickets`). Each ticket comes back as the same one text value as on SQLite (fields joined by U+001F, the
 * labels JSON last) and is decoded by the same steps, so both backends hand the report identical columns for the same
 * rows — except their order, which neither side fixes ("in no particular order": SQLite's follows its index, here the
 * plan's). Where the SQL differs: `ifnull(x, '')` on an integer → `coalesce(x::text, '')`; `char(31)` → `chr(31)`;
 * the automated flag is `CASE WHEN EXISTS … THEN '1' ELSE '0' END` (SQLite concatenates EXISTS' 0/1), with the run
 * conditions of `report-queries.ts`' twin; `json_each(?)` → `= ANY($1::text[])`. `requestTypeNames` orders by id
 * (`COLLATE "C"`), which is the order SQLite's `IN (SELECT …)` visits them (its ephemeral index of the list).
 *
 * node-postgres reads the whole result before answering (no cursor here): one string per ticket, about 10 MB for the
 * ~120,000 tickets of a 90-day window on a 1M-ticket database, released once decoded.
 * Read-only module: nothing to lock.
 */
import type { ScopeTickets } from '../../report-scan.js';
import type { Repositories } from '../../store.js';
import type { PgSession } from '../pg-session.js';
import { Params, PG_AUTOMATED_SQL, pgInWindow } from './report-queries.js';

const SEP = '\u001f';

/** Twin of the SQLite `report-scan.ts` (see the module comment). */
export const reportScan = (pg: PgSession): Repositories['reportScan'] => ({
  scanScopeTickets: async (scope) => {
    const p = new Params();
    const sql = `SELECT coalesce(t.created::text, '') || chr(31) || coalesce(t.resolved::text, '') || chr(31)
                        || CASE WHEN ${PG_AUTOMATED_SQL} THEN '1' ELSE '0' END || t.tracker
                        || chr(31) || coalesce(g.type_id, '') || chr(31) || coalesce(g.variant_id, '') || chr(31) || t.labels AS row
                 FROM tickets t LEFT JOIN ticket_groups g ON g.ticket_id = t.id WHERE ${pgInWindow(scope, 't', p)}`;
    const rows = await pg.query<{ row: string }>(sql, p.values);
    return decodeRows(rows);
  },

  requestTypeNames: async (typeIds) => {
    if (typeIds.length === 0) return new Map();
    const rows = await pg.query<{ id: string; name: string }>('SELECT id, name FROM request_types WHERE id = ANY($1::text[]) ORDER BY id COLLATE "C"', [[...typeIds]]);
    return new Map(rows.map((r) => [r.id, r.name]));
  },
});

/**
 * The rows' tickets as columns: the decoding of `scanScopeTickets` in `../../report-scan.ts`, step for step (that
 * module keeps it private; exporting it from there would let both share it).
 */
function decodeRows(rows: ReadonlyArray<{ row: string }>): ScopeTickets {
  const size = rows.length;
  const created = new Float64Array(size);
  const resolved = new Float64Array(size);
  const labelSet = new Int32Array(size);
  const out: ScopeTickets = {
    size,
    created,
    resolved,
    automated: new Uint8Array(size),
    tracker: new Uint8Array(size),
    trackers: [],
    type: new Int32Array(size),
    types: [],
    variant: new Int32Array(size),
    variants: [],
    labelSet,
    labelSets: [],
    labels: [],
  };
  const trackerOf = dictionary(out.trackers);
  const typeOf = dictionary(out.types);
  const variantOf = dictionary(out.variants);
  const labelOf = dictionary(out.labels);
  const combos = new Map<string, [automated: number, tracker: number, type: number, variant: number]>();
  const labelSetOf = new Map<string, number>();
  for (let i = 0; i < size; i++) {
    const row = rows[i].row;
    const a = row.indexOf(SEP);
    const b = row.indexOf(SEP, a + 1);
    const c = row.indexOf(SEP, row.indexOf(SEP, row.indexOf(SEP, b + 1) + 1) + 1);
    created[i] = numberAt(row, 0, a);
    resolved[i] = numberAt(row, a + 1, b);
    const comboText = row.slice(b + 1, c);
    let fields = combos.get(comboText);
    if (fields === undefined) {
      const [automatedAndTracker, type, variant] = comboText.split(SEP);
      fields = [
        automatedAndTracker[0] === '1' ? 1 : 0,
        trackerOf(automatedAndTracker.slice(1)),
        type === '' ? -1 : typeOf(type),
        variant === '' ? -1 : variantOf(variant),
      ];
      combos.set(comboText, fields);
    }
    out.automated[i] = fields[0];
    out.tracker[i] = fields[1];
    out.type[i] = fields[2];
    out.variant[i] = fields[3];
    const json = row.slice(c + 1);
    let set = labelSetOf.get(json);
    if (set === undefined) {
      labelSetOf.set(json, (set = out.labelSets.length));
      out.labelSets.push(parseLabels(json).map(labelOf));
    }
    labelSet[i] = set;
  }
  return out;
}

/** The number written in `text[start, end)`, NaN when empty. */
function numberAt(text: string, start: number, end: number): number {
  return start === end ? NaN : Number(text.slice(start, end));
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
