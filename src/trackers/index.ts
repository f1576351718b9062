/**
 * The tracker registry: every adapter deflect has, by name. The receiver registers `POST /webhooks/<name>` for each,
 * the worker picks the adapter of a stored delivery (`deliveries.source`) and of a run's ticket (`Ticket.tracker`,
 * absent = `jira`). Adding a tracker: write its adapter in `trackers/<name>/` and list it here.
 */
import type { RecordedActions } from './recorded-actions.js';
import { githubTracker } from './github/github-tracker.js';
import { jiraTracker } from './jira/jira-tracker.js';
import { linearTracker } from './linear/linear-tracker.js';
import { trelloTracker } from './trello/trello-tracker.js';
import type { Tracker, TrackerName } from './tracker.js';

/** An adapter whatever its client type (the registry holds several). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTracker = Tracker<any, RecordedActions>;

/** The adapters, in the order their routes are registered. */
export const TRACKERS: readonly AnyTracker[] = [jiraTracker, githubTracker, linearTracker, trelloTracker];

/**
 * The adapter named `name` (`null`/absent = `jira`, for rows stored before there was a second tracker).
 * @throws Error naming the installed trackers when none has that name.
 */
export function trackerNamed(name: TrackerName | string | null | undefined): AnyTracker {
  const wanted = name ?? 'jira';
  const found = TRACKERS.find((t) => t.name === wanted);
  if (!found) throw new Error(`unknown tracker "${wanted}" (installed: ${TRACKERS.map((t) => t.name).join(', ')})`);
  return found;
}

/** The API client each tracker's actions are sent with; absent or null = not configured (runs on it are not sent). */
export type TrackerClients = Partial<Record<TrackerName, unknown>>;
