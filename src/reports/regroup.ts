/**
 * Recomputes the stored text grouping over every ticket in the database, of every tracker (`deflect group`, and after
 * imports): a request filed in Jira and again in GitHub or Linear lands in one request type.
 */
import type { Store } from '../db/store.js';
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

/**
 * Groups all tickets by text into request types and their variants, and stores the result (replacing the previous
 * grouping) in one transaction. Grouping keys tickets by their display key; a key two rows share (Jira's `ENG-12` and
 * Linear's `ENG-12`, or one key on two Jira sites) would count once there, so those rows are keyed by row id instead.
 */
export async function regroupTickets(db: Store, now = Date.now()): Promise<RegroupResult> {
  const started = performance.now();
  const rows = await db.listGroupableTickets();
  const uses = new Map<string, number>();
  for (const r of rows) uses.set(r.key, (uses.get(r.key) ?? 0) + 1);
  const keyOf = (r: { id: string; key: string }) => (uses.get(r.key) === 1 ? r.key : r.id);
  const grouping = groupTickets(rows.map((r) => ({ key: keyOf(r), summary: r.summary, description: r.description, labels: JSON.parse(r.labels) as string[], created: r.created })));
  await db.saveGrouping(grouping, new Map(rows.map((r) => [keyOf(r), r.id])), now);
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
