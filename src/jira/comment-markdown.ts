/**
 * Comment text whose markup is written by code and whose interpolated values are always data.
 *
 * Handlers and the core write comments as Markdown (bold, code, lists, task lists), and those comments quote text
 * from tickets and requests: reporter display names, summaries, form values. Escaping Markdown by hand is fragile
 * (the rules differ inside code spans, link text, table cells, at line start; marked also autolinks bare URLs and
 * e-mail addresses and drops inline HTML), so deflect never lets ticket text reach the Markdown parser at all:
 *
 * 1. `` md`Add ${who} to \`${repository}\`` `` keeps the template's literal parts as Markdown source and replaces
 *    each interpolated value by a placeholder (`U+E000 <index> U+E001`, private-use characters that Markdown treats
 *    as plain letters).
 * 2. The source is converted to ADF ({@link markdownToAdf}, marklassian); the placeholders come out inside text
 *    nodes (with whatever marks the template gave them: bold, code, a code block).
 * 3. Each placeholder is replaced by its value as an ADF **text node**. An ADF text node is never a link, mention,
 *    card or image: those are separate nodes or a `link` mark
 *    (https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/), which a value can never create.
 *
 * So a value like `[click](https://evil.example)`, `<https://x>`, `![img](…)`, `# heading`, `` ` ``, `<a href>`,
 * `@someone` or `{{smart.value}}` shows exactly as typed, in the place the template put it. Additionally, per value:
 * line breaks become `hardBreak` nodes (kept as-is inside code blocks); bidirectional-override and other control
 * characters are shown as `[U+202E]` so they cannot reorder the comment around them (CVE-2021-42574 "Trojan Source");
 * values longer than {@link MAX_VALUE_CHARS} are cut with a visible `… [N more characters]` marker (Jira rejects
 * comment bodies over 32,767 characters).
 *
 * Links are an explicit opt-in for URLs the code built: {@link md.link} (http/https only). A link mark whose URL
 * contains an interpolated value (`[x](https://github.com/${repo})`, or a bare `https://github.com/${repo}` that
 * marked autolinks) is dropped, leaving the text; an image whose URL contains one becomes its URL as text.
 *
 * A plain `string` given to `ctx.tracker.comment` is treated as **plain text** (no Markdown at all): the safe default
 * for code that builds comments with ordinary template literals. Use `md` for formatting.
 */
import { findMediaUrl } from './adf-nodes.js';
import type { AdfDocument, AdfNode } from './jira-actions.js';
import { markdownToAdf } from './markdown-to-adf.js';

/** Longest value shown in a comment, characters; the rest is cut with a visible marker. */
export const MAX_VALUE_CHARS = 2000;

const OPEN = '\uE000';
const CLOSE = '\uE001';
const PLACEHOLDER = /\uE000(\d+)\uE001/g;
const placeholder = (index: number) => `${OPEN}${index}${CLOSE}`;

/** One interpolated value: literal text, or a link the code asked for with {@link md.link}. */
type Piece = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

/**
 * Comment text built with {@link md}: Markdown source written by code, plus the values interpolated into it.
 * Pass it to `ctx.tracker.comment`. `String(markdown)` gives the source with the values inserted verbatim (for logs,
 * the audit trail and tests); it is not safe to convert that string as Markdown again.
 */
export class Markdown {
  /** @internal Markdown source with placeholders; use {@link md} to build one. */
  readonly source: string;
  /** @internal The values, by placeholder index. */
  readonly pieces: readonly Piece[];

  /** @internal */
  constructor(source: string, pieces: readonly Piece[]) {
    this.source = source;
    this.pieces = pieces;
  }

  toString(): string {
    return this.source.replace(PLACEHOLDER, (_, index: string) => this.pieces[Number(index)]?.text ?? '');
  }

  /**
   * `String(markdown)` and `` `${markdown}` `` give the text; `markdown + '…'` throws: concatenation would turn the
   * values into Markdown source. Compose with `` md`${a}${b}` `` or {@link md.join} instead.
   * @throws TypeError for the `default` and `number` hints (`+`, `==`, arithmetic).
   */
  [Symbol.toPrimitive](hint: string): string {
    if (hint === 'string') return this.toString();
    throw new TypeError('Markdown cannot be concatenated with +: use md`${a}${b}` or md.join([...]) so values stay literal text');
  }
}

