/**
 * Comment bodies for Jira Data Center: Jira wiki markup (REST v2 takes a comment `body` as a wiki-markup string;
 * https://jira.atlassian.com/secure/WikiRendererHelpAction.jspa?section=all lists the syntax).
 *
 * A comment is built exactly as for Cloud (`md` / plain string → {@link commentToAdf}), then the ADF document is
 * written as wiki markup by {@link adfToWiki}. Structure (paragraphs, headings, lists, code, links the code built
 * with `md.link`) comes from the ADF nodes; every **text node** — which is where ticket text and request values end
 * up — is escaped so it shows as typed and can never become markup:
 *
 * - every wiki-significant character (`* _ - + ^ ~ ? { } [ ] | ! # & \ : ( )`, and `.` after `h1`-`h6`/`bq`) is
 *   written as a numeric character reference (`&#91;` for `[`). The wiki renderer treats an entity as plain text and
 *   passes it to the HTML unchanged (the browser shows `[`), so no tokenizer sees the character: `[~admin]` is not
 *   a mention, `[click|http://evil]` not a link, `!http://x/img.png!` not an image, `{color:red}` not a macro,
 *   `h1.`/`#`/`*`/`-` at a line start not a heading or list, `:)`/`(x)` not an emoticon, `http://…` not an
 *   autolink (its `:` is an entity). Entities rather than backslashes because `\\` is itself markup (a line break)
 *   and the backslash escape is not honoured for every character;
 * - inside a code block (`{noformat}`: no markup is interpreted, entities would show raw) text is kept verbatim
 *   except that an opening `{noformat` / `{code` has a zero-width space inserted after `{`, so a value cannot end
 *   the block early;
 * - line breaks inside a value come from ADF `hardBreak` nodes and are written as a newline; the next line is
 *   escaped too, so it cannot start a heading or list.
 * Link hrefs (from `md.link`, http/https only) have `[`, `]`, `|`, spaces and quotes percent-encoded.
 */
import { findMediaUrl, mergeTextRuns } from './adf-nodes.js';
import { commentToAdf, type Markdown } from './comment-markdown.js';
import type { AdfDocument, AdfNode } from './jira-actions.js';

const ZERO_WIDTH_SPACE = '\u200B';

