/**
 * Text normalisation for grouping tickets by wording (see `group-tickets.ts`).
 *
 * A summary is cut into *segments* that cover the whole string: variable things (URLs and host names,
 * emails, ticket keys, versions, numbers, hex ids, paths, quoted strings, `org/repo` names, `@user`
 * mentions) become one placeholder segment each; words become word segments; everything between (spaces, punctuation) is a gap.
 * Words are lower-cased, possessives dropped, stop words removed and the rest stemmed with the Porter
 * stemmer (`stemmer` package), then a few platform abbreviations are folded together (`repo` → `repositori`,
 * `upgrade` → `updat`, ...). The grouping works on the normalised tokens; the template builder works on
 * the segments, so a template keeps the original casing and punctuation of the text it came from.
 *
 * Pure and deterministic: the same string always gives the same result (no locale-dependent calls).
 */
import { stemmer } from 'stemmer';

/** Typed placeholders, in the order their patterns are tried (first match wins at a given position). */
export const PLACEHOLDERS = [
  '<url>',
  '<email>',
  '<quoted>',
  '<key>',
  '<user>',
  '<path>',
  '<repo>',
  '<version>',
  '<hex>',
  '<num>',
] as const;

/** One of {@link PLACEHOLDERS}. */
export type Placeholder = (typeof PLACEHOLDERS)[number];

/**
 * A piece of the original text. `gap` segments (spaces, punctuation) carry no tokens; a `placeholder`
 * segment carries its placeholder (a bare file name also its base name: `README.txt` → `<path>`, `readm`);
 * a `word` segment carries zero (stop word) or more stems (hyphenated words and letter+digit runs such as
 * `CentOS7` give several).
 */
export interface TextSegment {
  kind: 'word' | 'placeholder' | 'gap';
  /** The original text of the segment, casing kept. */
  text: string;
  /** The placeholder that replaced the text, for `placeholder` segments. */
  placeholder?: Placeholder;
  /** Normalised tokens this segment contributes, in order. */
  tokens: string[];
}

/** The result of {@link normaliseText}. */
export interface NormalisedText {
  /** Normalised tokens in text order: stems and placeholders, stop words removed. */
  tokens: string[];
  /** The original text as segments (joining every `text` gives the input back). */
  segments: TextSegment[];
  /** Placeholder → the original strings it replaced, in text order. */
  replaced: Partial<Record<Placeholder, string[]>>;
}

const FILE_EXT =
  'js|mjs|cjs|ts|tsx|jsx|json|ya?ml|toml|ini|cfg|conf|txt|md|rst|py|rb|go|rs|java|kt|php|sh|bash|ps1|css|scss|less|html?|xml|svg|png|jpe?g|gif|pdf|docx?|xlsx?|csv|log|sql|tf|lock|zip|tar|gz|tgz|jar|war|swf|fla|ps|properties|vm|jsp';

/** Top-level domains that make a bare `name.tld` a host name (`status.acme.io` → `<url>`). */
const HOST_TLD = 'com|org|net|io|dev|app|ai|co|ca|uk|de|fr|eu|us|info|edu|gov|cloud|sh|me|one|local|internal|lan|corp';

/**
 * The placeholder patterns, one alternation with named groups. Order matters: earlier alternatives win
 * (a URL contains a path, a path may contain a version, and so on).
 */
