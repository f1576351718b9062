/**
 * The CLI's remote mode: `deflect report|audit|handlers|runs retry --url https://deflect.example` reads (or retries)
 * through a running deflect's HTTP API instead of opening its SQLite file, so the commands work from any machine
 * with a token. The token comes from `DEFLECT_TOKEN` (never from a flag, so it stays out of shell history and `ps`),
 * sent as `Authorization: Bearer <token>`; the answers are the same JSON the local commands build, rendered the same
 * way. Routes and roles: README "HTTP API".
 */
import { Option } from 'commander';
import { remoteTokenFromEnv } from '../config.js';
import { UsageError } from './cli-errors.js';

/** How long one API request may take, ms. */
export const REMOTE_TIMEOUT_MS = 30_000;

/** Where and how to reach a running deflect. */
export interface Remote {
  /** Base URL without a trailing slash, e.g. `https://deflect.example`. */
  url: string;
  token: string;
}

/** The `--url <base>` option of the commands that have a remote mode. */
export function urlOption(): Option {
  return new Option('--url <base>', 'read through the HTTP API of the deflect at this URL (token in DEFLECT_TOKEN) instead of DEFLECT_DB');
}

/**
 * The remote to use, or null without `--url` (the command then works on DEFLECT_DB).
 * @throws UsageError for a URL that is not http(s), or when DEFLECT_TOKEN is not set.
 */
export function remoteOf(url: string | undefined): Remote | null {
  if (url === undefined) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`invalid --url "${url.slice(0, 200)}": use the deflect's base URL, e.g. https://deflect.example`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`invalid --url "${url.slice(0, 200)}": use http:// or https://`);
  const token = remoteTokenFromEnv();
  if (!token) throw new UsageError('--url needs an API token in DEFLECT_TOKEN (create one on the server: deflect tokens create --name you --role auditor)');
  return { url: parsed.href.replace(/\/+$/, ''), token };
}

/**
 * Calls `method path` on the remote with the token and returns the parsed JSON answer.
 * @param query values to append; arrays become repeated parameters, undefined values are left out.
 * @throws Error (exit 1) naming the URL and the API's own message for a non-2xx answer (401: the token is wrong or
 *   revoked; 403: its role is too low), for a network failure, or after {@link REMOTE_TIMEOUT_MS}.
 */
export async function remoteJson<T>(
  remote: Remote,
  method: 'GET' | 'POST',
  path: string,
  query: Record<string, string | number | readonly string[] | undefined> = {},
): Promise<T> {
  const target = new URL(`${remote.url}${path}`);
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) target.searchParams.append(name, String(v));
  }
  let response: Response;
  try {
    response = await fetch(target, {
      method,
      headers: { authorization: `Bearer ${remote.token}`, accept: 'application/json', ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
      body: method === 'POST' ? '{}' : undefined,
      signal: AbortSignal.timeout(REMOTE_TIMEOUT_MS),
    });
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${REMOTE_TIMEOUT_MS / 1000} s` : ((error as Error & { cause?: Error }).cause?.message ?? (error as Error).message);
    throw new Error(`cannot reach ${remote.url}: ${reason}`, { cause: error });
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below for an error status, refused for a 2xx
  }
  if (!response.ok) {
    const message = (body as { message?: unknown } | null)?.message;
    const hint = response.status === 401 ? ' (check DEFLECT_TOKEN: wrong, expired or revoked)' : response.status === 403 ? ' (the token’s role may not do this)' : '';
    throw new Error(`${method} ${target.pathname} at ${remote.url}: ${response.status} ${typeof message === 'string' ? message.slice(0, 500) : response.statusText}${hint}`);
  }
  if (body === null) throw new Error(`${method} ${target.pathname} at ${remote.url}: the answer is not JSON (is --url a deflect?)`);
  return body as T;
}
