/**
 * Trello's {@link TicketOps}: the REST calls on one card that the recorded actions wrap (`trackers/recorded-actions.ts`).
 * Sources: https://developer.atlassian.com/cloud/trello/rest/api-group-cards/ (add a comment, update a card, add /
 * remove a label), https://developer.atlassian.com/cloud/trello/rest/api-group-boards/ (lists and labels of a board),
 * https://developer.atlassian.com/cloud/trello/rest/api-group-labels/ (create a label).
 *
 * - comment: `POST /1/cards/{id}/actions/comments` `{ text }`: Trello renders comments as Markdown, so the text is the
 *   `md` template written as Markdown (`markdown-comment.ts`: values literal, mentions and links broken), then the
 *   visible marker line `*deflect ref <hex>*` (Trello shows HTML comments as text, so no hidden marker), which
 *   `findComment` looks for in the card's `commentCard` actions (`GET /1/cards/{id}/actions?filter=commentCard`).
 *   Trello caps a comment at 16,384 characters; a longer text is cut before the marker.
 * - transition(status): the target list is the one `DEFLECT_TRELLO_LISTS` maps the status to (`done:Done` — so
 *   `resolve()`, status `Done`, moves to the done list), else the board's list of that name; matched by id or by name,
 *   case-insensitive, open lists only. `PUT /1/cards/{id}` `{ idList }`. No match: a permanent error listing the lists.
 * - assign: `PUT /1/cards/{id}` `{ idMembers }` (replaces the card's members: idempotent; null → none).
 * - labels, by name among the board's labels (`GET /1/boards/{id}/labels`): a name the board lacks is created there
 *   (`POST /1/labels` `{ name, idBoard, color: null }`: a board member can create labels, and handlers add their own
 *   markers like `automated`); added with `POST /1/cards/{id}/idLabels` `{ value }` when the card lacks it, removed
 *   with `DELETE /1/cards/{id}/idLabels/{label id}` when it has it (set semantics).
 */
import type { Markdown } from '../../jira/comment-markdown.js';
import { markdownWithMarker, visibleCommentMarker } from '../markdown-comment.js';
import type { TicketOps } from '../tracker.js';
import { seg, TrelloRequestError, type TrelloClient, type TrelloListMap } from './trello-client.js';

/** Trello's longest comment, characters. */
export const TRELLO_COMMENT_MAX_CHARS = 16_384;

/** Comment actions read per page by `findComment`, and at most this many pages. */
const COMMENT_PAGE = 1000;
const MAX_COMMENT_PAGES = 10;

interface CardState {
  id: string;
  idBoard: string;
  idList: string;
  idLabels: string[];
}
interface NamedItem {
  id: string;
  name: string;
}

/** The comment text sent to Trello: Markdown, cut to Trello's limit, then the marker line. */
export function trelloCommentText(body: Markdown | string, idempotencyKey: string): string {
  const full = markdownWithMarker(body, idempotencyKey);
  if (full.length <= TRELLO_COMMENT_MAX_CHARS) return full;
  const marker = `\n\n${visibleCommentMarker(idempotencyKey)}`;
  return `${full.slice(0, TRELLO_COMMENT_MAX_CHARS - marker.length - 2)} …${marker}`;
}

/**
 * The list `statusName` names on a board: the list `lists` maps it to (id or name), else the list of that name.
 * @returns the list, or null.
 */
export function listForStatus(statusName: string, mapping: TrelloListMap, boardLists: readonly NamedItem[]): NamedItem | null {
  const wanted = statusName.trim().toLowerCase();
  const target = (mapping[wanted] ?? statusName).trim().toLowerCase();
  return boardLists.find((l) => l.id.toLowerCase() === target) ?? boardLists.find((l) => l.name.trim().toLowerCase() === target) ?? null;
}

/**
 * The calls on card `cardId` through `trello`. Every method throws {@link TrelloRequestError} on a failed call, or
 * Error (permanent) for a status no list matches.
 */
