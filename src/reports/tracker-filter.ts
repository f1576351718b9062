/**
 * The tracker dimension of the report and the audit: the `--tracker` / `?tracker=` filter, per-tracker counts, and a
 * ticket's web address on its own tracker. Tracker names are {@link TRACKER_NAMES} (`jira`, `github`, `linear`, `trello`), the
 * values of `tickets.tracker` and of a run's ticket snapshot `tracker` (absent = `jira`).
 */
import { z } from 'zod';
import { TRACKER_NAMES, type TrackerName } from '../trackers/tracker.js';

/** A `--tracker` / `?tracker=` value that names no tracker; `message` lists the valid names. */
export class TrackerFilterError extends Error {
  override name = 'TrackerFilterError';
}

/** The valid names as words for a message: `jira, github, linear or trello`. */
export const TRACKER_CHOICES = `${TRACKER_NAMES.slice(0, -1).join(', ')} or ${TRACKER_NAMES[TRACKER_NAMES.length - 1]}`;

/** Longest filter value accepted (characters, all values together): three names fit many times over. */
const MAX_FILTER_CHARS = 200;

/**
 * Parses a tracker filter: one value or several (a repeated flag or query parameter), each a name or a comma list
 * (`jira,github`); case and blanks are ignored, repeats count once.
 * @returns the trackers in {@link TRACKER_NAMES} order, or null when nothing was given (= every tracker).
 * @throws TrackerFilterError for an unknown name (`unknown tracker "gitlab": use jira, github, linear or trello`) or an
 *   over-long value.
 */
export function parseTrackerFilter(values: string | readonly string[] | null | undefined): TrackerName[] | null {
  const list = values === null || values === undefined ? [] : typeof values === 'string' ? [values] : values;
  if (list.reduce((n, v) => n + String(v).length, 0) > MAX_FILTER_CHARS) throw new TrackerFilterError(`tracker filter too long: use ${TRACKER_CHOICES}`);
  const wanted = new Set<string>();
  for (const value of list) {
    for (const part of String(value).split(',')) {
      const name = part.trim().toLowerCase();
      if (!name) continue;
      if (!(TRACKER_NAMES as readonly string[]).includes(name)) throw new TrackerFilterError(`unknown tracker "${part.trim().slice(0, 40)}": use ${TRACKER_CHOICES}`);
      wanted.add(name);
    }
  }
  return wanted.size ? TRACKER_NAMES.filter((t) => wanted.has(t)) : null;
}

/** How many of `trackers` (one entry per ticket) are of each tracker: `{ jira: 3, github: 2 }` (see {@link trackerCounts}). */
export function countByTracker(trackers: Iterable<string>): Partial<Record<TrackerName, number>> {
  const counts = new Map<string, number>();
  for (const t of trackers) counts.set(t, (counts.get(t) ?? 0) + 1);
  return trackerCounts(counts);
}

/**
 * (tracker, count) pairs as an object in {@link TRACKER_NAMES} order, trackers without tickets left out:
 * `{ jira: 3, github: 2 }`. The keys are our own `tickets.tracker` values, never ticket text; an unknown one (a row a
 * newer deflect wrote) is kept, after the known ones.
 */
export function trackerCounts(entries: Iterable<readonly [string, number]>): Partial<Record<TrackerName, number>> {
  const counts = new Map(entries);
  const known = TRACKER_NAMES.filter((t) => counts.has(t)).map((t) => [t, counts.get(t)!] as const);
  const other = [...counts].filter(([t]) => !(TRACKER_NAMES as readonly string[]).includes(t));
  return Object.fromEntries([...known, ...other]) as Partial<Record<TrackerName, number>>;
}

/**
 * A ticket's web page on its tracker, or null when its site is unknown:
 * - Jira: `<site>/browse/<KEY>` (Atlassian's issue URL), on the configured `jiraBaseUrl` when the ticket is of that
 *   site (it may carry a context path, e.g. Data Center's `/jira`) or its site is unknown, else `https://<site host>`;
 * - GitHub: `https://<host>/<owner>/<repo>/issues/<number>` from the key `owner/repo#number` (an issue's `html_url`;
 *   pull requests redirect from there too);
 * - Linear: `https://linear.app/<workspace>/issue/<KEY>` (an issue's `url`), the site being `linear.app/<workspace>`;
 * - Trello: `https://trello.com/c/<shortLink>` (a card's `shortUrl`), the site being `trello.com/b/<board id>`.
 */
export function ticketUrl(ticket: { tracker: string; site: string; key: string }, jiraBaseUrl: string | null): string | null {
  const site = ticket.site.replace(/\/+$/, '');
  if (ticket.tracker === 'github') {
    const match = /^([^/#\s]+)\/([^/#\s]+)#(\d+)$/.exec(ticket.key);
    return site && match ? `https://${site}/${encodeURIComponent(match[1])}/${encodeURIComponent(match[2])}/issues/${match[3]}` : null;
  }
  if (ticket.tracker === 'linear') return site ? `https://${site}/issue/${encodeURIComponent(ticket.key)}` : null;
  if (ticket.tracker === 'trello') return site ? `https://${site.split('/')[0]}/c/${encodeURIComponent(ticket.key)}` : null;
  if (ticket.tracker !== 'jira') return null;
  const configured = httpBase(jiraBaseUrl);
  const base = configured && (site === '' || new URL(configured).host.toLowerCase() === site) ? configured : site ? `https://${site}` : null;
  return base ? `${base}/browse/${encodeURIComponent(ticket.key)}` : null;
}

/** An http(s) URL without its trailing slashes, or null. */
function httpBase(url: string | null): string | null {
  if (!url || !/^https?:\/\//i.test(url)) return null;
  try {
    new URL(url);
  } catch {
    return null;
  }
  return url.replace(/\/+$/, '');
}

/**
 * The zod schema of a `tracker` query parameter (`?tracker=jira&tracker=github` or `?tracker=jira,github`): the
 * trackers ({@link parseTrackerFilter}; absent → null), or an issue naming the valid ones for an unknown name.
 */
export function trackerQuery() {
  return z
    .union([z.string().max(200), z.array(z.string().max(200)).max(10)])
    .optional()
    .transform((value, ctx) => {
      try {
        return parseTrackerFilter(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    });
}
