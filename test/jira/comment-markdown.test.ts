import { describe, expect, it } from 'vitest';
import { commentToAdf, MAX_VALUE_CHARS, md } from '../../src/jira/comment-markdown.js';
import type { AdfNode } from '../../src/jira/jira-actions.js';
import { adfToText } from '../../src/jira/adf-to-text.js';

/** All nodes of a tree, depth first. */
function allNodes(nodes: AdfNode[]): AdfNode[] {
  return nodes.flatMap((node) => [node, ...allNodes(node.content ?? [])]);
}
const marksOf = (nodes: AdfNode[]) => allNodes(nodes).flatMap((node) => node.marks ?? []);
const linksOf = (nodes: AdfNode[]) => marksOf(nodes).filter((mark) => mark.type === 'link');

describe('md and commentToAdf', () => {
  it('keeps the template as Markdown and each value as one literal text node with the marks around it', () => {
    const doc = commentToAdf(md`Hi ${'[x](https://evil.example)'}, added **${'<https://evil.example>'}** to \`${'a`b'}\`.`);
    expect(doc.content).toEqual([
      {
        type: 'paragraph',
        content: [
          { type: 'text', text: 'Hi ' },
          { type: 'text', text: '[x](https://evil.example)' },
          { type: 'text', text: ', added ' },
          { type: 'text', text: '<https://evil.example>', marks: [{ type: 'strong' }] },
          { type: 'text', text: ' to ' },
          { type: 'text', text: 'a`b', marks: [{ type: 'code' }] },
          { type: 'text', text: '.' },
        ],
      },
    ]);
  });

  it('never turns a value into structure: headings, list markers and fences at line start stay text', () => {
    const value = '# heading\n- item\n```\n> quote';
    const doc = commentToAdf(md`Name: ${value}`);
    expect(doc.content.map((node) => node.type)).toEqual(['paragraph']);
    expect(adfToText(doc)).toBe(`Name: ${value}`);
    expect(allNodes(doc.content).filter((node) => node.type === 'hardBreak')).toHaveLength(3);
  });

  it('keeps a multi-line value inside the code block the template opened', () => {
    const doc = commentToAdf(md.join([md`\`\`\``, md`${'line 1\n```\n[x](https://evil.example)'}`, md`\`\`\``]));
    expect(doc.content).toEqual([{ type: 'codeBlock', attrs: { language: 'text' }, content: [{ type: 'text', text: 'line 1\n```\n[x](https://evil.example)' }] }]);
  });

  it('drops a link the template built around a value, and keeps links made with md.link', () => {
    const doc = commentToAdf(md`See https://github.com/${'evil'} and [docs](https://docs.example/${'x'}) and ${md.link('https://github.com/acme/api')}`);
    expect(linksOf(doc.content)).toEqual([{ type: 'link', attrs: { href: 'https://github.com/acme/api' } }]);
    expect(adfToText(doc)).toBe('See https://github.com/evil and docs and https://github.com/acme/api');
  });

  it('md.link refuses anything but http and https', () => {
    const doc = commentToAdf(md`${md.link('javascript:alert(1)')} ${md.link('not a url', 'text')}`);
    expect(linksOf(doc.content)).toEqual([]);
    expect(adfToText(doc)).toBe('javascript:alert(1) text');
  });

  it('shows bidi overrides and control characters instead of applying them', () => {
    const doc = commentToAdf(md`User ${'abc\u202Edcba\u0007'} done`);
    expect(adfToText(doc)).toBe('User abc[U+202E]dcba[U+0007] done');
  });

  it('cuts very long values with a visible marker', () => {
    const doc = commentToAdf(md`${'x'.repeat(MAX_VALUE_CHARS + 1234)}`);
    expect(adfToText(doc)).toBe(`${'x'.repeat(MAX_VALUE_CHARS)}… [1,234 more characters]`);
  });

  it('treats a plain string as plain text: paragraphs, line breaks, no Markdown', () => {
    const doc = commentToAdf('**not bold** [x](https://evil.example)\nsecond line\n\n# not a heading');
    expect(linksOf(doc.content)).toEqual([]);
    expect(marksOf(doc.content)).toEqual([]);
    expect(doc.content.map((node) => node.type)).toEqual(['paragraph', 'paragraph']);
    expect(adfToText(doc)).toBe('**not bold** [x](https://evil.example)\nsecond line\n# not a heading');
  });

  it('composes: nested md is Markdown, String() gives the text, + throws', () => {
    const line = md`- [ ] Add ${'@here'}`;
    const doc = commentToAdf(md.join([md`**Runbook**`, md``, line]));
    expect(doc.content.map((node) => node.type)).toEqual(['paragraph', 'taskList']);
    expect(String(md.join([md`**a** ${'b'}`, line]))).toBe('**a** b\n- [ ] Add @here');
    expect(() => (md`a` as unknown as string) + 'b').toThrow(TypeError);
  });

  it('md.codeSpans marks only backtick spans, the rest is literal', () => {
    const doc = commentToAdf(md.codeSpans('must look like `org/name`, *not* [x](https://evil.example)'));
    expect(linksOf(doc.content)).toEqual([]);
    expect(marksOf(doc.content)).toEqual([{ type: 'code' }]);
    expect(adfToText(doc)).toBe('must look like org/name, *not* [x](https://evil.example)');
  });

  it('an image the template built around a value becomes its URL as text', () => {
    const doc = commentToAdf(md`![alt](https://img.example/${'track.gif'})`);
    expect(allNodes(doc.content).some((node) => node.type === 'media' || node.type === 'mediaSingle')).toBe(false);
    expect(adfToText(doc)).toBe('https://img.example/track.gif');
  });
});
