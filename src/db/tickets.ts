/**
 * Ticket snapshots: the latest known state of each ticket per tracker and site (table `tickets`, plus `ticket_labels`).
 */
import type { Ticket } from '../ticket.js';
import type { Db } from './client.js';
import { statement } from './statements.js';
import type { TicketRow } from './schema.js';

/** Where a snapshot came from. */
export type TicketOrigin = 'webhook' | 'import';

export interface UpsertTicketsResult {
  /** Rows written (new or changed). */
  written: number;
  /** Snapshots not applied because the stored one is newer (by event timestamp or `updated`). */
  stale: number;
}

/**
 * The `tickets.id` of a snapshot. Jira: `<site host>:<issue id>` (`acme.atlassian.net:10400`), or the bare issue id
 * when the site is unknown; the site is the host of the ticket's own `siteUrl` (from its `self` URL), else of
 * `defaultSiteUrl` (the configured site), lower-cased. Other trackers: `<tracker>:<site>:<id>`, the site being host
 * and path of `siteUrl` (`github:github.com:1347`, `linear:linear.app/acme:<uuid>`). Two sites number issues
 * independently, so the issue id alone does not name a ticket.
 */
export function ticketRowId(ticket: Pick<Ticket, 'id' | 'siteUrl' | 'tracker'>, defaultSiteUrl: string | null = null): { id: string; site: string } {
  const tracker = ticket.tracker ?? 'jira';
  if (tracker !== 'jira') {
    const site = siteOf(ticket.siteUrl) ?? siteOf(defaultSiteUrl) ?? '';
    return { id: `${tracker}:${site}:${ticket.id}`, site };
  }
  const site = siteHostOf(ticket.siteUrl) ?? siteHostOf(defaultSiteUrl) ?? '';
  return { id: site ? `${site}:${ticket.id}` : ticket.id, site };
}

/** Lower-case host plus path of a site URL (`https://linear.app/Acme/` → `linear.app/acme`), or null. */
function siteOf(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`.toLowerCase() || null;
  } catch {
    return null;
  }
}

/** Lower-case host of a site URL (`https://Acme.atlassian.net/` → `acme.atlassian.net`), or null. */
export function siteHostOf(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url).host.toLowerCase() || null;
  } catch {
    return null;
  }
}

const TICKET_COLUMNS = `tracker, issue_id, site, key, project, issue_type, status, labels, summary, description, reporter, reporter_id,
  created, updated, resolved, origin, last_event_at, recorded_at`;

/**
 * Inserts or updates tickets by site and Jira issue id ({@link ticketRowId}), in one transaction. Safe to run twice
 * (an import re-run rewrites the same rows). A snapshot older than the stored one — compared by `eventAt` (the
 * webhook `timestamp`, ms, clamped by the caller to its receipt time) when given, else by `updated` — does not
 * overwrite it (Jira promises no delivery order). Fields the snapshot does not carry (`labels: null` on comment
 * events, null summary) keep their stored value. `ticket_labels` is rewritten to match (lower-cased labels) whenever
 * the labels are known.
 *
 * Site-less rows meet sited snapshots: a snapshot with a site whose row does not exist yet adopts the row of the same
 * issue id stored without a site (an earlier CSV import, or a row the migration could not place), keeping its labels
 * and group; a snapshot without a site (and no `defaultSiteUrl`) updates the most recently recorded row of that
 * issue id when there is one, rather than starting a duplicate.
 */
