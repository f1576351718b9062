/**
 * Authenticating a Linear webhook delivery (the Linear adapter's `createVerifier`), before anything is stored.
 *
 * Linear signs every delivery: header `Linear-Signature: <hex HMAC-SHA256(signing secret, raw body)>` (no method
 * prefix). Source: https://linear.app/developers/webhooks ("Securing webhooks"). The HMAC is computed over the raw
 * bytes as they stream in (one HMAC per configured secret: any may match, for rotation) and compared in constant time.
 * A missing or malformed header is refused from the headers alone (early 401), so an unsigned body is never read.
 * Messages never echo a secret or the signature sent.
 *
 * Why not `LinearWebhookClient` from `@linear/sdk/webhooks`: its `verify(rawBody, signature)` needs the whole body in
 * one buffer (no incremental update), takes one secret (no rotation), and also parses the JSON and checks the
 * timestamp inside the same call, so a bad signature, bad JSON and a stale timestamp would be one error — deflect
 * answers them differently (401, 400, 422) and applies the 60 s age limit in the receiver (`maxEventAgeMs`).
 * The algorithm here is the same one it implements (hex HMAC-SHA256 of the raw body, timing-safe comparison).
 */
import { decidedVerifier, hmacSha256Hex, hmacSha256Verifier } from '../hmac-signature.js';
import type { BodyVerifier } from '../tracker.js';

/** Linear's signature header (lower case, as Node gives header names). */
export const LINEAR_SIGNATURE_HEADER = 'linear-signature';

/** A SHA-256 HMAC in hex: 64 hex digits. */
const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/**
 * Starts verifying a delivery from its headers (lower-case names); see {@link BodyVerifier}. `tokens` are ignored:
 * Linear has no shared-token mode. With no secret configured every delivery is accepted (`DEFLECT_INSECURE_NO_AUTH`;
 * the receiver refuses every delivery when the secret is simply unset).
 */
export function createLinearVerifier(
  headers: Record<string, string | string[] | undefined>,
  secrets: readonly string[],
  _tokens: readonly string[] = [],
): BodyVerifier {
  const decided = decidedVerifier;
  if (secrets.length === 0) return decided({ ok: true, method: 'none' });
  const raw = headers[LINEAR_SIGNATURE_HEADER];
  const signature = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (signature === undefined || signature === '') {
    return decided({ ok: false, message: 'missing authentication: this endpoint requires a Linear-Signature header' });
  }
  if (!HEX_SHA256.test(signature)) {
    return decided({ ok: false, message: 'malformed Linear-Signature header: expected 64 hex digits (HMAC-SHA256 of the body)' });
  }
  return hmacSha256Verifier(signature, secrets, 'signature does not match: check that DEFLECT_LINEAR_WEBHOOK_SECRET equals the signing secret of the Linear webhook');
}

/** The `Linear-Signature` value for `body` signed with `secret` (hex), as Linear sends it; for tests and replays. */
export function signLinearBody(body: Buffer | string, secret: string): string {
  return hmacSha256Hex(body, secret);
}
