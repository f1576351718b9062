/** The operations variables of issue 13: DEFLECT_METRICS_PUBLIC, DEFLECT_RECONCILE_EVERY, DEFLECT_GITHUB_REPOS. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('operations configuration', () => {
  it('defaults: metrics need a token, reconcile every 15 minutes, no GitHub repositories', () => {
    const config = loadConfig({});
    expect(config.auth.metricsPublic).toBe(false);
    expect(config.reconcileEveryMs).toBe(15 * 60_000);
    expect(config.githubRepos).toEqual([]);
  });

  it('reads each variable', () => {
    const config = loadConfig({ DEFLECT_METRICS_PUBLIC: 'true', DEFLECT_RECONCILE_EVERY: '2h', DEFLECT_GITHUB_REPOS: 'acme/api, acme/web.site' });
    expect(config.auth.metricsPublic).toBe(true);
    expect(config.reconcileEveryMs).toBe(2 * 3_600_000);
    expect(config.githubRepos).toEqual(['acme/api', 'acme/web.site']);
    expect(loadConfig({ DEFLECT_RECONCILE_EVERY: 'off' }).reconcileEveryMs).toBeNull();
  });

  it.each([
    ['DEFLECT_RECONCILE_EVERY', 'often', /DEFLECT_RECONCILE_EVERY.*30m.*or off/],
    ['DEFLECT_GITHUB_REPOS', 'acme', /DEFLECT_GITHUB_REPOS.*"acme": use owner\/name/],
    ['DEFLECT_METRICS_PUBLIC', 'sure', /DEFLECT_METRICS_PUBLIC/],
  ])('refuses %s=%s naming the variable', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });
});
