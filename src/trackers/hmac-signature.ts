/**
 * The HMAC-SHA256 body signature that Jira admin webhooks (`X-Hub-Signature: sha256=<hex>`), GitHub
 * (`X-Hub-Signature-256: sha256=<hex>`) and Linear (`Linear-Signature: <hex>`) all use: one HMAC per configured secret
 * (any may match: rotation), fed the raw body chunk by chunk as it streams in, compared in constant time. Each
 * adapter's verifier only reads its header and picks its messages; this module holds the computation once.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AuthResult, BodyVerifier } from './tracker.js';

/** A verifier whose result the headers alone decided (no body needed). */
export const decidedVerifier = (result: AuthResult): BodyVerifier => ({ early: result, update() {}, finish: () => result });

/**
 * Verifies the body against `givenHex` (the signature's hex digits, already checked to be hex) with each secret.
 * @returns a verifier whose `finish` answers `signature` when any secret matches, else `{ ok: false, mismatch }`.
 */
export function hmacSha256Verifier(givenHex: string, secrets: readonly string[], mismatch: string): BodyVerifier {
  return hmacVerifier({ algorithm: 'sha256', given: Buffer.from(givenHex.toLowerCase(), 'hex'), secrets, mismatch });
}

/**
 * The general form: an HMAC (`algorithm`: `sha256`, Trello's `sha1`) per secret over the body chunks, then `trailer`
 * (bytes the sender signs after the body: Trello's callback URL), compared with the `given` digest bytes.
 */
export function hmacVerifier(options: { algorithm: 'sha1' | 'sha256'; given: Buffer; secrets: readonly string[]; mismatch: string; trailer?: string }): BodyVerifier {
  const { given, mismatch } = options;
  const hmacs = options.secrets.map((secret) => createHmac(options.algorithm, secret));
  return {
    early: null,
    update: (chunk) => hmacs.forEach((h) => h.update(chunk)),
    finish() {
      if (options.trailer) hmacs.forEach((h) => h.update(options.trailer!, 'utf8'));
      let ok = false;
      // Every secret is compared (no early exit), each in constant time.
      for (const hmac of hmacs) {
        const expected = hmac.digest();
        ok = (expected.length === given.length && timingSafeEqual(expected, given)) || ok;
      }
      return ok ? { ok: true, method: 'signature' } : { ok: false, message: mismatch };
    },
  };
}

/** The hex HMAC-SHA256 of `body` with `secret` (what the three trackers sign with; tests and replays use it). */
export function hmacSha256Hex(body: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}