export function trelloTicketOps(trello: TrelloClient, cardId: string): TicketOps {
  const card = () => trello.request<CardState>('GET', `/1/cards/${seg(cardId)}`, { query: { fields: 'idBoard,idList,idLabels' } });
  const boardLists = (boardId: string) => trello.request<NamedItem[]>('GET', `/1/boards/${seg(boardId)}/lists`, { query: { filter: 'open', fields: 'id,name' } });
  return {
    async comment(body, marker) {
      const created = await trello.request<{ id: string }>('POST', `/1/cards/${seg(cardId)}/actions/comments`, { body: { text: trelloCommentText(body, marker.idempotencyKey) } });
      return { id: created.id };
    },
    async findComment(idempotencyKey) {
      const wanted = visibleCommentMarker(idempotencyKey);
      let before: string | null = null;
      for (let page = 0; page < MAX_COMMENT_PAGES; page++) {
        const query: Record<string, string | number> = { filter: 'commentCard', limit: COMMENT_PAGE, fields: 'id,data' };
        if (before) query.before = before;
        const actions: Array<{ id: string; data?: { text?: string } }> = await trello.request('GET', `/1/cards/${seg(cardId)}/actions`, { query });
        const found = actions.find((a) => (a.data?.text ?? '').trimEnd().endsWith(wanted));
        if (found) return { id: found.id };
        if (actions.length < COMMENT_PAGE) return null;
        before = actions[actions.length - 1].id;
      }
      return null;
    },
    async transition(statusName) {
      const state = await card();
      const lists = await boardLists(state.idBoard);
      const list = listForStatus(statusName, trello.lists, lists);
      if (!list) {
        const mapped = trello.lists[statusName.trim().toLowerCase()];
        throw new Error(
          `no list for status "${statusName}" on Trello board ${state.idBoard}${mapped ? ` (DEFLECT_TRELLO_LISTS maps it to "${mapped}")` : ''} (lists: ${lists.map((l) => l.name).join(', ') || 'none'}); map it with DEFLECT_TRELLO_LISTS=${statusName.trim().toLowerCase()}:<list name or id>`,
        );
      }
      if (state.idList === list.id) return { alreadyIn: list.name };
      await trello.request('PUT', `/1/cards/${seg(cardId)}`, { body: { idList: list.id } });
      return { idList: list.id, list: list.name };
    },
    async currentStatus() {
      const state = await card();
      const list = await trello.request<NamedItem>('GET', `/1/lists/${seg(state.idList)}`, { query: { fields: 'id,name' } });
      return list?.name ?? null;
    },
    async assign(memberId) {
      await trello.request('PUT', `/1/cards/${seg(cardId)}`, { body: { idMembers: memberId ?? '' } });
    },
    async editLabels(add, remove) {
      const state = await card();
      const labels = await trello.request<Array<NamedItem & { name: string | null }>>('GET', `/1/boards/${seg(state.idBoard)}/labels`, { query: { fields: 'id,name', limit: 1000 } });
      const byName = new Map<string, string>();
      for (const l of labels) if (l.name) byName.set(l.name.trim().toLowerCase(), l.id);
      const onCard = new Set(state.idLabels);
      for (const name of [...new Set(add.map((n) => n.trim()).filter(Boolean))]) {
        let id = byName.get(name.toLowerCase());
        if (!id) {
          id = (await trello.request<{ id: string }>('POST', '/1/labels', { body: { name, idBoard: state.idBoard, color: null } })).id;
          byName.set(name.toLowerCase(), id);
        }
        if (onCard.has(id)) continue;
        await trello.request('POST', `/1/cards/${seg(cardId)}/idLabels`, { body: { value: id } });
        onCard.add(id);
      }
      for (const name of remove) {
        const id = byName.get(name.trim().toLowerCase());
        if (!id || !onCard.has(id)) continue; // not on the card: already removed
        await trello.request('DELETE', `/1/cards/${seg(cardId)}/idLabels/${seg(id)}`);
        onCard.delete(id);
      }
    },
    isAmbiguous: (error) => error instanceof TrelloRequestError && error.transient && (error.status === null || error.status >= 500),
  };
}
