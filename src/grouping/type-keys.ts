/**
 * Type keys for `text-v2` (steps 1–3 of `group-tickets.ts`): reads each ticket's intent, learns the corpus's
 * frequent words and phrase heads, and gives every ticket with an action its type key (`add in team`).
 */
import type { GroupableTicket } from './grouping-contract.js';
import { clip, CONTAINER_ACTIONS, CONTAINER_PREPS, parseIntent, parseNormalised, type ParsedIntent, type PhraseWord } from './intent.js';
import { IntentStore, releaseNow, TokenLists } from './intent-codec.js';
import { normaliseText } from './normalise-text.js';
import { PhraseStats } from './phrase-heads.js';

/** The parameters the key step uses (`GroupingOptions` of `group-tickets.ts`). */
export interface KeyParams {
  minObjectDf: number;
  descriptionWords: number;
  headSimilarity: number;
}

/** One ticket with an action word on its way to a type. */
export interface Item {
  ticket: GroupableTicket;
  /** Handle of the parsed intent in the {@link IntentStore} (`intent-codec.ts`), dropped with it once keys are chosen. */
  enc: number;
  /** Its list in the {@link TokenLists} of `readIntents`: the normalised summary tokens as word ids. */
  tokens: number;
  action: string | null;
  actionText: string | null;
  /** Type key (`add in team`), or null when no action was found. */
  key: string | null;
  object: PhraseWord | null;
  relation: 'direct' | 'in';
  /** Words that completed an elliptic object phrase (`phrase-heads.ts`). */
  completedWith?: string[];
  /** The head its object was clustered with (see {@link mergeContainerHeads}), when not itself. */
  sameKindAs?: string;
  /** Its direct object, when the place was implied (see {@link impliedPlaces}). */
  impliedBy?: string;
}

/**
 * Container heads that fill the same slot (`PhraseStats.clusterHeads`: "to sig-docs-ko-reviews" and "to
 * sig-docs-ko-owners") are one kind of container, so "Add … to reviewers" and "Add … to owners" are one type.
 * Only heads of container phrases of add/remove-like actions, the 100 most used, are clustered.
 */
function mergeContainerHeads(items: Item[], stats: PhraseStats, threshold: number): void {
  const uses = new Map<string, number>();
  for (const item of items) if (item.relation === 'in' && item.object) uses.set(item.object.stem, (uses.get(item.object.stem) ?? 0) + 1);
  const heads = [...uses.entries()].filter(([, n]) => n >= 2).sort((a, b) => b[1] - a[1] || cmp(a[0], b[0])).slice(0, 100).map(([h]) => h);
  const rep = stats.clusterHeads(heads, threshold);
  for (const item of items) {
    if (!item.object || !item.action) continue;
    const r = rep.get(item.object.stem);
    if (!r || r === item.object.stem) continue;
    if (item.relation !== 'in') continue;
    item.sameKindAs = r;
    item.key = intern(`${item.action} in ${r}`);
  }
  impliedPlaces(items, rep);
}

/**
 * "Add members" names who joins but not where. When its object is also used as a place ("to kubernetes-sigs
 * members"), but mostly as the thing added, the request goes to the usual place of that action: the container
 * kind most of its tickets name. Objects never used as a place ("Add tests") and objects mostly used as one
 * ("Add teams": creating them) keep their own type.
 */
