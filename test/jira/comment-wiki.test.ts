/**
 * Wiki-markup comment bodies (Jira Data Center): structure from the code's Markdown, ticket text as data.
 * The hostile values are the kind test/handlers/hostile-text.test.ts feeds the ADF path; here each one must come out
 * with no wiki-significant character left raw (so no link, mention, image, macro, emoticon, list or heading can
 * form), and decoding the character references must give back exactly the value.
 */
import { describe, expect, it } from 'vitest';
import { md } from '../../src/jira/comment-markdown.js';
import { adfToWiki, commentToWiki, escapeWikiText } from '../../src/jira/comment-wiki.js';

/** What a browser shows for the renderer's output of plain text: numeric character references decoded. */
const decode = (wiki: string) => wiki.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));

const HOSTILE = [
  '[click|http://evil.example/a]',
  '{color:red}x{color}',
  '!http://evil.example/img.png!',
  '[~admin] and [~accountid:5b10a2844c20165700ede21g]',
  'h1. Big heading',
  '# one\n* two\n- three\n---- rule',
  '||a||b||\n|c|d|',
  '*bold* _em_ -strike- +ins+ ^sup^ ~sub~ ??cite??',
  '{code}x{code}{noformat}y{noformat}',
  'bq. quoted',
  'see http://evil.example/c and mailto:a@b.example',
  'emoticons :) (x) (/) (!) (y)',
  'back\\\\slash \\[not escaped]',
  '&#91;already an entity&#93; &amp;',
  '{panel:title=x}p{panel} {anchor:a} {quote}q{quote}',
];

/** Characters that must never reach the renderer raw from a value (checked with the character references removed). */
const RAW_SPECIAL = /[*_\-+^~?{}[\]|!#&\\:()]/;

describe('escapeWikiText', () => {
  it.each(HOSTILE)('keeps %j as data: no raw markup character, decodes back to the value', (value) => {
    const escaped = escapeWikiText(value);
    expect(escaped.replace(/&#\d+;/g, '')).not.toMatch(RAW_SPECIAL);
    expect(escaped).not.toMatch(/\b(h[1-6]|bq)\./i);
    expect(decode(escaped)).toBe(value);
  });

  it('leaves letters, digits, spaces, commas and slashes as they are', () => {
    expect(escapeWikiText('Disk full on agent 3, see /var/log')).toBe('Disk full on agent 3, see /var/log');
  });
});

describe('commentToWiki', () => {
  it('writes the code markup as wiki markup and the values as escaped text', () => {
    const wiki = commentToWiki(md`Reset **${'[~admin]'}** in \`${'{code}'}\`:\n\n- first ${'!x.png!'}\n- second`);
    expect(wiki).toBe('Reset *&#91;&#126;admin&#93;* in {{&#123;code&#125;}}&#58;\n\n* first &#33;x.png&#33;\n* second');
  });

  it('writes links the code built with md.link as [text|href], the text escaped', () => {
    const wiki = commentToWiki(md`See ${md.link('https://wiki.example.com/a b|c', 'runbook [v2]')}.`);
    expect(wiki).toBe('See [runbook &#91;v2&#93;|https://wiki.example.com/a%20b%7Cc].');
  });

  it('makes no link of a URL built from a value (the ADF step drops the link mark)', () => {
    const wiki = commentToWiki(md`Open [the repo](https://github.com/${'acme/x|http://evil'})`);
    expect(wiki).not.toMatch(/\[[^\]]*\|/);
    expect(decode(wiki)).toContain('the repo');
  });

  it('keeps code blocks verbatim but a value cannot close the block', () => {
    const wiki = commentToWiki(md`Output:\n\n\`\`\`\n${'line {noformat}\n[~admin] {code:java}'}\n\`\`\``);
    expect(wiki).toContain('{noformat}\nline {\u200Bnoformat}\n[~admin] {\u200Bcode:java}\n{noformat}');
    expect(wiki.match(/\{noformat\}/g)).toHaveLength(2);
  });

  it('a plain string is plain text: paragraphs kept, every line escaped (no heading or list from line starts)', () => {
    const wiki = commentToWiki('h1. title\n* item\n\nsecond paragraph [x|y]');
    expect(wiki).toBe('h1&#46; title\n&#42; item\n\nsecond paragraph &#91;x&#124;y&#93;');
  });

  it('writes headings, ordered and nested lists, quotes, rules and tables', () => {
    const wiki = commentToWiki(md`# Title\n\n1. one\n   - inner\n2. two\n\n> quoted\n\n---\n\n| a | b |\n|---|---|\n| ${'x|y'} | 2 |`);
    expect(wiki).toContain('h1. Title');
    expect(wiki).toContain('# one\n#* inner\n# two');
    expect(wiki).toContain('{quote}\nquoted\n{quote}');
    expect(wiki).toContain('----');
    expect(wiki).toContain('|| a || b ||\n| x&#124;y | 2 |');
  });

  it('never throws on an empty or unknown document', () => {
    expect(adfToWiki({ type: 'doc', version: 1, content: [] })).toBe('');
    expect(adfToWiki({ type: 'doc', version: 1, content: [{ type: 'mystery', content: [{ type: 'text', text: '[x]' }] }] })).toBe('&#91;x&#93;');
  });
});

describe('commentToWiki spans', () => {
  it('writes adjacent text with the same marks as one span (a value inside a code span stays one {{…}})', () => {
    expect(commentToWiki(md`user \`@${'jdoe-acme'}\` done`)).toBe('user {{@jdoe&#45;acme}} done');
  });
});
