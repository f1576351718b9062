/**
 * The Linear GraphQL calls deflect makes, sent through `@linear/sdk`'s `LinearClient` (its transport: `Authorization`
 * header, endpoint `LINEAR_API_URL` — https, or http on localhost for the fake — and its error parsing).
 *
 * Why `client.client.rawRequest` with deflect's own small documents rather than the SDK's model methods
 * (`linear.issue(id)`, `issue.comments()`, `team.states()`): the generated documents select every scalar of a type
 * and fetch each relation in a further request. Linear rate-limits by request count *and* query complexity
 * (https://linear.app/developers/rate-limiting), so one named operation selecting only what deflect reads costs one
 * request and little complexity; the operation names (`Deflect…`) also make them easy to trace.
 *
 * Errors: every call throws {@link LinearRequestError}: `transient` for rate limiting (HTTP 429, or an answer whose
 * GraphQL error has `extensions.code: RATELIMITED` / `extensions.type: ratelimited`, which Linear sends with HTTP 400),
 * 5xx, and no answer at all (network error); `retryAfterMs` from `Retry-After` (s) or `X-RateLimit-Requests-Reset`
 * (epoch ms) when given. Everything else (401 bad key, 403, invalid input) is permanent.
 */
import { LinearClient, LinearError, LinearGraphQLClient } from '@linear/sdk';

/** Linear's default GraphQL endpoint. */
export const LINEAR_DEFAULT_API_URL = 'https://api.linear.app/graphql';

/** Per-request time limit, ms: a call with no answer by then fails as transient (status null, outcome unknown). */
export const LINEAR_TIMEOUT_MS = 10_000;

/** A failed Linear call. `status` is the HTTP status, or null when no answer arrived. */
export class LinearRequestError extends Error {
  override name = 'LinearRequestError';
  constructor(
    message: string,
    readonly status: number | null,
    readonly transient: boolean,
    readonly retryAfterMs: number | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

/** What deflect needs from Linear: one GraphQL request returning `data` (see {@link createLinearApi}). */
export interface LinearApi {
  /**
   * Sends one GraphQL document with its variables and returns `data`.
   * @throws LinearRequestError (see the module comment for `transient` and `retryAfterMs`).
   */
  request<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

/**
 * A Linear client for `apiKey` (a personal API key, sent as `Authorization: <key>`) at `apiUrl`. Sends nothing yet.
 * `LinearClient` checks the options once (key present; https, or http on localhost only) and builds the headers; each
 * request then goes through the SDK's `LinearGraphQLClient` with those options plus its own
 * `AbortSignal.timeout(timeoutMs)` (the SDK's client has no timeout of its own).
 * @throws Error from the SDK when the key is empty or `apiUrl` is plain http to a host other than localhost.
 */
export function createLinearApi(options: { apiKey: string; apiUrl?: string; timeoutMs?: number }): LinearApi {
  const linear = new LinearClient({ apiKey: options.apiKey, apiUrl: options.apiUrl ?? LINEAR_DEFAULT_API_URL });
  const timeoutMs = options.timeoutMs ?? LINEAR_TIMEOUT_MS;
  return {
    async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
      try {
        const client = new LinearGraphQLClient(linear.options.apiUrl, { ...linear.options, signal: AbortSignal.timeout(timeoutMs) });
        const answer = await client.rawRequest<T, Record<string, unknown>>(query, variables);
        return answer.data as T;
      } catch (error) {
        throw toRequestError(error);
      }
    },
  };
}

/** Maps what the SDK throws (a `LinearError`, or fetch's TypeError when nothing answered) to a {@link LinearRequestError}. */
export function toRequestError(error: unknown): LinearRequestError {
  if (error instanceof LinearRequestError) return error;
  if (!(error instanceof LinearError)) {
    const reason = (error as Error)?.name === 'TimeoutError' ? 'no answer within the time limit' : ((error as Error)?.message ?? String(error));
    return new LinearRequestError(`Linear did not answer: ${reason}`, null, true);
  }
  const status = typeof error.status === 'number' ? error.status : null;
  const raw = error.raw as { response?: { errors?: Array<{ extensions?: { code?: unknown; type?: unknown } }>; headers?: Headers } } | undefined;
  const extensions = raw?.response?.errors?.[0]?.extensions;
  const code = typeof extensions?.code === 'string' ? extensions.code : null;
  const rateLimited = status === 429 || code === 'RATELIMITED' || extensions?.type === 'ratelimited' || error.type === 'Ratelimited';
  const transient = rateLimited || status === null || status >= 500;
  const message = `Linear answered ${status ?? 'no status'}${code ? ` (${code})` : ''}: ${error.message}`;
  return new LinearRequestError(message, status, transient, rateLimited ? retryAfterOf(raw?.response?.headers) : null, code);
}

function retryAfterOf(headers: Headers | undefined): number | null {
  const seconds = Number(headers?.get?.('retry-after'));
  if (Number.isFinite(seconds) && seconds > 0) return seconds * 1000;
  const resetAt = Number(headers?.get?.('x-ratelimit-requests-reset'));
  if (Number.isFinite(resetAt) && resetAt > 0) return Math.max(0, resetAt - Date.now());
  return null;
}