const PATTERN = new RegExp(
  [
    // URLs: scheme:// or www.
    String.raw`(?<url>\b(?:[a-z][a-z0-9+.-]*://|www\.)[^\s<>"'\]\)]+[^\s<>"'\]\).,;:!?]|(?<![\w.@-])(?:[A-Za-z0-9][A-Za-z0-9-]*\.)+(?:${HOST_TLD})(?![\w.-]*\w))`,
    String.raw`(?<email>\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+)`,
    // Quoted strings: "…", “…”, `…`, and '…' only when the quotes sit at word boundaries (not "don't").
    String.raw`(?<quoted>"[^"\n]{1,80}"|“[^”\n]{1,80}”|‘[^’\n]{1,80}’|\x60[^\x60\n]{1,80}\x60|(?<![\w'])'[^'\n]{1,80}'(?![\w']))`,
    // Jira issue keys: upper-case project key, dash, number (case-sensitive on purpose).
    String.raw`(?<key>\b[A-Z][A-Z0-9_]+-\d+\b)`,
    String.raw`(?<user>(?<![\w.])@[A-Za-z0-9][\w.-]*[A-Za-z0-9_])`,
    // Paths: absolute, home- or dot-relative, Windows, two or more slashes, or a file name with a known extension.
    String.raw`(?<path>(?:(?<![\w.])(?:~|\.{1,2})?/[\w.-]+(?:/[\w.-]*)*|\b[A-Za-z]:\\[^\s]+|\b[\w.-]+(?:/[\w.-]+){2,}/?|\b[\w-]+(?:\.[\w-]+)*\.(?:${FILE_EXT})\b))`,
    // org/repo: one slash, and a side with a dash, dot, underscore or digit (so "CI/CD" and "and/or" stay words).
    String.raw`(?<repo>\b(?:[A-Za-z0-9]+[-_.][\w.-]*[A-Za-z0-9]|[A-Za-z0-9]*\d[A-Za-z0-9]*)/[A-Za-z0-9][\w.-]*\b|\b[A-Za-z][A-Za-z0-9]*/(?:[A-Za-z0-9]+[-_.][\w.-]*[A-Za-z0-9]|[A-Za-z]+\d[A-Za-z0-9]*)\b)`,
    // Versions: 1.2, 1.2.3-rc1, v2, v1.4.
    String.raw`(?<version>(?<![\w.])v?\d+(?:\.\d+)+(?:[-+][0-9A-Za-z.]+|[a-z]\d*)?\b|\bv\d+\b)`,
    // Hex ids / hashes: 7+ hex digits with at least one digit and one letter, or 0x….
    String.raw`(?<hex>\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}\b)`,
    // Numbers, with an optional # or unit/ordinal suffix (#12, 642px, 2nd, 50%).
    String.raw`(?<num>#?\b\d+(?:[.,]\d+)?(?:%|[a-z]{1,3}\b)?)`,
    // Words: letters and digits, inner hyphens/apostrophes kept together.
    String.raw`(?<word>[\p{L}][\p{L}\p{N}]*(?:['’-][\p{L}\p{N}]+)*)`,
  ].join('|'),
  'gu',
);

/**
 * English stop words plus the filler of requests ("please", "need", "could you"): words that say nothing
 * about what is being asked. Compared before stemming, lower-cased.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a about above after again against all also am an and any are as at be because been before being below ' +
    'between both but by can cannot could did do does doing done down during each else etc even ever few for ' +
    'from further get gets getting got had has have having he her here hers him his how however i if in into ' +
    'is it its itself just let lets like me might more most much must my no nor not now of off on once only ' +
    'or other our ours out over own per same she should so some such than that the their theirs them then ' +
    'there these they this those through thus to too under until up upon us very via was we were what when ' +
    'where whether which while who whom whose why will with within without would yet you your yours ' +
    'several multiple many various few couple ' +
    'please pls plz kindly need needs needed want wants wanted request requests requesting requested ' +
    'hi hello hey thanks thank cheers asap urgent help dont doesnt didnt isnt cant wont shouldnt ' +
    'hasnt havent arent wasnt werent im ive youre theyre thats'
  ).split(' '),
);

/**
 * Stems folded together after stemming: abbreviations and near-synonyms that platform tickets use
 * interchangeably. Kept short on purpose: every entry is a grouping decision.
 */
export const STEM_SYNONYMS: ReadonlyMap<string, string> = new Map([
  ['repo', 'repositori'],
  ['upgrad', 'updat'],
  ['doc', 'document'],
  ['perm', 'permiss'],
  ['pwd', 'password'],
  ['passwd', 'password'],
  ['cred', 'credenti'],
  ['acct', 'account'],
  ['db', 'databas'],
  ['env', 'environ'],
  ['config', 'configur'],
  ['cert', 'certif'],
  ['creation', 'creat'],
]);

const stemCache = new Map<string, string | null>();

/**
 * Normalises one word (already split from the text): lower-case, possessive dropped, stop word → null,
 * else the Porter stem folded through {@link STEM_SYNONYMS}. Cached: the vocabulary is small.
 */
export function normaliseWord(word: string): string | null {
  const cached = stemCache.get(word);
  if (cached !== undefined) return cached;
  let w = word.toLowerCase().replace(/['’]s$/, '').replace(/['’]/g, '');
  let result: string | null;
  if (w.length === 0 || STOP_WORDS.has(w)) result = null;
  else {
    w = stemmer(w);
    result = STEM_SYNONYMS.get(w) ?? w;
  }
  // Bounded: common words repeat, rare ones (names) would only grow the cache (memory at 100k tickets).
  if (stemCache.size < 50_000) stemCache.set(word, result);
  return result;
}

