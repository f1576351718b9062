/**
 * **Evaluation baseline only** (not used by the product, which uses `text-v2` in `group-tickets.ts`): the
 * previous algorithm, kept unchanged so `npm run eval:grouping` can compare against it.
 *
 * Groups tickets into *repeated request types* by the wording of their summary ("Reset <*> feedstock token").
 *
 * ## Algorithm `text-v1` (signature clustering)
 * 1. **Normalise** each summary (`normalise-text.ts`): typed placeholders for what varies, stop words out,
 *    Porter stems, a few synonyms folded. A ticket's *words* are its distinct tokens, placeholders included
 *    ("something with a `<repo>`" is part of a request type; as common tokens they weigh little). A summary
 *    with fewer than 2 informative words borrows the first `descriptionWords` words of its description.
 *    A ticket needs at least one informative non-placeholder word to be grouped at all.
 * 2. **Informative words**: a word used by fewer than `minDocFreq` tickets (default 2) cannot define a
 *    repeat, so it is dropped (it is what varies: names, one-off nouns). Each remaining word weighs
 *    `ln(1 + N/df)` (N tickets, df tickets using it): "pfsense" says more than "update".
 * 3. **Buckets**: tickets with exactly the same informative words form a bucket.
 * 4. **Merge rounds**: units (first the buckets, then the clusters of the previous round) are taken
 *    largest first (ties: signature text). A unit joins the cluster whose *signature* (the words carried by
 *    more than half of its tickets) is most similar to its own by weighted Jaccard, if that similarity is
 *    ≥ `threshold` (default 0.5: the shared words weigh at least as much as the differing ones); otherwise
 *    it starts a cluster. Rounds repeat until one merges nothing (at most {@link MAX_ROUNDS}), so wordings
 *    that only meet through a common signature ("Contextual inquiry: Toronto faculty" and "... Berkeley
 *    faculty" → "Contextual inquiry <*> faculty") end up together. Candidates come from an inverted index
 *    over signature words probed with the unit's rarest words only (prefix filtering: a cluster reaching the
 *    threshold must share one of them) plus a weight-ratio filter, which keeps the work near-linear.
 * 5. **Templates**: the most common wording among the members (lowest key on ties) is rendered with its
 *    original casing; words outside the signature become `<*>`, placeholders stay typed (`<version>`).
 *
 * ## Explainable
 * Each ticket's assignment records its normalised tokens, every merge it went through (the signature it
 * joined and the similarity, always ≥ threshold), its similarity to the final signature (which may be
 * lower: a signature narrows as a group grows) and the text that varies; a singleton records its nearest
 * signature and why it stayed alone.
 *
 * ## Determinism and versioning
 * Input order never matters: tickets are sorted by key (then summary), units by size then signature
 * text, ties between candidate clusters go to the lowest index, and ids hash the signature. Every output
 * carries `algorithm: GROUPING_VERSION` and its parameters; any change to the normalisation, the weights
 * or the steps above must bump the version, so a stored grouping is never silently reinterpreted.
 */
import { createHash } from 'node:crypto';
import { isPlaceholder, normaliseText, renderTemplate, varyingParts } from './normalise-text.js';

/** Version of the grouping algorithm; stored with every grouping. Bump on any behaviour change. */
export const GROUPING_VERSION_V1 = 'text-v1' as const;
const GROUPING_VERSION = GROUPING_VERSION_V1;

import type { GroupableTicket } from './grouping-contract.js';

export interface GroupingOptionsV1 {
  /** Weighted-Jaccard similarity a bucket needs to join a group, 0..1. Default 0.5. */
  threshold?: number;
  /** Minimum number of tickets a word must appear in to count. Default 2. */
  minDocFreq?: number;
  /** Description words added when the summary has fewer than 2 informative words. Default 12; 0 disables. */
  descriptionWords?: number;
}

/** A repeated request type found by text (2 tickets or more). */
export interface TextGroup {
  /** Stable id: `text:` + the first 12 hex digits of sha1(version + signature). */
  id: string;
  kind: 'text';
  /** Human-readable template, e.g. `Reset <*> feedstock token`. */
  template: string;
  count: number;
  /** All member keys, sorted. */
  keys: string[];
  /** Up to 5 member keys, those with the most common wording first. */
  exampleKeys: string[];
  /** Labels the members carry, most common first (ties by label). */
  labels: Array<{ label: string; count: number }>;
  /** The most common label when at least half of the members carry it, else null. */
  dominantLabel: string | null;
  /** The normalised words that define the group (sorted). */
  signature: string[];
}

