/** Posting Trello webhooks the way Trello does (shared by the Trello tests): signed body + callback URL, no delivery header. */
import { signTrelloBody } from '../../src/trackers/trello/trello-verify.js';

export const TRELLO_TEST_SECRET = 'trello-app-secret-for-tests';
/** The public URL the tests' deflect is "registered" under; Trello signs `<this>/webhooks/trello`. */
export const TRELLO_PUBLIC_URL = 'https://deflect.example.test';
export const TRELLO_CALLBACK_URL = `${TRELLO_PUBLIC_URL}/webhooks/trello`;

/**
 * POSTs `body` (an object, or raw bytes sent as they are) to `/webhooks/trello`, signed for `callbackUrl` with
 * `secret` (null: unsigned) unless `signature` is given.
 */
export async function postTrello(
  url: string,
  body: unknown,
  options: { secret?: string | null; callbackUrl?: string; signature?: string } = {},
): Promise<{ status: number; json: Record<string, any> }> {
  const raw = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Trello' };
  const secret = options.secret === undefined ? TRELLO_TEST_SECRET : options.secret;
  if (options.signature !== undefined) headers['x-trello-webhook'] = options.signature;
  else if (secret) headers['x-trello-webhook'] = signTrelloBody(raw, secret, options.callbackUrl ?? TRELLO_CALLBACK_URL);
  const response = await fetch(`${url}/webhooks/trello`, { method: 'POST', headers, body: raw as string });
  const text = await response.text();
  let json: Record<string, any> = {};
  try {
    json = JSON.parse(text);
  } catch {
    json = { text };
  }
  return { status: response.status, json };
}
