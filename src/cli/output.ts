/**
 * Output helpers shared by the CLI commands: tables (cli-table3), CSV (csv-stringify) and JSON.
 */
import Table from 'cli-table3';
import { stringify } from 'csv-stringify/sync';

export const OUTPUT_FORMATS = ['table', 'json', 'csv'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Validates a `--format` value. @throws Error naming the allowed values. */
export function parseFormat(value: string, allowed: readonly string[] = OUTPUT_FORMATS): string {
  if (!allowed.includes(value)) throw new Error(`invalid --format "${value}": use one of ${allowed.join(', ')}`);
  return value;
}

/** Renders rows as a boxed text table. */
export function renderTable(head: string[], rows: Array<Array<string | number>>): string {
  const table = new Table({ head, style: { head: [], border: [] } });
  table.push(...rows.map((r) => r.map(String)));
  return table.toString();
}

/** Renders rows as RFC 4180 CSV with a header line. */
export function renderCsv(head: string[], rows: Array<Array<string | number | null>>): string {
  return stringify([head, ...rows]);
}

/** Formats a 0..1 share as a percentage with one decimal, e.g. `12.5%`. */
export const percent = (share: number | null) => (share === null ? '—' : `${(share * 100).toFixed(1)}%`);
