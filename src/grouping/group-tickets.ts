/**
 * Groups tickets into repeated **request types** and, beneath each, its **variants** (wordings).
 *
 * ## Algorithm `text-v2` (lexical intent keys; steps 1–4 in `type-keys.ts`)
 * 1. **Intent** (`intent.ts`): the first action word of the summary's last clause, from a generic English lexicon,
 *    folded to a canonical action with its polarity (add/grant/invite/onboard → `add`; remove/revoke/offboard →
 *    `remove`; create vs delete, enable vs disable, lock vs unlock; update/upgrade/bump/change → `update`...), and
 *    the phrases around it (its subject, its direct object, one phrase per preposition). A summary with no content
 *    word borrows the first `descriptionWords` words of its description.
 * 2. **Object**: the head (last content word) of the phrase that names what is acted on. Words used by fewer than
 *    `minObjectDf` tickets (names, one-off nouns), numbers, dates, versions and words naming something by number
 *    ("Student 3") never head it. Add/remove-like actions take the place phrase ("to the sig-apps **team**"),
 *    others the direct object, then the subject ("pfSense upgrade"), then later phrases ("update to **JIRA**").
 *    A head the corpus mostly uses as a modifier is completed the way the corpus usually goes on
 *    ("to kubernetes-sigs" → "… org", `phrase-heads.ts`).
 * 3. **Kinds of place**: place heads written after the same names ("sig-docs-ko-reviews", "sig-docs-ko-owners")
 *    are one kind (cosine of preceding-word vectors ≥ `headSimilarity`). A thing added without its place, also
 *    used as a place but mostly as the thing added ("Add members <date>"), goes to the action's usual place.
 * 4. **Type key** = action + relation (object, or place) + object: `add in team` ("Add … to team") is not
 *    `add team` ("Add teams …", creating them); `remove in team` never meets `add in team`: antonyms never merge
 *    because the action is in the key. Tickets sharing a key form a type when they are at least 2.
 * 5. **No action word**: wording clusters among those tickets (`wording-clusters.ts`, text-v1's idea, lean).
 * 6. **Variants**: inside a type, tickets with the same wording once rare words, numbers, dates and placeholders
 *    are blanked (`Add <*> to <*> maintainers`).
 *
 * Deterministic: tickets are sorted by key first; ids hash the version and the key words. No network, no model.
 * Any change to the lexicon, the normalisation or the steps above must bump {@link GROUPING_VERSION}.
 */
import { createHash } from 'node:crypto';
import type { GroupableTicket, Grouping, RequestType, RequestVariant, TicketAssignment } from './grouping-contract.js';
import { ACTION_STEMS, clip } from './intent.js';
import type { TokenLists } from './intent-codec.js';
import { readIntents, type Item, type NoActionTickets } from './type-keys.js';
import { isPlaceholder, normaliseText, renderTemplate } from './normalise-text.js';
import { clusterWordings } from './wording-clusters.js';

export type { GroupableTicket, Grouping, RequestType, RequestVariant, TicketAssignment } from './grouping-contract.js';

/** Version of the grouping algorithm; stored with every grouping. Bump on any behaviour change. */
export const GROUPING_VERSION = 'text-v2' as const;

export interface GroupingOptions {
  /** Tickets a word must appear in to be a type's object or a variant's fixed word. Default 3. */
  minObjectDf?: number;
  /** Description words read when the summary has no content word. Default 12; 0 disables. */
  descriptionWords?: number;
  /** Cosine of preceding-word vectors at which two container heads are one kind of container. Default 0.35. */
  headSimilarity?: number;
}

const DEFAULTS: Required<GroupingOptions> = { minObjectDf: 3, descriptionWords: 12, headSimilarity: 0.35 };


/**
 * Groups tickets into request types with variants (see the module comment). Never throws on odd text; an
 * empty input gives no types. A key given twice counts once (the first after sorting by key, then content).
 * @throws {RangeError} when `minObjectDf` < 1 or `descriptionWords` < 0.
 */
