/**
 * Lexical request intent for grouping (`text-v2`): the action a summary asks for (a canonical verb with its
 * polarity) and the phrases that may hold its object.
 *
 * The action lexicon is generic English for requests (add/grant/invite/onboard vs remove/revoke/drop/offboard,
 * create vs delete, enable vs disable, lock vs unlock, update/change/rename...), never words of one corpus.
 * Every verb is listed with its inflections (`add`, `adds`, `added`, `adding`), because the Porter stemmer
 * folds `adding` to `ad`.
 *
 * A summary is read as clauses: a scope prefix before a colon ("sig-network: add teams for x") is skipped
 * when an action follows it; the *first* action word found is the request's action; the words after it up to
 * the first preposition are its direct object phrase; each following preposition opens a phrase of its own
 * ("to the sig-apps team", "from maintainers"). A phrase's *head* is its last content word (English noun
 * phrases put the head last: "sig-apps team" → team, "cloud-provider-azure-admins" → admins), so names,
 * numbers and dates that precede the head never decide the object. Choosing between phrases needs corpus
 * document frequencies, so it happens in `group-tickets.ts`.
 *
 * Pure and deterministic.
 */
import { normaliseText, normaliseWord, type NormalisedText } from './normalise-text.js';

/** Characters of a summary that grouping reads (a size limit: a title is short; the rest would only cost time). */
export const MAX_TEXT_CHARS = 1000;

/** The first {@link MAX_TEXT_CHARS} characters of a text ('' for null). */
export function clip(text: string | null | undefined): string {
  return (text ?? '').slice(0, MAX_TEXT_CHARS);
}

/** Opposite actions: a request type never holds both (the eval counts "antonym merges" with these pairs). */
export const POLAR_PAIRS: ReadonlyArray<readonly [string, string]> = [
  ['add', 'remove'],
  ['create', 'delete'],
  ['enable', 'disable'],
  ['lock', 'unlock'],
  ['block', 'unblock'],
  ['archive', 'unarchive'],
  ['install', 'uninstall'],
  ['approve', 'reject'],
  ['subscribe', 'unsubscribe'],
  ['start', 'stop'],
  ['suspend', 'resume'],
  ['publish', 'unpublish'],
  ['promote', 'demote'],
];

/** Canonical action → the verbs (base forms) that ask for it. Generic English only. */
const ACTION_VERBS: Record<string, string[]> = {
  add: ['add', 'grant', 'give', 'invite', 'onboard', 'include', 'join', 'enroll', 'enrol', 'welcome', 'assign', 'append', 'insert'],
  remove: ['remove', 'revoke', 'drop', 'offboard', 'kick', 'exclude', 'withdraw', 'evict', 'unassign', 'retire', 'expel', 'rm'],
  create: ['create', 'setup', 'establish', 'bootstrap', 'provision', 'initialize', 'initialise', 'init', 'spin'],
  delete: ['delete', 'destroy', 'deprovision', 'decommission', 'purge', 'erase', 'del'],
  enable: ['enable', 'activate'],
  disable: ['disable', 'deactivate'],
  lock: ['lock', 'freeze'],
  unlock: ['unlock', 'unfreeze'],
  block: ['block', 'ban', 'blacklist', 'blocklist', 'deny'],
  unblock: ['unblock', 'unban', 'whitelist', 'allowlist', 'allow'],
  archive: ['archive'],
  unarchive: ['unarchive', 'restore'],
  install: ['install', 'deploy'],
  uninstall: ['uninstall', 'undeploy'],
  approve: ['approve', 'accept'],
  reject: ['reject', 'decline'],
  subscribe: ['subscribe'],
  unsubscribe: ['unsubscribe'],
  start: ['start'],
  stop: ['stop'],
  suspend: ['suspend', 'pause'],
  resume: ['resume', 'unsuspend', 'unpause'],
  publish: ['publish'],
  unpublish: ['unpublish'],
  promote: ['promote'],
  demote: ['demote'],
  update: ['update', 'upgrade', 'bump', 'refresh', 'modify', 'change', 'edit', 'adjust', 'amend', 'tweak', 'sync', 'reconcile'],
  clean: ['clean', 'cleanup', 'tidy', 'prune'],
  rename: ['rename'],
  move: ['move', 'migrate', 'transfer', 'relocate'],
  reset: ['reset'],
  rotate: ['rotate', 'renew', 'regenerate'],
  restart: ['restart', 'reboot'],
  configure: ['configure', 'set'],
  fix: ['fix', 'repair'],
  replace: ['replace', 'swap'],
  revert: ['revert', 'rollback'],
  tag: ['tag'],
};

