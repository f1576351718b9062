/**
 * A fake Trello REST API for tests: a real `node:http` server on 127.0.0.1 (random port), answering the calls deflect
 * makes (`src/trackers/trello/`) with Trello's shapes and status codes, and recording every request. Every request
 * needs the `key` and `token` query parameters, else 401 `invalid key` / `invalid token` (text/plain, as Trello).
 *
 * Mimicked (https://developer.atlassian.com/cloud/trello/rest/):
 * - `GET /1/members/me` → the token's member `{ id, username, fullName }`;
 * - `GET /1/cards/{id}` (`fields`, `list=true` adds `list`, `actions=createCard` adds `actions`); `PUT /1/cards/{id}`
 *   `{ idList, idMembers }` (an unknown list → 400 `invalid value for idList`);
 * - `POST /1/cards/{id}/actions/comments` `{ text }` → the `commentCard` action; `GET /1/cards/{id}/actions`
 *   `?filter=commentCard&limit&before` (newest first);
 * - `POST /1/cards/{id}/idLabels` `{ value }` (already on the card → 400 `that label is already on the card`);
 *   `DELETE /1/cards/{id}/idLabels/{label}`;
 * - `GET /1/boards/{id}` (id or shortLink), `/lists` (`filter=open|all`), `/labels`; `POST /1/labels` `{ name, idBoard, color }`;
 * - `GET /1/lists/{id}`;
 * - `GET /1/boards/{id}/cards` `?filter=all|open&limit&before=<card id>` (newest first by id, as Trello pages);
 * - `GET /1/boards/{id}/actions` `?filter=<types>&since=<ISO>&limit&before=<action id>` (newest first): every action
 *   `webhookPayload` made (an action happened on the board whether or not its webhook was delivered).
 * Unknown ids answer 404 `The requested resource was not found.`; faults: `setFault(req => fault)` as in fake-jira.
 * `webhookPayload` builds the action body Trello would POST for a card.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyFault, closeFakeServer, recordRequest, type Fault, type RecordedRequest } from './recorded-request.js';

export interface FakeTrelloList { id: string; name: string; closed: boolean }
export interface FakeTrelloLabel { id: string; name: string; color: string | null }
export interface FakeTrelloMember { id: string; username: string; fullName: string }
export interface FakeTrelloComment { id: string; text: string; idMemberCreator: string; date: string }
export interface FakeTrelloCard {
  id: string;
  shortLink: string;
  idShort: number;
  name: string;
  desc: string;
  idList: string;
  idLabels: string[];
  idMembers: string[];
  closed: boolean;
  creator: FakeTrelloMember;
  dateLastActivity: string;
  comments: FakeTrelloComment[];
}
export interface FakeTrelloBoard { id: string; shortLink: string; name: string; lists: FakeTrelloList[]; labels: FakeTrelloLabel[]; cards: FakeTrelloCard[]; actions: Array<{ id: string; type: string; date: string } & Record<string, any>> }

export interface FakeTrello {
  /** API root to give deflect as TRELLO_API_URL. */
  url: string;
  apiKey: string;
  token: string;
  /** The token's member (deflect's own). */
  me: FakeTrelloMember;
  board: FakeTrelloBoard;
  requests: RecordedRequest[];
  /** Adds a card to a list of the board (by list name; default the first list); `createdAt` sets the time in its id. */
  seedCard(seed?: { name?: string; desc?: string; list?: string; labels?: string[]; createdAt?: number; closed?: boolean }): FakeTrelloCard;
  /** The name of the card's list. */
  listName(card: FakeTrelloCard): string;
  labelNames(card: FakeTrelloCard): string[];
  /** The webhook body Trello sends for `type` on `card` (the label named by `label` for label actions). */
  webhookPayload(card: FakeTrelloCard, type: string, extra?: { label?: string; by?: FakeTrelloMember; text?: string }): Record<string, unknown>;
  setFault(fn: ((req: RecordedRequest) => Fault | undefined) | undefined): void;
  close(): Promise<void>;
}

