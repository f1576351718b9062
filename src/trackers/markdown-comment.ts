/**
 * Comment bodies for trackers whose comments are Markdown (GitHub Issues, Linear): the `md` template's Markdown with
 * every interpolated value escaped so it stays literal text (no link, mention, image, heading or HTML).
 * FIRST VERSION: values are backslash-escaped; the full renderer (ADF → GitHub Markdown) replaces it.
 */
import { Markdown } from '../jira/comment-markdown.js';

/**
 * The Markdown text of a comment: `Markdown` from `md` keeps its template's markup with each value escaped; a plain
 * string is plain text (escaped as a whole). Never throws.
 */
export function commentToMarkdown(body: Markdown | string): string {
  if (!(body instanceof Markdown)) return escapeMarkdownText(String(body));
  return body.source.replace(/\uE000(\d+)\uE001/g, (_, index: string) => escapeMarkdownText(body.pieces[Number(index)]?.text ?? ''));
}

/** Backslash-escapes every ASCII punctuation character (CommonMark §2.4) so `text` renders literally. */
export function escapeMarkdownText(text: string): string {
  return text.replace(/[!-/:-@[-`{-~]/g, (char) => `\\${char}`);
}
