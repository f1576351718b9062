/**
 * Heads of noun phrases, learnt from the corpus itself (`text-v2`).
 *
 * English noun phrases put their head last ("kubernetes-sigs **org**", "billing **team**"), but requests often
 * leave the head out when it is obvious to the reader ("add alice to kubernetes-sigs", "add bob to billing").
 * A word that this corpus mostly uses as a modifier (it is usually followed by another noun in its phrase) is
 * therefore read as an elliptic phrase: it is completed with the head that most often follows the same words
 * elsewhere in the corpus ("kubernetes sigs" → "org" when most phrases ending that way go on with "org").
 * Only corpus counts decide: no word list.
 */
import type { ParsedIntent, PhraseWord } from './intent.js';
import { releaseNow, Vocabulary } from './intent-codec.js';

/** A word is a head when at least this share of its uses ends a phrase. */
const HEAD_SHARE = 0.5;
/** A completion needs this many phrases continuing the same way, and this share of the continuations. */
const MIN_SUPPORT = 3;
const MIN_SHARE = 0.4;

export interface ResolvedHead {
  word: PhraseWord;
  /** Words added to complete an elliptic phrase, in order (empty when the phrase had its head). */
  completedWith: string[];
}

/**
 * Counts of phrase heads and of the word that follows each word (and each pair of words) inside phrases.
 * Words are ids ({@link Vocabulary}); the counts of word pairs are kept as sorted numeric keys in typed arrays
 * (`PairCounts`), not as a Map per word, so a corpus with 50,000 word contexts costs a few MB outside the JS heap
 * instead of a Map each (memory at 100k tickets). Add every summary first, then query; {@link release} frees it all.
 */
export class PhraseStats {
  private readonly stems = new Vocabulary();
  /** Lower-cased written forms. */
  private readonly texts = new Vocabulary();
  /** By stem id: phrases it ends, phrases it is a modifier in. */
  private readonly heads: number[] = [];
  private readonly modifiers: number[] = [];
  /** Pair of stem ids (a × {@link ID_LIMIT} + b) → pair id. */
  private readonly pairs = new Map<number, number>();
  /** (context, stem that follows it): context 2 × stem id for one word, 2 × pair id + 1 for two words. */
  private readonly next = new PairCounts();
  /** (stem, stem written just before it inside a phrase: "sig docs ko **reviews**": ko). */
  private readonly before = new PairCounts();
  /** Stem id × {@link ID_LIMIT} + form id → uses, at most {@link MAX_FORMS} forms a stem (its first ones). */
  private readonly forms = new Map<number, number>();
  /** By stem id: forms counted. */
  private readonly formCount: number[] = [];
  /** By stem id, once queried: its most common form (text id), or -1. */
  private topForm: Int32Array | null = null;
  /** Set by the first query that reads counts: no more `add`. */
  private queried = false;

  /** Adds the phrases of one summary; `keep` says which stems count (frequent words only). */
  add(intent: ParsedIntent, keep: (stem: string) => boolean): void {
    if (this.queried) throw new Error('PhraseStats.add after a query');
    for (const phrase of [intent.before, ...intent.phrases.map((p) => p.words)]) {
      const ws = phrase.filter((w) => keep(w.stem)).map((w) => ({ stem: this.stems.id(w.stem), text: w.text }));
      if (!ws.length) continue;
      const last = ws[ws.length - 1].stem;
      this.heads[last] = (this.heads[last] ?? 0) + 1;
      for (let i = 0; i < ws.length; i++) {
        const stem = ws[i].stem;
        if ((this.formCount[stem] ?? 0) < MAX_FORMS) {
          const key = pairKey(stem, this.texts.id(ws[i].text.toLowerCase()));
          const n = this.forms.get(key);
          if (n === undefined) this.formCount[stem] = (this.formCount[stem] ?? 0) + 1;
          this.forms.set(key, (n ?? 0) + 1);
        }
        if (i > 0) this.before.add(stem, ws[i - 1].stem);
        if (i === ws.length - 1) continue;
        this.modifiers[stem] = (this.modifiers[stem] ?? 0) + 1;
        this.next.add(2 * stem, ws[i + 1].stem);
        if (i > 0) this.next.add(2 * this.pairId(ws[i - 1].stem, stem) + 1, ws[i + 1].stem);
      }
    }
  }