export function groupTickets(tickets: GroupableTicket[], options: GroupingOptions = {}): Grouping {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const params: Required<GroupingOptions> = { ...DEFAULTS, ...given };
  if (!(params.minObjectDf >= 1) || !(params.descriptionWords >= 0)) throw new RangeError('minObjectDf must be ≥ 1 and descriptionWords ≥ 0');
  const total = (t: GroupableTicket) => `${t.summary ?? ''}\u0000${t.description ?? ''}\u0000${t.labels.join('\u0000')}`;
  const sorted = [...tickets].sort((a, b) => cmp(a.key, b.key) || cmp(total(a), total(b)));
  const { items, noAction, frequent, tokens } = readIntents(sorted, params);
  const variantsOf = new Variants(tokens, frequent);
  const grouping: Grouping = { algorithm: GROUPING_VERSION, parameters: { ...params }, types: [], assignments: new Map() };
  const byKey = new Map<string, Item[]>();
  for (const item of items) (byKey.get(item.key!) ?? byKey.set(item.key!, []).get(item.key!)!).push(item);
  const singles: Item[] = [];
  for (const [key, members] of byKey) {
    if (members.length < 2) singles.push(...members);
    else grouping.types.push(buildType(key, members, ITEMS, variantsOf, grouping));
  }
  fallbackTypes(noAction, tokens, variantsOf, grouping);
  grouping.types.sort((a, b) => b.count - a.count || cmp(a.id, b.id));
  for (const item of singles) explainSingle(item, grouping);
  tokens.release();
  return grouping;
}


const ACTION_NAMES: Record<string, string> = { configure: 'Configure', clean: 'Clean up', update: 'Update' };

/** `Add … to team`, `Create teams …`, `Remove … from maintainers`, `Add …`. */
function typeName(members: Item[]): string {
  const first = members[0];
  const action = first.action!;
  const verb = ACTION_NAMES[action] ?? action[0].toUpperCase() + action.slice(1);
  if (!first.object) return `${verb} …`;
  const forms = new Map<string, number>();
  // The place a type goes to is named by the tickets that name it ("Add members" implies it, see impliedPlaces).
  const naming = members.some((m) => m.object && !m.impliedBy) ? members.filter((m) => !m.impliedBy) : members;
  for (const m of naming) if (m.object) forms.set(m.object.text.toLowerCase(), (forms.get(m.object.text.toLowerCase()) ?? 0) + 1);
  // Up to 3 written forms, most used first; forms of one stem ("team", "teams") count once.
  const stems = new Set<string>();
  const nouns: string[] = [];
  const sortedForms = [...forms.entries()].sort((a, b) => b[1] - a[1] || cmp(a[0], b[0]));
  for (const [form, n] of sortedForms) {
    if (n * 5 < sortedForms[0][1]) break; // a rare form would mislead more than it says
    const stem = naming.find((m) => m.object?.text.toLowerCase() === form)!.object!.stem;
    if (stems.has(stem) || nouns.length === 3) continue;
    stems.add(stem);
    nouns.push(form);
  }
  const noun = nouns.join(' / ');
  if (first.relation === 'in') return `${verb} … ${action === 'remove' || action === 'demote' ? 'from' : 'to'} ${noun}`;
  return `${verb} ${noun} …`;
}

function hashId(prefix: string, text: string): string {
  return `${prefix}:${createHash('sha1').update(`${GROUPING_VERSION}|${text}`).digest('hex').slice(0, 12)}`;
}

function labelsOf<M>(members: readonly M[], access: MemberAccess<M>) {
  const counts = new Map<string, number>();
  for (const m of members) for (const label of new Set(access.ticket(m).labels)) counts.set(label, (counts.get(label) ?? 0) + 1);
  const labels = [...counts.entries()].map(([label, count]) => ({ label, count })).sort((a, b) => b.count - a.count || cmp(a.label, b.label));
  return { labels, dominantLabel: labels.length > 0 && labels[0].count * 2 >= members.length ? labels[0].label : null };
}

/**
 * Variant signatures from the tickets' normalised summary tokens (word ids in `readIntents`' {@link TokenLists}):
 * the wording with rare words, numbers, dates and placeholders blanked (`add * to * maintain`). Whether a word id is
 * fixed is worked out once per id.
 */
class Variants {
  /** Per word id: 0 not yet known, 1 fixed, 2 blanked. */
  private fixed: Uint8Array;

  constructor(
    private readonly tokens: TokenLists,
    private readonly frequent: (stem: string) => boolean,
  ) {
    this.fixed = new Uint8Array(tokens.vocab.strings.length);
  }

  /** The signature of a ticket's token list. */
  signature(list: number): string {
    const strings = this.tokens.vocab.strings;
    const parts: string[] = [];
    const chunk = this.tokens.chunk(list);
    for (let at = this.tokens.from(list), end = this.tokens.to(list); at < end; at++) {
      const id = chunk[at];
      if (this.fixed[id] === 0) {
        const token = strings[id];
        this.fixed[id] = !isPlaceholder(token) && (this.frequent(token) || ACTION_STEMS.has(token)) ? 1 : 2;
      }
      const part = this.fixed[id] === 1 ? strings[id] : '*';
      if (part !== '*' || parts.at(-1) !== '*') parts.push(part);
    }
    return parts.join(' ');
  }
}

/** The fixed words of a signature (tokens never contain a space and are never `*`). */
function keptWords(signature: string): Set<string> {
  return new Set(signature.split(' ').filter((p) => p !== '*' && p !== ''));
}

