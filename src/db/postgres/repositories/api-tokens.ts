/**
 * PostgreSQL twin of `../../api-tokens.ts` (table `api_tokens`). Where the SQL differs, and why:
 * - {@link createApiToken}: `INSERT … RETURNING id` (SQLite: `lastInsertRowid`). A clash on the partial unique index
 *   `api_tokens_active_name_unique` (SQLSTATE 23505, `constraint` names the index) becomes `DuplicateTokenNameError`,
 *   as SQLite's `SQLITE_CONSTRAINT_UNIQUE` naming `name` does; a token-hash clash is rethrown as is. Inside an open
 *   transaction the INSERT runs in a savepoint: a failed statement aborts a whole PostgreSQL transaction (SQLite's
 *   does not), so the caller's transaction stays usable after catching the error, as on SQLite.
 *   https://www.postgresql.org/docs/15/errcodes-appendix.html
 * - {@link revokeApiToken}: SQLite reads the active token's id, then updates it, in one transaction under its single
 *   writer. Here `UPDATE … WHERE name = $2 AND revoked_at IS NULL RETURNING id` does both at once (the partial unique
 *   index allows one active token per name), then the sessions are deleted, in one `pg.transaction`: of two replicas
 *   revoking the same name at once, the second's UPDATE waits for the first's row lock, re-checks `revoked_at` and
 *   revokes nothing (false), as it would after it on SQLite.
 * - camelCase aliases are quoted (PostgreSQL folds unquoted names to lower case).
 */
import { DuplicateTokenNameError, TOUCH_INTERVAL_MS, type ApiTokenInfo } from '../../api-tokens.js';
import type { Repositories } from '../../store.js';
import type { PgSession } from '../pg-session.js';

const INFO_COLUMNS = `id, name, role, created_at AS "createdAt", last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"`;


export const apiTokens = (pg: PgSession): Repositories['apiTokens'] => ({
  createApiToken: async (token: { name: string; role: string; tokenHash: string }, now = Date.now()) => {
    const insert = () =>
      pg.query<{ id: number }>('INSERT INTO api_tokens (name, role, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id', [
        token.name,
        token.role,
        token.tokenHash,
        now,
      ]);
    try {
      const [row] = pg.inTransaction ? await pg.transaction(insert) : await insert();
      return row.id;
    } catch (error) {
      const e = error as { code?: string; constraint?: string };
      if (e.code === '23505' && e.constraint === 'api_tokens_active_name_unique') throw new DuplicateTokenNameError(token.name);
      throw error;
    }
  },

  findActiveApiToken: async (tokenHash: string) => {
    const [row] = await pg.query<ApiTokenInfo>(`SELECT ${INFO_COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL`, [tokenHash]);
    return row;
  },

  listApiTokens: () => pg.query<ApiTokenInfo>(`SELECT ${INFO_COLUMNS} FROM api_tokens ORDER BY id`),

  revokeApiToken: (name: string, now = Date.now()) =>
    pg.transaction(async () => {
      const [row] = await pg.query<{ id: number }>('UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL RETURNING id', [now, name]);
      if (!row) return false;
      await pg.execute('DELETE FROM auth_sessions WHERE token_id = $1', [row.id]);
      return true;
    }),

  touchApiToken: async (token: Pick<ApiTokenInfo, 'id' | 'lastUsedAt'>, now = Date.now()) => {
    if (token.lastUsedAt !== null && token.lastUsedAt >= now - TOUCH_INTERVAL_MS) return;
    await pg.execute('UPDATE api_tokens SET last_used_at = $1 WHERE id = $2', [now, token.id]);
  },
});