/** Why a ticket is where it is. `groupId` is null for a ticket that repeats nothing (a singleton). */
export interface Assignment {
  groupId: string | null;
  reason: string;
  /** Weighted-Jaccard similarity to the group's signature (or to the nearest group for a singleton). */
  similarity: number | null;
  summary: string | null;
  /** Normalised tokens of the summary. */
  tokens: string[];
  /** Original text that varies from the template (words outside the signature, placeholder text). */
  varying: string[];
}

export interface GroupingV1 {
  algorithm: typeof GROUPING_VERSION;
  parameters: Required<GroupingOptionsV1>;
  /** Repeated groups, largest first (ties by signature). Singletons are not listed. */
  groups: TextGroup[];
  /** Every input key → its assignment. */
  assignments: Map<string, Assignment>;
}

interface Item {
  ticket: GroupableTicket;
  /** Normalised summary tokens (the segments are recomputed when needed: keeping them costs ~3 KB a ticket). */
  tokens: string[];
  words: string[];
}
interface Bucket {
  /** Informative words, rarest (heaviest) first. */
  words: string[];
  items: Item[];
  weight: number;
  cluster: number;
  /** The merges this bucket went through: the signature it (or its group) joined, and at what similarity. */
  steps: Array<{ signature: string; similarity: number }>;
}
interface Cluster {
  index: number;
  /** Tickets in the cluster. */
  size: number;
  /** Word → number of member tickets carrying it. */
  counts: Map<string, number>;
  /** The signature: words carried by more than half of the members. */
  core: Set<string>;
  coreWeight: number;
  buckets: Bucket[];
}

/** Word → indexes of the clusters whose signature holds it. */
type Index = Map<string, Set<number>>;
/** What the clustering steps share: the word weights and the similarity threshold. */
interface Ctx {
  weight: (w: string) => number;
  threshold: number;
}

/** Merge rounds are capped; on the fluid corpus the fourth round merges nothing. */
export const MAX_ROUNDS = 6;

const DEFAULTS: Required<GroupingOptionsV1> = { threshold: 0.5, minDocFreq: 2, descriptionWords: 12 };

/**
 * Groups tickets into repeated request types (see the module comment for the algorithm).
 * Near-linear: 100k tickets take about 10 s on a 2-core machine. Never throws on odd text; an empty input
 * gives no groups. A key given twice counts once (the first after sorting by key, then content).
 * @throws {RangeError} when `threshold` is not in (0, 1], `minDocFreq` < 1 or `descriptionWords` < 0.
 */
