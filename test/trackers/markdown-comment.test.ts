/**
 * Markdown comment bodies (GitHub, Linear): ticket text interpolated with `md` stays literal text. Each rendered body
 * is parsed by a real GFM parser (marked, GitHub Flavored Markdown mode) to HTML, and the test asserts that hostile
 * values create no link, image, HTML, heading, list or table, and that each value is still shown as typed.
 */
import { marked } from 'marked';
import { describe, expect, it } from 'vitest';
import { md } from '../../src/jira/comment-markdown.js';
import { commentToMarkdown } from '../../src/trackers/markdown-comment.js';

const EVIL = 'evil.example';
const HOSTILE = [
  `[click](https://${EVIL}/a)`,
  `<https://${EVIL}/b>`,
  `see https://${EVIL}/c and www.${EVIL} now`,
  `![img](https://${EVIL}/d.png)`,
  `<a href="https://${EVIL}/f">x</a> <script>alert(1)</script>`,
  '[js](javascript:alert(1))',
  '# heading',
  '- item',
  '1. item',
  '> quote',
  '| a | b |\n|---|---|\n| c | d |',
  '**bold** _em_ ~~strike~~',
  '`code` ``` fence',
  'line one\n===',
  '&lt;b&gt; &amp; &#x3C;',
  '\\*not escaped\\*',
  '[ref]: https://evil.example/ref',
];

/** The HTML a GFM renderer makes of `markdown`, and its text with the invisible word joiners removed. */
function render(markdown: string): { html: string; text: string } {
  const html = marked.parse(markdown, { gfm: true, async: false });
  const text = html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&')
    .replace(/\u2060/g, '');
  return { html, text };
}

describe('commentToMarkdown', () => {
  it.each(HOSTILE)('keeps %j literal inside a paragraph, bold and a list item', (value) => {
    const markdown = commentToMarkdown(md`Hello ${value}, **${value}**\n\n- asked: ${value}`);
    const { html, text } = render(markdown);
    expect(html).not.toMatch(/<a |<img|<script|<h\d|<table|<blockquote|<ol|<pre/);
    expect((html.match(/<li>/g) ?? []).length).toBe(1);
    // A line break inside a bold value splits it into one bold run per line.
    expect((html.match(/<strong>/g) ?? []).length).toBe(value.split('\n').length);
    const flat = value.replace(/\n/g, '');
    expect(text.replace(/\n/g, '')).toContain(flat);
  });

  it('keeps a value literal inside a code span and a code block, whatever backticks it holds', () => {
    const value = 'a `b` ``` c';
    const markdown = commentToMarkdown(md`Run \`${value}\`:\n\n\`\`\`\n${value}\n\`\`\``);
    const { html } = render(markdown);
    expect(html).toContain('<code>a `b` ``` c</code>');
    expect(html).toMatch(/<pre><code[^>]*>a `b` ``` c\n<\/code><\/pre>/);
  });

  it('writes template text and a value inside one code span as one span, and leaves mid-line punctuation alone', () => {
    const markdown = commentToMarkdown(md`Invited \`@${'mia-checkout'}\` to ${'acme/payments-api'} (${'role: write'}).`);
    expect(render(markdown).html).toContain('<code>@mia-checkout</code>');
    expect(markdown).toContain('acme/payments-api (role: write).');
  });

  it('breaks mentions and issue references with an invisible joiner, and keeps md.link links', () => {
    const markdown = commentToMarkdown(md`cc ${'@admin #12'} see ${md.link('https://github.com/acme/api', 'acme/api')}`);
    expect(markdown).toContain('@\u2060admin');
    expect(markdown).toContain('#\u2060' + '12');
    const { html } = render(markdown);
    expect(html).toContain('<a href="https://github.com/acme/api">acme/api</a>');
    expect((html.match(/<a /g) ?? []).length).toBe(1);
  });

  it('writes a plain string as plain text, keeping paragraphs and line breaks', () => {
    const markdown = commentToMarkdown('# not a heading\nsecond line\n\n[x](https://evil.example)');
    const { html, text } = render(markdown);
    expect(html).not.toMatch(/<h1|<a /);
    expect((html.match(/<p>/g) ?? []).length).toBe(2);
    expect(html).toContain('<br>');
    expect(text).toContain('# not a heading');
    expect(text).toContain('[x](https://evil.example)');
  });

  it('keeps the template markup: headings, task lists, ordered lists', () => {
    const markdown = commentToMarkdown(md`## Runbook\n\n- [ ] step ${'one'}\n- [x] step two\n\n1. first\n2. second`);
    const { html } = render(markdown);
    expect(html).toContain('<h2>Runbook</h2>');
    expect(html).toMatch(/<input (checked="" )?disabled="" type="checkbox"/);
    expect(html).toContain('<ol>');
  });
});
