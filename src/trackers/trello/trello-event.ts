/**
 * Parsing a Trello webhook body into a {@link TrackerEvent}. Envelope (Trello's developer docs, "Webhooks" →
 * "Triggering Webhooks": the body is the action that changed the model, and the model):
 * `{ action: { id, idMemberCreator, type, date, data: { card?, board?, list?, listBefore?, listAfter?, label?,
 * text?, old? }, memberCreator? }, model: { id, name, url, … } }`. A webhook on a board (the usual case) sends every
 * action on its cards; the card arrives as a stub (`id`, `name`, `idShort`, `shortLink`, and the changed field).
 *
 * - `event` = `action.type` (`createCard`, `updateCard`, `addLabelToCard`, `commentCard`, …); kind: card creation
 *   (`createCard`, `copyCard`, `convertToCardFromCheckItem`, `emailCard`, `moveCardToBoard`) → created; card changes
 *   (`updateCard`: moved — `listBefore`/`listAfter` —, renamed, described, archived; `addLabelToCard`,
 *   `removeLabelFromCard`, `addMemberToCard`, `removeMemberFromCard`) → updated; everything else (`commentCard`,
 *   `deleteCard`, checklists, attachments, board and list actions) → other (recorded, never routed).
 * - `timestamp` = `action.date` (ISO, signed with the body): the receiver refuses it older than
 *   `DEFLECT_MAX_EVENT_AGE`. Trello retries a delivery that fails 3 times
 *   (https://github.com/trello-archive/api-docs/issues/53, the webhooks guide), well inside that window.
 * - `deliveryId` = `action.id`: Trello sends no delivery header; an action is delivered once per webhook and its
 *   retries carry the same action, so the action id is the idempotency key (`trello:<action id>`).
 * - ticket: the card stub with the board as site. Labels are known only on `createCard` (a new card has none: `[]`);
 *   other actions do not carry the card's labels (`null`: the stored ones are kept, and routing sees the label
 *   `addLabelToCard` adds). Status = the list's name (`listAfter` on a move, else `list`). Reporter = the member who
 *   created the card, known on `createCard` only. The run reads the whole card before its handler runs
 *   (`trelloTracker.refreshTicket`).
 * - labels added/removed: `addLabelToCard` / `removeLabelFromCard` → `[label.name]` (lower-cased; an unnamed colour
 *   label names no request type and is skipped).
 * - actor = `action.idMemberCreator` (deflect's own member is ignored by routing: `GET /1/members/me`).
 * - comment (approvals): `commentCard` → `{ id: action.id, authorId: idMemberCreator, body: data.text }`.
 */
import { z } from 'zod';
import { EVENT_COMMENT_MAX_CHARS, InvalidEventError, type EventKind, type TrackerEvent } from '../tracker.js';
import type { Ticket } from '../../ticket.js';
import { boardSiteUrl, createdAtOfId, labelNames, trelloCardSchema } from './trello-card.js';

const TRELLO_ID = /^[0-9a-f]{24}$/i;
const named = z.looseObject({ id: z.string().nullish(), name: z.string().nullish() });

/** The webhook envelope's fields deflect reads. */
export const trelloEnvelopeSchema = z.looseObject({
  action: z.looseObject({
    id: z.string().regex(TRELLO_ID, 'expected a Trello action id (24 hex digits)'),
    type: z.string().min(1).max(64),
    date: z.string().min(1),
    idMemberCreator: z.string().nullish(),
    memberCreator: z.looseObject({ id: z.string().nullish(), fullName: z.string().nullish(), username: z.string().nullish() }).nullish(),
    data: z.looseObject({
      card: z.unknown().optional(),
      board: z.looseObject({ id: z.string().regex(TRELLO_ID, 'expected a Trello board id'), name: z.string().nullish(), shortLink: z.string().nullish() }).nullish(),
      list: named.nullish(),
      listAfter: named.nullish(),
      listBefore: named.nullish(),
      label: z.looseObject({ id: z.string().nullish(), name: z.string().nullish(), color: z.string().nullish() }).nullish(),
      text: z.string().nullish(),
    }),
  }),
  model: z.looseObject({ id: z.string().nullish(), url: z.string().nullish() }).nullish(),
});

const CREATED = new Set(['createCard', 'copyCard', 'convertToCardFromCheckItem', 'emailCard', 'moveCardToBoard']);
const UPDATED = new Set(['updateCard', 'addLabelToCard', 'removeLabelFromCard', 'addMemberToCard', 'removeMemberFromCard']);

/** The {@link EventKind} of a Trello action type. */
export function trelloEventKind(type: string): EventKind {
  if (CREATED.has(type)) return 'created';
  if (UPDATED.has(type)) return 'updated';
  return 'other';
}

/**
 * Turns a parsed JSON body into a {@link TrackerEvent}.
 * @throws InvalidEventError naming the first offending field path (`action.date: not a date`).
 */
export function parseTrelloEvent(body: unknown): TrackerEvent {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidEventError('the body must be a JSON object (a Trello webhook action)');
  }
  const envelope = parseWith(trelloEnvelopeSchema, body, '');
  const { action } = envelope;
  const at = Date.parse(action.date);
  if (Number.isNaN(at)) throw new InvalidEventError('invalid Trello event: action.date: not a date');
  const data = action.data;
  const kind = trelloEventKind(action.type);
  const actor = action.idMemberCreator ?? action.memberCreator?.id ?? null;
  let ticket: Ticket | null = null;
  if (data.card !== undefined && data.card !== null && data.board) {
    const card = parseWith(trelloCardSchema, data.card, 'action.data.card.');
    const list = data.listAfter ?? data.list ?? null;
    const created = action.type === 'createCard';
    ticket = {
      tracker: 'trello',
      id: card.id,
      key: card.shortLink ?? card.id,
      project: data.board.id,
      issueType: null,
      status: list?.name ?? null,
      labels: created ? [] : null,
      summary: card.name ?? null,
      description: card.desc ?? null,
      reporter: created ? (action.memberCreator?.fullName ?? action.memberCreator?.username ?? null) : null,
      reporterId: created ? actor : null,
      created: createdAtOfId(card.id),
      updated: at,
      resolved: null,
      siteUrl: boardSiteUrl(data.board.id),
    };
  }
  const label = data.label ? labelNames([data.label]).map((n) => n.toLowerCase()) : [];
  const host = hostOf(envelope.model?.url) ?? 'trello.com';
  return {
    event: action.type,
    kind: ticket ? kind : 'other',
    eventType: null,
    timestamp: at,
    timestampSource: 'parsed',
    actor,
    ticket,
    labelsAdded: action.type === 'addLabelToCard' ? label : [],
    labelsRemoved: action.type === 'removeLabelFromCard' ? label : [],
    siteHost: host,
    selfHosts: [host],
    deliveryId: action.id.toLowerCase(),
    ...(action.type === 'commentCard' && ticket
      ? { comment: { id: action.id, authorId: actor, body: (data.text ?? '').slice(0, EVENT_COMMENT_MAX_CHARS) } }
      : {}),
  };
}

function parseWith<S extends z.ZodType>(schema: S, value: unknown, prefix: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  const path = `${prefix}${first.path.join('.')}`.replace(/\.$/, '');
  throw new InvalidEventError(`invalid Trello event: ${path || '(body)'}: ${first.message}`);
}

function hostOf(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url).host.toLowerCase() || null;
  } catch {
    return null;
  }
}