export function groupTicketsV1(tickets: GroupableTicket[], options: GroupingOptionsV1 = {}): GroupingV1 {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const params: Required<GroupingOptionsV1> = { ...DEFAULTS, ...given };
  if (!(params.threshold > 0 && params.threshold <= 1)) throw new RangeError(`threshold must be in (0, 1], got ${params.threshold}`);
  if (!(params.minDocFreq >= 1) || !(params.descriptionWords >= 0)) throw new RangeError('minDocFreq must be ≥ 1 and descriptionWords ≥ 0');
  const total = (t: GroupableTicket) => `${t.summary ?? ''}\u0000${t.description ?? ''}\u0000${t.labels.join('\u0000')}`;
  const sorted = [...tickets].sort((a, b) => cmp(a.key, b.key) || cmp(total(a), total(b)));
  const seen = new Set<string>();
  const items: Item[] = [];
  for (const ticket of sorted) {
    if (seen.has(ticket.key)) continue; // the same key twice: the first in sorted order wins
    seen.add(ticket.key);
    const { tokens } = normaliseText(ticket.summary);
    items.push({ ticket, tokens, words: distinctWords(tokens) });
  }

  const df = countDocFreq(items);
  const n = items.length;
  const weights = new Map<string, number>();
  const weight = (w: string): number => {
    let v = weights.get(w);
    if (v === undefined) weights.set(w, (v = Math.log(1 + n / (df.get(w) ?? 1))));
    return v;
  };
  const informative = (words: string[]) => words.filter((w) => (df.get(w) ?? 0) >= params.minDocFreq);

  if (params.descriptionWords > 0) {
    let changed = false;
    for (const item of items) {
      if (informative(item.words).filter((w) => !isPlaceholder(w)).length >= 2 || !item.ticket.description) continue;
      const head = item.ticket.description.split(/\s+/).slice(0, params.descriptionWords).join(' ');
      item.words = distinctWords([...item.words, ...normaliseText(head).tokens]);
      changed = true;
    }
    if (changed) for (const [w, c] of countDocFreq(items)) df.set(w, c);
    weights.clear();
  }

  // Buckets of identical informative words, largest first.
  const bucketMap = new Map<string, Bucket>();
  const loners: Item[] = [];
  for (const item of items) {
    item.words = informative(item.words).sort(cmp);
    if (!item.words.some((w) => !isPlaceholder(w))) {
      loners.push(item);
      continue;
    }
    const sig = item.words.join(' ');
    let bucket = bucketMap.get(sig);
    if (!bucket) {
      const byWeight = [...item.words].sort((a, b) => weight(b) - weight(a) || cmp(a, b));
      bucket = { words: byWeight, items: [], weight: byWeight.reduce((acc, w) => acc + weight(w), 0), cluster: -1, steps: [] };
      bucketMap.set(sig, bucket);
    }
    bucket.items.push(item);
  }
  const buckets = [...bucketMap.entries()]
    .sort((a, b) => b[1].items.length - a[1].items.length || cmp(a[0], b[0]))
    .map(([, b]) => b);

  // Rounds: buckets seed clusters, then clusters merge with clusters, until a round merges nothing.
  const ctx: Ctx = { weight, threshold: params.threshold };
  let units = buckets.map((b, i) => unitOf(b, i, weight));
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const merged = clusterRound(units, ctx);
    const done = merged.length === units.length;
    units = merged;
    if (done) break;
  }
  const index = indexOf(units);
  for (const unit of units) for (const b of unit.buckets) b.cluster = unit.index;

  const grouping: GroupingV1 = { algorithm: GROUPING_VERSION, parameters: params, groups: [], assignments: new Map() };
  const members = new Map<number, Bucket[]>();
  for (const bucket of buckets) (members.get(bucket.cluster) ?? members.set(bucket.cluster, []).get(bucket.cluster)!).push(bucket);
  const usedIds = new Set<string>();
  const ordered = [...members.entries()].sort(
    (a, b) => units[b[0]].size - units[a[0]].size || cmp(signatureOf(units[a[0]]).join(' '), signatureOf(units[b[0]]).join(' ')),
  );
  for (const [ci, bs] of ordered) {
    const cluster = units[ci];
    const clusterItems = bs.flatMap((b) => b.items);
    if (clusterItems.length < 2) {
      explainSingleton(grouping, clusterItems[0], bs[0], units, index, ctx);
      continue;
    }
    const group = buildGroup(cluster, clusterItems, usedIds);
    grouping.groups.push(group);
    const th = params.threshold;
    for (const b of bs) {
      const sim = jaccard(b.words, cluster, weight);
      const path = b.steps.length
        ? b.steps.map((st, i) => `${i ? 'its group then merged with' : 'joined'} [${st.signature}] at similarity ${st.similarity.toFixed(2)} ≥ ${th}`).join('; ')
        : 'seeded the group (groups grow from their most repeated wording)';
      const same = b.items.length > 1 ? `; ${b.items.length - 1} other ticket(s) have the same informative words` : '';
      for (const item of b.items) {
        const varying = varyingParts(normaliseText(item.ticket.summary), cluster.core);
        const reason =
          `normalised to [${item.tokens.join(' ')}]; ${path}${same}; ` +
          `group signature [${group.signature.join(' ')}] (similarity ${sim.toFixed(2)})` +
          (varying.length ? `; varying part: ${varying.join(', ')}` : '');
        grouping.assignments.set(item.ticket.key, { groupId: group.id, reason, similarity: sim, summary: item.ticket.summary, tokens: item.tokens, varying });
      }
    }
  }
  for (const item of loners) {
    const reason = `normalised to [${item.tokens.join(' ')}]; no informative word (only stop words, placeholders or words no other ticket uses)`;
    grouping.assignments.set(item.ticket.key, { groupId: null, reason, similarity: null, summary: item.ticket.summary, tokens: item.tokens, varying: [] });
  }
  return grouping;
}

/**
 * One sentence saying where a ticket went and why, e.g.
 * `PLAT-203 "request token reset for packages" → group "Reset <*> feedstock token" (9 tickets): normalised to
 * [token reset packag]; joined [feedstock reset token] at similarity 0.62 ≥ 0.5; 2 other ticket(s) have the same
 * informative words; group signature [feedstock reset token] (similarity 0.62); varying part: packages`, or for a
 * singleton `… → no repeated group: normalised to […]; informative words […]; nearest signature […] at similarity 0.31 < 0.5`.
 * Returns a "not in this grouping" sentence for an unknown key.
 */
