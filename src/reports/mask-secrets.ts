/**
 * Masking of secrets in what the audit trace shows (action requests and responses, handler options, the ticket
 * snapshot). Two rules, applied to any JSON value, to any depth:
 * - a value under a key that names a credential (`token`, `secret`, `password`, `authorization`, `api_key`,
 *   `cookie`, `signature`, `private_key`, `credential`, `session`, …) is replaced whole by {@link MASK};
 * - inside any string, every word that looks like a credential (known token prefixes such as `ghp_`, `xoxb-`,
 *   `AKIA…`, JWTs, `Bearer <x>`, long runs mixing letters and digits: `looksLikeSecret` in automation/ticket-input.ts)
 *   is replaced by {@link MASK}, so a token pasted into a ticket description or a comment never reaches the page.
 * Over-masking is accepted (a long commit SHA is masked too): the trace is for reading, the raw row stays in SQLite.
 */
import { looksLikeSecret } from '../automation/ticket-input.js';

/** What a masked value reads as. */
export const MASK = '«masked»';

/** Keys whose value is a credential whatever it looks like (matched case-insensitively, `-`/`_` ignored). */
const SECRET_KEY = /(token|secret|passw(or)?d|authorization|apikey|cookie|signature|privatekey|credential|session|bearer)/i;

/** Keys that name or count a credential rather than hold one (`tokenName`, `secretId`): their values are only scanned as text. */
const NAMING_KEY = /(name|id|ids|kind|type|count|at|scope|scopes)$/i;

/** Deepest level walked; below it a value is masked whole (a trace is never that deep; a hostile value might be). */
const MAX_DEPTH = 32;

/** `text` with every credential-shaped word (and the word after `Bearer`/`token`/`Basic`) replaced by {@link MASK}. */
export function maskText(text: string): string {
  return text
    .replace(/\b(Bearer|Basic|token)(\s+)([^\s"'`]+)/gi, (_all, scheme: string, space: string) => `${scheme}${space}${MASK}`)
    .replace(/[^\s`'"{}|*<>()[\],;]+/g, (word) => {
      // Sentence punctuation after a token is kept: `… is ghp_x.` → `… is «masked».`
      const bare = word.replace(/[.:!?]+$/, '');
      return bare !== MASK && looksLikeSecret(bare) ? MASK + word.slice(bare.length) : word;
    });
}

/** A deep copy of the JSON value `value` with secrets masked (see the module doc). Never throws. */
export function maskSecrets<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return maskText(value) as T;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return MASK as T;
  if (Array.isArray(value)) return value.map((item) => maskSecrets(item, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    out[key] = SECRET_KEY.test(key.replace(/[-_\s]/g, '')) && !NAMING_KEY.test(key) && item !== null && item !== '' && typeof item !== 'boolean' ? MASK : maskSecrets(item, depth + 1);
  }
  return out as T;
}

/** Parses stored JSON text and masks it; text that is not JSON is masked as text; null stays null. */
export function maskStoredJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return maskSecrets(JSON.parse(text) as unknown);
  } catch {
    return maskText(text);
  }
}
