/**
 * Output helpers shared by the CLI commands: tables (cli-table3), CSV (csv-stringify) and JSON.
 */
import Table from 'cli-table3';
import { stringify } from 'csv-stringify/sync';
import { UsageError } from './cli-errors.js';

export const OUTPUT_FORMATS = ['table', 'json', 'csv'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Validates a `--format` value. @throws UsageError (exit 2) naming the allowed values. */
export function parseFormat(value: string, allowed: readonly string[] = OUTPUT_FORMATS): string {
  if (!allowed.includes(value)) throw new UsageError(`invalid --format "${value}": use one of ${allowed.join(', ')}`);
  return value;
}

/** Narrowest a column is squeezed to when a table is wider than the terminal, characters. */
const MIN_COLUMN_WIDTH = 8;

/**
 * The width tables are fitted to, characters: the terminal's width on a terminal, else `COLUMNS` when set (the demo
 * sets it), else unlimited, so a pipe into `grep` sees every cell on one line.
 */
export function outputWidth(env: NodeJS.ProcessEnv = process.env): number {
  if (process.stdout.isTTY && process.stdout.columns) return process.stdout.columns;
  const columns = Number(env.COLUMNS);
  return Number.isInteger(columns) && columns >= 40 ? columns : Number.POSITIVE_INFINITY;
}

/**
 * Renders rows as a boxed text table without colour codes, at most `width` characters wide: when the content is
 * wider, the widest columns are narrowed (down to 8 characters) and their cells wrapped at word boundaries.
 */
export function renderTable(head: string[], rows: Array<Array<string | number>>, width = outputWidth()): string {
  const cells = rows.map((r) => r.map(String));
  const natural = head.map((h, i) => Math.max(...[h, ...cells.map((r) => r[i] ?? '')].map((c) => Math.max(...c.split('\n').map((l) => l.length)))) + 2);
  const widths = [...natural];
  const total = () => widths.reduce((a, b) => a + b, 0) + widths.length + 1;
  while (total() > width) {
    const widest = widths.indexOf(Math.max(...widths));
    if (widths[widest] <= MIN_COLUMN_WIDTH) break;
    widths[widest] -= 1;
  }
  const fitted = widths.some((w, i) => w !== natural[i]);
  const table = new Table({
    head,
    style: { head: [], border: [] },
    ...(fitted ? { colWidths: widths, wordWrap: true, wrapOnWordBoundary: true } : {}),
  });
  table.push(...cells);
  return table.toString();
}

/** Renders rows as RFC 4180 CSV with a header line. */
export function renderCsv(head: string[], rows: Array<Array<string | number | null>>): string {
  return stringify([head, ...rows]);
}

/** Formats a 0..1 share as a percentage with one decimal, e.g. `12.5%`. */
export const percent = (share: number | null) => (share === null ? '—' : `${(share * 100).toFixed(1)}%`);