/** Characters with a meaning somewhere in Jira wiki markup (text effects, links, macros, lists, tables, emoticons). */
const SPECIAL = /[*_\-+^~?{}[\]|!#&\\:()]/g;

/** `text` as wiki markup that renders as exactly `text` (see the module doc). Never throws. */
export function escapeWikiText(text: string): string {
  return text
    .replace(SPECIAL, (char) => `&#${char.charCodeAt(0)};`)
    .replace(/\b(h[1-6]|bq)\./gi, (_, prefix: string) => `${prefix}&#46;`);
}

/** Code-block content: verbatim, but no `{noformat}`/`{code}` tag can close or open a block. */
function escapeCodeBlock(text: string): string {
  return text.replace(/\{(?=\s*(noformat|code)\b)/gi, `{${ZERO_WIDTH_SPACE}`);
}

/** A link target the code built, safe inside `[text|href]`. */
function escapeHref(href: string): string {
  return href.replace(/[[\]|\s"'{}!]/g, (char) => encodeURIComponent(char).replace(/'/g, '%27').replace(/!/g, '%21'));
}

/**
 * The wiki-markup body of a Data Center comment: `Markdown` (from `md`) or a plain string, through the same ADF
 * conversion as Cloud, written by {@link adfToWiki}. Never throws.
 * @example commentToWiki(md`Reset for ${'[~admin]'}`) // → 'Reset for &#91;~admin&#93;'
 */
export function commentToWiki(body: Markdown | string): string {
  return adfToWiki(commentToAdf(body));
}

/** Writes an ADF document (as deflect produces it) as Jira wiki markup; unknown nodes keep their text. Never throws. */
export function adfToWiki(doc: AdfDocument): string {
  return blocks(doc.content ?? [], '').trimEnd();
}

/** Block nodes, separated by blank lines; `listPrefix` is the enclosing list's bullets (`*`, `#*`, …). */
function blocks(nodes: AdfNode[], listPrefix: string): string {
  return nodes
    .map((node) => block(node, listPrefix))
    .filter((text) => text.length > 0)
    .join(listPrefix ? '\n' : '\n\n');
}

function block(node: AdfNode, listPrefix: string): string {
  const children = node.content ?? [];
  switch (node.type) {
    case 'paragraph':
      return inline(children);
    case 'heading': {
      const level = Math.min(6, Math.max(1, Number(node.attrs?.level) || 1));
      return `h${level}. ${inline(children)}`;
    }
    case 'bulletList':
    case 'orderedList':
    case 'taskList':
      return list(children, `${listPrefix}${node.type === 'orderedList' ? '#' : '*'}`);
    case 'codeBlock':
      return `{noformat}\n${escapeCodeBlock(children.map((c) => c.text ?? '').join(''))}\n{noformat}`;
    case 'blockquote':
      return `{quote}\n${blocks(children, '')}\n{quote}`;
    case 'rule':
      return '----';
    case 'table':
      return children.map((row) => tableRow(row)).join('\n');
    case 'mediaSingle':
    case 'mediaGroup':
    case 'media': {
      // Images the code chose: shown as a link to their URL, never loaded inline.
      const url = findMediaUrl(node);
      return typeof url === 'string' && /^https?:\/\//i.test(url) ? `[${escapeWikiText(url)}|${escapeHref(url)}]` : '';
    }
    default:
      return children.length > 0 ? (children.every(isInline) ? inline(children) : blocks(children, listPrefix)) : escapeWikiText(node.text ?? '');
  }
}

function list(items: AdfNode[], prefix: string): string {
  const lines: string[] = [];
  for (const item of items) {
    const [first, ...rest] = item.content ?? [];
    const done = item.type === 'taskItem' ? (item.attrs?.state === 'DONE' ? '(/) ' : '(x) ') : '';
    if (item.type === 'taskItem') {
      lines.push(`${prefix} ${done}${inline(item.content ?? [])}`);
      continue;
    }
    const head = first && !isList(first) ? block(first, prefix) : '';
    lines.push(`${prefix} ${head}`);
    const tail = first && isList(first) ? [first, ...rest] : rest;
    for (const child of tail) {
      const text = block(child, prefix);
      if (text) lines.push(text);
    }
  }
  return lines.join('\n');
}

const isList = (node: AdfNode) => node.type === 'bulletList' || node.type === 'orderedList' || node.type === 'taskList';
const isInline = (node: AdfNode) => node.type === 'text' || node.type === 'hardBreak';

function tableRow(row: AdfNode): string {
  const cells = row.content ?? [];
  const header = cells.length > 0 && cells.every((cell) => cell.type === 'tableHeader');
  const sep = header ? '||' : '|';
  // A cell is one line: its paragraphs are joined by a space.
  const text = (cell: AdfNode) => (cell.content ?? []).map((child) => block(child, '')).join(' ').replace(/\n+/g, ' ');
  return `${sep}${cells.map((cell) => ` ${text(cell)} `).join(sep)}${sep}`;
}

/** Inline nodes: text with marks, hard breaks. Adjacent text nodes with the same marks are written as one span. */
function inline(nodes: AdfNode[]): string {
  let out = '';
  for (const node of mergeTextRuns(nodes)) {
    if (node.type === 'hardBreak') {
      out += '\n';
      continue;
    }
    if (node.type !== 'text') {
      out += node.content ? inline(node.content) : escapeWikiText(node.text ?? '');
      continue;
    }
    out += marked(node);
  }
  return out;
}

/** One text node with its marks: `*bold*`, `_italic_`, `-strike-`, `{{code}}`, `[text|href]`. */
function marked(node: AdfNode): string {
  const text = node.text ?? '';
  if (text.length === 0) return '';
  let out = escapeWikiText(text);
  let href: string | null = null;
  for (const mark of node.marks ?? []) {
    if (mark.type === 'code') out = `{{${out}}}`;
    else if (mark.type === 'strong') out = `*${out}*`;
    else if (mark.type === 'em') out = `_${out}_`;
    else if (mark.type === 'strike') out = `-${out}-`;
    else if (mark.type === 'link' && typeof mark.attrs?.href === 'string' && /^https?:\/\//i.test(mark.attrs.href)) href = mark.attrs.href;
  }
  return href ? `[${out}|${escapeHref(href)}]` : out;
}

