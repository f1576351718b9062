/**
 * Groups tickets into *repeated request types* by the wording of their summary ("Reset <*> feedstock token").
 *
 * ## Algorithm `text-v1` (signature clustering)
 * 1. **Normalise** each summary (`normalise-text.ts`): placeholders for variable things, stop words out,
 *    Porter stems, a few synonyms folded. The ticket's *words* are its distinct non-placeholder stems.
 *    When a summary has fewer than 2 informative words, the first {@link GroupingOptions.descriptionWords}
 *    words of the description are added ("description where it helps").
 * 2. **Informative words**: a word seen in fewer than `minDocFreq` tickets (default 2) cannot define a
 *    repeat, so it is dropped (it is what varies: names, one-off nouns). Each remaining word weighs
 *    `ln(1 + N/df)`: rare shared words say more than "update" or "fix".
 * 3. **Buckets**: tickets with exactly the same informative words form a bucket.
 * 4. **Clustering**: buckets are taken largest first (ties: signature text), so the most repeated wordings
 *    seed the groups. A bucket joins the group whose *signature* (words carried by more than half of its
 *    members) is most similar by weighted Jaccard, if that similarity is ≥ `threshold` (default 0.5: the
 *    shared words weigh at least as much as the differing ones); otherwise it starts a new group.
 *    Candidates come from an inverted index over signature words, probed only with the bucket's rarest
 *    words (prefix filtering: any group reaching the threshold must share one of them), which keeps the
 *    work near-linear.
 * 5. **Refinement**: one more pass re-assigns every bucket to its best group by the *final* signatures
 *    (so a bucket placed early follows a group that formed later), then signatures are recomputed and
 *    every similarity reported is against the final signature.
 * 6. **Templates**: the most common wording among the members (lowest key on ties) is rendered with its
 *    original casing; words outside the signature become `<*>`, placeholders stay typed (`<version>`).
 *
 * ## Determinism and versioning
 * Input order never matters: tickets are sorted by key (then summary) first, buckets are ordered by size
 * and signature text, ties between groups go to the older group, and ids are a hash of the signature.
 * Every output carries `algorithm: GROUPING_VERSION` and the parameters used; any change to the
 * normalisation, the weights or the steps above must bump the version so a stored grouping is never
 * silently reinterpreted.
 */
import { createHash } from 'node:crypto';
import { isPlaceholder, normaliseText, type NormalisedText } from './normalise-text.js';

/** Version of the grouping algorithm; stored with every grouping. Bump on any behaviour change. */
export const GROUPING_VERSION = 'text-v1' as const;

/** What grouping needs of a ticket. */
export interface GroupableTicket {
  key: string;
  summary: string | null;
  description?: string | null;
  labels: string[];
  /** Epoch ms; not used by `text-v1`, carried for callers. */
  created?: number | null;
}

