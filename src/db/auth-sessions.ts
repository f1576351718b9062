/**
 * Browser sessions (table `auth_sessions`): the SHA-256 of the cookie value, the token it was opened with, and its
 * expiry (ms). A session acts with its token's current role, so revoking the token ends it.
 */
import type { Db } from './client.js';
import type { ApiTokenInfo } from './api-tokens.js';
import { statement } from './statements.js';

/** Opens a session for token `tokenId` until `expiresAt` (ms). Also deletes expired sessions, so the table stays small. */
export function createAuthSession(db: Db, session: { idHash: string; tokenId: number; expiresAt: number }, now = Date.now()): void {
  statement(db, 'DELETE FROM auth_sessions WHERE expires_at <= ?').run(now);
  statement(db, 'INSERT INTO auth_sessions (id_hash, token_id, created_at, expires_at) VALUES (?, ?, ?, ?)').run(
    session.idHash,
    session.tokenId,
    now,
    session.expiresAt,
  );
}

/** The active token behind an unexpired session, or undefined (unknown, expired, or its token revoked). */
export function findSessionToken(db: Db, idHash: string, now = Date.now()): ApiTokenInfo | undefined {
  return statement(
    db,
    `SELECT t.id, t.name, t.role, t.created_at AS createdAt, t.last_used_at AS lastUsedAt, t.revoked_at AS revokedAt
     FROM auth_sessions s JOIN api_tokens t ON t.id = s.token_id
     WHERE s.id_hash = ? AND s.expires_at > ? AND t.revoked_at IS NULL`,
  ).get(idHash, now) as ApiTokenInfo | undefined;
}

/** Ends a session (sign-out). @returns false when there was none. */
export function deleteAuthSession(db: Db, idHash: string): boolean {
  return statement(db, 'DELETE FROM auth_sessions WHERE id_hash = ?').run(idHash).changes === 1;
}