export function upsertTickets(
  db: Db,
  snapshots: Array<{ ticket: Ticket; eventAt?: number | null }>,
  origin: TicketOrigin,
  now = Date.now(),
  options: { defaultSiteUrl?: string | null } = {},
): UpsertTicketsResult {
  const sqlite = db.$client;
  const select = statement(db, 'SELECT id, updated, last_event_at AS lastEventAt FROM tickets WHERE id = ?');
  const selectSiteless = statement(db, "SELECT id FROM tickets WHERE id = ? AND site = ''");
  const selectByIssueId = statement(db, 'SELECT id, site FROM tickets WHERE issue_id = ? ORDER BY recorded_at DESC LIMIT 1');
  const copyRow = statement(db, `INSERT INTO tickets (id, ${TICKET_COLUMNS}) SELECT @newId, tracker, issue_id, @site, ${TICKET_COLUMNS.replace('tracker, issue_id, site, ', '')} FROM tickets WHERE id = @oldId`);
  const moveLabels = statement(db, 'UPDATE ticket_labels SET ticket_id = ? WHERE ticket_id = ?');
  const moveGroup = statement(db, 'UPDATE ticket_groups SET ticket_id = ? WHERE ticket_id = ?');
  const deleteRow = statement(db, 'DELETE FROM tickets WHERE id = ?');
  const upsert = statement(db, `
    INSERT INTO tickets (id, tracker, issue_id, site, key, project, issue_type, status, labels, summary, description, reporter, reporter_id,
                         created, updated, resolved, origin, last_event_at, recorded_at)
    VALUES (@id, @tracker, @issueId, @site, @key, @project, @issueType, @status, COALESCE(@labels, '[]'), @summary, @description, @reporter, @reporterId,
            @created, @updated, @resolved, @origin, @lastEventAt, @recordedAt)
    ON CONFLICT(id) DO UPDATE SET
      issue_id = excluded.issue_id,
      site = excluded.site,
      key = excluded.key,
      project = COALESCE(excluded.project, tickets.project),
      issue_type = COALESCE(excluded.issue_type, tickets.issue_type),
      status = COALESCE(excluded.status, tickets.status),
      labels = COALESCE(@labels, tickets.labels),
      summary = COALESCE(excluded.summary, tickets.summary),
      description = COALESCE(excluded.description, tickets.description),
      reporter = COALESCE(excluded.reporter, tickets.reporter),
      reporter_id = COALESCE(excluded.reporter_id, tickets.reporter_id),
      created = COALESCE(excluded.created, tickets.created),
      updated = COALESCE(excluded.updated, tickets.updated),
      resolved = excluded.resolved,
      origin = excluded.origin,
      last_event_at = COALESCE(excluded.last_event_at, tickets.last_event_at),
      recorded_at = excluded.recorded_at`);
  const deleteLabels = statement(db, 'DELETE FROM ticket_labels WHERE ticket_id = ?');
  // `created` copied from the row just upserted: the stored value (a snapshot without `created` keeps the earlier one).
  const insertLabel = statement(db, 'INSERT OR IGNORE INTO ticket_labels (ticket_id, label, created) VALUES (?, ?, (SELECT created FROM tickets WHERE id = ?))');
  const setLabelCreated = statement(db, 'UPDATE ticket_labels SET created = ? WHERE ticket_id = ?');
  const setGroupCreated = statement(db, 'UPDATE ticket_groups SET created = ? WHERE ticket_id = ?');

  type StoredRow = { id: string; updated: number | null; lastEventAt: number | null };
  /** The row this snapshot goes to (and what it holds), adopting a site-less row first when there is one. */
  const placeRow = (ticket: Ticket): { row: { id: string; site: string }; stored: StoredRow | undefined } => {
    const row = ticketRowId(ticket, options.defaultSiteUrl ?? null);
    const found = select.get(row.id) as StoredRow | undefined;
    if (found) return { row, stored: found };
    // Only Jira has site-less rows (CSV exports); other trackers always know their site.
    if ((ticket.tracker ?? 'jira') !== 'jira') return { row, stored: undefined };
    if (row.site) {
      if (selectSiteless.get(ticket.id)) {
        copyRow.run({ newId: row.id, site: row.site, oldId: ticket.id });
        moveLabels.run(row.id, ticket.id);
        moveGroup.run(row.id, ticket.id);
        deleteRow.run(ticket.id);
        return { row, stored: select.get(row.id) as StoredRow | undefined };
      }
      return { row, stored: undefined };
    }
    const known = selectByIssueId.get(ticket.id) as { id: string; site: string } | undefined;
    return known ? { row: known, stored: select.get(known.id) as StoredRow | undefined } : { row, stored: undefined };
  };

  let written = 0;
  let stale = 0;
  sqlite.transaction(() => {
    for (const { ticket, eventAt } of snapshots) {
      const { row, stored } = placeRow(ticket);
      if (stored && isOlder(ticket, eventAt ?? null, stored)) {
        stale++;
        continue;
      }
      upsert.run({
        id: row.id,
        tracker: ticket.tracker ?? 'jira',
        issueId: ticket.id,
        site: row.site,
        key: ticket.key,
        project: ticket.project,
        issueType: ticket.issueType,
        status: ticket.status,
        labels: ticket.labels === null ? null : JSON.stringify(ticket.labels),
        summary: ticket.summary,
        description: ticket.description,
        reporter: ticket.reporter,
        reporterId: ticket.reporterId,
        created: ticket.created,
        updated: ticket.updated,
        resolved: ticket.resolved,
        origin,
        lastEventAt: eventAt ?? null,
        recordedAt: now,
      });
      if (ticket.labels !== null) {
        deleteLabels.run(row.id);
        for (const label of new Set(ticket.labels.map((l) => l.toLowerCase()))) insertLabel.run(row.id, label, row.id);
      } else if (ticket.created !== null) {
        setLabelCreated.run(ticket.created, row.id);
      }
      if (ticket.created !== null) setGroupCreated.run(ticket.created, row.id);
      written++;
    }
  })();
  return { written, stale };
}

