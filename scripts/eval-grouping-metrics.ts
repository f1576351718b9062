/**
 * Clustering scores for `eval-grouping.ts`. No small, well-kept npm package computes ARI/NMI (searched the npm
 * registry list: none), so they are here, from their definitions:
 * - ARI: Hubert & Arabie (1985), "Comparing partitions", J. Classification 2:193–218 (the contingency-table form
 *   scikit-learn's `adjusted_rand_score` uses).
 * - NMI: mutual information over the arithmetic mean of the two entropies (scikit-learn's default
 *   `normalized_mutual_info_score`, average_method='arithmetic').
 * A predicted `null` (ticket in no type) is its own one-ticket cluster, as every ungrouped ticket is on its own.
 */
import { oppositeOf, parseIntent } from '../src/grouping/intent.js';

/** Ticket key → predicted cluster id (null: alone). */
export type Prediction = Map<string, string | null>;

function choose2(n: number): number {
  return (n * (n - 1)) / 2;
}

/** Contingency counts over the keys both sides know. */
function contingency(pred: Prediction, truth: Record<string, string>) {
  const cells = new Map<string, number>();
  const rows = new Map<string, number>();
  const cols = new Map<string, number>();
  let n = 0;
  for (const [key, label] of Object.entries(truth)) {
    if (!pred.has(key)) continue;
    const p = pred.get(key) ?? `alone:${key}`;
    n++;
    cells.set(`${p}\u0000${label}`, (cells.get(`${p}\u0000${label}`) ?? 0) + 1);
    rows.set(p, (rows.get(p) ?? 0) + 1);
    cols.set(label, (cols.get(label) ?? 0) + 1);
  }
  return { cells, rows, cols, n };
}

/** Adjusted Rand index, −1..1 (1: the same partition; about 0: chance). */
export function adjustedRandIndex(pred: Prediction, truth: Record<string, string>): number {
  const { cells, rows, cols, n } = contingency(pred, truth);
  let index = 0;
  for (const c of cells.values()) index += choose2(c);
  let a = 0;
  let b = 0;
  for (const r of rows.values()) a += choose2(r);
  for (const c of cols.values()) b += choose2(c);
  const expected = (a * b) / choose2(n);
  const max = (a + b) / 2;
  return max === expected ? 1 : (index - expected) / (max - expected);
}

/** Normalised mutual information, 0..1 (arithmetic mean of the entropies). */
export function normalisedMutualInfo(pred: Prediction, truth: Record<string, string>): number {
  const { cells, rows, cols, n } = contingency(pred, truth);
  const h = (m: Map<string, number>) => [...m.values()].reduce((s, c) => s - (c / n) * Math.log(c / n), 0);
  let mi = 0;
  for (const [cell, c] of cells) {
    const [p, label] = cell.split('\u0000');
    mi += (c / n) * Math.log((c * n) / (rows.get(p)! * cols.get(label)!));
  }
  const denom = (h(rows) + h(cols)) / 2;
  return denom === 0 ? 1 : mi / denom;
}

/** Share of grouped tickets whose group's majority true type is theirs. */
export function purity(pred: Prediction, truth: Record<string, string>): number {
  const byGroup = new Map<string, Map<string, number>>();
  let grouped = 0;
  for (const [key, label] of Object.entries(truth)) {
    const p = pred.get(key);
    if (p === null || p === undefined) continue;
    grouped++;
    const m = byGroup.get(p) ?? byGroup.set(p, new Map()).get(p)!;
    m.set(label, (m.get(label) ?? 0) + 1);
  }
  let right = 0;
  for (const m of byGroup.values()) right += Math.max(...m.values());
  return grouped ? right / grouped : 0;
}

/** For one true type: the group holding most of its tickets, with that group's precision and recall for it. */
export function bestGroupFor(pred: Prediction, truth: Record<string, string>, label: string) {
  const inType = new Map<string, number>();
  const size = new Map<string, number>();
  let total = 0;
  for (const [key, p] of pred) {
    if (p === null) continue;
    size.set(p, (size.get(p) ?? 0) + 1);
    if (truth[key] === label) inType.set(p, (inType.get(p) ?? 0) + 1);
  }
  for (const l of Object.values(truth)) if (l === label) total++;
  let best: string | null = null;
  for (const [g, c] of inType) if (best === null || c > inType.get(best)! || (c === inType.get(best)! && g < best)) best = g;
  if (best === null) return { group: null, precision: 0, recall: 0 };
  return { group: best, precision: inType.get(best)! / size.get(best)!, recall: inType.get(best)! / total };
}

