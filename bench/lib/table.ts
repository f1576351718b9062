/**
 * The one table the bench prints: one row per figure, with the target and PASS/FAIL where the issue sets one.
 * The same rows go into bench/results/latest.json, and a Markdown copy into bench/results/latest.md for the README.
 */
import { cpus, totalmem } from 'node:os';

export interface Row {
  scenario: string;
  metric: string;
  value: string;
  /** e.g. `≥ 0.6`; absent for figures reported without a target. */
  target?: string;
  /** true PASS, false FAIL, undefined = no target; null = could not be measured (SKIPPED or error). */
  pass?: boolean | null;
}

export interface ScenarioResult {
  rows: Row[];
  /** Every figure, for the JSON file. */
  data: Record<string, unknown>;
}

/** Formats a number with `digits` decimals (thousands separated for big ones). */
export function fmt(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || Number.isNaN(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A row with a target: `pass` is computed by the caller. */
export const check = (scenario: string, metric: string, value: string, target: string, pass: boolean | null): Row => ({ scenario, metric, value, target, pass });
/** A row without a target. */
export const info = (scenario: string, metric: string, value: string): Row => ({ scenario, metric, value });

export function machine(): { cores: number; cpu: string; memoryGb: number; node: string; platform: string; line: string } {
  const list = cpus();
  const cpu = list[0]?.model?.trim() ?? 'unknown CPU';
  const memoryGb = Math.round((totalmem() / 1024 ** 3) * 10) / 10;
  const platform = `${process.platform} ${process.arch}`;
  return { cores: list.length, cpu, memoryGb, node: process.version, platform, line: `${list.length} cores (${cpu}), ${memoryGb} GB RAM, Node ${process.version}, ${platform}` };
}

const resultWord = (row: Row) => (row.pass === undefined ? '' : row.pass === null ? 'n/a' : row.pass ? 'PASS' : 'FAIL');

/** Plain-text table for the terminal. */
export function renderText(rows: Row[]): string {
  const header = ['scenario', 'metric', 'value', 'target', 'result'];
  const cells = rows.map((r) => [r.scenario, r.metric, r.value, r.target ?? '', resultWord(r)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => (i === 2 ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...cells.map(line)].join('\n');
}

/** Markdown table (for bench/README.md). */
export function renderMarkdown(rows: Row[]): string {
  const esc = (v: string) => v.replaceAll('|', '\\|');
  return [
    '| scenario | metric | value | target | result |',
    '|---|---|--:|---|---|',
    ...rows.map((r) => `| ${esc(r.scenario)} | ${esc(r.metric)} | ${esc(r.value)} | ${esc(r.target ?? '')} | ${resultWord(r)} |`),
  ].join('\n');
}
