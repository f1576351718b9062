/**
 * The stored text grouping (tables `text_groups` and `ticket_groups`): which repeated request type each ticket fell
 * into and why, computed by `src/grouping/group-tickets.ts` and stored with the algorithm version, so a report never
 * silently reinterprets tickets when the algorithm changes (`deflect group` recomputes explicitly).
 */
import type { Grouping } from '../grouping/group-tickets.js';
import type { Db } from './client.js';
import { statement } from './statements.js';

export interface StoredGroupingMeta {
  /** Algorithm of the stored grouping, e.g. `text-v1`; null when nothing was grouped yet. */
  algorithm: string | null;
  /** When it was computed, ms; null when never. */
  computedAt: number | null;
  /** Tickets recorded (imported or received) after it was computed. */
  ticketsSince: number;
  groups: number;
}

/** Replaces the stored grouping with `grouping` in one transaction. */
export function saveGrouping(db: Db, grouping: Grouping, idsByKey: ReadonlyMap<string, string>, computedAt = Date.now()): void {
  const sqlite = db.$client;
  const insertGroup = statement(db,
    'INSERT INTO text_groups (id, algorithm, template, signature, size, computed_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const insertAssignment = statement(db,
    `INSERT OR REPLACE INTO ticket_groups (ticket_id, group_id, algorithm, reason, computed_at, created)
     VALUES (@ticketId, @groupId, @algorithm, @reason, @computedAt, (SELECT created FROM tickets WHERE id = @ticketId))`,
  );
  sqlite.transaction(() => {
    statement(db, 'DELETE FROM ticket_groups').run();
    statement(db, 'DELETE FROM text_groups').run();
    for (const g of grouping.groups) {
      insertGroup.run(g.id, grouping.algorithm, g.template, JSON.stringify(g.signature), g.count, computedAt);
    }
    for (const [key, assignment] of grouping.assignments) {
      const id = idsByKey.get(key);
      if (id !== undefined) {
        insertAssignment.run({ ticketId: id, groupId: assignment.groupId, algorithm: grouping.algorithm, reason: assignment.reason, computedAt });
      }
    }
  })();
}

/** What the stored grouping is and how stale it is. */
export function groupingMeta(db: Db): StoredGroupingMeta {
  const row = statement(db, 'SELECT algorithm, max(computed_at) AS computedAt, count(*) AS groups FROM text_groups').get() as {
    algorithm: string | null;
    computedAt: number | null;
    groups: number;
  };
  const assigned = statement(db, 'SELECT algorithm, max(computed_at) AS computedAt FROM ticket_groups').get() as {
    algorithm: string | null;
    computedAt: number | null;
  };
  const computedAt = row.computedAt ?? assigned.computedAt;
  const ticketsSince =
    computedAt === null
      ? (statement(db, 'SELECT count(*) AS n FROM tickets').get() as { n: number }).n
      : (statement(db, 'SELECT count(*) AS n FROM tickets WHERE recorded_at > ?').get(computedAt) as { n: number }).n;
  return { algorithm: row.algorithm ?? assigned.algorithm, computedAt, ticketsSince, groups: row.groups };
}

/** The stored assignment of one ticket (by issue key), with its group's template, or undefined. */
export function findTicketGroup(
  db: Db,
  key: string,
): { ticketId: string; summary: string | null; groupId: string | null; template: string | null; size: number | null; algorithm: string; reason: string } | undefined {
  return statement(db,
      `SELECT t.id AS ticketId, t.summary, g.group_id AS groupId, tg.template, tg.size, g.algorithm, g.reason
       FROM tickets t JOIN ticket_groups g ON g.ticket_id = t.id LEFT JOIN text_groups tg ON tg.id = g.group_id
       WHERE t.key = ? ORDER BY t.recorded_at DESC LIMIT 1`,
    )
    .get(key) as never;
}

/** Every stored text group with its template and size, largest first. */
export function listTextGroups(db: Db): Array<{ id: string; template: string; size: number; algorithm: string }> {
  return statement(db, 'SELECT id, template, size, algorithm FROM text_groups ORDER BY size DESC, id').all() as never;
}
