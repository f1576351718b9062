/**
 * Options shared by the CLI commands, validated by commander before the command runs, so bad usage exits 2 with the
 * valid choices (`error: option '--format <format>' argument 'xml' is invalid. Allowed choices are table, json.`).
 */
import { InvalidArgumentError, Option } from 'commander';

/** `--format <format>` limited to `choices` (commander `Option.choices`), defaulting to the first one. */
export function formatOption(choices: readonly string[], fallback: string = choices[0]): Option {
  return new Option('--format <format>', `output format: ${choices.join(', ')}`).choices(choices).default(fallback);
}

/**
 * A commander argument parser for a whole number in `[min, max]`.
 * @throws InvalidArgumentError (commander prints it and the CLI exits 2) for `abc`, `1.5`, or a number out of range.
 */
export function wholeNumber(min = 1, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`Use a whole number${max === Number.MAX_SAFE_INTEGER ? ` ≥ ${min}` : ` from ${min} to ${max}`}.`);
    }
    return n;
  };
}
