/**
 * The zod field builders of the environment schema (`src/config.ts`): comma lists, boolean flags, durations, whole
 * numbers. Kept apart so the schema file stays short; nothing here reads the environment.
 */
import { z } from 'zod';
import { durationSchema } from './duration.js';

/** `a, b,,c` → `['a', 'b', 'c']` (unset → `[]`). */
export const csv = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);

/** `true`/`1`/`yes` → true; `false`/`0`/`no`/unset → false; anything else is invalid. */
export const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** A duration variable (`30m`, `12h`, `30d`, `2w`: the one grammar, src/duration.ts) → ms. */
export const duration = (name: string, fallback: string) => z.string().default(fallback).pipe(durationSchema({ name }));

/** {@link duration}, or the word `off` → null (e.g. keep forever). */
export const durationOrOff = (name: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    .pipe(durationSchema({ name, allowOff: true }))
    .transform((v) => (v === 'off' ? null : v));

/** A whole number > 0 (from its decimal text), `fallback` when unset. */
export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** A whole number ≥ 0 (from its decimal text), `fallback` when unset. */
export const nonNegativeInt = (fallback: number) => z.coerce.number().int().min(0).default(fallback);
