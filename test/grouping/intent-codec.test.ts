/**
 * The compact stores grouping keeps at scale (`intent-codec.ts`): parsed intents and token lists in 64K-int chunks
 * read back exactly, also past a chunk's end and for a run longer than a chunk, and free their memory on release.
 * Test corpora are too small to fill a chunk, so this is where the chunk boundaries are exercised.
 */
import { describe, expect, it } from 'vitest';
import { parseIntent, type ParsedIntent } from '../../src/grouping/intent.js';
import { IntentStore, TokenLists } from '../../src/grouping/intent-codec.js';

describe('IntentStore', () => {
  it('gives back every intent as parsed, across many chunks', () => {
    const summaries = Array.from({ length: 12_000 }, (_, i) =>
      i % 3 === 0 ? `Add user-${i} to the sig-${i % 7} team` : i % 3 === 1 ? `Remove ${i} from maintainers of repo ${i % 11}` : `Contextual inquiry ${i}`,
    );
    const store = new IntentStore();
    const handles = summaries.map((s) => store.add(parseIntent(s)));
    // About 14 ints an intent: 12,000 of them fill more than two 65,536-int chunks.
    expect(new Set(handles.map((h) => h >>> 16)).size).toBeGreaterThan(2);
    summaries.forEach((s, i) => expect(store.get(handles[i])).toEqual(parseIntent(s)));
  });

  it('stores an intent longer than a chunk on its own', () => {
    const store = new IntentStore();
    // Summaries are clipped to 1,000 characters, so a real intent never gets this long (2 ints a word).
    const words = Array.from({ length: 40_000 }, (_, i) => ({ text: `W${i}`, stem: `w${i}`, ...(i % 9 === 0 ? { named: true } : {}) }));
    const long: ParsedIntent = { action: 'add', actionText: 'Add', before: [], phrases: [{ prep: null, words }, { prep: 'to', words: [{ text: 'team', stem: 'team' }] }] };
    const before = store.add(parseIntent('Add alice to team'));
    const big = store.add(long);
    const after = store.add(parseIntent('Remove bob from team'));
    expect(big >>> 16).toBe((before >>> 16) + 1);
    expect(after >>> 16).toBe((big >>> 16) + 1);
    expect(store.get(before)).toEqual(parseIntent('Add alice to team'));
    expect(store.get(big)).toEqual(long);
    expect(store.get(after)).toEqual(parseIntent('Remove bob from team'));
  });
});

describe('TokenLists', () => {
  const read = (lists: TokenLists, i: number) => {
    const chunk = lists.chunk(i);
    return Array.from(chunk.subarray(lists.from(i), lists.to(i)), (id) => lists.vocab.strings[id]);
  };

  it('reads each list back in order, empty ones included, past chunk ends', () => {
    const lists = new TokenLists(4); // fewer than will be added: the index grows
    const input = Array.from({ length: 30_000 }, (_, i) => (i % 10 === 0 ? [] : [`a${i % 5}`, 'team', `b${i % 3}`, 'add', `c${i}`]));
    const ids = input.map((tokens) => lists.add(tokens));
    expect(ids).toEqual(input.map((_, i) => i));
    expect(lists.count).toBe(input.length);
    input.forEach((tokens, i) => {
      expect(lists.length(i)).toBe(tokens.length);
      expect(read(lists, i)).toEqual(tokens);
    });
  });

  it('keeps a list longer than a chunk whole', () => {
    const lists = new TokenLists(3);
    const long = Array.from({ length: 70_000 }, (_, i) => `t${i % 100}`);
    lists.add(['x']);
    lists.add(long);
    lists.add(['y', 'z']);
    expect(read(lists, 0)).toEqual(['x']);
    expect(read(lists, 1)).toEqual(long);
    expect(read(lists, 2)).toEqual(['y', 'z']);
  });

  it('release frees the buffers (detached, read as empty)', () => {
    const lists = new TokenLists(2);
    lists.add(['a', 'b']);
    const chunk = lists.chunk(0);
    expect(chunk.length).toBeGreaterThan(0);
    lists.release();
    expect(chunk.length).toBe(0);
    expect(chunk.buffer.byteLength).toBe(0);
    expect(lists.count).toBe(0);
  });
});
