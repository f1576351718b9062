/**
 * PostgreSQL twin of `../../auth-sessions.ts` (table `auth_sessions`). The SQL is the same but for quoted camelCase
 * aliases (PostgreSQL folds unquoted names to lower case) and `$n` parameters. {@link createAuthSession} runs its two
 * statements (delete expired, insert) without a transaction of its own, as on SQLite; inside `store.transaction` it
 * joins that one. Two replicas deleting expired sessions at once is harmless (the second deletes fewer rows).
 */
import type { ApiTokenInfo } from '../../api-tokens.js';
import type { Repositories } from '../../store.js';
import type { PgSession } from '../pg-session.js';

export const authSessions = (pg: PgSession): Repositories['authSessions'] => ({
  createAuthSession: async (session: { idHash: string; tokenId: number; expiresAt: number }, now = Date.now()) => {
    await pg.execute('DELETE FROM auth_sessions WHERE expires_at <= $1', [now]);
    await pg.execute('INSERT INTO auth_sessions (id_hash, token_id, created_at, expires_at) VALUES ($1, $2, $3, $4)', [
      session.idHash,
      session.tokenId,
      now,
      session.expiresAt,
    ]);
  },

  findSessionToken: async (idHash: string, now = Date.now()) => {
    const [row] = await pg.query<ApiTokenInfo>(
      `SELECT t.id, t.name, t.role, t.created_at AS "createdAt", t.last_used_at AS "lastUsedAt", t.revoked_at AS "revokedAt"
       FROM auth_sessions s JOIN api_tokens t ON t.id = s.token_id
       WHERE s.id_hash = $1 AND s.expires_at > $2 AND t.revoked_at IS NULL`,
      [idHash, now],
    );
    return row;
  },

  deleteAuthSession: async (idHash: string) => (await pg.execute('DELETE FROM auth_sessions WHERE id_hash = $1', [idHash])) === 1,
});
