/**
 * API tokens for tests: `authHeader(store, role)` creates a token of `role` in the test's own database (a Store of
 * either backend, or a SQLite Db) (the same path
 * as `deflect tokens create`) and returns the `Authorization` header to send with it.
 */
import { randomUUID } from 'node:crypto';
import { issueApiToken } from '../../src/auth/issue-token.js';
import type { Role } from '../../src/auth/roles.js';
import type { Db } from '../../src/db/client.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';
import type { Store } from '../../src/db/store.js';

const asStore = (db: Db | Store): Store => ('backend' in db ? db : sqliteStore(db));

/** Creates a token of `role` (named `test-<role>-<random>` unless `name` is given) and returns it. */
export async function createTestToken(db: Db | Store, role: Role, name = `test-${role}-${randomUUID().slice(0, 8)}`): Promise<string> {
  return (await issueApiToken(asStore(db), name, role)).token;
}

/** `{ authorization: 'Bearer <new token of role>' }`, ready to spread into fetch or inject headers. */
export async function authHeader(db: Db | Store, role: Role = 'auditor'): Promise<{ authorization: string }> {
  return { authorization: `Bearer ${await createTestToken(db, role)}` };
}
