/**
 * Issuing and listing API tokens: the one path `deflect tokens` and `/api/tokens` share (revoking is
 * `revokeApiToken` in src/db/api-tokens.ts).
 */
import { z } from 'zod';
import type { Store } from '../db/store.js';
import { ROLES, type Role } from './roles.js';
import { generateToken, hashSecret } from './secrets.js';

/** A token name: 1–64 letters, digits, `.`, `_`, `@`, `-`, starting with a letter or digit (e.g. `ci-bot`, `maya@acme`). */
export const tokenNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'use 1-64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit');

export const roleSchema = z.enum(ROLES, { message: `use one of ${ROLES.join(', ')}` });

/** What issuing a token returns: the only time the token is seen. */
export interface IssuedToken {
  name: string;
  role: Role;
  token: string;
}

/**
 * Creates a token with `role` under `name` and stores only its SHA-256.
 * @throws ZodError for a bad name or role; DuplicateTokenNameError (src/db/api-tokens.ts) when the name is taken.
 */
export async function issueApiToken(db: Store, name: string, role: string): Promise<IssuedToken> {
  const parsed = z.object({ name: tokenNameSchema, role: roleSchema }).parse({ name, role });
  const token = generateToken();
  await db.createApiToken({ name: parsed.name, role: parsed.role, tokenHash: hashSecret(token) });
  return { name: parsed.name, role: parsed.role, token };
}

/** A token as `deflect tokens list` and `GET /api/tokens` show it: ISO 8601 times, never the token or its hash. */
export interface TokenListing {
  name: string;
  role: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** Every token, oldest first, revoked ones included. */
export async function listTokens(db: Store): Promise<TokenListing[]> {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return (await db.listApiTokens()).map((t) => ({ name: t.name, role: t.role, createdAt: iso(t.createdAt)!, lastUsedAt: iso(t.lastUsedAt), revokedAt: iso(t.revokedAt) }));
}