export function explainTicketV1(grouping: GroupingV1, key: string): string {
  const a = grouping.assignments.get(key);
  if (!a) return `${key} is not in this grouping (${grouping.algorithm}, ${grouping.assignments.size} tickets)`;
  const head = `${key} ${JSON.stringify(a.summary ?? '')}`;
  if (a.groupId === null) return `${head} → no repeated group: ${a.reason}`;
  const group = grouping.groups.find((g) => g.id === a.groupId);
  const where = group ? `group ${JSON.stringify(group.template)} (${group.count} tickets)` : `group ${a.groupId}`;
  return `${head} → ${where}: ${a.reason}`;
}

/**
 * The most similar cluster to a set of words (total weight `total`), or null.
 * Prefix filter: a cluster reaching the threshold must hold one of any subset of the words weighing more
 * than (1 - threshold) of the total (else the words it lacks weigh too much), so only those are compared; with
 * `sizeFilter`, so are only clusters whose signature weight is within [total·t, total/t].
 * Ties go to the lowest index (the larger, older cluster), whatever the visiting order.
 */
function bestCluster(words: string[], total: number, clusters: Cluster[], index: Index, ctx: Ctx, exclude = -1, sizeFilter = true) {
  const { weight, threshold } = ctx;
  const probe = ++probeCounter;
  const ws = words.map(weight);
  let acc = 0;
  let best: { index: number; similarity: number } | null = null;
  // Any subset of the words weighing more than (1 - t) of the total works as the probe: take the words
  // with the shortest posting lists first, so common tokens (`<num>`, "update") are rarely probed.
  const postings = words.map((w) => index.get(w));
  const order = words.map((_, i) => i).sort((a, b) => (postings[a]?.size ?? 0) - (postings[b]?.size ?? 0) || a - b);
  for (const i of order) {
    for (const ci of postings[i] ?? []) {
      if (seenAt[ci] === probe) continue;
      seenAt[ci] = probe;
      const c = clusters[ci];
      if (ci === exclude || (sizeFilter && (c.coreWeight > total / threshold || c.coreWeight < total * threshold))) continue;
      const sim = overlapSimilarity(words, ws, total, c);
      if (!best || sim > best.similarity + 1e-9 || (sim > best.similarity - 1e-9 && ci < best.index)) best = { index: ci, similarity: sim };
    }
    acc += ws[i];
    if (acc > (1 - threshold) * total) break;
  }
  return best;
}

/** Visit stamps for {@link bestCluster}: `seenAt[cluster] === probe` means already compared in this probe. */
const seenAt: number[] = [];
let probeCounter = 0;

/** One clustering round: units (largest first) join the most similar cluster at ≥ threshold, or start one. */
function clusterRound(units: Cluster[], ctx: Ctx): Cluster[] {
  const { weight, threshold } = ctx;
  const ordered = [...units].sort((a, b) => b.size - a.size || cmp(signatureOf(a).join(' '), signatureOf(b).join(' ')));
  const clusters: Cluster[] = [];
  const index: Index = new Map();
  for (const unit of ordered) {
    const words = [...unit.core].sort((a, b) => weight(b) - weight(a) || cmp(a, b));
    const found = bestCluster(words, unit.coreWeight, clusters, index, ctx);
    let target: Cluster;
    if (found && found.similarity >= threshold) {
      target = clusters[found.index];
      const step = { signature: signatureOf(target).join(' '), similarity: found.similarity };
      for (const b of unit.buckets) b.steps.push(step);
    } else {
      target = emptyCluster(clusters.length);
      clusters.push(target);
    }
    addUnit(target, unit, index, weight);
  }
  return clusters;
}

/** Weighted Jaccard with the word weights `ws` (parallel to `words`) and their sum `total` precomputed. */
function overlapSimilarity(words: string[], ws: number[], total: number, c: Cluster): number {
  let inter = 0;
  for (let i = 0; i < words.length; i++) if (c.core.has(words[i])) inter += ws[i];
  const union = total + c.coreWeight - inter;
  return union > 0 ? inter / union : 0;
}

function jaccard(words: string[], c: Cluster, weight: (w: string) => number): number {
  const ws = words.map(weight);
  return overlapSimilarity(words, ws, ws.reduce((a, b) => a + b, 0), c);
}

function emptyCluster(index: number): Cluster {
  return { index, size: 0, counts: new Map(), core: new Set(), coreWeight: 0, buckets: [] };
}

function unitOf(b: Bucket, index: number, weight: (w: string) => number): Cluster {
  const c = emptyCluster(index);
  c.size = b.items.length;
  c.buckets.push(b);
  for (const w of b.words) {
    c.counts.set(w, b.items.length);
    c.core.add(w);
  }
  c.coreWeight = b.weight;
  return c;
}