  /** True when the corpus mostly ends phrases with this word. */
  isHead(stem: string): boolean {
    const id = this.stems.find(stem);
    const h = id === undefined ? 0 : (this.heads[id] ?? 0);
    return h >= HEAD_SHARE * (h + (id === undefined ? 0 : (this.modifiers[id] ?? 0)));
  }

  /** Most common written form of a stem (ties: the first in code-unit order), or the stem when none was added. */
  formOf(stem: string): string {
    const id = this.stems.find(stem);
    const form = id === undefined ? -1 : this.topForms()[id];
    return form < 0 ? stem : this.texts.strings[form];
  }

  /** Frees the counts now (`releaseNow`); the stats cannot be queried afterwards. */
  release(): void {
    this.next.release();
    this.before.release();
    if (this.topForm) releaseNow(this.topForm);
    this.forms.clear();
    this.pairs.clear();
  }

  /**
   * The head of a phrase given as its frequent words (last = its own head): the last word, completed while it is
   * mostly a modifier and the corpus agrees on what follows (at most 3 steps; never a word already in the phrase).
   */
  resolve(words: PhraseWord[]): ResolvedHead {
    const seq = words.map((w) => w.stem);
    const completedWith: string[] = [];
    for (let step = 0; step < 3 && !this.isHead(seq[seq.length - 1]); step++) {
      const last = seq[seq.length - 1];
      const pair = seq.length > 1 ? this.best(seq[seq.length - 2], last) : null;
      const nxt = pair ?? this.best(null, last);
      if (!nxt || seq.includes(nxt)) break;
      seq.push(nxt);
      completedWith.push(nxt);
    }
    const stem = seq[seq.length - 1];
    return completedWith.length ? { word: { stem, text: this.formOf(stem) }, completedWith } : { word: words[words.length - 1], completedWith };
  }

  /**
   * Clusters head words that fill the same slot: words written after the same names ("sig-docs-ko-**reviews**",
   * "sig-docs-ko-**owners**"; "cluster-api-**admins**", "cluster-api-**maintainers**") are alternatives of one
   * kind of thing. Similarity = cosine of the vectors of preceding words; clusters merge greedily, most similar
   * pair first, while the cosine of their summed vectors is ≥ `threshold` (centroid linkage: a chain of weak
   * links does not merge). Returns word → the cluster's first word in `heads` (give them most used first).
   */
  clusterHeads(heads: string[], threshold: number): Map<string, string> {
    const clusters = heads.map((h) => ({ words: [h], vec: this.wordsBefore(h) })).filter((c) => c.vec.size > 0);
    for (;;) {
      let best: { i: number; j: number; sim: number } | null = null;
      for (let i = 0; i < clusters.length; i++) {
        for (let j = i + 1; j < clusters.length; j++) {
          const sim = cosine(clusters[i].vec, clusters[j].vec);
          if (sim >= threshold && (!best || sim > best.sim + 1e-12)) best = { i, j, sim };
        }
      }
      if (!best) break;
      const [a, b] = [clusters[best.i], clusters[best.j]];
      a.words.push(...b.words);
      for (const [k, v] of b.vec) a.vec.set(k, (a.vec.get(k) ?? 0) + v);
      clusters.splice(best.j, 1);
    }
    const out = new Map<string, string>();
    for (const c of clusters) for (const w of c.words) out.set(w, c.words[0]);
    return out;
  }

  /** The words written just before `stem` inside phrases, with counts. */
  private wordsBefore(stem: string): Map<string, number> {
    this.queried = true;
    const vec = new Map<string, number>();
    const id = this.stems.find(stem);
    if (id !== undefined) this.before.forEach(id, (prev, n) => vec.set(this.stems.strings[prev], n));
    return vec;
  }

  /** The stem that follows `last` (after `previous`, when given) in most of the corpus's phrases, if enough do. */
  private best(previous: string | null, last: string): string | null {
    this.queried = true;
    const b = this.stems.find(last);
    const a = previous === null ? -1 : this.stems.find(previous);
    if (b === undefined || a === undefined) return null;
    let context = 2 * b;
    if (a >= 0) {
      const pair = this.pairs.get(pairKey(a, b));
      if (pair === undefined) return null;
      context = 2 * pair + 1;
    }
    let total = 0;
    let top: [string, number] | null = null;
    this.next.forEach(context, (id, c) => {
      const w = this.stems.strings[id];
      total += c;
      if (!top || c > top[1] || (c === top[1] && w < top[0])) top = [w, c];
    });
    const found = top as [string, number] | null;
    return found && found[1] >= MIN_SUPPORT && found[1] >= MIN_SHARE * total ? found[0] : null;
  }