/** Splits a word segment into its stems: hyphen parts, and letter/digit runs (`CentOS7` → `cento`, `<num>`). */
function wordTokens(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/[-]/)) {
    for (const run of part.match(/\p{L}[\p{L}'’]*|\p{N}+/gu) ?? []) {
      if (/^\p{N}+$/u.test(run)) out.push('<num>');
      else {
        const stem = normaliseWord(run);
        if (stem !== null) out.push(stem);
      }
    }
  }
  return out;
}

/**
 * Tokenises and normalises a summary (or any short text).
 *
 * @example
 * normaliseText('Reset sweet-chem feedstock token for https://x.io (v2)').tokens
 * // → ['reset', 'sweet', 'chem', 'feedstock', 'token', '<url>', '<version>']
 */
export function normaliseText(text: string | null | undefined): NormalisedText {
  const input = text ?? '';
  const segments: TextSegment[] = [];
  const tokens: string[] = [];
  const replaced: Partial<Record<Placeholder, string[]>> = {};
  let last = 0;
  for (const match of input.matchAll(PATTERN)) {
    const start = match.index ?? 0;
    if (start > last) segments.push({ kind: 'gap', text: input.slice(last, start), tokens: [] });
    last = start + match[0].length;
    const groups = match.groups ?? {};
    if (groups.word !== undefined) {
      const wt = wordTokens(match[0]);
      segments.push({ kind: 'word', text: match[0], tokens: wt });
      tokens.push(...wt);
      continue;
    }
    const name = PLACEHOLDERS.find((p) => groups[p.slice(1, -1)] !== undefined) ?? '<num>';
    // A bare file name (no slash) also contributes its base name: "README.txt" still says "readme".
    const base = name === '<path>' && !/[\\/]/.test(match[0]) ? /^[A-Za-z]+(?=\.)/.exec(match[0]) : null;
    const stem = base ? normaliseWord(base[0]) : null;
    const segTokens: string[] = stem ? [name, stem] : [name];
    segments.push({ kind: 'placeholder', text: match[0], placeholder: name, tokens: segTokens });
    tokens.push(...segTokens);
    (replaced[name] ??= []).push(match[0]);
  }
  if (last < input.length) segments.push({ kind: 'gap', text: input.slice(last), tokens: [] });
  return { tokens, segments, replaced };
}

/** True when a normalised token is one of the {@link PLACEHOLDERS}. */
export function isPlaceholder(token: string): token is Placeholder {
  return token.length > 2 && token.charCodeAt(0) === 60 /* < */ && (PLACEHOLDERS as readonly string[]).includes(token);
}

/**
 * Renders a wording as a template: words with a token in `keep` stay as written (casing and punctuation
 * kept), stop words stay, other words become `<*>`, placeholders are shown typed (`<version>`) unless
 * one of their tokens is kept. Runs of `<*>` collapse into one.
 *
 * @example renderTemplate(normaliseText('Reset sweet-chem feedstock token'), new Set(['reset', 'feedstock', 'token']))
 * // → 'Reset <*> feedstock token'
 */
export function renderTemplate(norm: NormalisedText, keep: ReadonlySet<string>): string {
  const parts: string[] = [];
  for (const seg of norm.segments) {
    // A placeholder shows its text only when a word it carries is kept ("README.txt" → readm).
    const kept = seg.tokens.some((t) => keep.has(t) && !isPlaceholder(t));
    if (seg.kind === 'gap') parts.push(seg.text);
    else if (seg.kind === 'placeholder') parts.push(kept ? seg.text : seg.placeholder!);
    else parts.push(kept || seg.tokens.length === 0 ? seg.text : '<*>');
  }
  return parts
    .join('')
    .replace(/[\u200b-\u200d\u2060\ufeff]/g, '')
    .replace(/<\*>(?:[\s\-_/]+<\*>)+/g, '<*>')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The original text of the segments that {@link renderTemplate} would not spell out with the same `keep`. */
export function varyingParts(norm: NormalisedText, keep: ReadonlySet<string>): string[] {
  return norm.segments
    .filter((s) => s.kind !== 'gap' && s.tokens.length > 0 && !s.tokens.some((t) => keep.has(t) && !isPlaceholder(t)))
    .map((s) => s.text);
}