/**
 * Antonym merges. By the lexicon: a group holding a ticket whose first action word (`intent.ts`) is one side of a
 * polar pair (add/remove, create/delete, enable/disable, lock/unlock, ...) and a ticket whose first action word is
 * the other side. By the key: a group where two true types whose names differ only by polar words
 * (`team-member-add` / `team-member-remove`) each hold ≥ 2 tickets and ≥ 10% of the group, unless the group's most
 * common action word is neutral (update, change, sync...): "Update owners …" may add or remove by design.
 */
export function antonymMerges(pred: Prediction, summaries: Map<string, string | null>, truth?: Record<string, string>) {
  const actions = new Map<string, Set<string>>();
  const actionCounts = new Map<string, Map<string, number>>();
  const labels = new Map<string, Map<string, number>>();
  const size = new Map<string, number>();
  for (const [key, p] of pred) {
    if (p === null) continue;
    size.set(p, (size.get(p) ?? 0) + 1);
    const action = parseIntent(summaries.get(key) ?? null).action;
    if (action) (actions.get(p) ?? actions.set(p, new Set()).get(p)!).add(action);
    const ac = actionCounts.get(p) ?? actionCounts.set(p, new Map()).get(p)!;
    ac.set(action ?? '', (ac.get(action ?? '') ?? 0) + 1);
    if (truth?.[key]) {
      const m = labels.get(p) ?? labels.set(p, new Map()).get(p)!;
      m.set(truth[key], (m.get(truth[key]) ?? 0) + 1);
    }
  }
  let lexicon = 0;
  for (const set of actions.values()) if ([...set].some((a) => set.has(oppositeOf(a) ?? ''))) lexicon++;
  let key = 0;
  for (const [g, m] of labels) {
    const top = [...actionCounts.get(g)!.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
    if (top !== '' && oppositeOf(top) === undefined) continue; // a neutral action ("Update owners") may add or remove
    const big = [...m.entries()].filter(([, c]) => c >= 2 && c >= 0.1 * size.get(g)!).map(([l]) => l);
    if (big.some((a) => big.some((b) => a < b && polarNames(a, b)))) key++;
  }
  return { lexicon, key };
}

function polarNames(a: string, b: string): boolean {
  const pa = a.split(/[-_ ]/);
  const pb = b.split(/[-_ ]/);
  if (pa.length !== pb.length) return false;
  let polar = 0;
  for (let i = 0; i < pa.length; i++) {
    if (pa[i] === pb[i]) continue;
    if (oppositeOf(pa[i]) === pb[i]) polar++;
    else return false;
  }
  return polar > 0;
}

/** Pairwise precision/recall over hand-labelled keys (`unique` = a one-off, never a positive pair). */
export function pairwise(pred: Prediction, labels: Record<string, string>) {
  const keys = Object.keys(labels);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < keys.length; i++) {
    for (let j = i + 1; j < keys.length; j++) {
      const same = labels[keys[i]] !== 'unique' && labels[keys[i]] === labels[keys[j]];
      const gi = pred.get(keys[i]) ?? null;
      const together = gi !== null && gi === (pred.get(keys[j]) ?? null);
      if (same && together) tp++;
      else if (together) fp++;
      else if (same) fn++;
    }
  }
  const precision = tp + fp ? tp / (tp + fp) : 1;
  const recall = tp + fn ? tp / (tp + fn) : 1;
  return { precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0, tp, fp, fn };
}

/** Share of the tickets in `part` whose group id differs between the two predictions. */
export function changedShare(part: Prediction, all: Prediction): number {
  let changed = 0;
  for (const [key, g] of part) if ((all.get(key) ?? null) !== g) changed++;
  return part.size ? changed / part.size : 0;
}
