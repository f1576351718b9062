/** Secret masking for audit traces (src/reports/mask-secrets.ts): canary secrets never survive, ordinary data does. */
import { describe, expect, it } from 'vitest';
import { MASK, maskSecrets, maskStoredJson, maskText } from '../../src/reports/mask-secrets.js';

describe('maskSecrets', () => {
  it('masks values under credential keys, to any depth, whatever they look like', () => {
    const masked = maskSecrets({ token: 'short', nested: [{ Authorization: 'Basic abc' }, { api_key: 'k', 'X-Api-Key': 'k2', clientSecret: 's', password: 'p', cookie: 'c' }] });
    expect(masked).toEqual({ token: MASK, nested: [{ Authorization: MASK }, { api_key: MASK, 'X-Api-Key': MASK, clientSecret: MASK, password: MASK, cookie: MASK }] });
  });

  it('keeps names and ids of credentials, flags and ordinary fields', () => {
    const value = { tokenName: 'DEPLOY_TOKEN_2', secretId: '42', hasToken: true, status: 'Done', repo: 'acme/api', labels: ['token-reset'] };
    expect(maskSecrets(value)).toEqual(value);
  });

  it.each([
    ['a GitHub token', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'],
    ['a fine-grained GitHub token', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz'],
    ['a Slack token', 'xoxb-1234567890-abcdefghijkl'],
    ['an AWS key id', 'AKIAIOSFODNN7EXAMPLE'],
    ['a JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'],
    ['a long random string', 'q8Zr3Lk9Vw2Px7Nb4Tc6Hm1Js5Dg0Fa'],
  ])('masks %s inside free text', (_name, secret) => {
    const text = maskText(`Hi, my credential is ${secret}. Please rotate it.`);
    expect(text).not.toContain(secret);
    expect(text).toBe(`Hi, my credential is ${MASK}. Please rotate it.`);
  });

  it('masks the credential after Bearer / Basic / token, and leaves plain words alone', () => {
    expect(maskText('Authorization: Bearer abc.def')).toBe(`Authorization: Bearer ${MASK}`);
    expect(maskText('reset the token DEPLOY_TOKEN please')).toBe(`reset the token ${MASK} please`);
    expect(maskText('Need write access to acme/payments-api for jdoe-acme')).toBe('Need write access to acme/payments-api for jdoe-acme');
  });

  it('parses stored JSON, masks text that is not JSON, keeps null', () => {
    expect(maskStoredJson('{"markdown":"new token ghp_abcdefghijklmnopqrstuvwxyz0123456789"}')).toEqual({ markdown: `new token ${MASK}` });
    expect(maskStoredJson('not json ghp_abcdefghijklmnopqrstuvwxyz0123456789')).toBe(`not json ${MASK}`);
    expect(maskStoredJson(null)).toBeNull();
  });

  it('masks a too-deep value whole instead of recursing without bound', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100; i++) deep = { next: deep };
    expect(JSON.stringify(maskSecrets(deep))).toContain(MASK);
  });
});