/** A Trello-shaped id (24 hex): 8 hex digits of seconds, then random. */
export const trelloId = (at = Date.now()) => `${Math.floor(at / 1000).toString(16).padStart(8, '0')}${randomBytes(8).toString('hex')}`;
const shortLinkOf = () => randomBytes(6).toString('base64').replace(/[^A-Za-z0-9]/g, 'x').slice(0, 8);

class TrelloError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Starts a fake Trello with one board (lists To Do / Doing / Done). Close it with `close()`. */
export async function startFakeTrello(): Promise<FakeTrello> {
  const apiKey = 'fake-trello-key-0123';
  const token = 'fake-trello-token-4567';
  const me: FakeTrelloMember = { id: trelloId(), username: 'deflectbot', fullName: 'deflect bot' };
  const reporter: FakeTrelloMember = { id: trelloId(), username: 'dana', fullName: 'Dana Developer' };
  const board: FakeTrelloBoard = {
    id: trelloId(Date.UTC(2026, 0, 1)),
    shortLink: 'BoArD123',
    name: 'Platform requests',
    lists: ['To Do', 'Doing', 'Done'].map((name) => ({ id: trelloId(), name, closed: false })),
    labels: [{ id: trelloId(), name: '', color: 'green' }],
    cards: [],
    actions: [],
  };
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let fault: ((req: RecordedRequest) => Fault | undefined) | undefined;
  let idShort = 0;

  const notFound = () => new TrelloError(404, 'The requested resource was not found.');
  const findCard = (id: string) => board.cards.find((c) => c.id === id || c.shortLink === id) ?? (() => { throw notFound(); })();
  const labelOf = (id: string) => board.labels.find((l) => l.id === id);
  const listOf = (id: string) => board.lists.find((l) => l.id === id);
  const labelNamed = (name: string) => {
    let label = board.labels.find((l) => l.name.toLowerCase() === name.toLowerCase());
    if (!label) board.labels.push((label = { id: trelloId(), name, color: 'blue' }));
    return label;
  };
  const touch = (card: FakeTrelloCard) => (card.dateLastActivity = new Date().toISOString());
  const pick = (value: Record<string, unknown>, fields: string | undefined) =>
    !fields || fields === 'all' ? value : Object.fromEntries(Object.entries(value).filter(([k]) => k === 'id' || fields.split(',').includes(k)));
  const cardJson = (card: FakeTrelloCard, query: Record<string, string>) => {
    const json: Record<string, unknown> = pick(
      {
        id: card.id, name: card.name, desc: card.desc, idBoard: board.id, idList: card.idList, idShort: card.idShort, shortLink: card.shortLink,
        shortUrl: `https://trello.com/c/${card.shortLink}`, closed: card.closed, dateLastActivity: card.dateLastActivity, idLabels: [...card.idLabels],
        idMembers: [...card.idMembers], labels: card.idLabels.map(labelOf).filter(Boolean).map((l) => ({ ...l, idBoard: board.id })),
      },
      query.fields,
    );
    if (query.list === 'true') json.list = { id: card.idList, name: listOf(card.idList)?.name };
    if (query.actions === 'createCard') {
      json.actions = [{ id: trelloId(), type: 'createCard', idMemberCreator: card.creator.id, memberCreator: { id: card.creator.id, fullName: card.creator.fullName, username: card.creator.username } }];
    }
    return json;
  };
  const commentAction = (card: FakeTrelloCard, c: FakeTrelloComment) => ({
    id: c.id, type: 'commentCard', date: c.date, idMemberCreator: c.idMemberCreator,
    data: { text: c.text, card: { id: card.id, name: card.name, shortLink: card.shortLink, idShort: card.idShort }, board: { id: board.id, name: board.name, shortLink: board.shortLink } },
  });
  const olderThan = <T extends { id: string }>(items: T[], query: Record<string, string>) => {
    const sorted = [...items].sort((a, b) => (a.id < b.id ? 1 : -1));
    const before = query.before;
    const limit = Math.min(1000, Number(query.limit ?? 1000));
    return sorted.filter((i) => !before || i.id < before).slice(0, limit);
  };

  function route(method: string, path: string, query: Record<string, string>, body: Record<string, any>): unknown {
    let m: RegExpExecArray | null;
    if (method === 'GET' && path === '/1/members/me') return me;
    if ((m = /^\/1\/cards\/([^/]+)$/.exec(path))) {
      const card = findCard(m[1]);
      if (method === 'GET') return cardJson(card, query);
      if (method === 'PUT') {
        if ('idList' in body) {
          if (!listOf(String(body.idList))) throw new TrelloError(400, 'invalid value for idList');
          card.idList = String(body.idList);
        }
        if ('idMembers' in body) card.idMembers = String(body.idMembers ?? '').split(',').filter(Boolean);
        touch(card);
        return cardJson(card, {});
      }
    }
    if ((m = /^\/1\/cards\/([^/]+)\/actions\/comments$/.exec(path)) && method === 'POST') {
      const card = findCard(m[1]);
      const text = String(body.text ?? query.text ?? '');
      if (text.length === 0 || text.length > 16384) throw new TrelloError(400, 'invalid value for text');
      const comment = { id: trelloId(), text, idMemberCreator: me.id, date: new Date().toISOString() };
      card.comments.push(comment);
      return commentAction(card, comment);
    }
    if ((m = /^\/1\/cards\/([^/]+)\/actions$/.exec(path)) && method === 'GET') {
      const card = findCard(m[1]);
      return olderThan(card.comments, query).map((c) => commentAction(card, c));
    }
    if ((m = /^\/1\/cards\/([^/]+)\/idLabels$/.exec(path)) && method === 'POST') {
      const card = findCard(m[1]);
      const id = String(body.value ?? '');
      if (!labelOf(id)) throw new TrelloError(400, 'invalid value for value');
      if (card.idLabels.includes(id)) throw new TrelloError(400, 'that label is already on the card');
      card.idLabels.push(id);
      touch(card);
      return [...card.idLabels];
    }
    if ((m = /^\/1\/cards\/([^/]+)\/idLabels\/([^/]+)$/.exec(path)) && method === 'DELETE') {
      const card = findCard(m[1]);
      card.idLabels = card.idLabels.filter((id) => id !== m![2]);
      touch(card);
      return { _value: null };
    }
    if ((m = /^\/1\/lists\/([^/]+)$/.exec(path)) && method === 'GET') {
      const list = listOf(m[1]);
      if (!list) throw notFound();
      return pick({ ...list, idBoard: board.id }, query.fields);
    }
    if ((m = /^\/1\/boards\/([^/]+)(\/[a-z]+)?$/.exec(path)) && method === 'GET') {
      if (m[1] !== board.id && m[1] !== board.shortLink) throw notFound();
      if (!m[2]) return pick({ id: board.id, name: board.name, shortLink: board.shortLink, url: `https://trello.com/b/${board.shortLink}` }, query.fields);
      if (m[2] === '/lists') return board.lists.filter((l) => query.filter === 'all' || !l.closed).map((l) => pick({ ...l }, query.fields));
      if (m[2] === '/labels') return board.labels.map((l) => pick({ ...l, idBoard: board.id }, query.fields));
      if (m[2] === '/actions') {
        const types = query.filter ? query.filter.split(',') : null;
        const since = query.since ? Date.parse(query.since) : null;
        return olderThan(board.actions.filter((a) => (!types || types.includes(a.type)) && (since === null || Date.parse(a.date) >= since)), query);
      }
      if (m[2] === '/cards') return olderThan(board.cards.filter((c) => query.filter === 'all' || !c.closed), query).map((c) => cardJson(c, query));
    }
    if (method === 'POST' && path === '/1/labels') {
      if (body.idBoard !== board.id) throw new TrelloError(400, 'invalid value for idBoard');
      if (typeof body.name !== 'string') throw new TrelloError(400, 'invalid value for name');
      const label = { id: trelloId(), name: body.name, color: body.color ?? null };
      board.labels.push(label);
      return { ...label, idBoard: board.id };
    }
    throw new TrelloError(404, `Cannot ${method} ${path}`);
  }

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const { recorded, badJson } = await recordRequest(request);
    requests.push(recorded);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      if (response.destroyed || response.writableEnded) return;
      const text = typeof payload === 'string';
      response.writeHead(status, { 'content-type': text ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8', ...headers });
      response.end(text ? payload : JSON.stringify(payload));
    };
    if (await applyFault(fault?.(recorded), request, send, timers, (status) => (status === 429 ? { error: 'API_TOKEN_LIMIT_EXCEEDED', message: 'Rate limit exceeded' } : 'Internal Server Error'))) return;
    if (recorded.query.key !== apiKey) return send(401, 'invalid key');
    if (recorded.query.token !== token) return send(401, 'invalid token');
    if (badJson) return send(400, 'invalid JSON');
    try {
      send(200, route(recorded.method, recorded.path, recorded.query, (recorded.body ?? {}) as Record<string, any>));
    } catch (e) {
      if (e instanceof TrelloError) send(e.status, e.message);
      else send(500, `fake Trello crashed: ${(e as Error).message}`);
    }
  }

  const server = createServer((request, response) => void handle(request, response).catch(() => response.destroy()));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url, apiKey, token, me, board, requests,
    seedCard(seed = {}) {
      const list = seed.list ? board.lists.find((l) => l.name === seed.list) : board.lists[0];
      if (!list) throw new Error(`fake Trello: no list ${seed.list}`);
      const card: FakeTrelloCard = {
        id: trelloId(seed.createdAt), shortLink: shortLinkOf(), idShort: ++idShort, name: seed.name ?? `Card ${idShort}`, desc: seed.desc ?? '', idList: list.id,
        idLabels: (seed.labels ?? []).map((n) => labelNamed(n).id), idMembers: [], closed: seed.closed ?? false, creator: reporter,
        dateLastActivity: new Date(seed.createdAt ?? Date.now()).toISOString(), comments: [],
      };
      board.cards.push(card);
      return card;
    },
    listName: (card) => listOf(card.idList)?.name ?? '?',
    labelNames: (card) => card.idLabels.map((id) => labelOf(id)?.name ?? '?'),
    webhookPayload(card, type, extra = {}) {
      const by = extra.by ?? reporter;
      const list = listOf(card.idList)!;
      const label = extra.label ? labelNamed(extra.label) : null;
      const payload = {
        model: { id: board.id, name: board.name, url: `https://trello.com/b/${board.shortLink}/platform-requests`, shortUrl: `https://trello.com/b/${board.shortLink}` },
        action: {
          id: trelloId(), idMemberCreator: by.id, type, date: new Date().toISOString(),
          data: {
            board: { id: board.id, name: board.name, shortLink: board.shortLink },
            list: { id: list.id, name: list.name },
            card: { id: card.id, name: card.name, idShort: card.idShort, shortLink: card.shortLink },
            ...(label ? { label: { id: label.id, name: label.name, color: label.color } } : {}),
            ...(extra.text !== undefined ? { text: extra.text } : {}),
          },
          memberCreator: { id: by.id, fullName: by.fullName, username: by.username, initials: 'DD', avatarHash: null },
        },
      };
      board.actions.push(payload.action);
      return payload;
    },
    setFault: (fn) => {
      fault = fn;
    },
    close: () => closeFakeServer(server, timers),
  };
}
