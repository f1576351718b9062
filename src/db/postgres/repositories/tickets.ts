/**
 * PostgreSQL twin of `../../tickets.ts` (the reference: same rows written, same stale answers, same order).
 *
 * Where the SQL differs, and why:
 * - `upsertTickets` reads the stored snapshot, decides whether the new one is older, then writes (and may adopt a
 *   site-less row: copy, move labels and group, delete). SQLite's single writer makes that read-then-write safe;
 *   on PostgreSQL two replicas could both read the old row and the older snapshot could win. So the batch runs in
 *   `pg.transaction` and first takes a **transaction advisory lock per issue id** (`lockAll` of the deliveries twin,
 *   namespace `ticket`, all keys sorted, one statement): every row the snapshot can touch (its own, the site-less row
 *   of that issue id, the most recent row of that issue id) has that issue id, so writers of one ticket queue up and
 *   each reads what the previous one committed (READ COMMITTED: a new snapshot per statement). A row lock
 *   (`FOR UPDATE`) would not do: it cannot lock a row that does not exist yet.
 *   https://www.postgresql.org/docs/15/explicit-locking.html#ADVISORY-LOCKS
 * - `ticket_labels` are inserted in one statement per ticket (`unnest($2::text[])`, `ON CONFLICT DO NOTHING` for
 *   SQLite's `INSERT OR IGNORE`) instead of one per label.
 * - Ordering: SQLite sorts NULL first in ascending order and compares text bytewise; PostgreSQL puts NULLs last and
 *   uses the database collation, so `ORDER BY t.created, t.key` → `t.created NULLS FIRST, t.key COLLATE "C"`.
 *   https://www.postgresql.org/docs/15/queries-order.html
 * - `findTicketByKey`'s `ORDER BY site = ? DESC` works as is (`true` sorts after `false`); `labelSizes` gets an
 *   explicit `ORDER BY label COLLATE "C"` for the order SQLite's GROUP BY (over its label index) gives.
 * - Ties SQLite breaks by rowid (insertion order), which PostgreSQL does not have — two rows of one issue id or key
 *   recorded at the same ms, two members with the same created time and key — are broken by `id COLLATE "C"` here.
 * - Column aliases are quoted (`AS "issueId"`): PostgreSQL folds unquoted names to lower case.
 */
import type { Ticket } from '../../../ticket.js';
import type { TicketRow } from '../../schema.js';
import type { Repositories } from '../../store.js';
import { isOlder, siteHostOf, siteUrlOf, ticketRowId } from '../../tickets.js';
import type { PgSession } from '../pg-session.js';
import { lockAll, lockKey } from './deliveries.js';

const TICKET_COLUMNS = `tracker, issue_id, site, key, project, issue_type, status, labels, summary, description, reporter, reporter_id,
  created, updated, resolved, origin, last_event_at, recorded_at`;

const UPSERT = `
  INSERT INTO tickets (id, tracker, issue_id, site, key, project, issue_type, status, labels, summary, description, reporter, reporter_id,
                       created, updated, resolved, origin, last_event_at, recorded_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, COALESCE($9::text, '[]'), $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
  ON CONFLICT (id) DO UPDATE SET
    issue_id = excluded.issue_id,
    site = excluded.site,
    key = excluded.key,
    project = COALESCE(excluded.project, tickets.project),
    issue_type = COALESCE(excluded.issue_type, tickets.issue_type),
    status = COALESCE(excluded.status, tickets.status),
    labels = COALESCE($9::text, tickets.labels),
    summary = COALESCE(excluded.summary, tickets.summary),
    description = COALESCE(excluded.description, tickets.description),
    reporter = COALESCE(excluded.reporter, tickets.reporter),
    reporter_id = COALESCE(excluded.reporter_id, tickets.reporter_id),
    created = COALESCE(excluded.created, tickets.created),
    updated = COALESCE(excluded.updated, tickets.updated),
    resolved = excluded.resolved,
    origin = excluded.origin,
    last_event_at = COALESCE(excluded.last_event_at, tickets.last_event_at),
    recorded_at = excluded.recorded_at`;

const COPY_ROW = `INSERT INTO tickets (id, ${TICKET_COLUMNS})
  SELECT $1::text, tracker, issue_id, $2::text, ${TICKET_COLUMNS.replace('tracker, issue_id, site, ', '')} FROM tickets WHERE id = $3`;

const TICKET_AS_MODEL = `t.tracker, CASE WHEN t.issue_id != '' THEN t.issue_id ELSE t.id END AS id, t.site, t.key, t.project, t.issue_type AS "issueType",
  t.status, t.labels, t.summary, t.description, t.reporter, t.reporter_id AS "reporterId", t.created, t.updated, t.resolved`;
const MODEL_ORDER = 'ORDER BY t.created NULLS FIRST, t.key COLLATE "C", t.id COLLATE "C"';
type TicketModelRow = Omit<Ticket, 'labels' | 'siteUrl'> & { labels: string; site: string };
const toTicketModel = ({ site, ...row }: TicketModelRow): Ticket => ({ ...row, labels: JSON.parse(row.labels) as string[], siteUrl: siteUrlOf(site) });

type StoredRow = { id: string; updated: number | null; lastEventAt: number | null };

