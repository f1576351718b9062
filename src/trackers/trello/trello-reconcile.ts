/**
 * Reconciliation for Trello (`deflect reconcile --tracker trello --board ID`). Trello retries a failed delivery 3 times
 * and then drops it; what it keeps is the board's action history, and an action there is the very object a webhook
 * delivers (`action` of the body). So deflect asks for the board's card actions since the newest Trello delivery stored
 * (or a given time) — `GET /1/boards/{id}/actions?filter=createCard,updateCard,addLabelToCard,removeLabelFromCard,commentCard&since=<ISO>`,
 * newest first, pages of 1,000 with `before=<oldest action id>` (https://developer.atlassian.com/cloud/trello/rest/api-group-boards/,
 * "Get Actions of a Board") — and stores each action it has no delivery for as a `pending` delivery keyed
 * `trello:<action id>`, exactly the key its webhook would have had, in the webhook's own shape (`{ action, model }`):
 * the worker routes it like one from Trello, and a late webhook of the same action is then a duplicate (and the
 * reverse). Actions from the last `settleMs` are left alone: their webhook may still be on its way.
 */
import type { Logger } from 'pino';
import type { Store } from '../../db/store.js';
import { type NewDelivery } from '../../db/deliveries.js';
import { reconcileWindowStart, type WindowedReconcileResult } from '../reconcile-window.js';
import { InvalidEventError } from '../tracker.js';
import { seg, type TrelloClient } from './trello-client.js';
import { parseTrelloEvent } from './trello-event.js';

/** Default settle time, ms. */
export const DEFAULT_TRELLO_SETTLE_MS = 60_000;
/** The card actions reconcile asks for (what rules or the snapshot use). */
export const RECONCILED_ACTIONS = 'createCard,updateCard,addLabelToCard,removeLabelFromCard,commentCard';
const PAGE = 1000;
const MAX_PAGES = 20;

export interface TrelloReconcileOptions {
  db: Store;
  client: TrelloClient;
  /** Board ids or shortLinks. */
  boards: readonly string[];
  /** Window start, ms; absent = newest Trello delivery stored minus 10 minutes. */
  since?: number | null;
  settleMs?: number;
  dryRun?: boolean;
  logger?: Logger;
  now?: number;
}

export interface TrelloMissed {
  /** The card's display key (shortLink), or null. */
  key: string | null;
  event: string;
  actionId: string;
  why: string;
  deliveryId: number | null;
  duplicate: boolean;
}

export type TrelloReconcileResult = WindowedReconcileResult<TrelloMissed>;

/**
 * Runs one reconciliation; writes only `deliveries`.
 * @throws Error when no window start is given and no Trello delivery is stored yet; TrelloRequestError for a failed
 *   listing (404: no such board or not visible to the token), keeping what boards before it stored.
 */
export async function reconcileTrello(options: TrelloReconcileOptions): Promise<TrelloReconcileResult> {
  const now = options.now ?? Date.now();
  const settleMs = options.settleMs ?? DEFAULT_TRELLO_SETTLE_MS;
  const since = await reconcileWindowStart(options.db, { name: 'trello', title: 'Trello' }, options.since);
  const result: TrelloReconcileResult = { since, scanned: 0, upToDate: 0, skipped: 0, missed: [] };
  for (const board of options.boards) {
    const found = await boardActions(options.client, board, since);
    const batch: Array<{ missed: Omit<TrelloMissed, 'deliveryId' | 'duplicate'>; delivery: NewDelivery }> = [];
    const candidates: Array<{ action: Record<string, any>; body: string; key: string; event: ReturnType<typeof parseTrelloEvent> }> = [];
    for (const action of found.actions) {
      result.scanned++;
      const body = JSON.stringify({ action, model: { id: found.boardId } });
      let event;
      try {
        event = parseTrelloEvent(JSON.parse(body));
      } catch (error) {
        if (!(error instanceof InvalidEventError)) throw error;
        options.logger?.warn({ action: action?.id, problem: error.message }, 'reconcile: Trello action skipped, does not parse');
        result.skipped++;
        continue;
      }
      if (event.timestamp === null || event.timestamp > now - settleMs) {
        result.skipped++;
        continue;
      }
      candidates.push({ action, body, key: `trello:${event.deliveryId}`, event });
    }
    const stored = await options.db.storedDeliveryKeys(candidates.map((c) => c.key));
    for (const c of candidates) {
      if (stored.has(c.key)) {
        result.upToDate++;
        continue;
      }
      batch.push({
        missed: { key: c.event.ticket?.key ?? null, event: c.event.event, actionId: String(c.action.id), why: `no delivery of action ${c.action.id} (${new Date(c.event.timestamp!).toISOString()})` },
        delivery: {
          source: 'trello',
          deliveryKey: c.key,
          webhookIdentifier: c.event.deliveryId ?? null,
          event: c.event.event,
          issueKey: c.event.ticket?.key ?? null,
          headers: { 'content-type': 'application/json', 'user-agent': 'deflect-reconcile' },
          body: c.body,
          eventTimestamp: c.event.timestamp,
          timestampSource: 'parsed',
          receivedAt: now,
        },
      });
    }
    if (options.dryRun) {
      for (const b of batch) result.missed.push({ ...b.missed, deliveryId: null, duplicate: false });
    } else if (batch.length > 0) {
      const written = await options.db.insertDeliveries(batch.map((b) => b.delivery));
      batch.forEach((b, i) => result.missed.push({ ...b.missed, deliveryId: written[i].id, duplicate: written[i].duplicate }));
    }
  }
  options.logger?.info({ scanned: result.scanned, missed: result.missed.length, upToDate: result.upToDate }, 'Trello reconcile finished');
  return result;
}

/** The board's card actions since `since` (ms), every page, oldest first. */
async function boardActions(client: TrelloClient, board: string, since: number): Promise<{ boardId: string; actions: Array<Record<string, any>> }> {
  const { id: boardId } = await client.request<{ id: string }>('GET', `/1/boards/${seg(board)}`, { query: { fields: 'id' } });
  const actions: Array<Record<string, any>> = [];
  let before: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query: Record<string, string | number> = { filter: RECONCILED_ACTIONS, since: new Date(since).toISOString(), limit: PAGE };
    if (before) query.before = before;
    const items: Array<Record<string, any>> = await client.request('GET', `/1/boards/${seg(boardId)}/actions`, { query });
    actions.push(...items);
    if (items.length < PAGE) break;
    before = String(items[items.length - 1].id);
  }
  return { boardId, actions: actions.reverse() };
}
