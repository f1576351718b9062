/**
 * Trello's card, as the REST API returns it (`GET /1/cards/{id}`, `GET /1/boards/{id}/cards`) and as webhook actions
 * name it (`action.data.card`: a stub with `id`, `name`, `idShort`, `shortLink`, sometimes the changed field), and its
 * mapping to the normalised {@link Ticket}: the one place that knows Trello's card fields.
 * Reference: https://developer.atlassian.com/cloud/trello/rest/api-group-cards/ (object "Card").
 *
 * Mapping (decision 013):
 * - `id` = the card id (24 hex); the site is the board, `siteUrl` = `https://trello.com/b/<board id>`, so the row id
 *   is `trello:trello.com/b/<board id>:<card id>` (decision 007's `<tracker>:<site>:<id>`);
 * - `key` (display key) = the card's `shortLink` (`xPKXoSTQ`, the card opens at `https://trello.com/c/<shortLink>`):
 *   unique and stable, unlike the board name + `#idShort` Trello shows (a board is renamed, a card moved);
 * - `project` = the board id (what `deflect import trello --board` and rules' `projects:` take);
 * - `status` = the name of the card's list (what people see on the board); which list means done is configuration
 *   (`DEFLECT_TRELLO_LISTS`);
 * - `labels` = label names (case kept; unnamed colour-only labels are skipped: they name no request type);
 * - `summary` = `name`, `description` = `desc` (Markdown as typed; the handlers' description form is parsed from it);
 * - `reporter` / `reporterId` = the member who created the card (the `createCard` action's `memberCreator`:
 *   `fullName` / `id`), when known;
 * - `created` = the time in the card id (Trello ids are MongoDB ObjectIds, whose first 4 bytes are the creation time
 *   in seconds: https://www.mongodb.com/docs/manual/reference/method/ObjectId/),
 *   `updated` = `dateLastActivity`, `resolved` = `dateLastActivity` when the card is in a done list or archived.
 */
import { z } from 'zod';
import type { Ticket } from '../../ticket.js';
import { InvalidIssueError } from '../tracker.js';

const TRELLO_ID = /^[0-9a-f]{24}$/i;

const labelSchema = z.looseObject({ id: z.string().nullish(), name: z.string().nullish(), color: z.string().nullish() });
const memberSchema = z.looseObject({ id: z.string().nullish(), fullName: z.string().nullish(), username: z.string().nullish() });

/** The card fields deflect reads (REST card, or a webhook card stub); everything else passes through. */
export const trelloCardSchema = z.looseObject({
  id: z.string().regex(TRELLO_ID, 'expected a Trello id (24 hex digits)'),
  name: z.string().nullish(),
  desc: z.string().nullish(),
  idBoard: z.string().nullish(),
  idList: z.string().nullish(),
  idShort: z.number().nullish(),
  shortLink: z.string().regex(/^[A-Za-z0-9]{1,32}$/, 'expected a Trello shortLink').nullish(),
  closed: z.boolean().nullish(),
  dateLastActivity: z.string().nullish(),
  labels: z.array(labelSchema).nullish(),
  list: z.looseObject({ id: z.string().nullish(), name: z.string().nullish() }).nullish(),
  /** `GET /1/cards/{id}?actions=createCard`: the card's creation action. */
  actions: z.array(z.looseObject({ type: z.string().nullish(), idMemberCreator: z.string().nullish(), memberCreator: memberSchema.nullish() })).nullish(),
});
export type TrelloCard = z.output<typeof trelloCardSchema>;

/** `https://trello.com/b/<board id>`: a ticket's site (one per board). */
export const boardSiteUrl = (boardId: string) => `https://trello.com/b/${boardId}`;

/** The board id of a ticket's `siteUrl` (`https://trello.com/b/<id>`), or null. */
export function boardIdOf(siteUrl: string | null | undefined): string | null {
  const match = /\/b\/([0-9a-f]{24})\/?$/i.exec(siteUrl ?? '');
  return match ? match[1] : null;
}

/** The creation time encoded in a Trello id (first 8 hex digits: seconds since the epoch), ms; null for another shape. */
export function createdAtOfId(id: string): number | null {
  return TRELLO_ID.test(id) ? Number.parseInt(id.slice(0, 8), 16) * 1000 : null;
}

/** Label names of a card, case kept, colour-only (unnamed) labels skipped. */
export const labelNames = (labels: ReadonlyArray<{ name?: string | null }>) => labels.map((l) => l.name?.trim() ?? '').filter((n) => n.length > 0);

const ms = (value: string | null | undefined): number | null => {
  if (!value) return null;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? null : parsed;
};

/** What a card's ticket needs besides the card: the board (when the card lacks `idBoard`) and the list facts. */
export interface CardContext {
  boardId?: string | null;
  /** The name of a list by id (REST cards carry only `idList`). */
  listName?: (idList: string) => string | null;
  /** Whether a list (id and name) is a done list (`DEFLECT_TRELLO_LISTS` `done:`). */
  isDoneList?: (list: { id: string | null; name: string | null }) => boolean;
}

/**
 * Converts a parsed card to a {@link Ticket}.
 * @throws InvalidIssueError when the board is unknown (no `idBoard` and none given).
 */
export function trelloCardToTicket(card: TrelloCard, context: CardContext = {}): Ticket {
  const boardId = card.idBoard ?? context.boardId ?? null;
  if (!boardId || !TRELLO_ID.test(boardId)) throw new InvalidIssueError('invalid Trello card: idBoard: missing (and no board given)');
  const listId = card.list?.id ?? card.idList ?? null;
  const listName = card.list?.name ?? (listId ? (context.listName?.(listId) ?? null) : null);
  const creator = card.actions?.find((a) => a.type === 'createCard');
  const updated = ms(card.dateLastActivity);
  const done = card.closed === true || (context.isDoneList?.({ id: listId, name: listName }) ?? false);
  return {
    tracker: 'trello',
    id: card.id,
    key: card.shortLink ?? card.id,
    project: boardId,
    issueType: null,
    status: listName,
    labels: card.labels ? labelNames(card.labels) : null,
    summary: card.name ?? null,
    description: card.desc ?? null,
    reporter: creator?.memberCreator?.fullName ?? creator?.memberCreator?.username ?? null,
    reporterId: creator?.memberCreator?.id ?? creator?.idMemberCreator ?? null,
    created: createdAtOfId(card.id),
    updated,
    resolved: done ? updated : null,
    siteUrl: boardSiteUrl(boardId),
  };
}

/**
 * Validates a card as the REST API returns it (or a JSON dump of it) and converts it (the adapter's `issueToTicket`).
 * @throws InvalidIssueError naming the first bad field path (`labels.0.name: expected string`).
 */
export function restTrelloCardToTicket(value: unknown, context: CardContext = {}): Ticket {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidIssueError('not a Trello card: expected a JSON object with "id" and "idBoard"');
  }
  const parsed = trelloCardSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new InvalidIssueError(`invalid Trello card: ${first.path.join('.') || '(card)'}: ${first.message}`);
  }
  return trelloCardToTicket(parsed.data, context);
}
