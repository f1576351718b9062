/**
 * Recomputes the stored text grouping over every ticket in the database (`deflect group`, and after imports).
 */
import type { Db } from '../db/client.js';
import { saveGrouping } from '../db/text-groups.js';
import { groupTickets } from '../grouping/group-tickets.js';
import type { Grouping } from '../grouping/grouping-contract.js';

export interface RegroupResult {
  tickets: number;
  /** Request types found (2 tickets or more each). */
  types: number;
  /** Variants (wordings) across those types. */
  variants: number;
  /** Tickets that fall into a request type. */
  grouped: number;
  algorithm: string;
  /** Wall time, ms. */
  ms: number;
  grouping: Grouping;
}

/** Groups all tickets by text into request types and their variants, and stores the result (replacing the previous grouping) in one transaction. */
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
    types: grouping.types.length,
    variants: grouping.types.reduce((n, t) => n + t.variants.length, 0),
    grouped: grouping.types.reduce((n, t) => n + t.count, 0),
    algorithm: grouping.algorithm,
    ms: Math.round(performance.now() - started),
    grouping,
  };
}
