/**
 * Comment bodies for trackers whose comments are Markdown (GitHub Issues, Linear), with the same guarantee as Jira's
 * ADF comments (`jira/comment-markdown.ts`): the template's markup is written by code, every interpolated value is
 * literal text.
 *
 * The comment is first built as ADF by `commentToAdf` (values become text nodes, never links, mentions or images;
 * hidden characters shown as `[U+202E]`; long values cut), then the ADF is written back out as GitHub Flavored
 * Markdown, which Linear also renders. Text nodes are escaped on the way out:
 * - the characters that open inline markup get a backslash anywhere (`\ \` * _ [ ] < > ! | ~ &`: emphasis, code,
 *   links, images, HTML, tables, strikethrough, entities), and those that open a block only where a line starts
 *   (`#`, `>`, `+`, `-`, `=`, `1.`/`1)`: headings, quotes, lists, setext underlines); CommonMark 0.31 §2.4 "Backslash
 *   escapes" (any ASCII punctuation may be escaped);
 * - what GitHub and Linear turn into links or notifications outside Markdown syntax is broken with a WORD JOINER
 *   (U+2060, invisible): `@name` mentions (https://docs.github.com/en/get-started/writing-on-github/getting-started-with-writing-and-formatting-on-github/basic-writing-and-formatting-syntax#mentioning-people-and-teams),
 *   `#12` issue references (https://docs.github.com/en/get-started/writing-on-github/working-with-advanced-formatting/autolinked-references-and-urls),
 *   and bare `scheme://` / `www.` URLs (GFM spec §6.9 "Autolinks (extension)").
 * Code spans use a backtick fence longer than any backtick run inside; code blocks a fence longer than any inside.
 * Links exist only where the code asked for one (`md.link`, http/https).
 */
import { createHash } from 'node:crypto';
import { mergeTextRuns } from '../jira/adf-nodes.js';
import { commentToAdf, type Markdown } from '../jira/comment-markdown.js';
import type { AdfNode } from '../jira/jira-actions.js';

/** U+2060 WORD JOINER: invisible, and not part of a mention, reference or URL. */
const JOINER = '\u2060';

/**
 * The Markdown text of a comment: `Markdown` from `md` keeps its template's markup with each value as literal text;
 * a plain string is plain text (paragraphs and line breaks kept). Never throws.
 */
export function commentToMarkdown(body: Markdown | string): string {
  return blocks(commentToAdf(body).content, '').trim();
}

/**
 * The visible marker line of a comment posted under `idempotencyKey`, for trackers whose comments keep no hidden data
 * (Linear stores a rich-text document converted from the Markdown; Trello renders Markdown and shows HTML comments
 * as text): `*deflect ref <12 hex>*`, the hex being the first 48 bits of the SHA-256 of the key. It survives any
 * conversion, says who wrote the comment, and `findComment` finds it again at the comment's end.
 */
export function visibleCommentMarker(idempotencyKey: string): string {
  return `*deflect ref ${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 12)}*`;
}

/** A comment body for those trackers: the Markdown of `body`, a blank line, the {@link visibleCommentMarker} line. */
export function markdownWithMarker(body: Markdown | string, idempotencyKey: string): string {
  return `${commentToMarkdown(body)}\n\n${visibleCommentMarker(idempotencyKey)}`;
}

/**
 * Escapes `text` for a Markdown paragraph (see the module doc) and breaks mentions, issue references and bare URLs.
 * `atLineStart`: the text begins a line, so block markers at its start are escaped too.
 */
