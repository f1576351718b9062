/**
 * PostgreSQL twin of `../../text-groups.ts` (the stored text grouping: `request_types`, `request_variants`,
 * `ticket_groups`). Where it differs from SQLite, and why:
 * - **saveGrouping** runs in `pg.transaction` (a savepoint inside an open one), as SQLite's `db.transaction`, and first
 *   takes a transaction advisory lock (`pg_advisory_xact_lock`, key {@link GROUPING_LOCK_KEY}): SQLite's single writer
 *   kept two regroupings from interleaving; here two replicas' DELETE … INSERTs would otherwise both delete the old
 *   rows and both insert theirs (a duplicate-key failure on `request_types`). With the lock the second waits, then
 *   replaces the first's grouping whole. Readers never wait (MVCC): they see the old grouping until the commit.
 *   https://www.postgresql.org/docs/15/explicit-locking.html#ADVISORY-LOCKS
 * - Rows are written in multi-row statements (`INSERT … SELECT FROM unnest($1::text[], …)`, up to {@link BATCH} rows):
 *   one round trip per batch instead of per row. `INSERT OR REPLACE` into `ticket_groups` (after the table was emptied
 *   it only replaces an earlier assignment of the same ticket id in the same call) → the assignments are de-duplicated
 *   by ticket id first, the last one winning as on SQLite (one statement cannot update a row twice).
 * - **groupingMeta**: SQLite's `SELECT algorithm, max(computed_at), count(*)` takes the bare `algorithm` from the row
 *   holding the max (https://www.sqlite.org/lang_select.html#bareagg); here it is a subquery ordered by `computed_at
 *   DESC` (ties: any one, as on SQLite).
 * - Orders on text say `COLLATE "C"` (SQLite's BINARY); `memberVariants` reads in the order SQLite's
 *   `ticket_groups_type_idx` gives (created, NULL first, then ticket id), so for a key shared by two tickets the
 *   same one wins the Map. `json_each(?)` → `= ANY($1::text[])`, ordered by id as SQLite's `IN (SELECT …)` visits them.
 */
import type { TicketAssignment } from '../../../grouping/grouping-contract.js';
import { ticketGroupOf, type TicketGroupRow } from '../../text-groups.js';
import type { Repositories } from '../../store.js';
import type { PgSession } from '../pg-session.js';

/** Advisory lock held while a grouping is replaced: "deflectG" as a 64-bit integer. */
export const GROUPING_LOCK_KEY = BigInt('0x6465666c65637447').toString();
/** Rows per multi-row INSERT. */
const BATCH = 5_000;

