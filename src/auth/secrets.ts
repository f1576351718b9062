/**
 * API tokens and session ids: how they are made and how they are stored.
 *
 * A token is `dfl_` + 32 random bytes (256 bits) in base64url; a session id is 32 random bytes in base64url. Only
 * their SHA-256 (lower-case hex) is stored, so a copy of the database gives no way to authenticate. With 256 bits of
 * entropy an unsalted fast hash is enough: there is nothing to guess, and a lookup by hash compares no secret in
 * variable time.
 */
import { createHash, randomBytes } from 'node:crypto';

/** Prefix of every API token, so a leaked one is recognisable (secret scanners, logs). */
export const TOKEN_PREFIX = 'dfl_';

/** A new API token, e.g. `dfl_3q2-…` (47 characters). Shown once by `deflect tokens create`; never stored. */
export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** A new session id for the session cookie (43 characters of base64url). */
export function generateSessionId(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 of a token or session id, lower-case hex: the only form in which either is stored. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}
