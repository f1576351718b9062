/**
 * Compact storage for parsed intents (`text-v2` at scale): a {@link ParsedIntent} as one `Int32Array` of word ids
 * instead of a tree of small objects, so 100k tickets keep their phrases in a few MB (about 8 bytes a word).
 *
 * Layout: `[action+1 (0: none), actionText+1, beforeLength, before words…, phraseCount, (prep+1 (0: direct),
 * length, words…)…]`, each word two ints: stem id, and text id × 2 + 1 when the word is `named`.
 */
import type { ParsedIntent, Phrase, PhraseWord } from './intent.js';

/** Interned strings ↔ ids. */
export class Vocabulary {
  private readonly ids = new Map<string, number>();
  readonly strings: string[] = [];

  id(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.ids.set(s, id);
      this.strings.push(s);
    }
    return id;
  }
}

/**
 * Many encoded intents in one growing `Int32Array` (a typed array per ticket costs ~200 bytes of headers alone).
 * `add` returns the intent's offset; `get` decodes it.
 */
export class IntentStore {
  readonly vocab = new Vocabulary();
  private buf: Int32Array;
  private length = 0;

  /** @param capacity initial size in ints (about 24 a ticket avoids regrowing). */
  constructor(capacity = 1 << 16) {
    this.buf = new Int32Array(Math.max(1024, capacity));
  }

  add(intent: ParsedIntent): number {
    const enc = encodeIntent(intent, this.vocab);
    while (this.length + enc.length > this.buf.length) {
      const bigger = new Int32Array(this.buf.length * 2);
      bigger.set(this.buf.subarray(0, this.length));
      this.buf = bigger;
    }
    this.buf.set(enc, this.length);
    this.length += enc.length;
    return this.length - enc.length;
  }

  get(offset: number): ParsedIntent {
    return decodeIntent(this.buf.subarray(offset), this.vocab);
  }
}

/** Encodes an intent (see the module comment). */
export function encodeIntent(intent: ParsedIntent, vocab: Vocabulary): Int32Array {
  const out: number[] = [intent.action === null ? 0 : vocab.id(intent.action) + 1, intent.actionText === null ? 0 : vocab.id(intent.actionText) + 1];
  const words = (ws: PhraseWord[]) => {
    out.push(ws.length);
    for (const w of ws) out.push(vocab.id(w.stem), vocab.id(w.text) * 2 + (w.named ? 1 : 0));
  };
  words(intent.before);
  out.push(intent.phrases.length);
  for (const p of intent.phrases) {
    out.push(p.prep === null ? 0 : vocab.id(p.prep) + 1);
    words(p.words);
  }
  return Int32Array.from(out);
}

/** Decodes what {@link encodeIntent} wrote (fresh objects, safe to drop). */
export function decodeIntent(enc: Int32Array, vocab: Vocabulary): ParsedIntent {
  const s = vocab.strings;
  let at = 0;
  const action = enc[at] ? s[enc[at] - 1] : null;
  const actionText = enc[at + 1] ? s[enc[at + 1] - 1] : null;
  at += 2;
  const words = (): PhraseWord[] => {
    const n = enc[at++];
    const ws: PhraseWord[] = [];
    for (let i = 0; i < n; i++, at += 2) {
      const w: PhraseWord = { stem: s[enc[at]], text: s[enc[at + 1] >> 1] };
      if (enc[at + 1] & 1) w.named = true;
      ws.push(w);
    }
    return ws;
  };
  const before = words();
  const count = enc[at++];
  const phrases: Phrase[] = [];
  for (let i = 0; i < count; i++) {
    const prep = enc[at] ? s[enc[at] - 1] : null;
    at++;
    phrases.push({ prep, words: words() });
  }
  return { action, actionText, before, phrases };
}

/**
 * Many lists of word ids (a ticket's normalised summary tokens, `normaliseText(...).tokens`) in one growing
 * `Uint32Array`, with their own {@link Vocabulary}: about 4 bytes a token instead of an array of strings a ticket.
 * List `i` is the `i`-th added; read it with {@link start}/{@link end} and {@link id}.
 */
export class TokenLists {
  readonly vocab = new Vocabulary();
  private buf: Uint32Array;
  private ends: Int32Array;
  private length = 0;
  /** Lists added so far. */
  count = 0;

  /** @param lists lists expected (more is fine); @param capacity initial size in ids. */
  constructor(lists: number, capacity = lists * 10) {
    this.ends = new Int32Array(Math.max(16, lists));
    this.buf = new Uint32Array(Math.max(1024, capacity));
  }

  /** Appends a list; returns its index. */
  add(tokens: readonly string[]): number {
    if (this.length + tokens.length > this.buf.length) this.buf = grow(this.buf, this.length + tokens.length);
    for (const t of tokens) this.buf[this.length++] = this.vocab.id(t);
    if (this.count === this.ends.length) this.ends = grow(this.ends, this.count + 1);
    this.ends[this.count] = this.length;
    return this.count++;
  }

  /** Offset of list `i`'s first id. */
  start(i: number): number {
    return i === 0 ? 0 : this.ends[i - 1];
  }

  /** Offset just past list `i`'s last id. */
  end(i: number): number {
    return this.ends[i];
  }

  /** The id at an offset. */
  id(at: number): number {
    return this.buf[at];
  }
}

/** A copy of `a` with room for at least `need` elements (1.5× growth). */
function grow<T extends Uint32Array | Int32Array>(a: T, need: number): T {
  const bigger = new (a.constructor as new (n: number) => T)(Math.max(need, Math.ceil(a.length * 1.5)));
  bigger.set(a);
  return bigger;
}
