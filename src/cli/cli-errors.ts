/**
 * The CLI's two kinds of failure and their exit codes: bad usage (a wrong flag value, a missing argument) exits 2 with
 * the valid choices; a runtime failure (a missing database, Jira refusing a call) exits 1. Both print one line
 * `deflect: <message>` on stderr. Commander's own usage errors (unknown option, `Option.choices`) also exit 2.
 */

/** Bad usage of a command: exits 2. The message names the flag and what it accepts. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/**
 * Runs `parse` (a validator of one flag's value) and turns what it throws into a {@link UsageError}.
 * @example const window = asUsage(() => resolveWindow(options));
 */
export function asUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError((error as Error).message, { cause: error });
  }
}

/**
 * Exit code for an error that reached the top of the CLI: 2 for bad usage (a {@link UsageError}, or any error carrying
 * `exitCode: 2`, so lower layers need not import the CLI), 1 for anything else.
 */
export function exitCodeOf(error: unknown): 1 | 2 {
  if (error instanceof UsageError) return 2;
  return (error as { exitCode?: unknown } | null)?.exitCode === 2 ? 2 : 1;
}
