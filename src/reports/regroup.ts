/**
 * Recomputes the stored text grouping over every ticket in the database (`deflect group`, and after imports).
 */
import type { Db } from '../db/client.js';
import { saveGrouping } from '../db/text-groups.js';
import { groupTickets, type Grouping } from '../grouping/group-tickets.js';

export interface RegroupResult {
  tickets: number;
  groups: number;
  /** Tickets that fall into a repeated group. */
  grouped: number;
  algorithm: string;
  /** Wall time, ms. */
  ms: number;
  grouping: Grouping;
}

/** Groups all tickets by text and stores the result (replacing the previous grouping) in one transaction. */
export function regroupTickets(db: Db, now = Date.now()): RegroupResult {
  const started = performance.now();
  const rows = db.$client.prepare('SELECT id, key, summary, description, labels, created FROM tickets').all() as Array<{
    id: string;
    key: string;
    summary: string | null;
    description: string | null;
    labels: string;
    created: number | null;
  }>;
  const grouping = groupTickets(rows.map((r) => ({ key: r.key, summary: r.summary, description: r.description, labels: JSON.parse(r.labels) as string[], created: r.created })));
  saveGrouping(db, grouping, new Map(rows.map((r) => [r.key, r.id])), now);
  return {
    tickets: rows.length,
    groups: grouping.groups.length,
    grouped: grouping.groups.reduce((n, g) => n + g.count, 0),
    algorithm: grouping.algorithm,
    ms: Math.round(performance.now() - started),
    grouping,
  };
}
