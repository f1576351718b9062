/**
 * JSON parsing for untrusted webhook bodies. `JSON.parse` itself is safe from prototype pollution (a `"__proto__"`
 * key becomes an own property), but code that later copies or merges the object may not be, so bodies carrying such
 * keys are refused outright, as Fastify's own JSON parser does by default (`onProtoPoisoning: 'error'`,
 * `onConstructorPoisoning: 'error'`; https://fastify.dev/docs/latest/Reference/Server/#onprotopoisoning). Keys are
 * checked after unescaping, so `"\u005f_proto__"` is caught too.
 *
 * The check walks the parsed value with an explicit stack, not a `JSON.parse` reviver: V8 applies revivers
 * recursively, so a valid body nested a few thousand levels deep would overflow the stack (found by the fuzz test).
 */

/** A body whose JSON carries a `__proto__` key, or a `constructor` key holding an object with a `prototype` key. */
export class PoisonedJsonError extends Error {
  constructor(key: string) {
    super(`the body contains a forbidden "${key}" key (prototype poisoning)`);
    this.name = 'PoisonedJsonError';
  }
}

/** Cheap pre-check: only texts that could spell a forbidden key (directly or with \u escapes) are walked. */
const MAY_BE_POISONED = /__proto__|constructor|\\u/;

/**
 * `JSON.parse` that refuses prototype-poisoning keys.
 * @throws SyntaxError for malformed JSON; {@link PoisonedJsonError} for a forbidden key.
 */
export function parseUntrustedJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  if (MAY_BE_POISONED.test(text)) {
    const forbidden = findForbiddenKey(value);
    if (forbidden) throw new PoisonedJsonError(forbidden);
  }
  return value;
}

/** The first forbidden key anywhere in `value`, or null. Iterative, so depth costs heap, not stack. */
export function findForbiddenKey(value: unknown): string | null {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (current === null || typeof current !== 'object') continue;
    if (Array.isArray(current)) {
      for (const item of current) if (item !== null && typeof item === 'object') stack.push(item);
      continue;
    }
    for (const key of Object.keys(current)) {
      const child = (current as Record<string, unknown>)[key];
      if (key === '__proto__') return key;
      if (key === 'constructor' && child !== null && typeof child === 'object' && Object.prototype.hasOwnProperty.call(child, 'prototype')) {
        return key;
      }
      if (child !== null && typeof child === 'object') stack.push(child);
    }
  }
  return null;
}

/** Deepest JSON nesting accepted in a webhook body. Real Jira payloads nest about 10 levels (ADF a few more). */
export const MAX_JSON_DEPTH = 64;

/**
 * Cheap byte scan, before any decoding or `JSON.parse`: does `bytes` open more than `maxDepth` nested arrays/objects
 * at once? Brackets inside JSON strings do not count (quotes and backslash escapes are followed). Safe on raw UTF-8:
 * bytes of multi-byte characters are all ≥ 0x80, so they never look like `"`, `\`, `[`, `{`, `]` or `}`.
 * A deeply nested body parses into a tree of small objects and arrays many times its size (8 concurrent 3.8 MB
 * bodies took the server to 1.69 GB), so it is refused before it is parsed. Linear time, constant memory.
 * @returns the byte offset where the depth first exceeds `maxDepth`, or -1.
 */
export function findTooDeep(bytes: Uint8Array, maxDepth = MAX_JSON_DEPTH): number {
  const scan = new DepthScan(maxDepth);
  scan.push(bytes);
  return scan.tooDeepAt;
}

/** {@link findTooDeep} fed chunk by chunk as a body streams in (state carries across chunk boundaries). */
export class DepthScan {
  /** Byte offset (in the whole stream) where the depth first exceeded the limit, or -1. */
  tooDeepAt = -1;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private offset = 0;

  constructor(private readonly maxDepth = MAX_JSON_DEPTH) {}

  push(bytes: Uint8Array): void {
    if (this.tooDeepAt >= 0) return;
    let { depth, inString, escaped } = this;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (escaped) escaped = false;
      else if (inString) {
        if (b === 0x5c) escaped = true; // backslash: the next byte is escaped
        else if (b === 0x22) inString = false;
      } else if (b === 0x22) inString = true;
      else if (b === 0x5b || b === 0x7b) {
        if (++depth > this.maxDepth) {
          this.tooDeepAt = this.offset + i;
          return;
        }
      } else if (b === 0x5d || b === 0x7d) depth--;
    }
    Object.assign(this, { depth, inString, escaped });
    this.offset += bytes.length;
  }
}
