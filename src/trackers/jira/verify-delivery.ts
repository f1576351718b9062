/**
 * Authenticating a Jira webhook delivery, before anything is stored (the Jira adapter's `createVerifier`).
 *
 * - **Signature** (Jira Cloud and Data Center admin webhooks with a secret): header
 *   `X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`. Computed over the *raw bytes*, compared in
 *   constant time; any of the configured secrets may match (rotation). Other methods than `sha256` are refused,
 *   as Atlassian warns another algorithm may come. Source: https://developer.atlassian.com/cloud/jira/platform/webhooks/
 *   ("Secure admin webhooks") and https://confluence.atlassian.com/adminjiraserver/managing-webhooks-938846912.html.
 * - **Token** (Jira Automation "Send web request", which cannot sign): header `X-Deflect-Token: <token>`
 *   equal to one of `DEFLECT_WEBHOOK_TOKEN`, compared in constant time.
 *
 * With neither secrets nor tokens configured every delivery is accepted (start-up warns about it).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { decidedVerifier, hmacSha256Hex, hmacSha256Verifier } from '../hmac-signature.js';
import type { AuthResult, BodyVerifier } from '../tracker.js';

export const TOKEN_HEADER = 'x-deflect-token';
export const SIGNATURE_HEADER = 'x-hub-signature';

/**
 * Decides whether a delivery is authentic.
 * @param rawBody the body bytes exactly as received.
 * @param headers lower-cased header names (as Node gives them).
 * @returns `{ ok: false, message }` with a message fit for a 401 answer (it never echoes a secret).
 */
export function authenticateDelivery(
  rawBody: Buffer,
  headers: Record<string, string | string[] | undefined>,
  secrets: readonly string[],
  tokens: readonly string[],
): AuthResult {
  const verifier = createBodyVerifier(headers, secrets, tokens);
  if (verifier.early) return verifier.early;
  verifier.update(rawBody);
  return verifier.finish();
}

/** Starts verifying a delivery from its headers (lower-case names); see {@link BodyVerifier}. */
export function createBodyVerifier(
  headers: Record<string, string | string[] | undefined>,
  secrets: readonly string[],
  tokens: readonly string[],
): BodyVerifier {
  const decided = decidedVerifier;
  if (secrets.length === 0 && tokens.length === 0) return decided({ ok: true, method: 'none' });
  const signature = firstHeader(headers[SIGNATURE_HEADER]);
  const token = firstHeader(headers[TOKEN_HEADER]);

  if (signature !== undefined && secrets.length > 0) {
    const match = /^([a-z0-9]+)=([0-9a-f]+)$/i.exec(signature.trim());
    if (!match) return decided({ ok: false, message: 'malformed X-Hub-Signature header: expected "sha256=<hex>"' });
    if (match[1].toLowerCase() !== 'sha256') {
      return decided({ ok: false, message: `unsupported signature method "${match[1]}": only sha256 is accepted` });
    }
    return hmacSha256Verifier(match[2], secrets, 'signature does not match: check that DEFLECT_WEBHOOK_SECRET equals the secret set on the Jira webhook');
  }
  if (token !== undefined && tokens.length > 0) {
    const given = sha256(token);
    for (const expected of tokens) {
      if (timingSafeEqual(given, sha256(expected))) return decided({ ok: true, method: 'token' });
    }
    return decided({ ok: false, message: 'X-Deflect-Token does not match: check DEFLECT_WEBHOOK_TOKEN and the Automation rule header' });
  }
  const wanted = [secrets.length > 0 ? 'an X-Hub-Signature header' : null, tokens.length > 0 ? 'an X-Deflect-Token header' : null]
    .filter(Boolean)
    .join(' or ');
  return decided({ ok: false, message: `missing authentication: this endpoint requires ${wanted}` });
}

/** `sha256=<hex>` for `body` with `secret`: what Jira sends, and what `deflect replay` signs with. */
export function signBody(body: Buffer | string, secret: string): string {
  return `sha256=${hmacSha256Hex(body, secret)}`;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest();

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
