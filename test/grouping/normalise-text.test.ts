import { describe, expect, it } from 'vitest';
import { normaliseText, PLACEHOLDERS, renderTemplate } from '../../src/grouping/normalise-text.js';

describe('normaliseText', () => {
  it('replaces each kind of variable text with its typed placeholder', () => {
    const cases: Array<[string, string, string]> = [
      ['see https://github.com/acme/api/pull/12 now', '<url>', 'https://github.com/acme/api/pull/12'],
      ['point status.acme.io there', '<url>', 'status.acme.io'],
      ['mail bob.smith@example.org today', '<email>', 'bob.smith@example.org'],
      ['blocked by PLAT-123', '<key>', 'PLAT-123'],
      ['bump to 1.2.3-rc1', '<version>', '1.2.3-rc1'],
      ['drop v2 support', '<version>', 'v2'],
      ['retry 42 times', '<num>', '42'],
      ['revert 3f2a9bc1d', '<hex>', '3f2a9bc1d'],
      ['edit /etc/nginx/nginx.conf', '<path>', '/etc/nginx/nginx.conf'],
      ['rename "old name" please', '<quoted>', '"old name"'],
      ['access to acme/billing-api', '<repo>', 'acme/billing-api'],
      ['ping @jdoe', '<user>', '@jdoe'],
    ];
    for (const [text, placeholder, original] of cases) {
      const result = normaliseText(text);
      expect(result.tokens, text).toContain(placeholder);
      expect(result.replaced[placeholder as (typeof PLACEHOLDERS)[number]], text).toEqual([original]);
    }
    expect(new Set(cases.map((c) => c[1]))).toEqual(new Set(PLACEHOLDERS));
  });

  it('lower-cases, drops stop words and stems, keeping the original text in segments', () => {
    const text = 'Please reset the Upload Tokens for sweet-chem (v2)!';
    const result = normaliseText(text);
    expect(result.tokens).toEqual(['reset', 'upload', 'token', 'sweet', 'chem', '<version>']);
    expect(result.segments.map((s) => s.text).join('')).toBe(text);
    expect(result.segments.find((s) => s.text === 'sweet-chem')?.tokens).toEqual(['sweet', 'chem']);
  });

  it('leaves ordinary slashes and possessives as words', () => {
    expect(normaliseText("Fluid's CI/CD and/or TCP/UDP").tokens).toEqual(['fluid', 'ci', 'cd', 'tcp', 'udp']);
  });

  it('renders a template from kept stems, with typed placeholders', () => {
    const norm = normaliseText('Upgrade servers to CentOS 7.2');
    expect(renderTemplate(norm, new Set(['updat', 'server', 'cento']))).toBe('Upgrade servers to CentOS <version>');
    expect(renderTemplate(norm, new Set(['cento']))).toBe('<*> to CentOS <version>');
  });
});
