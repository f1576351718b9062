/**
 * The Trello adapter: the {@link Tracker} the receiver (`POST /webhooks/trello`, and `HEAD` for Trello's callback
 * check), import and runs use for Trello boards. Each method delegates to the module that holds the Trello facts:
 * `trello-verify.ts` (`X-Trello-Webhook`), `trello-event.ts` (webhook actions), `trello-card.ts` (card → ticket),
 * `trello-ticket-ops.ts` (REST calls on one card, recorded as actions by `trackers/recorded-actions.ts`),
 * `trello-client.ts` (fetch client, key + token, errors). Decision record: docs/decisions/013-trello.md.
 *
 * Delivery key: `trello:<action.id>` — Trello sends no delivery id header, and each action is delivered (and retried)
 * as itself; without an action id (never from Trello) `sha256:<hex of the raw body>`.
 * `refreshTicket`: Trello's actions carry a card stub, so before a handler runs the card is read
 * (`GET /1/cards/{id}` with its list, labels and `createCard` action): description, labels, list and creator.
 */
import type { Ticket } from '../../ticket.js';
import { recordTicketActions, type RecordedActions } from '../recorded-actions.js';
import type { TicketActionsOptions, Tracker } from '../tracker.js';
import { restTrelloCardToTicket, type CardContext } from './trello-card.js';
import { seg, type TrelloClient, type TrelloListMap } from './trello-client.js';
import { parseTrelloEvent } from './trello-event.js';
import { trelloTicketOps } from './trello-ticket-ops.js';
import { createTrelloVerifier } from './trello-verify.js';

/** The card fields the adapter reads (refresh and import). */
export const TRELLO_CARD_FIELDS = 'id,name,desc,idBoard,idList,idShort,shortLink,closed,dateLastActivity,labels';

/** Whether a list is one `lists` maps `done` (or `resolved`, `closed`) to, by id or name (case-insensitive). */
export function doneListTest(lists: TrelloListMap): NonNullable<CardContext['isDoneList']> {
  const targets = ['done', 'resolved', 'closed'].map((s) => lists[s]?.trim().toLowerCase()).filter((t): t is string => !!t);
  return (list) => targets.some((t) => t === list.id?.toLowerCase() || t === list.name?.trim().toLowerCase());
}

/** The Trello adapter. `createActions` returns the run's {@link RecordedActions} over {@link trelloTicketOps}. */
export const trelloTracker: Tracker<TrelloClient, RecordedActions> = {
  name: 'trello',
  title: 'Trello',
  keptHeaders: ['content-type', 'user-agent'],
  secretSetting: 'TRELLO_WEBHOOK_SECRET',
  answersHeadCheck: true,
  createVerifier: createTrelloVerifier,
  parseEvent: (body) => parseTrelloEvent(body),
  deliveryKey(event, _headers, hash) {
    const identifier = event.deliveryId ?? null;
    return { key: identifier ? `trello:${identifier}` : `sha256:${hash}`, identifier };
  },
  issueToTicket: (card) => restTrelloCardToTicket(card),
  createActions(options: TicketActionsOptions<TrelloClient>): RecordedActions {
    const { client, ...rest } = options;
    return recordTicketActions({ ...rest, ops: client ? trelloTicketOps(client, options.ticket?.id ?? options.ticketKey) : null });
  },
  refreshTicket: refreshTrelloCard,
};

/**
 * The card's current state as a ticket (keeps the stored reporter when Trello no longer lists the creation action).
 * @throws TrelloRequestError (404: the card was deleted or the token cannot see it; permanent).
 */
export async function refreshTrelloCard(client: TrelloClient, ticket: Ticket): Promise<Ticket> {
  const card = await client.request<unknown>('GET', `/1/cards/${seg(ticket.id)}`, {
    query: { fields: TRELLO_CARD_FIELDS, list: true, actions: 'createCard', action_fields: 'type,idMemberCreator', action_memberCreator_fields: 'fullName,username' },
  });
  const fresh = restTrelloCardToTicket(card, { isDoneList: doneListTest(client.lists) });
  return { ...fresh, reporter: fresh.reporter ?? ticket.reporter, reporterId: fresh.reporterId ?? ticket.reporterId };
}