/** Verbs whose object is where something goes or leaves ("add X to a team"): their type is decided by that phrase. */
export const CONTAINER_ACTIONS: ReadonlySet<string> = new Set(['add', 'remove', 'promote', 'demote']);
/** Prepositions that open a container phrase for {@link CONTAINER_ACTIONS}. */
export const CONTAINER_PREPS: ReadonlySet<string> = new Set(['to', 'into', 'onto', 'from', 'as', 'in']);

/** Prepositions and conjunction-like words that end a phrase. */
const PREPOSITIONS = new Set(
  'to into onto from for as in on of with at by via about under within without out off across toward towards than w'.split(' '),
);

/** Adjectives that qualify what is asked for but never name it ("a **new** bucket", "**stale** records"). */
const NEVER_HEADS = new Set('new old additional extra existing current missing stale unused another other temporary permanent initial appropriate proper same'.split(' '));

/** Month names and their abbreviations: date parts ("nov-07-2025", "October 2") are variable, like numbers. */
const MONTHS = new Set(
  'jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june july august september october november december'.split(' '),
);

function inflections(verb: string): string[] {
  const out = [verb, `${verb}s`, `${verb}es`, `${verb}ed`, `${verb}ing`];
  if (verb.endsWith('e')) out.push(`${verb}d`, `${verb.slice(0, -1)}ing`);
  if (/[^aeiou][aeiou][bdgklmnprt]$/.test(verb)) out.push(`${verb}${verb.at(-1)}ed`, `${verb}${verb.at(-1)}ing`);
  if (verb.endsWith('y')) out.push(`${verb.slice(0, -1)}ies`, `${verb.slice(0, -1)}ied`);
  return out;
}

/** Surface word (lower case) → canonical action. */
const VERB_TO_ACTION: ReadonlyMap<string, string> = new Map(
  Object.entries(ACTION_VERBS).flatMap(([action, verbs]) => verbs.flatMap((v) => inflections(v).map((f) => [f, action] as [string, string]))),
);

/** Normalised stems of every action word (`normaliseText` tokens), so variant templates keep the verb. */
export const ACTION_STEMS: ReadonlySet<string> = new Set([...VERB_TO_ACTION.keys()].map((w) => normaliseWord(w)).filter((s): s is string => s !== null));

/** The polarity partner of an action, or undefined for a neutral one. */
export function oppositeOf(action: string): string | undefined {
  for (const [a, b] of POLAR_PAIRS) {
    if (a === action) return b;
    if (b === action) return a;
  }
  return undefined;
}

/** The canonical action a word asks for ("Added" → add, "offboarding" → remove), or null. */
export function actionOf(word: string): string | null {
  return VERB_TO_ACTION.get(word.toLowerCase()) ?? null;
}

/** A content word of a phrase: its text as written and its normalised stem. */
export interface PhraseWord {
  text: string;
  stem: string;
  /** Written just before a number, date or version ("Student 3", "Release 0.8"): part of a name, a weak head. */
  named?: boolean;
}

/** A phrase after (or before) the action: its opening preposition (null for the direct object) and its content words. */
export interface Phrase {
  prep: string | null;
  words: PhraseWord[];
}

/** The intent read from one summary. */
export interface ParsedIntent {
  /** Canonical action, or null when no action word was found. */
  action: string | null;
  /** The action word as written. */
  actionText: string | null;
  /** Content words before the action in its clause (used when nothing follows the action: "pfSense upgrade"). */
  before: PhraseWord[];
  /** Phrases after the action, in order; the first has `prep: null` (direct object), possibly with no words. */
  phrases: Phrase[];
}

type Unit = { kind: 'word'; text: string; lower: string; stem: string | null; named?: boolean } | { kind: 'var' } | { kind: 'colon' };