export function escapeMarkdownText(text: string, atLineStart = true): string {
  const unlinked = text
    .replace(/@(?=[A-Za-z0-9_-])/g, `@${JOINER}`)
    .replace(/#(?=\d)/g, `#${JOINER}`)
    .replace(/:\/\//g, `:${JOINER}//`)
    .replace(/\b(www)\./gi, `$1${JOINER}.`);
  const inline = unlinked.replace(/[\\`*_[\]<>!|~&]/g, (char) => `\\${char}`);
  if (!atLineStart) return inline;
  // Leading spaces do not stop a block marker (up to three make no code block inside a paragraph either).
  return inline.replace(/^(\s*)([#>+=-]|\d+(?=[.)]))/, (_, space: string, marker: string) =>
    /^\d/.test(marker) ? `${space}${marker}\\` : `${space}\\${marker}`,
  );
}

/** Block nodes, separated by blank lines; `indent` prefixes every line (list item continuation, quotes). */
function blocks(nodes: readonly AdfNode[] | undefined, indent: string): string {
  return (nodes ?? [])
    .map((node) => block(node, indent))
    .filter((text) => text.length > 0)
    .join(`\n${indent}\n${indent}`);
}

function block(node: AdfNode, indent: string): string {
  switch (node.type) {
    case 'paragraph':
      return inline(node.content, indent);
    case 'heading': {
      const level = Math.min(6, Math.max(1, Number(node.attrs?.level) || 1));
      return `${'#'.repeat(level)} ${inline(node.content, indent)}`;
    }
    case 'bulletList':
      return (node.content ?? []).map((item) => listItem(item, '- ', indent)).join(`\n${indent}`);
    case 'orderedList': {
      const start = Number(node.attrs?.order) || 1;
      return (node.content ?? []).map((item, i) => listItem(item, `${start + i}. `, indent)).join(`\n${indent}`);
    }
    case 'taskList':
      return (node.content ?? [])
        .map((item) => listItem(item, item.attrs?.state === 'DONE' ? '- [x] ' : '- [ ] ', indent))
        .join(`\n${indent}`);
    case 'codeBlock':
      return codeBlock(node, indent);
    case 'blockquote':
      return `> ${blocks(node.content, `${indent}> `)}`;
    case 'rule':
      return '---';
    default:
      // Anything else (tables, panels) is shown as its text, escaped.
      return node.content ? blocks(node.content, indent) : inline([node], indent);
  }
}

/** One list item: `marker` then its blocks, continuation lines indented under the marker. */
function listItem(item: AdfNode, marker: string, indent: string): string {
  const inner = indent + ' '.repeat(marker.length);
  // A task item holds inline content directly; a list item holds blocks.
  const body = item.type === 'taskItem' ? inline(item.content, inner) : blocks(item.content, inner);
  return `${marker}${body}`;
}

function codeBlock(node: AdfNode, indent: string): string {
  const text = (node.content ?? []).map((child) => child.text ?? (child.type === 'hardBreak' ? '\n' : '')).join('');
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  const language = typeof node.attrs?.language === 'string' && /^[A-Za-z0-9_+-]+$/.test(node.attrs.language) ? node.attrs.language : '';
  const lines = text.replace(/\n$/, '').split('\n').join(`\n${indent}`);
  return `${fence}${language}\n${indent}${lines}\n${indent}${fence}`;
}

/**
 * Inline nodes of one paragraph or heading; hard breaks become `\` + newline (CommonMark §6.7). Adjacent text nodes
 * with the same marks (template text and a value inside one code span) are written as one run.
 */
function inline(nodes: readonly AdfNode[] | undefined, indent: string): string {
  let out = '';
  let atLineStart = true;
  for (const node of mergeTextRuns(nodes ?? [])) {
    if (node.type === 'hardBreak') {
      out += `\\\n${indent}`;
      atLineStart = true;
      continue;
    }
    out += node.type === 'text' ? markedText(node, atLineStart) : inline(node.content, indent);
    atLineStart = false;
  }
  return out;
}

/** A text node with its marks: code spans are literal; other text is escaped; `link` only with an http(s) URL. */
function markedText(node: AdfNode, atLineStart: boolean): string {
  const text = node.text ?? '';
  const marks = node.marks ?? [];
  const has = (type: string) => marks.some((mark) => mark.type === type);
  // Text inside emphasis or a link is not at a line start (the marker precedes it).
  const plain = !has('strike') && !has('em') && !has('strong') && !marks.some((mark) => mark.type === 'link');
  let out = has('code') ? codeSpan(text) : escapeMarkdownText(text, atLineStart && plain);
  if (has('strike')) out = `~~${out}~~`;
  if (has('em')) out = `*${out}*`;
  if (has('strong')) out = `**${out}**`;
  const link = marks.find((mark) => mark.type === 'link');
  const href = typeof link?.attrs?.href === 'string' ? link.attrs.href : null;
  if (href && /^https?:\/\//i.test(href)) out = `[${out}](<${href.replace(/[<>\s]/g, encodeURIComponent)}>)`;
  return out;
}

/** A code span whose content is exactly `text` (CommonMark §6.1): fence longer than any backtick run, padded when needed. */
function codeSpan(text: string): string {
  const flat = text.replace(/\n/g, ' ');
  const longest = Math.max(0, ...[...flat.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') || (flat.startsWith(' ') && flat.endsWith(' ') && flat.trim() !== '') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}