export const tickets = (pg: PgSession): Repositories['tickets'] => {
  const select = async (id: string) =>
    (await pg.query<StoredRow>('SELECT id, updated, last_event_at AS "lastEventAt" FROM tickets WHERE id = $1', [id]))[0];

  /** The row this snapshot goes to (and what it holds), adopting a site-less row first when there is one. */
  const placeRow = async (ticket: Ticket, defaultSiteUrl: string | null): Promise<{ row: { id: string; site: string }; stored: StoredRow | undefined }> => {
    const row = ticketRowId(ticket, defaultSiteUrl);
    const found = await select(row.id);
    if (found) return { row, stored: found };
    if ((ticket.tracker ?? 'jira') !== 'jira') return { row, stored: undefined };
    if (row.site) {
      const [siteless] = await pg.query("SELECT id FROM tickets WHERE id = $1 AND site = ''", [ticket.id]);
      if (siteless) {
        await pg.execute(COPY_ROW, [row.id, row.site, ticket.id]);
        await pg.execute('UPDATE ticket_labels SET ticket_id = $1 WHERE ticket_id = $2', [row.id, ticket.id]);
        await pg.execute('UPDATE ticket_groups SET ticket_id = $1 WHERE ticket_id = $2', [row.id, ticket.id]);
        await pg.execute('DELETE FROM tickets WHERE id = $1', [ticket.id]);
        return { row, stored: await select(row.id) };
      }
      return { row, stored: undefined };
    }
    const [known] = await pg.query<{ id: string; site: string }>(
      'SELECT id, site FROM tickets WHERE issue_id = $1 ORDER BY recorded_at DESC, id COLLATE "C" LIMIT 1',
      [ticket.id],
    );
    return known ? { row: known, stored: await select(known.id) } : { row, stored: undefined };
  };

  return {
    upsertTickets: (snapshots, origin, now = Date.now(), options = {}) =>
      pg.transaction(async () => {
        await lockAll(pg, snapshots.map(({ ticket }) => lockKey('ticket', ticket.id)));
        let written = 0;
        let stale = 0;
        for (const { ticket, eventAt } of snapshots) {
          const { row, stored } = await placeRow(ticket, options.defaultSiteUrl ?? null);
          if (stored && isOlder(ticket, eventAt ?? null, stored)) {
            stale++;
            continue;
          }
          await pg.execute(UPSERT, [
            row.id, ticket.tracker ?? 'jira', ticket.id, row.site, ticket.key, ticket.project, ticket.issueType, ticket.status,
            ticket.labels === null ? null : JSON.stringify(ticket.labels), ticket.summary, ticket.description, ticket.reporter,
            ticket.reporterId, ticket.created, ticket.updated, ticket.resolved, origin, eventAt ?? null, now,
          ]);
          if (ticket.labels !== null) {
            await pg.execute('DELETE FROM ticket_labels WHERE ticket_id = $1', [row.id]);
            const labels = [...new Set(ticket.labels.map((l) => l.toLowerCase()))];
            if (labels.length > 0) {
              await pg.execute(
                `INSERT INTO ticket_labels (ticket_id, label, created)
                 SELECT $1::text, label, (SELECT created FROM tickets WHERE id = $1::text) FROM unnest($2::text[]) AS label
                 ON CONFLICT DO NOTHING`,
                [row.id, labels],
              );
            }
          } else if (ticket.created !== null) {
            await pg.execute('UPDATE ticket_labels SET created = $1 WHERE ticket_id = $2', [ticket.created, row.id]);
          }
          if (ticket.created !== null) await pg.execute('UPDATE ticket_groups SET created = $1 WHERE ticket_id = $2', [ticket.created, row.id]);
          written++;
        }
        return { written, stale };
      }),

    findTicketByKey: async (key, siteUrl = null) => {
      const [row] = await pg.query<TicketRow>(
        `SELECT id, tracker, issue_id AS "issueId", site, key, project, issue_type AS "issueType", status, labels, summary, description,
                reporter, reporter_id AS "reporterId", created, updated, resolved, origin, last_event_at AS "lastEventAt", recorded_at AS "recordedAt"
         FROM tickets WHERE key = $1 ORDER BY site = $2 DESC, recorded_at DESC, id COLLATE "C" LIMIT 1`,
        [key, siteHostOf(siteUrl) ?? ''],
      );
      return row ? { ...row, labels: JSON.parse(row.labels) as string[] } : undefined;
    },

    labelSizes: async () => {
      const rows = await pg.query<{ label: string; size: number }>('SELECT label, count(*) AS size FROM ticket_labels GROUP BY label ORDER BY label COLLATE "C"');
      return new Map(rows.map((row) => [row.label, row.size]));
    },

    listGroupMembers: async (kind, value) => {
      const join = kind === 'type' ? 'JOIN ticket_groups m ON m.ticket_id = t.id WHERE m.type_id = $1' : 'JOIN ticket_labels m ON m.ticket_id = t.id WHERE m.label = $1';
      const rows = await pg.query<TicketModelRow>(`SELECT ${TICKET_AS_MODEL} FROM tickets t ${join} ${MODEL_ORDER}`, [value]);
      return rows.map(toTicketModel);
    },

    listTicketsCreatedIn: async (window, typeId = null) => {
      const params: unknown[] = [window.to];
      const join = typeId === null ? '' : `JOIN ticket_groups m ON m.ticket_id = t.id AND m.type_id = $${params.push(typeId)}`;
      const when = window.from === null ? '(t.created IS NULL OR t.created < $1)' : `t.created >= $${params.push(window.from)} AND t.created < $1`;
      const rows = await pg.query<TicketModelRow>(`SELECT ${TICKET_AS_MODEL} FROM tickets t ${join} WHERE ${when} ${MODEL_ORDER}`, params);
      return rows.map(toTicketModel);
    },
  };
};
