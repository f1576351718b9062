/**
 * Compact storage for parsed intents (`text-v2` at scale): a {@link ParsedIntent} as a run of ints (word ids) in a
 * chunk of `Int32Array` instead of a tree of small objects, so 100k tickets keep their phrases in a few MB (about 8
 * bytes a word); and a ticket's normalised summary tokens as a run of word ids ({@link TokenLists}).
 *
 * Layout: `[action+1 (0: none), actionText+1, beforeLength, before words…, phraseCount, (prep+1 (0: direct),
 * length, words…)…]`, each word two ints: stem id, and text id × 2 + 1 when the word is `named`.
 */
import type { ParsedIntent, Phrase, PhraseWord } from './intent.js';

/** Interned strings ↔ ids. */
export class Vocabulary {
  private readonly ids = new Map<string, number>();
  readonly strings: string[] = [];

  /** The id of a string seen before, or undefined. */
  find(s: string): number | undefined {
    return this.ids.get(s);
  }

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
 * Many encoded intents in chunks of `Int32Array` (a typed array per ticket costs ~200 bytes of headers alone).
 * `add` returns the intent's handle; `get` decodes it.
 */
export class IntentStore {
  readonly vocab = new Vocabulary();
  private readonly ints = new IntChunks((n) => new Int32Array(n));

  add(intent: ParsedIntent): number {
    const enc = encodeIntent(intent, this.vocab);
    const handle = this.ints.reserve(enc.length);
    this.ints.chunk(handle).set(enc, this.ints.offset(handle));
    return handle;
  }

  get(handle: number): ParsedIntent {
    return decodeIntent(this.ints.chunk(handle).subarray(this.ints.offset(handle)), this.vocab);
  }

  /** Frees the encoded intents now ({@link releaseNow}); `get` cannot be called afterwards. */
  release(): void {
    this.ints.release();
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
 * Many lists of word ids (a ticket's normalised summary tokens, `normaliseText(...).tokens`) in chunks of
 * `Uint32Array`, with their own {@link Vocabulary}: about 4 bytes a token instead of an array of strings a ticket.
 * List `i` is the `i`-th added: ids `chunk(i)[from(i)]` up to, not including, `chunk(i)[to(i)]`.
 */
export class TokenLists {
  readonly vocab = new Vocabulary();
  private readonly ids = new IntChunks((n) => new Uint32Array(n));
  private handles: Int32Array;
  private lengths: Int32Array;
  /** Lists added so far. */
  count = 0;

  /** @param lists lists expected (more is fine). */
  constructor(lists: number) {
    this.handles = new Int32Array(Math.max(16, lists));
    this.lengths = new Int32Array(Math.max(16, lists));
  }

  /** Appends a list; returns its index. */
  add(tokens: readonly string[]): number {
    if (this.count === this.handles.length) {
      const handles = new Int32Array(this.count * 2);
      handles.set(this.handles);
      this.handles = handles;
      const lengths = new Int32Array(this.count * 2);
      lengths.set(this.lengths);
      this.lengths = lengths;
    }
    const handle = this.ids.reserve(tokens.length);
    const chunk = this.ids.chunk(handle);
    let at = this.ids.offset(handle);
    for (const t of tokens) chunk[at++] = this.vocab.id(t);
    this.handles[this.count] = handle;
    this.lengths[this.count] = tokens.length;
    return this.count++;
  }

  /** The chunk holding list `i`. */
  chunk(i: number): Uint32Array {
    return this.ids.chunk(this.handles[i]);
  }

  /** Offset of list `i`'s first id in its chunk. */
  from(i: number): number {
    return this.ids.offset(this.handles[i]);
  }

  /** Offset just past list `i`'s last id in its chunk. */
  to(i: number): number {
    return this.ids.offset(this.handles[i]) + this.lengths[i];
  }

  /** Number of ids in list `i`. */
  length(i: number): number {
    return this.lengths[i];
  }

  /** Frees the lists now ({@link releaseNow}); nothing can be read afterwards. */
  release(): void {
    this.ids.release();
    releaseNow(this.handles);
    releaseNow(this.lengths);
    this.count = 0;
  }
}

/** Ints in a chunk: one is allocated when the last is full, so nothing is copied and at most one chunk is part-used. */
const CHUNK = 1 << 16;
/** Chunks a store may hold: a handle (chunk index × CHUNK + offset) stays a positive 32-bit integer. */
const MAX_CHUNKS = 1 << 15;

/**
 * Runs of ints appended in chunks of {@link CHUNK} (a longer run gets a chunk of its own); a run never spans two.
 * A run's handle is its chunk index × {@link CHUNK} + its offset there, a positive 32-bit integer.
 */
class IntChunks<T extends Int32Array | Uint32Array> {
  private readonly chunks: T[] = [];
  private used = 0;

  constructor(private readonly make: (length: number) => T) {}

  /**
   * Room for `n` ints in one chunk; returns its handle.
   * @throws {RangeError} past {@link MAX_CHUNKS} chunks (2^31 ints, 8 GB).
   */
  reserve(n: number): number {
    const last = this.chunks.at(-1);
    if (last === undefined || this.used >= CHUNK || this.used + n > last.length) {
      if (this.chunks.length === MAX_CHUNKS) throw new RangeError(`more than ${MAX_CHUNKS * CHUNK} ints`);
      this.chunks.push(this.make(Math.max(CHUNK, n)));
      this.used = 0;
    }
    const handle = (this.chunks.length - 1) * CHUNK + this.used;
    this.used += n;
    return handle;
  }

  chunk(handle: number): T {
    return this.chunks[handle >>> 16];
  }

  offset(handle: number): number {
    return handle & (CHUNK - 1);
  }

  /** Frees the chunks' memory now (see {@link releaseNow}); nothing can be read afterwards. */
  release(): void {
    for (const c of this.chunks) releaseNow(c);
    this.chunks.length = 0;
    this.used = 0;
  }
}

/**
 * Frees a typed array's memory at the next minor GC instead of the next full one: its buffer is detached (moved
 * into a clone nothing references), and the array reads as empty afterwards. A store built during grouping is
 * promoted to the old generation, where V8 would keep its buffers until a full GC, which may not come before the
 * grouping's peak (memory at 100k tickets).
 */
export function releaseNow(array: Int32Array | Uint32Array | Float64Array): void {
  if (array.buffer.byteLength > 0) structuredClone(array.buffer, { transfer: [array.buffer] });
}
