/**
 * The stored text grouping (tables `request_types`, `request_variants`, `ticket_groups`): which request type and
 * which variant (wording) of it each ticket fell into and why, computed by `src/grouping/group-tickets.ts` (shapes:
 * `src/grouping/grouping-contract.ts`) and stored with the algorithm version, so a report never silently
 * reinterprets tickets when the algorithm changes (`deflect group` recomputes explicitly). Rows a `text-v1` grouping
 * left behind keep their algorithm and carry no type: readers report them as stale.
 */
import type { Grouping } from '../grouping/grouping-contract.js';
import type { Db } from './client.js';
import { statement } from './statements.js';

export interface StoredGroupingMeta {
  /** Algorithm of the stored grouping, e.g. `text-v2`; null when nothing was grouped yet. */
  algorithm: string | null;
  /** When it was computed, ms; null when never. */
  computedAt: number | null;
  /** Tickets recorded (imported or received) after it was computed. */
  ticketsSince: number;
  /** Request types stored. */
  types: number;
}

/** A stored request type (all-time sizes, as computed). */
export interface StoredRequestType {
  id: string;
  name: string;
  size: number;
  algorithm: string;
  dominantLabel: string | null;
}

/** A stored variant of a request type. */
export interface StoredVariant {
  id: string;
  typeId: string;
  template: string;
  size: number;
}

/** One ticket's stored assignment, with the names of its type and variant (what `deflect explain` prints). */
export interface StoredTicketGroup {
  ticketId: string;
  summary: string | null;
  algorithm: string;
  reason: string;
  decidingWords: string[];
  type: { id: string; name: string; size: number } | null;
  variant: { id: string; template: string; size: number } | null;
  /** Singleton only: the nearest type and why it did not join. */
  nearest: { typeId: string; name: string; similarity: number; why: string } | null;
}

/**
 * Replaces the stored grouping with `grouping` in one transaction. `idsByKey` maps issue keys to ticket ids; keys
 * without an id are skipped.
 */
export function saveGrouping(db: Db, grouping: Grouping, idsByKey: ReadonlyMap<string, string>, computedAt = Date.now()): void {
  const insertType = statement(db,
    `INSERT INTO request_types (id, algorithm, name, key_words, size, labels, dominant_label, example_keys, computed_at)
     VALUES (@id, @algorithm, @name, @keyWords, @size, @labels, @dominantLabel, @exampleKeys, @computedAt)`,
  );
  const insertVariant = statement(db,
    'INSERT INTO request_variants (id, type_id, algorithm, template, size, computed_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const insertAssignment = statement(db,
    `INSERT OR REPLACE INTO ticket_groups (ticket_id, type_id, variant_id, algorithm, reason, deciding_words, nearest, computed_at, created)
     VALUES (@ticketId, @typeId, @variantId, @algorithm, @reason, @decidingWords, @nearest, @computedAt,
             (SELECT created FROM tickets WHERE id = @ticketId))`,
  );
  db.$client.transaction(() => {
    statement(db, 'DELETE FROM ticket_groups').run();
    statement(db, 'DELETE FROM request_variants').run();
    statement(db, 'DELETE FROM request_types').run();
    for (const t of grouping.types) {
      insertType.run({
        id: t.id,
        algorithm: grouping.algorithm,
        name: t.name,
        keyWords: JSON.stringify(t.keyWords),
        size: t.count,
        labels: JSON.stringify(t.labels),
        dominantLabel: t.dominantLabel,
        exampleKeys: JSON.stringify(t.exampleKeys),
        computedAt,
      });
      for (const v of t.variants) insertVariant.run(v.id, t.id, grouping.algorithm, v.template, v.count, computedAt);
    }
    for (const [key, a] of grouping.assignments) {
      const ticketId = idsByKey.get(key);
      if (ticketId === undefined) continue;
      insertAssignment.run({
        ticketId,
        typeId: a.typeId,
        variantId: a.variantId,
        algorithm: grouping.algorithm,
        reason: a.reason,
        decidingWords: JSON.stringify(a.decidingWords),
        nearest: a.nearest ? JSON.stringify(a.nearest) : null,
        computedAt,
      });
    }
  })();
}

/** What the stored grouping is and how stale it is. Reads the small `request_types` table, then one assignment row. */
export function groupingMeta(db: Db): StoredGroupingMeta {
  const types = statement(db, 'SELECT algorithm, max(computed_at) AS computedAt, count(*) AS n FROM request_types').get() as {
    algorithm: string | null;
    computedAt: number | null;
    n: number;
  };
  // All assignments of one grouping share its algorithm and time: one row tells (a text-v1 grouping has no types).
  const assigned = statement(db, 'SELECT algorithm, computed_at AS computedAt FROM ticket_groups LIMIT 1').get() as
    | { algorithm: string; computedAt: number }
    | undefined;
  const algorithm = assigned?.algorithm ?? types.algorithm;
  const computedAt = assigned?.computedAt ?? types.computedAt;
  const ticketsSince =
    computedAt === null
      ? (statement(db, 'SELECT count(*) AS n FROM tickets').get() as { n: number }).n
      : (statement(db, 'SELECT count(*) AS n FROM tickets WHERE recorded_at > ?').get(computedAt) as { n: number }).n;
  return { algorithm, computedAt, ticketsSince, types: types.n };
}

