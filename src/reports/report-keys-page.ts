/**
 * A page of one report row's member keys: what `GET /api/reports/top-tickets/groups/:id/keys` answers (format and
 * cursors: report-keys.ts). The first page (no cursor) finds the row in the report the parameters ask for; later
 * pages continue from their cursor alone, so a listing reads one fixed set of tickets however long it takes.
 */
import type { Store } from '../db/store.js';
import { type KeyPosition, type MemberSource, type ReportScope } from '../db/report-queries.js';
import { encodeKeysCursor, keyFields, keysPagePath, listMembers, type KeysCursor } from './report-keys.js';
import type { TicketLink } from './report-types.js';
import { findReportRow, type ReportContext, type ReportOptions } from './top-tickets-report.js';

/** `{ id, keyCount, keys, links, variants: [{ id, keys }], next }`: `next` is the path of the next page, or null. */
export interface ReportKeysPage {
  id: string;
  keyCount: number;
  keys: string[];
  links: TicketLink[];
  variants: Array<{ id: string | null; keys: string[] }>;
  next: string | null;
}

/**
 * The page of row `id` after `cursor` (or its first page, of the report `options` asks for), at most `limit` keys.
 * @returns null when there is no cursor and no row `id` in that report (the route's 404).
 */
export async function buildKeysPage(
  db: Store,
  context: ReportContext,
  request: { id: string; cursor: KeysCursor | null; options: ReportOptions; limit: number },
): Promise<ReportKeysPage | null> {
  return await db.snapshot(async () => {
    let listing: { scope: ReportScope; source: MemberSource; keyCount: number; after: KeyPosition | null };
    if (request.cursor) {
      listing = request.cursor;
    } else {
      const row = await findReportRow(db, request.options, context, request.id);
      if (!row) return null;
      listing = { scope: row.scope, source: row.source, keyCount: row.count, after: null };
    }
    // One more than asked tells whether a next page exists.
    const members = await db.memberKeys(listing.scope, listing.source, listing.after, request.limit + 1);
    const page = members.slice(0, request.limit);
    const templates = await db.variantTemplates([...new Set(page.flatMap((m) => (m.variantId ? [m.variantId] : [])))]);
    const listed = listMembers(page, templates, context.jiraBaseUrl);
    const variantIds = [...new Set(listed.map((m) => m.variantId))];
    const fields = keyFields(listed, variantIds.map((id) => ({ id, template: '', count: 0, keys: [] })));
    const last = page.at(-1);
    return {
      id: request.id,
      keyCount: listing.keyCount,
      keys: fields.keys,
      links: fields.links,
      variants: fields.variants.map((v) => ({ id: v.id, keys: v.keys })),
      next:
        members.length > request.limit && last
          ? keysPagePath(request.id, encodeKeysCursor({ group: request.id, scope: listing.scope, source: listing.source, keyCount: listing.keyCount, after: last }))
          : null,
    };
  });
}