/**
 * Whether an incoming snapshot is older than the stored one (then the stored one is kept): by event time (ms) when
 * both have one, else by the tracker's `updated` (ms), else not older. Shared with the PostgreSQL twin.
 */
export function isOlder(ticket: Ticket, eventAt: number | null, stored: { updated: number | null; lastEventAt: number | null }): boolean {
  if (eventAt !== null && stored.lastEventAt !== null) return eventAt < stored.lastEventAt;
  if (ticket.updated !== null && stored.updated !== null) return ticket.updated < stored.updated;
  return false;
}

/**
 * Reads one ticket snapshot by issue key, or undefined; with `siteUrl`, a row of that site is preferred over another
 * site's ticket with the same key (else the most recently recorded). Labels are parsed back into an array.
 */
export function findTicketByKey(db: Db, key: string, siteUrl: string | null = null): (Omit<TicketRow, 'labels'> & { labels: string[] }) | undefined {
  const row = statement(db,
      `SELECT id, tracker, issue_id AS issueId, site, key, project, issue_type AS issueType, status, labels, summary, description, reporter, reporter_id AS reporterId,
              created, updated, resolved, origin, last_event_at AS lastEventAt, recorded_at AS recordedAt
       FROM tickets WHERE key = ? ORDER BY site = ? DESC, recorded_at DESC LIMIT 1`,
    )
    .get(key, siteHostOf(siteUrl) ?? '') as TicketRow | undefined;
  return row ? { ...row, labels: JSON.parse(row.labels) as string[] } : undefined;
}

/** Label (lower case) → number of tickets carrying it. */
export function labelSizes(db: Db): Map<string, number> {
  const rows = statement(db, 'SELECT label, count(*) AS size FROM ticket_labels GROUP BY label').all() as Array<{ label: string; size: number }>;
  return new Map(rows.map((row) => [row.label, row.size]));
}

const TICKET_AS_MODEL = `t.tracker, CASE WHEN t.issue_id != '' THEN t.issue_id ELSE t.id END AS id, t.site, t.key, t.project, t.issue_type AS issueType, t.status, t.labels, t.summary,
  t.description, t.reporter, t.reporter_id AS reporterId, t.created, t.updated, t.resolved`;
type TicketModelRow = Omit<Ticket, 'labels' | 'siteUrl'> & { labels: string; site: string };
const toTicketModel = ({ site, ...row }: TicketModelRow): Ticket => ({ ...row, labels: JSON.parse(row.labels) as string[], siteUrl: siteUrlOf(site) });

/** The member tickets of a request type (by type id) or a label group (by lower-case label), oldest first. */
export function listGroupMembers(db: Db, kind: 'type' | 'label', value: string): Ticket[] {
  const join = kind === 'type' ? 'JOIN ticket_groups m ON m.ticket_id = t.id WHERE m.type_id = ?' : 'JOIN ticket_labels m ON m.ticket_id = t.id WHERE m.label = ?';
  const rows = statement(db, `SELECT ${TICKET_AS_MODEL} FROM tickets t ${join} ORDER BY t.created, t.key`).all(value) as TicketModelRow[];
  return rows.map(toTicketModel);
}

/**
 * (backtest) Stored ticket snapshots created in `[from, to)` (epoch ms; `from` null = from the start, and then tickets
 * with no created time too), oldest first; with `typeId`, only members of that request type (`ticket_groups.type_id`,
 * e.g. `type:cb36f4e746e4`, as `deflect group` / the report's `id` name it).
 */
export function listTicketsCreatedIn(db: Db, window: { from: number | null; to: number }, typeId: string | null = null): Ticket[] {
  const join = typeId === null ? '' : 'JOIN ticket_groups m ON m.ticket_id = t.id AND m.type_id = @typeId';
  const when = window.from === null ? '(t.created IS NULL OR t.created < @to)' : 't.created >= @from AND t.created < @to';
  const rows = statement(db, `SELECT ${TICKET_AS_MODEL} FROM tickets t ${join} WHERE ${when} ORDER BY t.created, t.key`)
    .all({ from: window.from, to: window.to, typeId }) as TicketModelRow[];
  return rows.map(toTicketModel);
}

/** The site URL of a stored `tickets.site` (`acme.atlassian.net`, `linear.app/acme`), or null when unknown. */
export const siteUrlOf = (site: string): string | null => (site ? `https://${site}` : null);
