/**
 * Trello's settings, read by `config.ts` (the one place the environment is parsed): the API credentials, the public
 * URL Trello calls back (and signs), and the status → list mapping.
 *
 * | variable | meaning |
 * |---|---|
 * | `TRELLO_API_KEY`, `TRELLO_TOKEN` | the app's API key and a member token (scope `read,write`) deflect acts and imports with; both or neither |
 * | `TRELLO_WEBHOOK_SECRET` | the app's secret (signs `X-Trello-Webhook`), comma-separated for rotation; needs `DEFLECT_PUBLIC_URL` |
 * | `DEFLECT_PUBLIC_URL` | the URL Trello reaches deflect at; the webhook's callback URL is this + `/webhooks/trello` |
 * | `TRELLO_API_URL` | API root (tests: the fake) |
 * | `DEFLECT_TRELLO_LISTS` | `status:list,…`: which list (name or id) each status means; `done` is where `resolve()` moves a card |
 */
import { z } from 'zod';
import type { TrelloListMap } from './trello-client.js';
import { trelloCallbackUrl } from './trello-verify.js';

/** `open:To Do,done:Done` → `{ open: 'To Do', done: 'Done' }` (status words lower-cased; list names kept). */
export const trelloListsSetting = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const lists: Record<string, string> = {};
    for (const part of (value ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
      const at = part.indexOf(':');
      const status = part.slice(0, at).trim().toLowerCase();
      const list = part.slice(at + 1).trim();
      if (at <= 0 || !status || !list) {
        ctx.addIssue({ code: 'custom', message: `"${part}": use status:list, comma-separated (e.g. open:To Do,done:Done; the list by name or id)` });
        continue;
      }
      lists[status] = list;
    }
    return Object.freeze(lists) as TrelloListMap;
  });

/** The Trello part of the configuration. */
export interface TrelloConfig {
  /** API access; null = runs on Trello cards are dry runs and `deflect import trello` refuses. */
  api: { apiKey: string; token: string; apiUrl: string } | null;
  /** The webhook's callback URL (`DEFLECT_PUBLIC_URL` + `/webhooks/trello`), or null when no public URL is set. */
  callbackUrl: string | null;
  lists: TrelloListMap;
}

/**
 * Builds the Trello configuration, or the problems (one line each) that stop start-up: a key without a token (or the
 * reverse), a webhook secret without `DEFLECT_PUBLIC_URL`.
 */
export function trelloConfigOf(e: {
  TRELLO_API_KEY?: string;
  TRELLO_TOKEN?: string;
  TRELLO_API_URL: string;
  TRELLO_WEBHOOK_SECRET: string[];
  DEFLECT_PUBLIC_URL?: string;
  DEFLECT_TRELLO_LISTS: TrelloListMap;
}): TrelloConfig | string[] {
  const problems: string[] = [];
  if (!!e.TRELLO_API_KEY !== !!e.TRELLO_TOKEN) problems.push('TRELLO_API_KEY and TRELLO_TOKEN: set both (the app key and a member token) or neither');
  if (e.TRELLO_WEBHOOK_SECRET.length > 0 && !e.DEFLECT_PUBLIC_URL) {
    problems.push('DEFLECT_PUBLIC_URL: required with TRELLO_WEBHOOK_SECRET (Trello signs each delivery with the callback URL, DEFLECT_PUBLIC_URL + /webhooks/trello)');
  }
  if (problems.length > 0) return problems;
  return Object.freeze({
    api: e.TRELLO_API_KEY && e.TRELLO_TOKEN ? Object.freeze({ apiKey: e.TRELLO_API_KEY, token: e.TRELLO_TOKEN, apiUrl: e.TRELLO_API_URL }) : null,
    callbackUrl: e.DEFLECT_PUBLIC_URL ? trelloCallbackUrl(e.DEFLECT_PUBLIC_URL) : null,
    lists: e.DEFLECT_TRELLO_LISTS,
  });
}
