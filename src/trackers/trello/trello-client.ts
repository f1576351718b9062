/**
 * The Trello REST client deflect acts and imports with: plain `fetch` against `TRELLO_API_URL` (default
 * https://api.trello.com), API version 1. Every request carries the app's API key and the member token as the `key`
 * and `token` query parameters (Trello's authorisation scheme: https://developer.atlassian.com/cloud/trello/guides/rest-api/authorization/);
 * neither ever appears in an error message or a log line: errors name the method and the path only, and any echo of
 * the key or token in Trello's answer text is blanked.
 *
 * Errors: every call throws {@link TrelloRequestError}: `transient` for 429 (Trello's rate limits:
 * https://developer.atlassian.com/cloud/trello/guides/rest-api/rate-limits/: 300 requests per 10 s per key, 100 per
 * token; `retryAfterMs` from `Retry-After`, seconds, when sent — Trello documents none, so the worker's backoff
 * applies), 5xx, and no answer within `timeoutMs` or a network error (status null). Everything else (401 invalid
 * key or token, 403, 404, 400 invalid value) is permanent.
 */

/** Trello's API root. */
export const TRELLO_DEFAULT_API_URL = 'https://api.trello.com';

/** Per-request time limit, ms. */
export const TRELLO_TIMEOUT_MS = 10_000;

/** Longest part of an error answer quoted in a message, characters. */
const MAX_QUOTED = 200;

/** A failed Trello call. `status` is the HTTP status, or null when no answer arrived. */
export class TrelloRequestError extends Error {
  override name = 'TrelloRequestError';
  constructor(
    message: string,
    readonly status: number | null,
    readonly transient: boolean,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

/**
 * Which board list means which status, by deflect's status word (lower case: `done`, `open`, any other): the value is
 * a list id (24 hex) or a list name (case-insensitive). `DEFLECT_TRELLO_LISTS=open:To Do,done:Done`.
 */
export type TrelloListMap = Readonly<Record<string, string>>;

export interface TrelloClientOptions {
  apiKey: string;
  token: string;
  /** Default {@link TRELLO_DEFAULT_API_URL}. */
  apiUrl?: string;
  timeoutMs?: number;
  /** The status → list mapping (transitions, `resolve()`, the import's resolved date). */
  lists?: TrelloListMap;
}

/** What deflect needs from Trello: one REST call, and the list mapping its calls resolve statuses with. */
export interface TrelloClient {
  readonly lists: TrelloListMap;
  /**
   * One call, e.g. `request('PUT', '/1/cards/{id}', { body: { idList } })`. `query` values are sent as query parameters,
   * `body` as JSON.
   * @returns the parsed JSON answer (null for an empty one).
   * @throws TrelloRequestError (see the module comment).
   */
  request<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, options?: { query?: Record<string, string | number | boolean>; body?: unknown }): Promise<T>;
}

/** Builds a client; sends nothing until called. */
export function createTrelloClient(options: TrelloClientOptions): TrelloClient {
  const root = (options.apiUrl ?? TRELLO_DEFAULT_API_URL).replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? TRELLO_TIMEOUT_MS;
  const secrets = [options.apiKey, options.token].filter((s) => s.length >= 4);
  const scrub = (text: string) => secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
  return {
    lists: Object.freeze({ ...(options.lists ?? {}) }),
    async request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, request: { query?: Record<string, string | number | boolean>; body?: unknown } = {}): Promise<T> {
      const url = new URL(`${root}${path}`);
      for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, String(value));
      url.searchParams.set('key', options.apiKey);
      url.searchParams.set('token', options.token);
      const where = `${method} ${path}`;
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers: { accept: 'application/json', ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}) },
          body: request.body === undefined ? undefined : JSON.stringify(request.body),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const reason = (error as Error)?.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : scrub((error as Error)?.message ?? String(error));
        throw new TrelloRequestError(`Trello did not answer ${where}: ${reason}`, null, true);
      }
      const text = await response.text().catch(() => '');
      if (!response.ok) {
        const status = response.status;
        const retryAfter = Number(response.headers.get('retry-after'));
        const hint = status === 401 ? ' (check TRELLO_API_KEY and TRELLO_TOKEN)' : '';
        throw new TrelloRequestError(
          `Trello answered ${status} to ${where}${hint}: ${scrub(text.trim()).slice(0, MAX_QUOTED) || response.statusText}`,
          status,
          status === 429 || status >= 500,
          status === 429 && Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : null,
        );
      }
      if (text.trim() === '') return null as T;
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new TrelloRequestError(`Trello answered ${where} with a body that is not JSON`, response.status, false);
      }
    },
  };
}

/** `{id}`-style path segment, encoded (ids and shortLinks are alphanumeric; anything else is escaped). */
export const seg = (value: string) => encodeURIComponent(value);