/** Private-use placeholder characters cannot appear in source written by code (they would be mistaken for values). */
function cleanSource(text: string): string {
  return text.replace(/[\uE000\uE001]/g, '\uFFFD');
}

function appendValue(parts: { source: string; pieces: Piece[] }, value: unknown): void {
  if (value instanceof Markdown) {
    const offset = parts.pieces.length;
    parts.source += value.source.replace(PLACEHOLDER, (_, index: string) => placeholder(offset + Number(index)));
    parts.pieces.push(...value.pieces);
    return;
  }
  parts.source += placeholder(parts.pieces.length);
  parts.pieces.push({ kind: 'text', text: String(value) });
}

/**
 * Tagged template for comment text: the template is Markdown, every `${value}` is literal text (a nested
 * {@link Markdown} is inserted as Markdown, so comments compose from parts).
 * @example await ctx.tracker.comment(md`Hi ${ticket.reporter}, added \`${user}\` to **${repository}**.`)
 */
export function md(strings: TemplateStringsArray, ...values: unknown[]): Markdown {
  const parts = { source: '', pieces: [] as Piece[] };
  strings.forEach((text, i) => {
    // A template with an invalid escape (`\d`) has no cooked text: use the raw text.
    parts.source += cleanSource(text ?? strings.raw[i]);
    if (i < values.length) appendValue(parts, values[i]);
  });
  return new Markdown(parts.source, parts.pieces);
}

/**
 * Joins parts (Markdown as Markdown, anything else as literal text) with `separator` (Markdown source written by
 * code; default one newline).
 * @example md.join([md`**Runbook**`, '', ...steps.map((s) => md`- [ ] ${s}`)])
 */
md.join = function join(parts: readonly unknown[], separator: string = '\n'): Markdown {
  const out = { source: '', pieces: [] as Piece[] };
  parts.forEach((part, i) => {
    if (i > 0) out.source += cleanSource(separator);
    appendValue(out, part);
  });
  return new Markdown(out.source, out.pieces);
};

/**
 * Markdown written by the platform team, not taken from a ticket: a runbook file named in the rules file
 * (`answer-with-runbook`). Its markup is kept (headings, lists, code, links); never pass ticket text here — values
 * interpolated around it with {@link md} stay literal text.
 * @example md`Hi ${ticket.reporter}, here is the runbook:\n\n${md.trusted(runbookText)}`
 */
md.trusted = function trusted(source: string): Markdown {
  return new Markdown(cleanSource(String(source)), []);
};

/**
 * A link the code vouches for: `href` must be an absolute `http:` or `https:` URL, else the text is shown without
 * a link. `text` (default: the URL) is literal text.
 * @example md`Accept the invitation at ${md.link(invitationUrl)}`
 */
md.link = function link(href: string, text: string = href): Markdown {
  let ok = false;
  try {
    ok = ['http:', 'https:'].includes(new URL(href).protocol);
  } catch {
    ok = false;
  }
  return new Markdown(placeholder(0), [ok ? { kind: 'link', text, href } : { kind: 'text', text }]);
};

/**
 * Text written by code with only `` `code` `` spans as markup: everything else is literal, the spans get a code
 * mark. For texts defined next to the schema that are quoted to reporters (zod messages, `.describe()` help).
 * @example md.codeSpans('must look like `org/name`, for example `acme/api`')
 */
md.codeSpans = function codeSpans(text: string): Markdown {
  const out = { source: '', pieces: [] as Piece[] };
  let last = 0;
  for (const match of text.matchAll(/`([^`\n]+)`/g)) {
    if (match.index > last) appendValue(out, text.slice(last, match.index));
    out.source += '`';
    appendValue(out, match[1]);
    out.source += '`';
    last = match.index + match[0].length;
  }
  if (last < text.length) appendValue(out, text.slice(last));
  return new Markdown(out.source, out.pieces);
};

/**
 * The ADF body of a comment. `Markdown` (from {@link md}) is converted with its values as text nodes; a plain
 * string is plain text: one paragraph per blank-line-separated block, line breaks as `hardBreak`.
 * Never throws.
 */
export function commentToAdf(body: Markdown | string): AdfDocument {
  const markdown = body instanceof Markdown ? body : plainText(String(body));
  const doc = markdownToAdf(markdown.source);
  const content = fillNodes(doc.content, markdown.pieces, false);
  return { type: 'doc', version: 1, content: content.length > 0 ? content : [{ type: 'paragraph', content: [] }] };
}

