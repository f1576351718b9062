import type { TrackerName } from './trackers/tracker.js';

/**
 * The normalised ticket: what deflect knows of one issue, whatever tracker (Jira Cloud or Data Center, GitHub Issues,
 * Linear) and payload flavour (webhook, Automation format, REST search result, CSV export) it came from. Field
 * comments give Jira's values; each adapter documents its mapping.
 */
export interface Ticket {
  /** The tracker it lives in; absent = `jira` (tickets stored before there was a second tracker). */
  tracker?: TrackerName;
  /**
   * The tracker's own id, always a string: Jira's issue id ("10400"; Automation-format payloads send a number,
   * normalised here), GitHub's numeric issue `id`, Linear's issue uuid.
   */
  id: string;
  /** Display key: `PLAT-123` (Jira), `acme/api#12` (GitHub), `ENG-12` (Linear). */
  key: string;
  /** Project key (Jira), repository `owner/name` (GitHub), team key (Linear), or null when not carried. */
  project: string | null;
  /** Issue type name, e.g. `Task`. */
  issueType: string | null;
  /** Status name, e.g. `To Do`. */
  status: string | null;
  /**
   * Labels as Jira has them (case kept). `null` when the payload does not carry labels at all
   * (comment events carry a trimmed issue), which is different from `[]` (no labels).
   */
  labels: string[] | null;
  summary: string | null;
  /** Description as a plain string (wiki markup on webhooks; ADF is flattened to text). */
  description: string | null;
  /** Reporter display name. */
  reporter: string | null;
  /** Reporter accountId (Cloud) or name/key (Server/DC), for mentions. */
  reporterId: string | null;
  /** Created, updated, resolved: epoch ms, or null. */
  created: number | null;
  updated: number | null;
  resolved: number | null;
  /**
   * The site: Jira's base URL derived from `issue.self` (`https://acme.atlassian.net`), `https://github.com` (or the
   * GitHub Enterprise host), `https://linear.app/<workspace url key>`; null when unknown.
   */
  siteUrl: string | null;
}

/**
 * Parses the date formats Jira uses in REST and webhook payloads (`2018-04-30T13:22:33.903-0400`,
 * ISO 8601 with `Z` or `+hh:mm`) or an epoch-ms number. Returns epoch ms, or null when absent or unparseable.
 */
export function parseJiraDate(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value !== 'string' || value.trim() === '') return null;
  // Jira writes offsets as -0400; Date.parse wants -04:00.
  const iso = value.trim().replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}