export interface GroupingOptions {
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

export interface Grouping {
  algorithm: typeof GROUPING_VERSION;
  parameters: Required<GroupingOptions>;
  /** Repeated groups, largest first (ties by id). Singletons are not listed. */
  groups: TextGroup[];
  /** Every input key → its assignment. */
  assignments: Map<string, Assignment>;
}

interface Item {
  ticket: GroupableTicket;
  norm: NormalisedText;
  words: string[];
}
interface Bucket {
  words: string[];
  items: Item[];
  weight: number;
  cluster: number;
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

/** Merge rounds are capped; in practice the second or third round merges nothing. */
const MAX_ROUNDS = 6;

const DEFAULTS: Required<GroupingOptions> = { threshold: 0.5, minDocFreq: 2, descriptionWords: 12 };

/**
 * Groups tickets into repeated request types (see the module comment for the algorithm).
 * Runs in roughly linear time: 100k tickets take a few seconds. Never throws on odd text.
 */
export function groupTickets(tickets: GroupableTicket[], options: GroupingOptions = {}): Grouping {
  const params: Required<GroupingOptions> = { ...DEFAULTS, ...stripUndefined(options) };
  const sorted = [...tickets].sort((a, b) => cmp(a.key, b.key) || cmp(a.summary ?? '', b.summary ?? ''));
  const seen = new Set<string>();
  const items: Item[] = [];
  for (const ticket of sorted) {
    if (seen.has(ticket.key)) continue; // the same key twice: the first in sorted order wins
    seen.add(ticket.key);
    const norm = normaliseText(ticket.summary);
    items.push({ ticket, norm, words: distinctWords(norm.tokens) });
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
      if (informative(item.words).length >= 2 || !item.ticket.description) continue;
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
    if (item.words.length === 0) {
      loners.push(item);
      continue;
    }
    const sig = item.words.join(' ');
    let bucket = bucketMap.get(sig);
    if (!bucket) {
      const byWeight = [...item.words].sort((a, b) => weight(b) - weight(a) || cmp(a, b));
      bucket = { words: byWeight, items: [], weight: sum(byWeight, weight), cluster: -1 };
      bucketMap.set(sig, bucket);
    }
    bucket.items.push(item);
  }
  const buckets = [...bucketMap.entries()]
    .sort((a, b) => b[1].items.length - a[1].items.length || cmp(a[0], b[0]))
    .map(([, b]) => b);

  // Rounds: buckets seed clusters, then clusters merge with clusters, until a round merges nothing.
  let units = buckets.map((b, i) => unitOf(b, i, weight));
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const merged = clusterRound(units, weight, params.threshold);
    const done = merged.length === units.length;
    units = merged;
    if (done) break;
  }
  // Refinement: every bucket goes to its most similar final signature (its own cluster on ties).
  const index = indexOf(units);
  for (const unit of units) for (const b of unit.buckets) b.cluster = unit.index;
  if (process.env.REFINE) for (const b of buckets) {
    const found = bestCluster(b.words, b.weight, units, index, weight, params.threshold, b.cluster);
    if (found && found.similarity >= params.threshold) b.cluster = found.index;
  }
  const finals: Cluster[] = units.map((u) => emptyCluster(u.index));
  for (const b of buckets) addUnit(finals[b.cluster], unitOf(b, -1, weight), null, weight);
  const clusters = units;

