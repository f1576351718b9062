/**
 * The membership cache: answers reused for the TTL and looked up again after it, failed lookups kept at most a minute,
 * one lookup per (tracker, user) in flight however often it is asked, a tracker without credentials answered with the
 * variable to set, and the size bound. The directory here is a stand-in for a tracker (counts calls), not deflect code.
 */
import { describe, expect, it } from 'vitest';
import type { MembershipAnswer } from '../../src/rules/scope.js';
import { ERROR_TTL_MS, MembershipCache } from '../../src/scope/membership-cache.js';

function directory(groupsOf: (user: string) => string[] | Error) {
  const calls: string[] = [];
  const lookup = async (user: string, groups: readonly string[]) => {
    calls.push(user);
    await new Promise((r) => setTimeout(r, 5));
    const have = groupsOf(user);
    if (have instanceof Error) throw have;
    return new Map<string, MembershipAnswer>(groups.map((g) => [g, { member: have.includes(g) }]));
  };
  return { calls, directory: { jira: lookup } };
}

describe('MembershipCache', () => {
  it('reuses an answer for the TTL and asks again after it', async () => {
    let now = 1_000;
    const d = directory(() => ['early']);
    let resolved = 0;
    const cache = new MembershipCache({ directory: d.directory, ttlMs: 600_000, now: () => now, onResolved: () => resolved++ });
    const q = { tracker: 'jira' as const, user: 'U1', group: 'early' };
    expect(cache.peek(q)).toBeUndefined();
    await cache.prefetch([q, { ...q, group: 'other' }]);
    expect(d.calls).toEqual(['U1']); // both groups in one call
    expect(resolved).toBe(1);
    expect(cache.peek({ ...q, user: 'u1', group: 'EARLY' })).toEqual({ member: true });
    expect(cache.peek({ ...q, group: 'other' })).toEqual({ member: false });
    now += 600_000;
    expect(cache.peek(q)).toBeUndefined();
    await cache.prefetch([q]);
    expect(d.calls).toEqual(['U1', 'U1']);
  });

  it('keeps a failed lookup at most a minute, and never rejects', async () => {
    let now = 0;
    const d = directory(() => new Error('socket hang up'));
    const cache = new MembershipCache({ directory: d.directory, ttlMs: 600_000, now: () => now });
    const q = { tracker: 'jira' as const, user: 'U2', group: 'early' };
    await expect(cache.prefetch([q])).resolves.toBeUndefined();
    expect(cache.peek(q)).toEqual({ error: 'jira group lookup failed: socket hang up' });
    now += ERROR_TTL_MS;
    expect(cache.peek(q)).toBeUndefined();
  });

  it('starts one lookup for concurrent prefetches of the same question', async () => {
    const d = directory(() => []);
    const cache = new MembershipCache({ directory: d.directory, ttlMs: 60_000 });
    const q = { tracker: 'jira' as const, user: 'U3', group: 'early' };
    const first = cache.prefetch([q]);
    expect(cache.pending(q)).toBe(true);
    await Promise.all([first, cache.prefetch([q]), cache.prefetch([q])]);
    expect(d.calls).toEqual(['U3']);
    expect(cache.pending(q)).toBe(false);
  });

  it('answers a tracker without credentials with the variable to set, and stays within maxEntries', async () => {
    const cache = new MembershipCache({ directory: {}, ttlMs: 60_000, maxEntries: 2 });
    const qs = ['a', 'b', 'c'].map((group) => ({ tracker: 'github' as const, user: 'octocat', group: `acme/${group}` }));
    await cache.prefetch(qs);
    expect(cache.peek(qs[2])).toEqual({ error: expect.stringContaining('no github credentials (GITHUB_TOKEN)') });
    expect(cache.peek(qs[0])).toBeUndefined(); // the oldest answer was dropped
  });
});