const parseList = (text: string | null): string[] => {
  try {
    const value: unknown = JSON.parse(text ?? '[]');
    return Array.isArray(value) ? value.map(String) : [];
  } catch {
    return [];
  }
};

/** The stored assignment of one ticket (by issue key; the most recently recorded ticket of that key), or undefined. */
export function findTicketGroup(db: Db, key: string): StoredTicketGroup | undefined {
  const row = statement(db,
    `SELECT t.id AS ticketId, t.summary, g.algorithm, g.reason, g.deciding_words AS decidingWords, g.nearest,
            g.type_id AS typeId, rt.name AS typeName, rt.size AS typeSize,
            g.variant_id AS variantId, rv.template AS variantTemplate, rv.size AS variantSize
     FROM tickets t JOIN ticket_groups g ON g.ticket_id = t.id
     LEFT JOIN request_types rt ON rt.id = g.type_id LEFT JOIN request_variants rv ON rv.id = g.variant_id
     WHERE t.key = ? ORDER BY t.recorded_at DESC LIMIT 1`,
  ).get(key) as
    | TicketGroupRow
    | undefined;
  return row ? ticketGroupOf(row) : undefined;
}

/** The columns `findTicketGroup` reads (JSON lists as text), on either backend. */
export interface TicketGroupRow {
  ticketId: string; summary: string | null; algorithm: string; reason: string; decidingWords: string | null; nearest: string | null;
  typeId: string | null; typeName: string | null; typeSize: number | null; variantId: string | null; variantTemplate: string | null; variantSize: number | null;
}

/** A {@link TicketGroupRow} as the Store answers it (lists parsed; unreadable JSON as empty). Shared with the PostgreSQL twin. */
export function ticketGroupOf(row: TicketGroupRow): StoredTicketGroup {
  let nearest: StoredTicketGroup['nearest'] = null;
  try {
    nearest = row.nearest ? (JSON.parse(row.nearest) as StoredTicketGroup['nearest']) : null;
  } catch {
    nearest = null;
  }
  return {
    ticketId: row.ticketId,
    summary: row.summary,
    algorithm: row.algorithm,
    reason: row.reason,
    decidingWords: parseList(row.decidingWords),
    type: row.typeId && row.typeName !== null ? { id: row.typeId, name: row.typeName, size: row.typeSize ?? 0 } : null,
    variant: row.variantId && row.variantTemplate !== null ? { id: row.variantId, template: row.variantTemplate, size: row.variantSize ?? 0 } : null,
    nearest,
  };
}

/** Every stored request type, largest first. */
export function listRequestTypes(db: Db): StoredRequestType[] {
  return statement(db,
    'SELECT id, name, size, algorithm, dominant_label AS dominantLabel FROM request_types ORDER BY size DESC, id',
  ).all() as StoredRequestType[];
}

/** The stored variants of the given types (all when `typeIds` is omitted), largest first within a type. */
export function listVariants(db: Db, typeIds?: readonly string[]): StoredVariant[] {
  if (typeIds === undefined) {
    return statement(db, 'SELECT id, type_id AS typeId, template, size FROM request_variants ORDER BY type_id, size DESC, id').all() as StoredVariant[];
  }
  return statement(db,
    `SELECT id, type_id AS typeId, template, size FROM request_variants
     WHERE type_id IN (SELECT value FROM json_each(?)) ORDER BY type_id, size DESC, id`,
  ).all(JSON.stringify(typeIds)) as StoredVariant[];
}

/** Templates of the given variants (by id); ids not stored are absent. */
export function variantTemplates(db: Db, ids: readonly string[]): Map<string, string> {
  if (ids.length === 0) return new Map();
  const rows = statement(db, 'SELECT id, template FROM request_variants WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(ids)) as Array<{
    id: string;
    template: string;
  }>;
  return new Map(rows.map((r) => [r.id, r.template]));
}

/** Issue key → variant id, for the members of one request type. */
export function memberVariants(db: Db, typeId: string): Map<string, string | null> {
  const rows = statement(db, 'SELECT t.key, g.variant_id AS variantId FROM ticket_groups g JOIN tickets t ON t.id = g.ticket_id WHERE g.type_id = ?').all(typeId) as Array<{
    key: string;
    variantId: string | null;
  }>;
  return new Map(rows.map((r) => [r.key, r.variantId]));
}