  private pairId(a: number, b: number): number {
    const key = pairKey(a, b);
    let id = this.pairs.get(key);
    if (id === undefined) {
      id = this.pairs.size;
      this.pairs.set(key, id);
    }
    return id;
  }

  /** Every stem's most common form, worked out once (the forms are all added by then). */
  private topForms(): Int32Array {
    if (this.topForm) return this.topForm;
    this.queried = true;
    const top = new Int32Array(this.stems.strings.length).fill(-1);
    const topCount = new Int32Array(this.stems.strings.length);
    const texts = this.texts.strings;
    for (const [key, n] of this.forms) {
      const stem = Math.floor(key / ID_LIMIT);
      const form = key % ID_LIMIT;
      if (top[stem] < 0 || n > topCount[stem] || (n === topCount[stem] && texts[form] < texts[top[stem]])) {
        top[stem] = form;
        topCount[stem] = n;
      }
    }
    this.forms.clear();
    return (this.topForm = top);
  }
}

/** Ids (of stems, forms and contexts) stay below this, so two make one exact double key. */
const ID_LIMIT = 2 ** 26;
/** Written forms counted for one stem (its first ones). */
const MAX_FORMS = 50;

/** One exact number for two ids. @throws {RangeError} when an id reaches {@link ID_LIMIT}. */
function pairKey(a: number, b: number): number {
  if (a >= ID_LIMIT || b >= ID_LIMIT) throw new RangeError(`more than ${ID_LIMIT} distinct words`);
  return a * ID_LIMIT + b;
}

/**
 * Counts of (context, word) pairs of ids. `add` appends one use to chunks of `Float64Array`; `finish` sorts them
 * once into distinct keys and counts, which `forEach` reads by binary search. Contexts stay below 2 × {@link ID_LIMIT}.
 */
class PairCounts {
  private readonly chunks: Float64Array[] = [];
  private used = 0;
  private keys: Float64Array | null = null;
  private counts: Int32Array | null = null;

  add(context: number, word: number): void {
    if (context >= 2 * ID_LIMIT || word >= ID_LIMIT) throw new RangeError(`more than ${ID_LIMIT} distinct words`);
    let last = this.chunks.at(-1);
    if (last === undefined || this.used === last.length) {
      this.chunks.push((last = new Float64Array(1 << 16)));
      this.used = 0;
    }
    last[this.used++] = context * ID_LIMIT + word;
  }

  /** Sorts the uses into distinct keys and counts (once; `add` cannot follow). */
  finish(): void {
    if (this.keys) return;
    const all = new Float64Array(this.chunks.length === 0 ? 0 : (this.chunks.length - 1) * (1 << 16) + this.used);
    this.chunks.forEach((c, i) => all.set(i === this.chunks.length - 1 ? c.subarray(0, this.used) : c, i * (1 << 16)));
    for (const c of this.chunks) releaseNow(c);
    this.chunks.length = 0;
    all.sort();
    let distinct = 0;
    for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) distinct++;
    const keys = new Float64Array(distinct);
    const counts = new Int32Array(distinct);
    for (let i = 0, k = -1; i < all.length; i++) {
      if (k < 0 || all[i] !== keys[k]) keys[++k] = all[i];
      counts[k]++;
    }
    releaseNow(all);
    this.keys = keys;
    this.counts = counts;
  }

  /** Calls `fn(word, count)` for every word counted after `context`, in id order. */
  forEach(context: number, fn: (word: number, count: number) => void): void {
    this.finish();
    const keys = this.keys!;
    const from = context * ID_LIMIT;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid] < from) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < keys.length && keys[i] < from + ID_LIMIT; i++) fn(keys[i] - from, this.counts![i]);
  }

  release(): void {
    for (const c of this.chunks) releaseNow(c);
    this.chunks.length = 0;
    if (this.keys) releaseNow(this.keys);
    if (this.counts) releaseNow(this.counts);
  }
}

function cosine(a: Map<string, number>, b: Map<string, number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (const [k, v] of a) {
    na += v * v;
    const w = b.get(k);
    if (w !== undefined) dot += v * w;
  }
  for (const v of b.values()) nb += v * v;
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}
