/**
 * Authenticating a GitHub webhook delivery before anything is stored (the GitHub adapter's `createVerifier`).
 *
 * Header `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`, computed over the *raw bytes* and compared
 * in constant time; any of the configured secrets (`DEFLECT_GITHUB_WEBHOOK_SECRET`, comma-separated) may match, so a
 * secret can be rotated. A missing or malformed header is refused from the headers alone, before the body is read.
 * Source: https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
 *
 * Why not `@octokit/webhooks-methods` (`verify(secret, payload, signature)`): it takes the whole body as one string
 * and one secret, while the receiver authenticates the bytes as they stream in ({@link BodyVerifier}: the body is
 * never buffered twice, and a body is never decoded before it is authenticated). A node:crypto HMAC per secret fed
 * chunk by chunk does the same computation without that, as the Jira verifier does (`trackers/jira/verify-delivery.ts`).
 */
import { decidedVerifier, hmacSha256Hex, hmacSha256Verifier } from '../hmac-signature.js';
import type { BodyVerifier } from '../tracker.js';

/** GitHub's SHA-256 signature header (the older `X-Hub-Signature` is SHA-1 and is not read). */
export const GITHUB_SIGNATURE_HEADER = 'x-hub-signature-256';

/**
 * Starts verifying a GitHub delivery from its headers (lower-case names); see {@link BodyVerifier}.
 * With no secrets configured every delivery is accepted (`method: 'none'`; the receiver refuses deliveries itself
 * when the setting is absent, unless the service runs open).
 * Messages never echo a secret or the signature.
 */
export function createGitHubVerifier(headers: Record<string, string | string[] | undefined>, secrets: readonly string[]): BodyVerifier {
  const decided = decidedVerifier;
  if (secrets.length === 0) return decided({ ok: true, method: 'none' });
  const raw = headers[GITHUB_SIGNATURE_HEADER];
  const signature = Array.isArray(raw) ? raw[0] : raw;
  if (signature === undefined) {
    return decided({ ok: false, message: 'missing authentication: this endpoint requires an X-Hub-Signature-256 header (set a secret on the GitHub webhook)' });
  }
  const match = /^sha256=([0-9a-f]{64})$/i.exec(signature.trim());
  if (!match) return decided({ ok: false, message: 'malformed X-Hub-Signature-256 header: expected "sha256=<64 hex digits>"' });
  return hmacSha256Verifier(match[1], secrets, 'signature does not match: check that DEFLECT_GITHUB_WEBHOOK_SECRET equals the secret set on the GitHub webhook');
}

/** `sha256=<hex>` for `body` with `secret`: what GitHub sends in `X-Hub-Signature-256` (tests and replays sign with it). */
export function signGitHubBody(body: Buffer | string, secret: string): string {
  return `sha256=${hmacSha256Hex(body, secret)}`;
}