/** Cuts a normalised summary into words, variable parts (placeholders, numbers, months) and colon boundaries. */
function units(norm: NormalisedText): Unit[] {
  const out: Unit[] = [];
  for (const seg of norm.segments) {
    if (seg.kind === 'gap') {
      if (/[:|]|\s-\s/.test(seg.text)) out.push({ kind: 'colon' });
      continue;
    }
    if (seg.kind === 'placeholder') {
      // A bare file name still says what it is: "README.txt" → readme (as in `normaliseText`).
      const base = seg.placeholder === '<path>' && !/[\\/]/.test(seg.text) ? /^[A-Za-z]+(?=\.)/.exec(seg.text) : null;
      const stem = base ? normaliseWord(base[0]) : null;
      if (base && stem) out.push({ kind: 'word', text: base[0], lower: base[0].toLowerCase(), stem });
      else out.push({ kind: 'var' });
      continue;
    }
    for (const part of seg.text.split(/[-_]/)) {
      for (const run of part.match(/\p{L}[\p{L}'’]*|\p{N}+/gu) ?? []) {
        const lower = run.toLowerCase().replace(/['’]s$/, '');
        if (/^\p{N}+$/u.test(run) || MONTHS.has(lower)) out.push({ kind: 'var' });
        else out.push({ kind: 'word', text: run, lower, stem: lower.length > 1 ? normaliseWord(run) : null });
      }
    }
  }
  for (let i = 0; i + 1 < out.length; i++) {
    const u = out[i];
    if (u.kind === 'word' && out[i + 1].kind === 'var') u.named = true;
  }
  return out;
}

function word(u: { text: string; stem: string; named?: boolean }): PhraseWord {
  return u.named ? { text: u.text, stem: u.stem, named: true } : { text: u.text, stem: u.stem };
}

/**
 * Reads the action and the phrases of a summary (see the module comment). Never throws; an empty or
 * null summary gives no action and no phrases.
 * @example parseIntent('Add mimowo to the sig-apps team') // action add; phrases [{prep: null, [mimowo]}, {prep: 'to', [sig, apps, team]}]
 */
export function parseIntent(summary: string | null | undefined): ParsedIntent {
  return parseNormalised(normaliseText(clip(summary)));
}

/**
 * {@link parseIntent} of a summary already normalised by `normaliseText(clip(summary))`, so a caller that also needs
 * its tokens normalises it once.
 */
export function parseNormalised(norm: NormalisedText): ParsedIntent {
  const us = units(norm);
  let at = -1;
  let action: string | null = null;
  // The first action of the last clause that has one: "Inline Edit: review and update the README" asks to update.
  let clauseHasAction = false;
  for (let i = 0; i < us.length; i++) {
    const u = us[i];
    if (u.kind === 'colon') clauseHasAction = false;
    if (u.kind !== 'word' || clauseHasAction) continue;
    let found = actionOf(u.lower);
    const next = us[i + 1];
    if (found === 'configure' && next?.kind === 'word' && next.lower === 'up') found = 'create'; // "set up"
    if (found) {
      at = i;
      action = found;
      clauseHasAction = true;
    }
  }
  if (at < 0) {
    // "New repo: acme/api" asks to create one: "new" opening a clause is the request's verb.
    for (let i = 0; i < us.length; i++) {
      const u = us[i];
      if (u.kind === 'word' && u.lower === 'new' && (i === 0 || us[i - 1].kind === 'colon')) {
        at = i;
        action = 'create';
        break;
      }
    }
  }
  const content = (u: Unit): u is Extract<Unit, { kind: 'word' }> & { stem: string } =>
    u.kind === 'word' && u.stem !== null && !PREPOSITIONS.has(u.lower) && !NEVER_HEADS.has(u.lower) && actionOf(u.lower) === null;
  if (at < 0) {
    // No action: the whole summary after its last scope prefix is one direct phrase.
    let start = 0;
    us.forEach((u, i) => u.kind === 'colon' && i < us.length - 1 && (start = i + 1));
    const words = us.slice(start).filter(content).map(word);
    return { action: null, actionText: null, before: [], phrases: [{ prep: null, words }] };
  }
  let clauseStart = 0;
  for (let i = 0; i < at; i++) if (us[i].kind === 'colon') clauseStart = i + 1;
  // Before the action, only its subject phrase counts ("tokens expired for 3 feedstocks, please reset" → tokens expired).
  let beforeEnd = at;
  for (let i = clauseStart; i < at; i++) {
    const u = us[i];
    if (u.kind === 'word' && PREPOSITIONS.has(u.lower)) {
      beforeEnd = i;
      break;
    }
  }
  const before = us.slice(clauseStart, beforeEnd).filter(content).map(word);
  const phrases: Phrase[] = [{ prep: null, words: [] }];
  for (let i = at + 1; i < us.length; i++) {
    const u = us[i];
    if (u.kind === 'colon') break;
    if (u.kind !== 'word') continue;
    if (actionOf(u.lower) !== null && us[i - 1]?.kind === 'word' && (us[i - 1] as { lower: string }).lower === 'and') break; // "add x and remove y"
    if (PREPOSITIONS.has(u.lower)) phrases.push({ prep: u.lower, words: [] });
    else if (content(u)) phrases[phrases.length - 1].words.push(word(u));
  }
  const first = us[at] as { text: string };
  return { action, actionText: first.text, before, phrases };
}
