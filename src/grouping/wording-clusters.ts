/**
 * Wording clusters for tickets with no action word (`text-v2` fallback): "Contextual Inquiry: Toronto Faculty 1"
 * and "Contextual Inquiry - Berkeley Faculty 3" ask for the same thing without a verb of the request lexicon.
 *
 * The `text-v1` idea in one lean pass, with word ids instead of strings:
 * 1. a ticket's informative words are its distinct summary stems used by at least 2 of these tickets (placeholders
 *    and numbers never count); each weighs `ln(1 + N/df)`, so shared rare words say more than shared common ones;
 * 2. tickets with the same informative words form a bucket;
 * 3. buckets, largest first (ties by their words), join the cluster whose seed words (those of the bucket that
 *    started it) are most similar by weighted Jaccard, if ≥ `threshold` (0.5: the shared words weigh at least as
 *    much as the differing ones); otherwise they start a cluster. Candidates come from an inverted index probed
 *    with the bucket's rarest words only (a cluster reaching the threshold must share one of them).
 * Deterministic; word ids in flat typed arrays (about 30 bytes a ticket) and a few objects a bucket, no string per
 * ticket.
 */
import type { TokenLists } from './intent-codec.js';
import { isPlaceholder } from './normalise-text.js';

export interface WordingCluster {
  /** Indexes (into the input array) of the members, ascending. */
  members: number[];
  /** The seed's informative words, sorted. */
  words: string[];
}

export interface WordingResult {
  clusters: WordingCluster[];
  /** For each input: its informative words (sorted), for explanations. */
  wordsOf: (index: number) => string[];
}

/**
 * Clusters short texts by wording (see the module comment), given as their normalised tokens: input `i` is list
 * `lists[i]` of `tokens` (`normaliseText(clip(text)).tokens` as word ids); an empty list gives no words.
 * Word ids are renumbered in order of first use among these inputs, so the result depends only on the texts.
 * @param threshold weighted-Jaccard similarity to join a cluster, in (0, 1].
 */
export function clusterWordings(tokens: TokenLists, lists: Int32Array, threshold = 0.5): WordingResult {
  const n = lists.length;
  const global = tokens.vocab.strings;
  // Global id → local id (-1 unseen, -2 never a word: placeholders and one-letter tokens).
  const local = new Int32Array(global.length).fill(-1);
  const names: string[] = [];
  // Each input's distinct words, in order of first use, as one flat array (`rawEnds[i]` ends input i's).
  const rawEnds = new Int32Array(n);
  const seenIn = new Int32Array(global.length).fill(-1);
  let capacity = 0;
  for (const list of lists) capacity += tokens.length(list);
  const raw = new Int32Array(capacity);
  let length = 0;
  for (let i = 0; i < n; i++) {
    const chunk = tokens.chunk(lists[i]);
    for (let at = tokens.from(lists[i]), end = tokens.to(lists[i]); at < end; at++) {
      const g = chunk[at];
      let id = local[g];
      if (id === -2) continue;
      if (id === -1) {
        const token = global[g];
        if (isPlaceholder(token) || token.length < 2) {
          local[g] = -2;
          continue;
        }
        id = local[g] = names.length;
        names.push(token);
      }
      if (seenIn[g] === i) continue;
      seenIn[g] = i;
      raw[length++] = id;
    }
    rawEnds[i] = length;
  }
  const df = new Int32Array(names.length);
  for (let k = 0; k < length; k++) df[raw[k]]++;
  const weights = Float64Array.from(df, (d) => Math.log(1 + n / d));
  const weight = (id: number) => weights[id];
  // Rank of each word by name (code units), so "sorted by name" is a numeric sort.
  const byName = Int32Array.from(names.keys()).sort((a, b) => (names[a] < names[b] ? -1 : names[a] > names[b] ? 1 : 0));
  const rank = new Int32Array(names.length);
  byName.forEach((id, r) => (rank[id] = r));
  // Informative words (df ≥ 2) of each input, sorted by name, in place of the raw ones.
  const ends = rawEnds;
  let kept = 0;
  for (let i = 0, from = 0; i < n; i++) {
    const start = kept;
    for (let k = from; k < rawEnds[i]; k++) if (df[raw[k]] >= 2) raw[kept++] = raw[k];
    from = rawEnds[i];
    ends[i] = kept;
    if (kept - start > 1) raw.subarray(start, kept).sort((a, b) => rank[a] - rank[b]);
  }
  const informative: Informative = { ids: raw, ends };

  // Buckets: the inputs with words, sorted by their words then index, cut where the words change (no string per
  // input). Their order here does not matter: each round sorts its units by size and words, and buckets differ in words.
  let withWords = 0;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) if (ends[i] > (i === 0 ? 0 : ends[i - 1])) order[withWords++] = i;
  // compareWords of two inputs' words, read in place.
  const compareInputs = (a: number, b: number): number => {
    const aFrom = a === 0 ? 0 : ends[a - 1];
    const bFrom = b === 0 ? 0 : ends[b - 1];
    for (let x = aFrom, y = bFrom; x < ends[a] && y < ends[b]; x++, y++) if (raw[x] !== raw[y]) return rank[raw[x]] - rank[raw[y]];
    return ends[a] - aFrom - (ends[b] - bFrom);
  };
  const sorted = order.subarray(0, withWords).sort((a, b) => compareInputs(a, b) || a - b);
  let units: Unit[] = [];
  for (let from = 0; from < sorted.length; ) {
    const words = wordsAt(informative, sorted[from]);
    let to = from + 1;
    while (to < sorted.length && compareInputs(sorted[from], sorted[to]) === 0) to++;
    const members = new Array<number>(to - from);
    for (let k = from; k < to; k++) members[k - from] = sorted[k];
    units.push({ words, members });
    from = to;
  }
  const ctx = { rank, weight, threshold };
  const counts = new Int32Array(names.length);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const merged = mergeRound(units, ctx);
    const done = merged.length === units.length;
    // A merged cluster's words become those held by more than half of its tickets (v1's signature).
    for (const c of merged) if (c.members.length > 1 && !done) c.words = majorityWords(c.members, informative, rank, counts);
    units = merged;
    if (done) break;
  }
  return {
    clusters: units.map((u) => ({ members: u.members.sort((a, b) => a - b), words: Array.from(u.words, (id) => names[id]) })),
    wordsOf: (i) => Array.from(wordsAt(informative, i), (id) => names[id]),
  };
}