function plainText(text: string): Markdown {
  const blocks = text.split(/\r?\n[ \t]*\r?\n/).map((block) => block.trim()).filter(Boolean);
  return md.join(blocks, '\n\n');
}

const hasPlaceholder = (value: unknown) => JSON.stringify(value ?? null).includes(OPEN);

/** Replaces placeholders in `nodes` (recursively) by their values; see the module doc for the rules. */
function fillNodes(nodes: AdfNode[], pieces: readonly Piece[], inCodeBlock: boolean): AdfNode[] {
  const out: AdfNode[] = [];
  for (const node of nodes) {
    if (node.type === 'text') {
      out.push(...fillText(node, pieces, inCodeBlock));
      continue;
    }
    if ((node.type === 'mediaSingle' || node.type === 'mediaGroup' || node.type === 'media') && hasPlaceholder(node)) {
      // An image whose URL came from a value: show the URL as text instead of loading it.
      const url = String(findMediaUrl(node) ?? '');
      out.push({ type: 'paragraph', content: fillText({ type: 'text', text: url }, pieces, false) });
      continue;
    }
    const copy: AdfNode = { ...node };
    if (copy.attrs && hasPlaceholder(copy.attrs)) {
      copy.attrs = node.type === 'codeBlock' ? { ...copy.attrs, language: 'text' } : substituteStrings(copy.attrs, pieces);
    }
    if (node.content) copy.content = fillNodes(node.content, pieces, inCodeBlock || node.type === 'codeBlock');
    out.push(copy);
  }
  return out;
}

/** Attribute strings (alt texts, titles) with their placeholders replaced by the values' text. */
function substituteStrings(attrs: Record<string, unknown>, pieces: readonly Piece[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(attrs)) {
    result[key] = typeof value === 'string' ? value.replace(PLACEHOLDER, (_, i: string) => shown(pieces[Number(i)]?.text ?? '')) : value;
  }
  return result;
}

function fillText(node: AdfNode, pieces: readonly Piece[], inCodeBlock: boolean): AdfNode[] {
  const text = node.text ?? '';
  // A link mark built around a value (`[x](https://host/${value})`, an autolinked `https://host/${value}`) would
  // let ticket text choose where the link goes: drop it. Links the code vouches for use md.link.
  const marks = (node.marks ?? []).filter((mark) => !(mark.type === 'link' && hasPlaceholder(mark.attrs)));
  const withMarks = (extra: AdfNode['marks'] = []): Pick<AdfNode, 'marks'> => {
    const all = [...marks.filter((mark) => !(extra.length > 0 && mark.type === 'link')), ...extra];
    return all.length > 0 ? { marks: all } : {};
  };
  const out: AdfNode[] = [];
  const pushText = (value: string, extra?: AdfNode['marks']) => {
    if (value.length > 0) out.push({ type: 'text', text: value, ...withMarks(extra) });
  };
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    pushText(text.slice(last, match.index));
    last = match.index + match[0].length;
    const piece = pieces[Number(match[1])];
    if (!piece) continue;
    const value = shown(piece.text);
    // Text in a code block takes no marks (ADF), so a link there stays its URL as text.
    const extra = piece.kind === 'link' && !inCodeBlock ? [{ type: 'link', attrs: { href: piece.href } }] : undefined;
    if (inCodeBlock) {
      pushText(value, extra);
      continue;
    }
    value.split('\n').forEach((line, i) => {
      if (i > 0) out.push({ type: 'hardBreak' });
      pushText(line, extra);
    });
  }
  pushText(text.slice(last));
  return out;
}

/** Bidi overrides/isolates/marks, C0 and C1 controls except tab and newline, and the placeholder characters. */
const HIDDEN = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\uE000\uE001]/g;

/** A value as it is shown: line breaks normalised to `\n`, hidden characters made visible, length capped. */
function shown(text: string): string {
  let value = text.replace(/\r\n?/g, '\n');
  if (value.length > MAX_VALUE_CHARS) {
    // Do not cut between the two halves of a surrogate pair (an emoji, a CJK extension character).
    const cut = /[\uD800-\uDBFF]/.test(value[MAX_VALUE_CHARS - 1]) ? MAX_VALUE_CHARS - 1 : MAX_VALUE_CHARS;
    value = `${value.slice(0, cut)}… [${(value.length - cut).toLocaleString('en-US')} more characters]`;
  }
  return value.replace(HIDDEN, (char) => `[U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`);
}
