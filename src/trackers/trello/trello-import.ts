/**
 * History import from a Trello board (`deflect import trello --board ID`): the board's lists once
 * (`GET /1/boards/{id}/lists?filter=all`, for each card's status name), then its cards, open and archived
 * (`GET /1/boards/{id}/cards?filter=all&limit=N[&before=<card id>]`: Trello answers newest first and `before` takes an
 * id, so the page cursor is the oldest card id of the page written last; limit at most 1,000 — the "Paging"
 * section of Trello's REST API introduction, https://developer.atlassian.com/cloud/trello/guides/rest-api/api-introduction/). Each card is mapped
 * with `restTrelloCardToTicket` (creation date from the card id, labels, list → status, resolved when in a done list
 * of `DEFLECT_TRELLO_LISTS` or archived) and each page is stored with `upsertTickets(…, 'import')` in one transaction
 * together with the checkpoint (`import_checkpoints`, source `trello:<board id>`), so it is safe to run twice and an
 * interrupted import resumes after its last written page. A transient failure (429, 5xx, no answer) is retried with
 * backoff (Trello's 429 carries no documented `Retry-After`: https://developer.atlassian.com/cloud/trello/guides/rest-api/rate-limits/);
 * after `maxRetries` the import stops with the error, keeping the pages it wrote. The card's creator is not read
 * (one more request per card): imported tickets have no reporter until a webhook or a run reads it.
 */
import type { Store } from '../../db/store.js';
import { upsertTickets } from '../../db/tickets.js';
import type { Ticket } from '../../ticket.js';
import { retryDelayMs } from '../../worker/backoff.js';
import { InvalidIssueError } from '../tracker.js';
import { restTrelloCardToTicket } from './trello-card.js';
import { seg, TrelloRequestError, type TrelloClient } from './trello-client.js';
import { doneListTest, TRELLO_CARD_FIELDS } from './trello-tracker.js';

export interface TrelloImportOptions {
  /** The board id (24 hex) or shortLink. */
  board: string;
  /** Cards per request (default 500, at most 1,000). */
  pageSize?: number;
  /** Attempts per request on transient failures (default 6). */
  maxRetries?: number;
  sleep?: (ms: number) => Promise<void>;
  onPage?: (progress: { imported: number; skipped: number; pages: number }) => void;
  onBadCard?: (card: { id: string | null; error: string }) => void;
}

export interface TrelloImportResult {
  /** The board id Trello answered with. */
  boardId: string;
  imported: number;
  skipped: number;
  pages: number;
  retries: number;
  /** The card id an interrupted import resumed before, or null for a fresh start. */
  resumedBefore: string | null;
  ms: number;
}

/**
 * Imports every card of `options.board`.
 * @throws TrelloRequestError (404: no such board, or the token cannot see it; 401: bad TRELLO_API_KEY/TRELLO_TOKEN),
 *   the last one of a request that kept failing.
 */
export async function importTrelloBoard(db: Store, trello: TrelloClient, options: TrelloImportOptions): Promise<TrelloImportResult> {
  const started = performance.now();
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const limit = Math.min(1000, Math.max(1, options.pageSize ?? 500));
  let retries = 0;
  const call = <T>(path: string, query: Record<string, string | number | boolean>) =>
    withRetries(() => trello.request<T>('GET', path, { query }), options.maxRetries ?? 6, sleep, () => retries++);
  const board = await call<{ id: string }>(`/1/boards/${seg(options.board)}`, { fields: 'id,name' });
  const lists = await call<Array<{ id: string; name: string }>>(`/1/boards/${seg(board.id)}/lists`, { filter: 'all', fields: 'id,name' });
  const names = new Map(lists.map((l) => [l.id, l.name]));
  const context = { boardId: board.id, listName: (id: string) => names.get(id) ?? null, isDoneList: doneListTest(trello.lists) };

  const source = `trello:${board.id}`;
  const previous = await db.findImportCheckpoint(source);
  const resumedBefore = previous?.status === 'running' && previous.cursor ? previous.cursor : null;
  const carried = resumedBefore !== null ? previous! : { imported: 0, skipped: 0 };
  let before: string | null = resumedBefore;
  let imported = 0;
  let skipped = 0;
  let pages = 0;
  for (;;) {
    const query: Record<string, string | number> = { filter: 'all', fields: TRELLO_CARD_FIELDS, limit };
    if (before) query.before = before;
    const cards = await call<Array<Record<string, unknown>>>(`/1/boards/${seg(board.id)}/cards`, query);
    const tickets: Ticket[] = [];
    for (const card of cards) {
      try {
        tickets.push(restTrelloCardToTicket(card, context));
      } catch (error) {
        if (!(error instanceof InvalidIssueError)) throw error;
        skipped++;
        options.onBadCard?.({ id: typeof card.id === 'string' ? card.id : null, error: error.message });
      }
    }
    const oldest = cards.map((c) => c.id).filter((id): id is string => typeof id === 'string').sort()[0] ?? null;
    const more = cards.length >= limit && oldest !== null && oldest !== before;
    await db.transaction(async () => {
      await db.upsertTickets(tickets.map((ticket) => ({ ticket })), 'import');
      imported += tickets.length;
      if (more) before = oldest;
      await db.saveImportCheckpoint(source, { cursor: before, imported: carried.imported + imported, skipped: carried.skipped + skipped, status: more ? 'running' : 'done', fingerprint: null });
    });
    pages++;
    options.onPage?.({ imported, skipped, pages });
    if (!more) break;
  }
  return { boardId: board.id, imported, skipped, pages, retries, resumedBefore, ms: Math.round(performance.now() - started) };
}

async function withRetries<T>(call: () => Promise<T>, maxRetries: number, sleep: (ms: number) => Promise<void>, onRetry: () => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof TrelloRequestError) || !error.transient || attempt >= maxRetries) throw error;
      onRetry();
      await sleep(retryDelayMs(attempt, error.retryAfterMs));
    }
  }
}
