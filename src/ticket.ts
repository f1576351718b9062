/**
 * The normalised ticket: what deflect knows of one Jira issue, whatever payload flavour
 * (Cloud, Server/DC, Automation format, REST search result, CSV export) it came from.
 */
export interface Ticket {
  /** Jira's issue id, always a string ("10400"); Automation-format payloads send a number, normalised here. */
  id: string;
  /** Issue key, e.g. `PLAT-123`. */
  key: string;
  /** Project key, e.g. `PLAT`, or null when the payload does not carry it. */
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
  /** The Jira site base URL derived from `issue.self` (e.g. `https://acme.atlassian.net`), when known. */
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
