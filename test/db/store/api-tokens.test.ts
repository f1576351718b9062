/**
 * Conformance of the `apiTokens` and `authSessions` repositories (src/db/api-tokens.ts, src/db/auth-sessions.ts and
 * their PostgreSQL twins): the same assertions on both backends.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DuplicateTokenNameError } from '../../../src/db/api-tokens.js';
import { closeStoreBackends, storeBackends } from '../../support/stores.js';

afterAll(closeStoreBackends);

const hash = (c: string) => c.repeat(64);

describe.each(storeBackends())('apiTokens and authSessions on %s', (backend) => {
  it.skipIf(backend.skip !== null)('creates, finds, lists and revokes tokens; a name is reusable after a revoke', async () => {
    const store = await backend.open();
    expect(await store.listApiTokens()).toEqual([]);
    const a = await store.createApiToken({ name: 'ci', role: 'operator', tokenHash: hash('a') }, 1_000);
    const b = await store.createApiToken({ name: 'auditor', role: 'auditor', tokenHash: hash('b') }, 1_100);
    expect(b).toBeGreaterThan(a);
    expect(await store.findActiveApiToken(hash('a'))).toEqual({ id: a, name: 'ci', role: 'operator', createdAt: 1_000, lastUsedAt: null, revokedAt: null });
    expect(await store.findActiveApiToken(hash('z'))).toBeUndefined();

    await expect(store.createApiToken({ name: 'ci', role: 'admin', tokenHash: hash('c') }, 1_200)).rejects.toThrow(DuplicateTokenNameError);
    await expect(store.createApiToken({ name: 'ci', role: 'admin', tokenHash: hash('c') }, 1_200)).rejects.toThrow('a token named "ci" already exists');
    // Another token's hash again: not a name clash, the database's error.
    const clash = await store.createApiToken({ name: 'other', role: 'admin', tokenHash: hash('a') }, 1_200).catch((e: unknown) => e);
    expect(clash).toBeInstanceOf(Error);
    expect(clash).not.toBeInstanceOf(DuplicateTokenNameError);

    expect(await store.revokeApiToken('nobody', 2_000)).toBe(false);
    expect(await store.revokeApiToken('ci', 2_000)).toBe(true);
    expect(await store.revokeApiToken('ci', 2_100)).toBe(false);
    expect(await store.findActiveApiToken(hash('a'))).toBeUndefined();
    const again = await store.createApiToken({ name: 'ci', role: 'admin', tokenHash: hash('d') }, 3_000);
    expect(await store.listApiTokens()).toEqual([
      { id: a, name: 'ci', role: 'operator', createdAt: 1_000, lastUsedAt: null, revokedAt: 2_000 },
      { id: b, name: 'auditor', role: 'auditor', createdAt: 1_100, lastUsedAt: null, revokedAt: null },
      { id: again, name: 'ci', role: 'admin', createdAt: 3_000, lastUsedAt: null, revokedAt: null },
    ]);
  });

  it.skipIf(backend.skip !== null)('a name clash inside a transaction leaves the transaction usable (as on SQLite)', async () => {
    const store = await backend.open();
    await store.createApiToken({ name: 'ci', role: 'operator', tokenHash: hash('a') }, 1_000);
    await store.transaction(async () => {
      await expect(store.createApiToken({ name: 'ci', role: 'admin', tokenHash: hash('b') }, 1_100)).rejects.toThrow(DuplicateTokenNameError);
      await store.createApiToken({ name: 'next', role: 'admin', tokenHash: hash('c') }, 1_200);
    });
    expect((await store.listApiTokens()).map((t) => t.name)).toEqual(['ci', 'next']);
  });

  it.skipIf(backend.skip !== null)('touches a token at most once a minute, judged from the row in hand', async () => {
    const store = await backend.open();
    const id = await store.createApiToken({ name: 'ci', role: 'operator', tokenHash: hash('a') }, 1_000);
    await store.touchApiToken({ id, lastUsedAt: null }, 100_000);
    expect((await store.findActiveApiToken(hash('a')))!.lastUsedAt).toBe(100_000);
    await store.touchApiToken({ id, lastUsedAt: 100_000 }, 160_000);
    expect((await store.findActiveApiToken(hash('a')))!.lastUsedAt).toBe(100_000);
    await store.touchApiToken({ id, lastUsedAt: 100_000 }, 160_001);
    expect((await store.findActiveApiToken(hash('a')))!.lastUsedAt).toBe(160_001);
  });

  it.skipIf(backend.skip !== null)('sessions: found while unexpired and the token active; expired ones deleted on the next open; sign-out', async () => {
    const store = await backend.open();
    const id = await store.createApiToken({ name: 'ci', role: 'operator', tokenHash: hash('a') }, 1_000);
    const other = await store.createApiToken({ name: 'web', role: 'admin', tokenHash: hash('b') }, 1_000);
    await store.createAuthSession({ idHash: hash('1'), tokenId: id, expiresAt: 5_000 }, 2_000);
    await store.createAuthSession({ idHash: hash('2'), tokenId: other, expiresAt: 9_000 }, 2_000);
    const token = { id, name: 'ci', role: 'operator', createdAt: 1_000, lastUsedAt: null, revokedAt: null };
    expect(await store.findSessionToken(hash('1'), 4_999)).toEqual(token);
    expect(await store.findSessionToken(hash('1'), 5_000)).toBeUndefined();
    expect(await store.findSessionToken(hash('9'), 2_000)).toBeUndefined();
    // Opening a session at 5000 deletes the one that expired at 5000.
    await store.createAuthSession({ idHash: hash('3'), tokenId: id, expiresAt: 20_000 }, 5_000);
    expect(await store.deleteAuthSession(hash('1'))).toBe(false);
    expect(await store.deleteAuthSession(hash('2'))).toBe(true);
    expect(await store.deleteAuthSession(hash('2'))).toBe(false);
    expect(await store.findSessionToken(hash('3'), 6_000)).toEqual(token);
    // Revoking the token ends its sessions.
    expect(await store.revokeApiToken('ci', 7_000)).toBe(true);
    expect(await store.findSessionToken(hash('3'), 7_000)).toBeUndefined();
    expect(await store.deleteAuthSession(hash('3'))).toBe(false);
  });

  it.skipIf(backend.skip !== null)('a duplicate session id is refused by the database', async () => {
    const store = await backend.open();
    const id = await store.createApiToken({ name: 'ci', role: 'operator', tokenHash: hash('a') }, 1_000);
    await store.createAuthSession({ idHash: hash('1'), tokenId: id, expiresAt: 5_000 }, 2_000);
    await expect(store.createAuthSession({ idHash: hash('1'), tokenId: id, expiresAt: 6_000 }, 2_000)).rejects.toThrow();
  });

  it.skipIf(backend.skip !== null)('concurrent revokes of one name: one revokes', async () => {
    const store = await backend.open();
    await store.createApiToken({ name: 'ci', role: 'operator', tokenHash: hash('a') }, 1_000);
    const results = await Promise.all([1, 2, 3].map((i) => store.revokeApiToken('ci', 2_000 + i)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});
