/**
 * Where a tracker's reconcile window starts (GitHub, Trello): the time given, else the newest delivery stored from that
 * tracker minus an overlap (deliveries arrive out of order, and a webhook received just before may describe a change
 * made earlier than one that never arrived).
 */
import type { Store } from '../db/store.js';

/** How far before the newest stored delivery the default window starts, ms. */
export const DEFAULT_OVERLAP_MS = 10 * 60_000;

/** What a windowed reconcile found: items checked, already current, skipped (settling, unparsable), and the missed ones. */
export interface WindowedReconcileResult<Missed> {
  /** Window start used, ms. */
  since: number;
  scanned: number;
  upToDate: number;
  skipped: number;
  missed: Missed[];
}

/**
 * The window start, ms.
 * @throws Error naming the tracker when no time is given and none of its deliveries is stored yet.
 */
export async function reconcileWindowStart(db: Store, tracker: { name: string; title: string }, since: number | null | undefined): Promise<number> {
  if (since != null) return since;
  const newest = await db.newestDeliveryAt(tracker.name);
  if (newest === null) throw new Error(`no ${tracker.title} delivery is stored yet: give the window start (--since)`);
  return newest - DEFAULT_OVERLAP_MS;
}
