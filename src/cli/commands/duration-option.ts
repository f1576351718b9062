/**
 * Parsing time-window options of the reliability commands (`--since 2h`, `--settle 30m`), kept here so those commands
 * do not depend on the report modules.
 */

import { UsageError } from '../cli-errors.js';

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

/**
 * `30m`, `2h`, `1d`, `1w` → ms.
 * @throws UsageError (exit 2) naming `option` for anything else.
 */
export function parseDuration(value: string, option: string): number {
  const match = /^(\d+)\s*([mhdw])$/i.exec(value.trim());
  if (!match) throw new UsageError(`invalid ${option} "${value}": use minutes, hours, days or weeks like 30m, 2h, 1d, 1w`);
  return Number(match[1]) * UNIT_MS[match[2].toLowerCase() as keyof typeof UNIT_MS];
}

/** `--since` as a start time in ms (`now` minus the duration), or null for `all`. */
export function parseSinceOption(value: string, now = Date.now()): number | null {
  return value.trim() === 'all' ? null : now - parseDuration(value, '--since');
}