/** Every input's informative word ids (sorted by name), flat: input `i`'s end at `ends[i]`. */
interface Informative {
  ids: Int32Array;
  ends: Int32Array;
}

function wordsAt(informative: Informative, i: number): Int32Array {
  return informative.ids.subarray(i === 0 ? 0 : informative.ends[i - 1], informative.ends[i]);
}

/** Merge rounds stop when one merges nothing, or after this many. */
const MAX_ROUNDS = 6;

interface Unit {
  /** Word ids, sorted by name. */
  words: readonly number[] | Int32Array;
  /** Ticket indexes. */
  members: number[];
}

interface Ctx {
  /** Word id → its place in the code-unit order of the words. */
  rank: Int32Array;
  weight: (id: number) => number;
  threshold: number;
}

/**
 * Two word lists (ids sorted by name) in the code-unit order of their names joined by spaces: the first differing
 * word decides (a word before its extensions, "team" < "teams"), then the shorter list. That equals comparing the
 * joined strings because words are letters only (normalised stems), every one above the space character.
 */
function compareWords(a: ArrayLike<number>, b: ArrayLike<number>, rank: Int32Array): number {
  const n = Math.min(a.length, b.length);
  for (let k = 0; k < n; k++) if (a[k] !== b[k]) return rank[a[k]] - rank[b[k]];
  return a.length - b.length;
}

/** One round: units, largest first, join the most similar cluster seed at ≥ threshold, or seed a cluster. */
function mergeRound(input: Unit[], { rank, weight, threshold }: Ctx): Unit[] {
  // Largest first, then by words (a stable sort: units with the same words keep their order).
  const units = [...input].sort((a, b) => b.members.length - a.members.length || compareWords(a.words, b.words, rank));
  const seeds: Unit[] = [];
  const seedTotal: number[] = [];
  // Inverted index, word → the seeds holding it in the order they were made: a list a word through `first`/`last`
  // and `next` (entries), in typed arrays (no array per word and round).
  let entries = 0;
  for (const u of units) entries += u.words.length;
  const first = new Int32Array(rank.length).fill(-1);
  const last = new Int32Array(rank.length).fill(-1);
  const next = new Int32Array(entries);
  const seedOf = new Int32Array(entries);
  let used = 0;
  const seen = new Int32Array(units.length).fill(-1);
  units.forEach((u, ui) => {
    const ws = Array.from(u.words).sort((a, b) => weight(b) - weight(a) || a - b);
    const total = ws.reduce((s, id) => s + weight(id), 0);
    let best = -1;
    let bestSim = 0;
    let acc = 0;
    for (const id of ws) {
      for (let e = first[id]; e >= 0; e = next[e]) {
        const ci = seedOf[e];
        if (seen[ci] === ui) continue;
        seen[ci] = ui;
        const seedWords = seeds[ci].words;
        let inter = 0;
        for (const w of ws) if (seedWords.includes(w)) inter += weight(w);
        const sim = inter / (total + seedTotal[ci] - inter);
        if (sim > bestSim + 1e-9 || (sim > bestSim - 1e-9 && best >= 0 && ci < best)) {
          best = ci;
          bestSim = sim;
        }
      }
      acc += weight(id);
      if (acc > (1 - threshold) * total) break;
    }
    if (best >= 0 && bestSim >= threshold) {
      for (const m of u.members) seeds[best].members.push(m);
    } else {
      const ci = seeds.length;
      // The unit becomes the cluster: its members array is not read again this round, so it takes the joiners.
      seeds.push(u);
      seedTotal.push(total);
      for (const id of u.words) {
        seedOf[used] = ci;
        next[used] = -1;
        if (last[id] < 0) first[id] = used;
        else next[last[id]] = used;
        last[id] = used++;
      }
    }
  });
  return seeds;
}

/** Words held by more than half of the members, sorted by name. `counts` (one slot a word, all 0) is left all 0. */
function majorityWords(members: number[], { ids, ends }: Informative, rank: Int32Array, counts: Int32Array): number[] {
  const seen: number[] = [];
  for (const m of members) {
    for (let k = m === 0 ? 0 : ends[m - 1]; k < ends[m]; k++) if (counts[ids[k]]++ === 0) seen.push(ids[k]);
  }
  const out = seen.filter((id) => counts[id] * 2 > members.length);
  for (const id of seen) counts[id] = 0;
  return out.sort((a, b) => rank[a] - rank[b]);
}