function indexOf(clusters: Cluster[]): Index {
  const index: Index = new Map();
  for (const c of clusters) for (const w of c.core) (index.get(w) ?? index.set(w, new Set()).get(w)!).add(c.index);
  return index;
}

/** Merges a unit (bucket or cluster) into a cluster and recomputes its signature (words held by more than half). */
function addUnit(c: Cluster, unit: Cluster, index: Index | null, weight: (w: string) => number): void {
  c.size += unit.size;
  for (const b of unit.buckets) c.buckets.push(b);
  for (const [w, n] of unit.counts) c.counts.set(w, (c.counts.get(w) ?? 0) + n);
  for (const [w, count] of c.counts) {
    const inCore = count * 2 > c.size;
    if (inCore === c.core.has(w)) continue;
    if (inCore) {
      c.core.add(w);
      c.coreWeight += weight(w);
      if (index) (index.get(w) ?? index.set(w, new Set()).get(w)!).add(c.index);
    } else {
      c.core.delete(w);
      c.coreWeight -= weight(w);
      index?.get(w)?.delete(c.index);
    }
  }
}

function buildGroup(cluster: Cluster, items: Item[], usedIds: Set<string>): TextGroup {
  const signature = signatureOf(cluster);
  // The most common wording (normalised token sequence), lowest key on ties, gives the template.
  const forms = new Map<string, Item[]>();
  for (const item of items) {
    const form = item.tokens.join(' ');
    (forms.get(form) ?? forms.set(form, []).get(form)!).push(item);
  }
  const byForm = [...forms.values()].sort((a, b) => b.length - a.length || cmp(a[0].ticket.key, b[0].ticket.key));
  const template = renderTemplate(normaliseText(byForm[0][0].ticket.summary), cluster.core);
  const labelCounts = new Map<string, number>();
  for (const item of items) for (const label of new Set(item.ticket.labels)) labelCounts.set(label, (labelCounts.get(label) ?? 0) + 1);
  const labels = [...labelCounts.entries()].map(([label, count]) => ({ label, count })).sort((a, b) => b.count - a.count || cmp(a.label, b.label));
  let id = 'text:' + createHash('sha1').update(`${GROUPING_VERSION}|${signature.join(' ')}`).digest('hex').slice(0, 12);
  for (let i = 2; usedIds.has(id); i++) id = id.replace(/(~\d+)?$/, `~${i}`);
  usedIds.add(id);
  return {
    id,
    kind: 'text',
    template,
    count: items.length,
    keys: items.map((i) => i.ticket.key).sort(cmp),
    exampleKeys: byForm.flat().slice(0, 5).map((i) => i.ticket.key),
    labels,
    dominantLabel: labels.length > 0 && labels[0].count * 2 >= items.length ? labels[0].label : null,
    signature,
  };
}

function explainSingleton(grouping: GroupingV1, item: Item, bucket: Bucket, clusters: Cluster[], index: Index, ctx: Ctx): void {
  const { threshold } = ctx;
  // Nearest among the clusters sharing one of its rarest words (the prefix probe used for joining).
  const found = bestCluster(bucket.words, bucket.weight, clusters, index, ctx, bucket.cluster, false);
  const nearest = found ? { sim: found.similarity, c: clusters[found.index] } : null;
  const near = nearest
    ? `nearest signature [${signatureOf(nearest.c).join(' ')}] at similarity ${nearest.sim.toFixed(2)}` +
      (nearest.sim < threshold ? ` < ${threshold}` : ` (not merged: the merge rounds stopped at their cap of ${MAX_ROUNDS})`)
    : 'no other ticket shares its informative words';
  const reason = `normalised to [${item.tokens.join(' ')}]; informative words [${[...bucket.words].sort(cmp).join(' ')}]; ${near}`;
  grouping.assignments.set(item.ticket.key, { groupId: null, reason, similarity: nearest?.sim ?? null, summary: item.ticket.summary, tokens: item.tokens, varying: [] });
}

function signatureOf(c: Cluster): string[] {
  return [...c.core].sort(cmp);
}

function distinctWords(tokens: string[]): string[] {
  return [...new Set(tokens.filter((t) => t.length > 1))];
}

function countDocFreq(items: Item[]): Map<string, number> {
  const df = new Map<string, number>();
  for (const item of items) for (const w of item.words) df.set(w, (df.get(w) ?? 0) + 1);
  return df;
}

/** Code-unit comparison: locale-independent, so the order is the same on every machine. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