/** How a type reads its members: each one's ticket and its list of normalised summary tokens. */
interface MemberAccess<M> {
  ticket(m: M): GroupableTicket;
  list(m: M): number;
}

/** Members of action types are {@link Item}s. */
const ITEMS: MemberAccess<Item> = { ticket: (m) => m.ticket, list: (m) => m.tokens };

/**
 * A request type of `members`: action types (no `wording`) are made of {@link Item}s; wording types (indexes of the
 * tickets without an action word) name themselves.
 */
function buildType(key: string, members: Item[], access: MemberAccess<Item>, variantsOf: Variants, grouping: Grouping): RequestType;
function buildType(key: string, members: number[], access: MemberAccess<number>, variantsOf: Variants, grouping: Grouping, wording: WordingType): RequestType;
function buildType<M>(key: string, members: M[], access: MemberAccess<M>, variantsOf: Variants, grouping: Grouping, wording?: WordingType): RequestType {
  const id = hashId('type', key);
  const byVariant = new Map<string, M[]>();
  for (const m of members) {
    const signature = variantsOf.signature(access.list(m));
    const same = byVariant.get(signature);
    // Most wordings have one or two tickets: `[m]` holds one slot where `[]` then push would reserve 17.
    if (same) same.push(m);
    else byVariant.set(signature, [m]);
  }
  // [signature, members], largest first.
  const variants = [...byVariant.entries()].sort((a, b) => b[1].length - a[1].length || cmp(a[0], b[0]));
  byVariant.clear();
  const name = wording?.name ?? typeName(members as unknown as Item[]);
  const keyWords = wording?.keyWords ?? key.split(' ');
  const out: RequestVariant[] = [];
  // Members with the same action word and object word share one reason string (memory at 100k tickets); the
  // variant's template is given by `explainTicket`.
  const variantWhy = 'its wording, with words few tickets use, numbers and dates blanked, gives the variant';
  const reasons = new Map<string, string>();
  const wordingReason = wording ? `${wording.reason}; ${variantWhy}` : '';
  const actionReason = (m: Item): string => {
    const cacheKey = `${m.actionText}\u0000${m.object?.text}\u0000${m.completedWith?.join(' ')}\u0000${m.impliedBy}`;
    let reason = reasons.get(cacheKey);
    if (reason === undefined) {
      const completed = m.completedWith?.length ? `, completing the phrase with "${m.completedWith.join(' ')}" as most of the corpus does` : '';
      const kind = m.impliedBy
        ? `: "${m.impliedBy}" says who joins but not where, and "${m.sameKindAs}" is where this action usually goes`
        : m.sameKindAs
          ? `, a place of the same kind as "${m.sameKindAs}" (written after the same names)`
          : '';
      const obj = m.object ? `object "${m.object.stem}" (from "${m.object.text}"${m.relation === 'in' && !m.impliedBy ? ', the place it goes to or leaves' : ''}${completed}${kind})` : 'no frequent object word';
      reason =
        `action "${m.action}" (from "${m.actionText}") and ${obj} give the type "${name}" (${members.length} tickets); ${variantWhy}`;
      reasons.set(cacheKey, reason);
    }
    return reason;
  };
  for (const [signature, items] of variants) {
    const variant: RequestVariant = {
      id: hashId('variant', `${id}|${signature}`),
      template: templateOf(access.ticket(items[0]).summary, keptWords(signature)),
      count: items.length,
      keys: items.map((m) => access.ticket(m).key).sort(cmp),
    };
    out.push(variant);
    for (const m of items) {
      const ticket = access.ticket(m);
      const reason = wording ? wordingReason : actionReason(m as unknown as Item);
      grouping.assignments.set(ticket.key, { typeId: id, variantId: variant.id, reason, decidingWords: keyWords, nearest: null, summary: ticket.summary });
    }
  }
  const exampleKeys: string[] = [];
  for (const [, items] of variants) for (const m of items) if (exampleKeys.length < 5) exampleKeys.push(access.ticket(m).key);
  return {
    id,
    kind: 'type',
    name,
    keyWords,
    count: members.length,
    keys: members.map((m) => access.ticket(m).key).sort(cmp),
    exampleKeys,
    ...labelsOf(members, access),
    variants: out,
  };
}

/** How a wording type (tickets without an action word) is named and explained. */
interface WordingType {
  name: string;
  keyWords: string[];
  reason: string;
}

/**
 * Tickets without an action word: wording clusters among themselves (`wording-clusters.ts`), each cluster of 2 or
 * more a type named by its most common wording, with variants as for the other types.
 */