  const grouping: Grouping = { algorithm: GROUPING_VERSION, parameters: params, groups: [], assignments: new Map() };
  const members = new Map<number, Bucket[]>();
  for (const bucket of buckets) (members.get(bucket.cluster) ?? members.set(bucket.cluster, []).get(bucket.cluster)!).push(bucket);
  const usedIds = new Set<string>();
  const ordered = [...members.entries()].sort(
    (a, b) => finals[b[0]].size - finals[a[0]].size || cmp(signatureOf(finals[a[0]]).join(' '), signatureOf(finals[b[0]]).join(' ')),
  );
  for (const [ci, bs] of ordered) {
    const cluster = finals[ci];
    const clusterItems = bs.flatMap((b) => b.items);
    if (clusterItems.length < 2) {
      explainSingleton(grouping, clusterItems[0], bs[0], clusters, index, weight, params.threshold);
      continue;
    }
    const group = buildGroup(cluster, clusterItems, usedIds);
    grouping.groups.push(group);
    for (const b of bs) {
      const sim = jaccard(b.words, cluster, weight);
      for (const item of b.items) {
        const varying = varyingText(item.norm, cluster.core);
        const shared = b.items.length > 1 ? `; ${b.items.length - 1} other ticket(s) have exactly these words` : '';
        const reason =
          `normalised to [${item.norm.tokens.join(' ')}]; matched signature [${group.signature.join(' ')}] ` +
          `at similarity ${sim.toFixed(2)} ${sim >= params.threshold ? '≥' : '<'} ${params.threshold}${shared}` +
          (varying.length ? `; varying part: ${varying.join(', ')}` : '');
        grouping.assignments.set(item.ticket.key, { groupId: group.id, reason, similarity: sim, summary: item.ticket.summary, tokens: item.norm.tokens, varying });
      }
    }
  }
  for (const item of loners) {
    const reason = `normalised to [${item.norm.tokens.join(' ')}]; no informative words (only stop words, placeholders or words no other ticket uses)`;
    grouping.assignments.set(item.ticket.key, { groupId: null, reason, similarity: null, summary: item.ticket.summary, tokens: item.norm.tokens, varying: [] });
  }
  return grouping;
}

/**
 * One sentence saying where a ticket went and why, e.g.
 * `PLAT-12 "Reset sweet-chem feedstock token" → group "Reset <*> feedstock token" (14 tickets): normalised to
 * [reset sweet chem feedstock token]; matched signature [feedstock reset token] at similarity 0.80 ≥ 0.5; varying part: sweet-chem`.
 * Returns a "not in this grouping" sentence for an unknown key.
 */
export function explainTicket(grouping: Grouping, key: string): string {
  const a = grouping.assignments.get(key);
  if (!a) return `${key} is not in this grouping (${grouping.algorithm}, ${grouping.assignments.size} tickets)`;
  const head = `${key} ${JSON.stringify(a.summary ?? '')}`;
  if (a.groupId === null) return `${head} → no repeated group: ${a.reason}`;
  const group = grouping.groups.find((g) => g.id === a.groupId);
  const where = group ? `group ${JSON.stringify(group.template)} (${group.count} tickets)` : `group ${a.groupId}`;
  return `${head} → ${where}: ${a.reason}`;
}

/**
 * The most similar cluster to a set of words (sorted rarest first, total weight `total`), or null.
 * Prefix filter: only clusters whose signature holds one of the shortest run of rarest words weighing
 * more than (1 - threshold) of the total can reach the threshold, so only those are compared.
 * Ties go to `prefer` (the current cluster), then to the lowest index (the larger, older cluster).
 */
function bestCluster(
  words: string[],
  total: number,
  clusters: Cluster[],
  index: Map<string, Set<number>>,
  weight: (w: string) => number,
  threshold: number,
  prefer = -1,
  exclude = -1,
): { index: number; similarity: number } | null {
  const probe = ++probeCounter;
  const ws = words.map(weight);
  let acc = 0;
  let best: { index: number; similarity: number } | null = null;
  for (let i = 0; i < words.length; i++) {
    for (const ci of index.get(words[i]) ?? []) {
      if (seenAt[ci] === probe) continue;
      seenAt[ci] = probe;
      const c = clusters[ci];
      if (ci === exclude || c.coreWeight > total / threshold || c.coreWeight < total * threshold) continue;
      const sim = overlapSimilarity(words, ws, total, c);
      // Deterministic tie-break, whatever the visiting order: higher similarity, then `prefer`, then lower index.
      if (!best || sim > best.similarity + 1e-9 || (sim > best.similarity - 1e-9 && rank(ci, prefer) < rank(best.index, prefer))) {
        best = { index: ci, similarity: sim };
      }
    }
    acc += ws[i];
    if (acc > (1 - threshold) * total) break;
  }
  return best;
}

/** Visit stamps for {@link bestCluster}: `seenAt[cluster] === probe` means already compared in this probe. */
const seenAt: number[] = [];
let probeCounter = 0;

function rank(ci: number, prefer: number): number {
  return ci === prefer ? -1 : ci;
}

/** One clustering round: units (largest first) join the most similar cluster at ≥ threshold, or start one. */
function clusterRound(units: Cluster[], weight: (w: string) => number, threshold: number): Cluster[] {
  const ordered = [...units].sort((a, b) => b.size - a.size || cmp(signatureOf(a).join(' '), signatureOf(b).join(' ')));
  const clusters: Cluster[] = [];
  const index = new Map<string, Set<number>>();
  for (const unit of ordered) {
    const words = [...unit.core].sort((a, b) => weight(b) - weight(a) || cmp(a, b));
    const found = bestCluster(words, unit.coreWeight, clusters, index, weight, threshold);
    let target: Cluster;
    if (found && found.similarity >= threshold) target = clusters[found.index];
    else {
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
  let inter = 0;
  let total = 0;
  for (const w of words) {
    total += weight(w);
    if (c.core.has(w)) inter += weight(w);
  }
  const union = total + c.coreWeight - inter;
  return union > 0 ? inter / union : 0;
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

function indexOf(clusters: Cluster[]): Map<string, Set<number>> {
  const index = new Map<string, Set<number>>();
  for (const c of clusters) for (const w of c.core) (index.get(w) ?? index.set(w, new Set()).get(w)!).add(c.index);
  return index;
}

/** Merges a unit (bucket or cluster) into a cluster and recomputes its signature (words held by more than half). */
function addUnit(c: Cluster, unit: Cluster, index: Map<string, Set<number>> | null, weight: (w: string) => number): void {
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
    const form = item.norm.tokens.join(' ');
    (forms.get(form) ?? forms.set(form, []).get(form)!).push(item);
  }
  const byForm = [...forms.values()].sort((a, b) => b.length - a.length || cmp(a[0].ticket.key, b[0].ticket.key));
  const template = renderTemplate(byForm[0][0].norm, cluster.core);
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

/** Renders a wording as a template: signature words kept, other words `<*>`, placeholders typed. */
function renderTemplate(norm: NormalisedText, core: Set<string>): string {
  const parts: string[] = [];
  for (const seg of norm.segments) {
    if (seg.kind === 'gap') parts.push(seg.text);
    else if (seg.kind === 'placeholder') parts.push(seg.tokens.some((t) => core.has(t)) ? seg.text : seg.placeholder!);
    else if (seg.tokens.length === 0 || seg.tokens.some((t) => core.has(t))) parts.push(seg.text);
    else parts.push('<*>');
  }
  return parts
    .join('')
    .replace(/<\*>(?:[\s\-_/]+<\*>)+/g, '<*>')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The original text of a ticket that its group's template does not spell out. */
function varyingText(norm: NormalisedText, core: Set<string>): string[] {
  return norm.segments
    .filter((s) => (s.kind === 'placeholder' || (s.kind === 'word' && s.tokens.length > 0)) && !s.tokens.some((t) => core.has(t) && !isPlaceholder(t)))
    .map((s) => s.text);
}

function explainSingleton(
  grouping: Grouping,
  item: Item,
  bucket: Bucket,
  clusters: Cluster[],
  index: Map<string, Set<number>>,
  weight: (w: string) => number,
  threshold: number,
): void {
  // Nearest among the clusters that could have reached the threshold (the same prefix filter as joining).
  const found = bestCluster(bucket.words, bucket.weight, clusters, index, weight, threshold, -1, bucket.cluster);
  const nearest = found ? { sim: found.similarity, c: clusters[found.index] } : null;
  const near = nearest
    ? `nearest signature [${signatureOf(nearest.c).join(' ')}] at similarity ${nearest.sim.toFixed(2)}${nearest.sim < threshold ? ` < ${threshold}` : ' (it joined another group)'}`
    : 'no other ticket shares its informative words';
  const reason = `normalised to [${item.norm.tokens.join(' ')}]; informative words [${[...bucket.words].sort(cmp).join(' ')}]; ${near}`;
  grouping.assignments.set(item.ticket.key, { groupId: null, reason, similarity: nearest?.sim ?? null, summary: item.ticket.summary, tokens: item.norm.tokens, varying: [] });
}

function signatureOf(c: Cluster): string[] {
  return [...c.core].sort(cmp);
}

function distinctWords(tokens: string[]): string[] {
  return [...new Set(tokens.filter((t) => !isPlaceholder(t) && t.length > 1))];
}

function countDocFreq(items: Item[]): Map<string, number> {
  const df = new Map<string, number>();
  for (const item of items) for (const w of item.words) df.set(w, (df.get(w) ?? 0) + 1);
  return df;
}

function sum(words: string[], weight: (w: string) => number): number {
  let s = 0;
  for (const w of words) s += weight(w);
  return s;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Code-unit comparison: locale-independent, so the order is the same on every machine. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
