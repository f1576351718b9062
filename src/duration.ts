/**
 * The one duration grammar of deflect, shared by the CLI (`--since 30d`, `--older-than 90d`, `--settle 30m`), the
 * HTTP API (`?since=12h`), the environment (`DEFLECT_DELIVERY_RETENTION=30d`, `DEFLECT_MAX_EVENT_AGE=24h`,
 * `DEFLECT_SCOPE_CACHE_TTL=10m`, `DEFLECT_RECONCILE_EVERY=15m`) and the rules file (`approval.expiresAfter: 7d`).
 *
 * Grammar: a whole number greater than 0 followed by a unit, `s` (seconds), `m` (minutes), `h` (hours), `d` (days,
 * 24 h) or `w` (weeks, 7 d): `30m`, `12h`, `30d`, `2w`. Where the caller allows it, the word `all` (no lower bound:
 * "all time") or `off` (disabled). Decisions:
 * - units and words are case-insensitive (`30D`, `ALL`), and blanks around the text and between number and unit are
 *   ignored (`" 30 d "`), as a hand-edited `.env` or a shell quote gives them;
 * - `0d` is refused: every use is a positive span; disabling is spelled `off`, "everything" is spelled `all` (the
 *   one exception, `reconcile --settle 0m` = no settling time, passes `allowZero`);
 * - fractions (`1.5h`), signs (`+2h`, `-2h`), compound forms (`1h30m`), bare numbers (`30`) and months/years are
 *   refused: `90m`, `36h`, `52w` say the same without ambiguity (a month has no fixed length);
 * - at most {@link MAX_DURATION_MS} (100 years): beyond it the value is a typo, and epoch arithmetic stays exact.
 *
 * @example
 * ```ts
 * parseDuration('30m');                       // 1_800_000
 * parseDuration('all', { allowAll: true });   // 'all'
 * parseDuration('off', { allowOff: true });   // 'off'
 * parseDuration('soon', { name: '--older-than' }); // throws DurationError: invalid --older-than "soon": use …
 * ```
 */
import { InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';

/** Milliseconds per unit. */
export const DURATION_UNIT_MS = Object.freeze({ s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 });

/** The longest duration accepted, ms (100 × 365 days). */
export const MAX_DURATION_MS = 100 * 365 * 86_400_000;

/** What a caller accepts besides a span. */
export interface DurationOptions {
  /** Accept `all` (returned as `'all'`). */
  allowAll?: boolean;
  /** Accept `off` (returned as `'off'`). */
  allowOff?: boolean;
  /** Accept a zero span (`0m`: e.g. `reconcile --settle 0m`, no settling time); refused by default. */
  allowZero?: boolean;
  /** How the value is named in the error message: `--since`, `DEFLECT_MAX_EVENT_AGE` (a query field is named by its path instead). */
  name?: string;
}

/** A span in ms, or one of the words the options allow. */
export type Duration<O extends DurationOptions> = number | (O['allowAll'] extends true ? 'all' : never) | (O['allowOff'] extends true ? 'off' : never);

/** A text outside the grammar; the message names the value and lists the grammar. */
export class DurationError extends Error {
  override name = 'DurationError';
}

const GRAMMAR = /^(\d{1,12})\s*([smhdw])$/i;

/** The grammar as one phrase for messages and help: `a whole number and a unit (s, m, h, d, w) like 30m, 12h, 30d, 2w, or all`. */
export function durationGrammar(options: DurationOptions = {}): string {
  const least = options.allowZero ? '' : ' above 0';
  const words = [options.allowAll ? 'all' : null, options.allowOff ? 'off' : null].filter(Boolean);
  return `a whole number${least} and a unit (s, m, h, d, w) like 30m, 12h, 30d, 2w${words.length ? `, or ${words.join(' or ')}` : ''}`;
}

/**
 * Parses `text` by the grammar above.
 * @returns ms (an integer ≥ 1000), or `'all'` / `'off'` when allowed.
 * @throws DurationError `invalid <name> "<text>": use <grammar>` (without a name: `"<text>" is not a duration: use
 *   <grammar>`; the text is quoted, at most 40 characters).
 */
export function parseDuration<O extends DurationOptions>(text: string, options: O = {} as O): Duration<O> {
  const value = String(text).trim();
  const word = value.toLowerCase();
  if (options.allowAll && word === 'all') return 'all' as Duration<O>;
  if (options.allowOff && word === 'off') return 'off' as Duration<O>;
  const match = GRAMMAR.exec(value);
  const ms = match ? Number(match[1]) * DURATION_UNIT_MS[match[2].toLowerCase() as keyof typeof DURATION_UNIT_MS] : NaN;
  if (!((ms > 0 || (options.allowZero && ms === 0)) && ms <= MAX_DURATION_MS)) {
    const why = ms > MAX_DURATION_MS ? ' at most 100 years,' : '';
    const quoted = `"${String(text).slice(0, 40)}"`;
    throw new DurationError(`${options.name ? `invalid ${options.name} ${quoted}` : `${quoted} is not a duration`}:${why} use ${durationGrammar(options)}`);
  }
  return ms as Duration<O>;
}

/**
 * A zod schema for a duration text (environment variables, query strings, the rules file): the output is what
 * {@link parseDuration} returns; a bad text is one issue with its message. In an OpenAPI document it shows as a
 * string with the grammar as its pattern and description.
 */
export function durationSchema<O extends DurationOptions>(options: O = {} as O) {
  const words = [options.allowAll ? 'all' : null, options.allowOff ? 'off' : null].filter((w) => w !== null);
  return z
    .string()
    .max(60)
    .meta({ description: `A duration: ${durationGrammar(options)}.`, examples: ['30m', '12h', '30d', '2w', ...words] })
    .transform((text, ctx): Duration<O> => {
      try {
        return parseDuration(text, options);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    });
}

/**
 * A commander `argParser` for a duration option: `.option('--since <duration>', '…', durationArg({ allowAll: true }))`.
 * A bad value exits as bad usage (code 2 where the program maps commander errors so) with the grammar.
 */
export function durationArg<O extends DurationOptions>(options: O = {} as O): (value: string) => Duration<O> {
  return (value) => {
    try {
      return parseDuration(value, options);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}

/** `since` (a duration or `all`) as a start time, epoch ms, or null for `all`. */
export function sinceStart(since: number | 'all', now = Date.now()): number | null {
  return since === 'all' ? null : now - since;
}

/**
 * A commander option taking a duration, parsed by {@link durationArg}; `fallback` (a duration text) is its default,
 * shown as written in `--help` and parsed like a given value. The action receives ms (or `'all'` / `'off'`).
 * @example `command.addOption(durationOption('--since <window>', 'window', { allowAll: true }, '30d'))`
 */
export function durationOption(flags: string, description: string, options: DurationOptions = {}, fallback?: string): Option {
  const name = options.name ?? flags.split(/[ ,<[]/)[0];
  const parse = durationArg({ ...options, name });
  const option = new Option(flags, `${description}: ${durationGrammar(options)}`).argParser(parse);
  return fallback === undefined ? option : option.default(parse(fallback), fallback);
}