/** Twin of the SQLite `text-groups.ts` (see the module comment). */
export const textGroups = (pg: PgSession): Repositories['textGroups'] => ({
  saveGrouping: async (grouping, idsByKey, computedAt = Date.now()) => {
    const types = grouping.types;
    const variants = types.flatMap((t) => t.variants.map((v) => ({ ...v, typeId: t.id })));
    const assignments = new Map<string, TicketAssignment>();
    for (const [key, a] of grouping.assignments) {
      const ticketId = idsByKey.get(key);
      if (ticketId !== undefined) assignments.set(ticketId, a);
    }
    const assigned = [...assignments];
    await pg.transaction(async () => {
      await pg.query('SELECT pg_advisory_xact_lock($1::bigint)', [GROUPING_LOCK_KEY]);
      await pg.execute('DELETE FROM ticket_groups');
      await pg.execute('DELETE FROM request_variants');
      await pg.execute('DELETE FROM request_types');
      for (let i = 0; i < types.length; i += BATCH) {
        const batch = types.slice(i, i + BATCH);
        await pg.execute(
          `INSERT INTO request_types (id, algorithm, name, key_words, size, labels, dominant_label, example_keys, computed_at)
           SELECT id, $1, name, key_words, size, labels, dominant_label, example_keys, $2
           FROM unnest($3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[]) AS x(id, name, key_words, size, labels, dominant_label, example_keys)`,
          [
            grouping.algorithm,
            computedAt,
            batch.map((t) => t.id),
            batch.map((t) => t.name),
            batch.map((t) => JSON.stringify(t.keyWords)),
            batch.map((t) => t.count),
            batch.map((t) => JSON.stringify(t.labels)),
            batch.map((t) => t.dominantLabel),
            batch.map((t) => JSON.stringify(t.exampleKeys)),
          ],
        );
      }
      for (let i = 0; i < variants.length; i += BATCH) {
        const batch = variants.slice(i, i + BATCH);
        await pg.execute(
          `INSERT INTO request_variants (id, type_id, algorithm, template, size, computed_at)
           SELECT id, type_id, $1, template, size, $2 FROM unnest($3::text[], $4::text[], $5::text[], $6::bigint[]) AS x(id, type_id, template, size)`,
          [grouping.algorithm, computedAt, batch.map((v) => v.id), batch.map((v) => v.typeId), batch.map((v) => v.template), batch.map((v) => v.count)],
        );
      }
      for (let i = 0; i < assigned.length; i += BATCH) {
        const batch = assigned.slice(i, i + BATCH);
        await pg.execute(
          `INSERT INTO ticket_groups (ticket_id, type_id, variant_id, algorithm, reason, deciding_words, nearest, computed_at, created)
           SELECT x.ticket_id, x.type_id, x.variant_id, $1, x.reason, x.deciding_words, x.nearest, $2, (SELECT created FROM tickets WHERE id = x.ticket_id)
           FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) AS x(ticket_id, type_id, variant_id, reason, deciding_words, nearest)`,
          [
            grouping.algorithm,
            computedAt,
            batch.map(([id]) => id),
            batch.map(([, a]) => a.typeId),
            batch.map(([, a]) => a.variantId),
            batch.map(([, a]) => a.reason),
            batch.map(([, a]) => JSON.stringify(a.decidingWords)),
            batch.map(([, a]) => (a.nearest ? JSON.stringify(a.nearest) : null)),
          ],
        );
      }
    });
  },

  groupingMeta: async () => {
    const [types] = await pg.query<{ algorithm: string | null; computedAt: number | null; n: number }>(
      `SELECT (SELECT algorithm FROM request_types ORDER BY computed_at DESC LIMIT 1) AS algorithm, max(computed_at) AS "computedAt", count(*) AS n FROM request_types`,
    );
    const [assigned] = await pg.query<{ algorithm: string; computedAt: number }>('SELECT algorithm, computed_at AS "computedAt" FROM ticket_groups LIMIT 1');
    const algorithm = assigned?.algorithm ?? types.algorithm;
    const computedAt = assigned?.computedAt ?? types.computedAt;
    const [since] =
      computedAt === null
        ? await pg.query<{ n: number }>('SELECT count(*) AS n FROM tickets')
        : await pg.query<{ n: number }>('SELECT count(*) AS n FROM tickets WHERE recorded_at > $1', [computedAt]);
    return { algorithm, computedAt, ticketsSince: since.n, types: types.n };
  },

  findTicketGroup: async (key) => {
    const [row] = await pg.query<TicketGroupRow>(
      `SELECT t.id AS "ticketId", t.summary, g.algorithm, g.reason, g.deciding_words AS "decidingWords", g.nearest,
              g.type_id AS "typeId", rt.name AS "typeName", rt.size AS "typeSize",
              g.variant_id AS "variantId", rv.template AS "variantTemplate", rv.size AS "variantSize"
       FROM tickets t JOIN ticket_groups g ON g.ticket_id = t.id
       LEFT JOIN request_types rt ON rt.id = g.type_id LEFT JOIN request_variants rv ON rv.id = g.variant_id
       WHERE t.key = $1 ORDER BY t.recorded_at DESC LIMIT 1`,
      [key],
    );
    return row ? ticketGroupOf(row) : undefined;
  },

  listRequestTypes: async () =>
    pg.query('SELECT id, name, size, algorithm, dominant_label AS "dominantLabel" FROM request_types ORDER BY size DESC, id COLLATE "C"'),

  listVariants: async (typeIds) => {
    if (typeIds === undefined) {
      return pg.query('SELECT id, type_id AS "typeId", template, size FROM request_variants ORDER BY type_id COLLATE "C", size DESC, id COLLATE "C"');
    }
    return pg.query(
      'SELECT id, type_id AS "typeId", template, size FROM request_variants WHERE type_id = ANY($1::text[]) ORDER BY type_id COLLATE "C", size DESC, id COLLATE "C"',
      [[...typeIds]],
    );
  },

  variantTemplates: async (ids) => {
    if (ids.length === 0) return new Map();
    const rows = await pg.query<{ id: string; template: string }>('SELECT id, template FROM request_variants WHERE id = ANY($1::text[]) ORDER BY id COLLATE "C"', [[...ids]]);
    return new Map(rows.map((r) => [r.id, r.template]));
  },

  memberVariants: async (typeId) => {
    const rows = await pg.query<{ key: string; variantId: string | null }>(
      'SELECT t.key, g.variant_id AS "variantId" FROM ticket_groups g JOIN tickets t ON t.id = g.ticket_id WHERE g.type_id = $1 ORDER BY g.created NULLS FIRST, g.ticket_id COLLATE "C"',
      [typeId],
    );
    return new Map(rows.map((r) => [r.key, r.variantId]));
  },
});
