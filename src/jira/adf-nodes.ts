/**
 * Small walks over ADF nodes (https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/) shared by
 * the comment writers: `comment-markdown.ts` (ADF for Jira Cloud), `comment-wiki.ts` (wiki markup for Data Center)
 * and `trackers/markdown-comment.ts` (Markdown for GitHub and Linear).
 */
import type { AdfNode } from './jira-actions.js';

/**
 * `nodes` with each run of text nodes carrying identical marks joined into one text node: the template's text and a
 * value inside one code span arrive as two nodes, and writing them apart would make two spans (`{{@}}{{jdoe}}`).
 */
export function mergeTextRuns(nodes: readonly AdfNode[]): AdfNode[] {
  const out: AdfNode[] = [];
  for (const node of nodes) {
    const last = out.at(-1);
    if (node.type === 'text' && last?.type === 'text' && JSON.stringify(last.marks ?? []) === JSON.stringify(node.marks ?? [])) {
      out[out.length - 1] = { ...last, text: `${last.text ?? ''}${node.text ?? ''}` };
    } else {
      out.push(node);
    }
  }
  return out;
}

/** The `url` of the first `media` node at or under `node`, or undefined. */
export function findMediaUrl(node: AdfNode): unknown {
  if (node.type === 'media') return node.attrs?.url;
  for (const child of node.content ?? []) {
    const url = findMediaUrl(child);
    if (url !== undefined) return url;
  }
  return undefined;
}
