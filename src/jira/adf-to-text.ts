/**
 * Flattens an Atlassian Document Format document to plain text: text nodes joined, one line per block
 * (paragraph, heading, list item, code block), `hardBreak` as a newline, mentions as `@name`.
 * Used where REST v3 returns ADF for descriptions (https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/).
 * Never throws: unknown nodes contribute their children's text.
 */
export function adfToText(node: unknown): string {
  const lines: string[] = [];
  let current = '';
  const BLOCKS = new Set(['paragraph', 'heading', 'listItem', 'codeBlock', 'blockquote', 'rule', 'tableRow', 'panel']);
  const walk = (n: unknown): void => {
    if (typeof n !== 'object' || n === null) return;
    const { type, text, attrs, content } = n as { type?: string; text?: string; attrs?: Record<string, unknown>; content?: unknown[] };
    if (type === 'text' && typeof text === 'string') current += text;
    else if (type === 'hardBreak') {
      lines.push(current);
      current = '';
    } else if (type === 'mention') current += String(attrs?.text ?? '@someone');
    else if (type === 'emoji') current += String(attrs?.text ?? attrs?.shortName ?? '');
    else if (type === 'inlineCard') current += String(attrs?.url ?? '');
    else if (type === 'tableCell' || type === 'tableHeader') current += current ? ' | ' : '';
    if (Array.isArray(content)) for (const child of content) walk(child);
    if (type && BLOCKS.has(type) && current !== '') {
      lines.push(current);
      current = '';
    }
  };
  walk(node);
  if (current) lines.push(current);
  return lines.join('\n');
}
