/**
 * The `--tracker` option of `deflect report` and `deflect audit`: repeatable (`--tracker jira --tracker github`) or a
 * comma list (`--tracker jira,github`); the names are checked by `parseTrackerFilter` when the command runs.
 */
import type { Command } from 'commander';
import { parseTrackerFilter, TRACKER_CHOICES } from '../../reports/tracker-filter.js';
import type { TrackerName } from '../../trackers/tracker.js';
import { UsageError } from '../cli-errors.js';

/** Adds `--tracker <names>` to `command`; its value is the list of strings given (absent when none). */
export function addTrackerOption(command: Command, what: string): Command {
  return command.option(
    '--tracker <names>',
    `only ${what} of these trackers: ${TRACKER_CHOICES} (repeat the flag or separate with commas)`,
    (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
  );
}

/**
 * The trackers `--tracker` names (null when not given: every tracker).
 * @throws UsageError `invalid --tracker: unknown tracker "gitlab": use jira, github, linear or trello`.
 */
export function parseTrackerOption(values: readonly string[] | undefined): TrackerName[] | null {
  try {
    return parseTrackerFilter(values);
  } catch (error) {
    throw new UsageError(`invalid --tracker: ${(error as Error).message}`, { cause: error });
  }
}