function impliedPlaces(items: Item[], rep: Map<string, string>): void {
  const placeUses = new Map<string, number>();
  const wordPlaceUses = new Map<string, number>();
  const usual = new Map<string, Map<string, { n: number; word: PhraseWord }>>();
  const moved = new Map<string, number>();
  for (const item of items) {
    if (!item.object || !item.action || !CONTAINER_ACTIONS.has(item.action)) continue;
    if (item.relation === 'direct') moved.set(`${item.action} ${item.object.stem}`, (moved.get(`${item.action} ${item.object.stem}`) ?? 0) + 1);
    else {
      const kind = item.sameKindAs ?? item.object.stem;
      placeUses.set(kind, (placeUses.get(kind) ?? 0) + 1);
      wordPlaceUses.set(item.object.stem, (wordPlaceUses.get(item.object.stem) ?? 0) + 1);
      const m = usual.get(item.action) ?? usual.set(item.action, new Map()).get(item.action)!;
      const e = m.get(kind) ?? m.set(kind, { n: 0, word: item.object }).get(kind)!;
      e.n++;
    }
  }
  const place = new Map<string, string>();
  for (const [action, m] of usual) {
    const best = [...m.entries()].sort((a, b) => b[1].n - a[1].n || cmp(a[0], b[0]))[0];
    if (best) place.set(action, best[0]);
  }
  for (const item of items) {
    if (item.relation !== 'direct' || !item.object || !item.action || !place.has(item.action)) continue;
    // A word that is the main name of a kind of place counts all its kind's uses ("teams", with "admins" and
    // "groups": "Add teams" creates them); another word counts its own ("members" among kinds of "org").
    const stem = item.object.stem;
    const asPlace = (rep.get(stem) ?? stem) === stem ? (placeUses.get(stem) ?? 0) : (wordPlaceUses.get(stem) ?? 0);
    const asThing = moved.get(`${item.action} ${item.object.stem}`) ?? 0;
    if (asPlace < IMPLIED_MIN_PLACE_USES || asThing <= asPlace) continue;
    const kind = place.get(item.action)!;
    item.impliedBy = item.object.stem;
    item.relation = 'in';
    item.sameKindAs = kind;
    item.key = intern(`${item.action} in ${kind}`);
  }
}
/** An object counts as a kind of place once this many tickets use it as one. */
const IMPLIED_MIN_PLACE_USES = 3;

/** Tickets without an action word, in order: each ticket and its list in the {@link TokenLists}. */
export interface NoActionTickets {
  tickets: GroupableTicket[];
  lists: Int32Array;
}

/**
 * Steps 1–3 of the module comment: parses every ticket (kept as word ids until its key is chosen), counts
 * document frequencies, learns phrase heads and picks the object and type key of each ticket with an action.
 * `sorted` must be sorted by key (a key given twice counts once: the first of its run). Also keeps each ticket's
 * normalised summary tokens as word ids (`tokens`), for variants and wording clusters. Returns the tickets with an
 * action as {@link Item}s and those without as `noAction` (no object each). Everything else built here is garbage
 * once it returns (memory at 100k tickets).
 */
export function readIntents(
  sorted: GroupableTicket[],
  params: KeyParams,
): { items: Item[]; noAction: NoActionTickets; frequent: (stem: string) => boolean; tokens: TokenLists } {
  const store = new IntentStore();
  const tokens = new TokenLists(sorted.length);
  // Every ticket's intent (its handle in the store), in order; items only for those with an action.
  const encs = new Int32Array(sorted.length);
  let count = 0;
  const items: Item[] = [];
  const noActionLists = new Int32Array(sorted.length);
  const noActionTickets: GroupableTicket[] = [];
  let previous: string | undefined;
  for (const ticket of sorted) {
    if (count > 0 && ticket.key === previous) continue;
    previous = ticket.key;
    const norm = normaliseText(clip(ticket.summary));
    const list = tokens.add(norm.tokens);
    let intent = parseNormalised(norm);
    if (!hasContent(intent) && params.descriptionWords > 0 && ticket.description) {
      intent = parseIntent(clip(ticket.description).split(/\s+/).slice(0, params.descriptionWords).join(' '));
    }
    const enc = (encs[count++] = store.add(intent));
    if (intent.action === null) {
      noActionLists[noActionTickets.length] = list;
      noActionTickets.push(ticket);
    } else items.push({ ticket, enc, tokens: list, action: intent.action, actionText: intent.actionText, key: null, object: null, relation: 'direct' });
  }
  const df = new Map<string, number>();
  const stems = new Set<string>();
  for (let i = 0; i < count; i++) {
    const intent = store.get(encs[i]);
    for (const w of intent.before) stems.add(w.stem);
    for (const p of intent.phrases) for (const w of p.words) stems.add(w.stem);
    for (const s of stems) df.set(s, (df.get(s) ?? 0) + 1);
    stems.clear();
  }
  const frequentStems = new Set<string>();
  for (const [stem, n] of df) if (n >= params.minObjectDf) frequentStems.add(stem);
  df.clear();
  const frequent = membership(frequentStems);
  const stats = new PhraseStats();
  for (let i = 0; i < count; i++) stats.add(store.get(encs[i]), frequent);
  for (const item of items) chooseKey(item, store.get(item.enc), frequent, stats);
  mergeContainerHeads(items, stats, params.headSimilarity);
  stats.release();
  store.release();
  releaseNow(encs);
  return { items, noAction: { tickets: noActionTickets, lists: noActionLists.subarray(0, noActionTickets.length) }, frequent, tokens };
}

