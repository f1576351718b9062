/**
 * API tokens (table `api_tokens`): name, role and the SHA-256 of the token (src/auth/secrets.ts). The token itself
 * never reaches this module's callers' storage: `createApiToken` takes the hash.
 */
import type { Db } from './client.js';
import type { ApiTokenRow } from './schema.js';
import { statement } from './statements.js';

/** A token as listed: never its hash. */
export type ApiTokenInfo = Omit<ApiTokenRow, 'tokenHash'>;

const INFO_COLUMNS = `id, name, role, created_at AS createdAt, last_used_at AS lastUsedAt, revoked_at AS revokedAt`;

/** How often `touchApiToken` writes `last_used_at` at most, ms (one write a minute, not one per request). */
export const TOUCH_INTERVAL_MS = 60_000;

/** Thrown by {@link createApiToken} when an active token already has the name. */
export class DuplicateTokenNameError extends Error {
  constructor(readonly tokenName: string) {
    super(`a token named "${tokenName}" already exists (revoke it first, or pick another name)`);
    this.name = 'DuplicateTokenNameError';
  }
}

/**
 * Stores a new token. @param tokenHash SHA-256 hex of the token. @returns the new row's id.
 * @throws DuplicateTokenNameError when an active (not revoked) token has the same name.
 */
export function createApiToken(db: Db, token: { name: string; role: string; tokenHash: string }, now = Date.now()): number {
  try {
    const result = statement(db, 'INSERT INTO api_tokens (name, role, token_hash, created_at) VALUES (?, ?, ?, ?)').run(
      token.name,
      token.role,
      token.tokenHash,
      now,
    );
    return Number(result.lastInsertRowid);
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && /name/.test((error as Error).message)) {
      throw new DuplicateTokenNameError(token.name);
    }
    throw error;
  }
}

/** The active (not revoked) token with this hash, or undefined. */
export function findActiveApiToken(db: Db, tokenHash: string): ApiTokenInfo | undefined {
  return statement(db, `SELECT ${INFO_COLUMNS} FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL`).get(tokenHash) as
    | ApiTokenInfo
    | undefined;
}

/** Every token, oldest first, revoked ones included (with `revokedAt`). Never returns hashes. */
export function listApiTokens(db: Db): ApiTokenInfo[] {
  return statement(db, `SELECT ${INFO_COLUMNS} FROM api_tokens ORDER BY id`).all() as ApiTokenInfo[];
}

/**
 * Revokes the active token named `name` and ends its sessions, in one transaction.
 * @returns false when no active token has that name.
 */
export function revokeApiToken(db: Db, name: string, now = Date.now()): boolean {
  return db.$client.transaction(() => {
    const row = statement(db, 'SELECT id FROM api_tokens WHERE name = ? AND revoked_at IS NULL').get(name) as { id: number } | undefined;
    if (!row) return false;
    statement(db, 'UPDATE api_tokens SET revoked_at = ? WHERE id = ?').run(now, row.id);
    statement(db, 'DELETE FROM auth_sessions WHERE token_id = ?').run(row.id);
    return true;
  })();
}

/**
 * Records that a token (as just read, with its `lastUsedAt`) was used now. Writes at most once a minute per token and
 * decides that from the row in hand, so an authenticated request does not take SQLite's write lock (which the
 * receiver's commits need) for an UPDATE that would change nothing.
 */
export function touchApiToken(db: Db, token: Pick<ApiTokenInfo, 'id' | 'lastUsedAt'>, now = Date.now()): void {
  if (token.lastUsedAt !== null && token.lastUsedAt >= now - TOUCH_INTERVAL_MS) return;
  statement(db, 'UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(now, token.id);
}
