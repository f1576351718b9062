import { markdownToAdf as marklassianToAdf } from 'marklassian';
import type { AdfDocument, AdfNode } from './jira-actions.js';

/** Zero-width space: breaks the `<adf>` tag so marklassian treats it as text, not as raw ADF to embed. */
const ZERO_WIDTH_SPACE = '\u200B';

/**
 * Converts Markdown **written by code** to an Atlassian Document Format document for a Jira Cloud v3 comment body.
 * Never pass text from a ticket or a request here: Markdown turns `[x](url)`, `<url>`, bare URLs and e-mail
 * addresses into links. Comments are built with `md` and converted by `commentToAdf` (`comment-markdown.ts`), which
 * uses this function for the code's Markdown and inserts ticket text afterwards as plain ADF text nodes.
 *
 * Structure: https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/
 * Conversion: marklassian (https://github.com/jamsinclair/marklassian), which covers paragraphs, headings,
 * **bold**, *italic*, ~~strike~~, `code`, fenced code blocks, lists (nested, task lists), links, images,
 * blockquotes, rules and tables. Markdown rules apply: a single newline is a soft break (rendered as a space);
 * end a line with two spaces or leave a blank line to break it.
 *
 * On top of marklassian this function guarantees:
 * - the result is always `{ type: 'doc', version: 1, content: [...] }` with at least one block;
 *   empty or whitespace-only input gives one empty paragraph;
 * - no empty text nodes (ADF requires non-empty `text`) and no empty list items (ADF requires a block inside);
 * - marklassian's `<adf>…</adf>` raw-ADF passthrough is disabled: comment text often quotes ticket content,
 *   which must neither inject arbitrary ADF nor make the conversion throw. Such tags come out as text.
 *
 * Raw HTML is not supported by marklassian: inline tags are dropped (their text kept), HTML blocks are dropped.
 *
 * @param markdown Markdown source; any string (never throws).
 * @returns a new ADF document (plain JSON, safe to serialise).
 * @example markdownToAdf('Done: **restarted** `api`') // → { type:'doc', version:1, content:[{ type:'paragraph', … }] }
 */
export function markdownToAdf(markdown: string): AdfDocument {
  const safe = markdown.replace(/<(\/?)adf>/gi, `<${ZERO_WIDTH_SPACE}$1adf>`);
  let content: AdfNode[];
  try {
    content = normalizeNodes(marklassianToAdf(safe).content as AdfNode[]);
  } catch {
    // marklassian should not throw once <adf> is neutralised; keep comments flowing with the text as-is if it does.
    content = plainParagraphs(markdown);
  }
  if (content.length === 0) content = [emptyParagraph()];
  return { type: 'doc', version: 1, content };
}

function emptyParagraph(): AdfNode {
  return { type: 'paragraph', content: [] };
}

/** One paragraph per blank-line-separated block, without any Markdown interpretation. */
function plainParagraphs(text: string): AdfNode[] {
  return text
    .split(/\n\s*\n/)
    .map((block) => block.trim())
    .filter((block) => block.length > 0)
    .map((block) => ({ type: 'paragraph', content: [{ type: 'text', text: block }] }));
}

/** Drops empty text nodes and fills empty list items, recursively, so Jira's ADF validation accepts the document. */
function normalizeNodes(nodes: AdfNode[] | undefined): AdfNode[] {
  if (!Array.isArray(nodes)) return [];
  const result: AdfNode[] = [];
  for (const node of nodes) {
    if (!node || typeof node.type !== 'string') continue;
    if (node.type === 'text' && (typeof node.text !== 'string' || node.text.length === 0)) continue;
    const copy: AdfNode = { ...node };
    if (node.content !== undefined) copy.content = normalizeNodes(node.content);
    if ((copy.type === 'listItem' || copy.type === 'tableCell' || copy.type === 'tableHeader') && copy.content?.length === 0) {
      copy.content = [emptyParagraph()];
    }
    result.push(copy);
  }
  return result;
}
