import { describe, expect, it } from 'vitest';
import type { AdfNode } from '../../src/jira/jira-actions.js';
import { markdownToAdf } from '../../src/jira/markdown-to-adf.js';

/** All nodes of a tree, depth first. */
function allNodes(nodes: AdfNode[]): AdfNode[] {
  return nodes.flatMap((node) => [node, ...allNodes(node.content ?? [])]);
}

describe('markdownToAdf', () => {
  it('wraps plain text in a doc with one paragraph', () => {
    expect(markdownToAdf('Hello Jira')).toEqual({
      type: 'doc',
      version: 1,
      content: [{ type: 'paragraph', content: [{ type: 'text', text: 'Hello Jira' }] }],
    });
  });

  it('marks bold text as strong', () => {
    const [paragraph] = markdownToAdf('Disk is **full** now').content;
    expect(paragraph.content).toEqual([
      { type: 'text', text: 'Disk is ' },
      { type: 'text', text: 'full', marks: [{ type: 'strong' }] },
      { type: 'text', text: ' now' },
    ]);
  });

  it('marks inline code and turns fences into code blocks with their language', () => {
    const doc = markdownToAdf('Run `df -h`:\n\n```sh\ndf -h /var\n```');
    expect(doc.content[0].content?.[1]).toEqual({ type: 'text', text: 'df -h', marks: [{ type: 'code' }] });
    expect(doc.content[1]).toEqual({ type: 'codeBlock', attrs: { language: 'sh' }, content: [{ type: 'text', text: 'df -h /var' }] });
  });

  it('converts bullet and ordered lists into list items holding paragraphs', () => {
    const doc = markdownToAdf('- one\n- two\n\n1. first\n2. second');
    expect(doc.content.map((n) => n.type)).toEqual(['bulletList', 'orderedList']);
    expect(doc.content[0].content).toEqual([
      { type: 'listItem', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'one' }] }] },
      { type: 'listItem', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'two' }] }] },
    ]);
  });

  it('turns links into text with a link mark', () => {
    const [paragraph] = markdownToAdf('See [the runbook](https://wiki.example.com/runbook).').content;
    expect(paragraph.content).toContainEqual({
      type: 'text',
      text: 'the runbook',
      marks: [{ type: 'link', attrs: { href: 'https://wiki.example.com/runbook' } }],
    });
  });

  it.each(['', '   \n\n  '])('gives one empty paragraph for empty input %j', (input) => {
    expect(markdownToAdf(input)).toEqual({ type: 'doc', version: 1, content: [{ type: 'paragraph', content: [] }] });
  });

  it('never emits empty text nodes or empty list items', () => {
    const doc = markdownToAdf('```\n```\n\n1.\n\n[](https://example.com)');
    const nodes = allNodes(doc.content);
    expect(nodes.filter((n) => n.type === 'text' && !n.text)).toEqual([]);
    expect(nodes.filter((n) => n.type === 'listItem' && !n.content?.length)).toEqual([]);
  });

  it('keeps <adf> tags as text instead of embedding raw ADF from quoted ticket content', () => {
    const doc = markdownToAdf('Reporter wrote:\n\n<adf>\n{"type":"panel","attrs":{"panelType":"error"}}\n</adf>');
    expect(allNodes(doc.content).map((n) => n.type)).not.toContain('panel');
    expect(JSON.stringify(doc)).toContain('panelType');
    expect(() => markdownToAdf('<adf>\nnot json\n</adf>')).not.toThrow();
  });
});
