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

/** Counts of phrase heads and of the word that follows each word (and each pair of words) inside phrases. */
export class PhraseStats {
  private readonly heads = new Map<string, number>();
  private readonly modifiers = new Map<string, number>();
  private readonly next = new Map<string, Map<string, number>>();
  /** Word → the words written just before it inside phrases ("sig docs ko **reviews**": ko), with counts. */
  private readonly before = new Map<string, Map<string, number>>();
  /** Stem → its most common written form (for names of completed heads). */
  private readonly forms = new Map<string, Map<string, number>>();

  /** Adds the phrases of one summary; `keep` says which stems count (frequent words only). */
  add(intent: ParsedIntent, keep: (stem: string) => boolean): void {
    for (const phrase of [intent.before, ...intent.phrases.map((p) => p.words)]) {
      const ws = phrase.filter((w) => keep(w.stem));
      if (!ws.length) continue;
      bump(this.heads, ws[ws.length - 1].stem);
      for (let i = 0; i < ws.length; i++) {
        const f = this.forms.get(ws[i].stem) ?? this.forms.set(ws[i].stem, new Map()).get(ws[i].stem)!;
        if (f.size < 50) bump(f, ws[i].text.toLowerCase());
        if (i > 0) bumpNext(this.before, ws[i].stem, ws[i - 1].stem);
        if (i === ws.length - 1) continue;
        bump(this.modifiers, ws[i].stem);
        bumpNext(this.next, ws[i].stem, ws[i + 1].stem);
        if (i > 0) bumpNext(this.next, `${ws[i - 1].stem} ${ws[i].stem}`, ws[i + 1].stem);
      }
    }
  }

  /** True when the corpus mostly ends phrases with this word. */
  isHead(stem: string): boolean {
    const h = this.heads.get(stem) ?? 0;
    return h >= HEAD_SHARE * (h + (this.modifiers.get(stem) ?? 0));
  }

  /** Most common written form of a stem. */
  formOf(stem: string): string {
    const f = this.forms.get(stem);
    if (!f) return stem;
    return [...f.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
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
      const pair = seq.length > 1 ? this.best(`${seq[seq.length - 2]} ${last}`) : null;
      const nxt = pair ?? this.best(last);
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
    const clusters = heads.map((h) => ({ words: [h], vec: new Map(this.before.get(h) ?? []) })).filter((c) => c.vec.size > 0);
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

  private best(context: string): string | null {
    const m = this.next.get(context);
    if (!m) return null;
    let total = 0;
    let top: [string, number] | null = null;
    for (const [w, c] of m) {
      total += c;
      if (!top || c > top[1] || (c === top[1] && w < top[0])) top = [w, c];
    }
    return top && top[1] >= MIN_SUPPORT && top[1] >= MIN_SHARE * total ? top[0] : null;
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

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function bumpNext(m: Map<string, Map<string, number>>, context: string, word: string): void {
  bump(m.get(context) ?? m.set(context, new Map()).get(context)!, word);
}
