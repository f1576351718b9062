/**
 * Authenticating a Trello webhook delivery (the Trello adapter's `createVerifier`), before anything is stored.
 *
 * Trello signs every delivery: header `X-Trello-Webhook: <base64 HMAC-SHA1(app secret, raw body + callback URL)>`,
 * the callback URL being exactly the one the webhook was created with (here `DEFLECT_PUBLIC_URL` + `/webhooks/trello`)
 * appended to the body bytes with no separator. The key is the application's secret (the "Secret" shown with the
 * API key on https://trello.com/power-ups/admin → API key), not the user token. Source: Trello's developer docs,
 * "Webhooks" → "Webhook Signatures" (https://developer.atlassian.com/cloud/trello/guides/rest-api/webhooks/).
 *
 * The HMAC is computed over the raw bytes as they stream in (one per configured secret, `TRELLO_WEBHOOK_SECRET`
 * comma-separated: any may match, for rotation), the callback URL is fed after the last chunk, and the digests are
 * compared in constant time. A missing or malformed header is refused from the headers alone (early 401), so an
 * unsigned body is never read; so is every delivery when the secret is set but the callback URL is not known
 * (`DEFLECT_PUBLIC_URL`: without it no signature can be checked). Messages never echo a secret or the signature.
 */
import { createHmac } from 'node:crypto';
import { decidedVerifier, hmacVerifier } from '../hmac-signature.js';
import type { BodyVerifier, VerifierContext } from '../tracker.js';

/** Trello's signature header (lower case, as Node gives header names). */
export const TRELLO_SIGNATURE_HEADER = 'x-trello-webhook';

/** The path of deflect's Trello webhook route; the callback URL is `DEFLECT_PUBLIC_URL` + this. */
export const TRELLO_WEBHOOK_PATH = '/webhooks/trello';

/** A base64 HMAC-SHA1: 20 bytes = 28 characters with one `=` of padding. */
const BASE64_SHA1 = /^[A-Za-z0-9+/]{27}=$/;

/** The callback URL Trello signs for a deflect reachable at `publicUrl` (trailing slashes dropped). */
export function trelloCallbackUrl(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${TRELLO_WEBHOOK_PATH}`;
}

/**
 * Starts verifying a delivery from its headers (lower-case names); see {@link BodyVerifier}. `tokens` are ignored:
 * Trello has no shared-token mode. With no secret configured every delivery is accepted (`DEFLECT_INSECURE_NO_AUTH`;
 * the receiver refuses every delivery when the secret is simply unset).
 */
export function createTrelloVerifier(
  headers: Record<string, string | string[] | undefined>,
  secrets: readonly string[],
  _tokens: readonly string[] = [],
  context: VerifierContext = {},
): BodyVerifier {
  if (secrets.length === 0) return decidedVerifier({ ok: true, method: 'none' });
  const callbackUrl = context.callbackUrl ?? null;
  if (!callbackUrl) {
    return decidedVerifier({ ok: false, message: 'Trello deliveries cannot be verified: DEFLECT_PUBLIC_URL is not set (Trello signs the body together with the callback URL)' });
  }
  const raw = headers[TRELLO_SIGNATURE_HEADER];
  const signature = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (signature === undefined || signature === '') {
    return decidedVerifier({ ok: false, message: 'missing authentication: this endpoint requires an X-Trello-Webhook header' });
  }
  if (!BASE64_SHA1.test(signature)) {
    return decidedVerifier({ ok: false, message: 'malformed X-Trello-Webhook header: expected the base64 HMAC-SHA1 of the body and callback URL (28 characters)' });
  }
  return hmacVerifier({
    algorithm: 'sha1',
    given: Buffer.from(signature, 'base64'),
    secrets,
    trailer: callbackUrl,
    mismatch: `signature does not match: check that TRELLO_WEBHOOK_SECRET is the Trello app's secret and that the webhook's callback URL is exactly ${callbackUrl} (DEFLECT_PUBLIC_URL)`,
  });
}

/** The `X-Trello-Webhook` value Trello sends for `body` to `callbackUrl`, signed with `secret`; for tests and replays. */
export function signTrelloBody(body: Buffer | string, secret: string, callbackUrl: string): string {
  return createHmac('sha1', secret).update(body).update(callbackUrl, 'utf8').digest('base64');
}