function fallbackTypes(noAction: NoActionTickets, tokens: TokenLists, variantsOf: Variants, grouping: Grouping): void {
  const { tickets } = noAction;
  if (tickets.length === 0) return;
  const result = clusterWordings(tokens, noAction.lists);
  const access: MemberAccess<number> = { ticket: (i) => tickets[i], list: (i) => noAction.lists[i] };
  const used = new Set<string>();
  const clustered = new Uint8Array(tickets.length);
  for (const c of result.clusters) for (const m of c.members) clustered[m] = 1;
  tickets.forEach((ticket, i) => {
    if (clustered[i]) return;
    const reason = 'no action word and no informative word (only stop words, numbers, names or words no other ticket uses)';
    grouping.assignments.set(ticket.key, { typeId: null, variantId: null, reason, decidingWords: [], nearest: null, summary: ticket.summary });
  });
  for (const c of result.clusters) {
    if (c.members.length < 2) {
      const ticket = tickets[c.members[0]];
      const words = result.wordsOf(c.members[0]);
      const reason = words.length
        ? `no action word, and no other ticket shares enough of its informative words [${words.join(' ')}] (weighted Jaccard < 0.5)`
        : 'no action word and no informative word (only stop words, numbers, names or words no other ticket uses)';
      grouping.assignments.set(ticket.key, { typeId: null, variantId: null, reason, decidingWords: [], nearest: null, summary: ticket.summary });
      continue;
    }
    const keep = new Set(c.words);
    const name = templateOf(tickets[c.members[0]].summary, keep);
    const reason = `no action word: grouped by wording, sharing most of the words [${c.words.join(' ')}] weighted by rarity`;
    let key = `wording ${c.words.join(' ')}`;
    for (let n = 2; used.has(key); n++) key = `wording ${c.words.join(' ')} ~${n}`;
    used.add(key);
    grouping.types.push(buildType(key, c.members, access, variantsOf, grouping, { name, keyWords: c.words, reason }));
  }
}

/** A ticket whose type key no other ticket shares: records the nearest type (same action, else same object). */
function explainSingle(item: Item, grouping: Grouping): void {
  const action = item.action!;
  const sameAction = grouping.types.find((t) => t.keyWords[0] === action);
  const sameObject = item.object ? grouping.types.find((t) => t.keyWords.at(-1) === item.object!.stem && t.keyWords[0] !== action) : undefined;
  const near = sameAction ?? sameObject;
  const why = !near
    ? ''
    : near === sameAction
      ? item.object
        ? `same action "${action}" but its object is "${item.object.stem}", not "${near.keyWords.at(-1)}"`
        : `same action "${action}" but no frequent word names its object`
      : `same object "${item.object!.stem}" but the action is "${action}", not "${near.keyWords[0]}"`;
  const reason =
    `action "${action}" (from "${item.actionText}")` +
    (item.object ? ` and object "${item.object.stem}"` : ', no frequent object word') +
    `: no other ticket asks for the same; ${near ? `nearest type "${near.name}": ${why}` : 'no type shares its action or object'}`;
  grouping.assignments.set(item.ticket.key, {
    typeId: null,
    variantId: null,
    reason,
    decidingWords: [],
    // Similarity = the share of the two parts of a type key (action, object) it has in common: one of two.
    nearest: near ? { typeId: near.id, name: near.name, similarity: 0.5, why } : null,
    summary: item.ticket.summary,
  });
}

/**
 * One or two sentences saying where a ticket went and why, e.g. `K8SORG-12 "Add mimowo to the sig-apps team" →
 * type "Add … to team" (412 tickets), variant "Add <*> to the <*> team": action "add" (from "Add") and object "team" …`.
 * Returns a "not in this grouping" sentence for an unknown key.
 */
export function explainTicket(grouping: Grouping, key: string): string {
  const a = grouping.assignments.get(key);
  if (!a) return `${key} is not in this grouping (${grouping.algorithm}, ${grouping.assignments.size} tickets)`;
  const head = `${key} ${JSON.stringify(a.summary ?? '')}`;
  if (a.typeId === null) return `${head} → no repeated request type: ${a.reason}`;
  const type = grouping.types.find((t) => t.id === a.typeId);
  const variant = type?.variants.find((v) => v.id === a.variantId);
  const where = type ? `type ${JSON.stringify(type.name)} (${type.count} tickets)${variant ? `, variant ${JSON.stringify(variant.template)}` : ''}` : `type ${a.typeId}`;
  return `${head} → ${where}: ${a.reason}`;
}

/** Code-unit comparison: locale-independent, so the order is the same on every machine. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A wording template: the summary with words outside `keep` blanked (`<*>`), typed placeholders kept, dates as `<date>`. */
function templateOf(summary: string | null, keep: ReadonlySet<string>): string {
  return (renderTemplate(normaliseText(clip(summary)), keep) || '<*>').replace(/<num>(?:[-/.]<num>){2}/g, '<date>');
}
