import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createIntegrations, integrations, longestCallTimeoutMs } from '../../src/integrations/index.js';

const silent = pino({ level: 'silent' });

describe('integration registry', () => {
  it('lists each integration once by name', () => {
    const names = integrations.map((i) => i.name);
    expect(names).toContain('github');
    expect(new Set(names).size).toBe(names.length);
  });

  it('builds GitHub without a client when GITHUB_TOKEN is unset, keeping its org setting', () => {
    const built = createIntegrations({ github: { baseUrl: 'https://api.github.com', token: null, org: 'globex', timeoutMs: 5_000 } }, silent);
    expect(built.github.api).toBeNull();
    expect(built.github.org).toBe('globex');
    expect(longestCallTimeoutMs(built)).toBe(0);
  });

  it('builds the GitHub client from the config when a token is set (no request sent)', () => {
    const built = createIntegrations({ github: { baseUrl: 'http://127.0.0.1:9', token: 't', org: 'acme', timeoutMs: 7_000 } }, silent);
    expect(built.github.api?.timeoutMs).toBe(7_000);
    expect(longestCallTimeoutMs(built)).toBe(7_000);
  });
});