/** `(s) => set.has(s)`, made here so the closure holds the set alone (not the intent store of `readIntents`). */
function membership(set: ReadonlySet<string>): (s: string) => boolean {
  return (s) => set.has(s);
}

/** One string per distinct type key, and one object per distinct object word (memory at 100k tickets). */
const interned = new Map<string, string>();
function intern(s: string): string {
  const found = interned.get(s);
  if (found !== undefined) return found;
  if (interned.size > 100_000) interned.clear();
  interned.set(s, s);
  return s;
}
const internedWords = new Map<string, PhraseWord>();
function internWord(w: PhraseWord): PhraseWord {
  const k = `${w.stem}\u0000${w.text}`;
  const found = internedWords.get(k);
  if (found !== undefined) return found;
  if (internedWords.size > 100_000) internedWords.clear();
  const copy = { stem: w.stem, text: w.text };
  internedWords.set(k, copy);
  return copy;
}

export function hasContent(intent: ParsedIntent): boolean {
  return intent.action !== null || intent.phrases.some((p) => p.words.length > 0);
}

/** Picks the object and the type key of one ticket (step 2 and 3 of the module comment). */
function chooseKey(item: Item, intent: ParsedIntent, frequent: (stem: string) => boolean, stats: PhraseStats): void {
  const { action, phrases, before } = intent;
  if (action === null) return;
  const headOf = (words: PhraseWord[]) => {
    const kept = words.filter((w) => frequent(w.stem));
    // A word naming something by number ("persona Student 3") is a weak head: the last other word wins.
    let last = kept.length - 1;
    while (last >= 0 && kept[last].named) last--;
    if (last >= 0) kept.length = last + 1;
    return kept.length ? stats.resolve(kept) : null;
  };
  const order: Array<{ words: PhraseWord[]; relation: 'direct' | 'in' }> = [];
  if (CONTAINER_ACTIONS.has(action)) for (const p of phrases) if (p.prep && CONTAINER_PREPS.has(p.prep)) order.push({ words: p.words, relation: 'in' });
  order.push({ words: phrases[0].words, relation: 'direct' });
  order.push({ words: before, relation: 'direct' });
  if (!CONTAINER_ACTIONS.has(action)) for (const p of phrases.slice(1)) order.push({ words: p.words, relation: 'direct' });
  for (const o of order) {
    const head = headOf(o.words);
    if (head) {
      item.object = internWord(head.word);
      if (head.completedWith.length) item.completedWith = head.completedWith;
      item.relation = o.relation;
      item.key = intern(`${action} ${o.relation === 'in' ? 'in ' : ''}${head.word.stem}`);
      return;
    }
  }
  item.key = action;
}


/** Code-unit comparison: locale-independent, so the order is the same on every machine. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
