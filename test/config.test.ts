import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('defaults to the embedded SQLite database, port 3000 and dry run', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, host: '0.0.0.0', dbPath: './data/deflect.db', jira: null, dryRun: true, rulesPath: null });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('uses ./rules.yaml when present, splits secrets for rotation, and leaves dry run with credentials', () => {
    const config = loadConfig(
      { DEFLECT_WEBHOOK_SECRET: 'a, b', JIRA_BASE_URL: 'https://acme.atlassian.net/', JIRA_EMAIL: 'bot@acme.com', JIRA_API_TOKEN: 't' },
      (path) => path === './rules.yaml',
    );
    expect(config.rulesPath).toBe('./rules.yaml');
    expect(config.webhookSecrets).toEqual(['a', 'b']);
    expect(config.jira?.baseUrl).toBe('https://acme.atlassian.net');
    expect(config.dryRun).toBe(false);
  });

  it('lists every bad variable at once', () => {
    try {
      loadConfig({ PORT: 'eighty', DEFLECT_LOG_LEVEL: 'loud', JIRA_BASE_URL: 'acme' });
      throw new Error('expected ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/PORT:/);
      expect(problems).toMatch(/DEFLECT_LOG_LEVEL:/);
      expect(problems).toMatch(/JIRA_BASE_URL: must be a URL/);
    }
  });

  it('reads verified resolution: 14 d window, last 10 resolutions, demote below 0.8; 0 or off never demotes; a bad rate is named', () => {
    expect(loadConfig({}).verify).toEqual({ windowMs: 14 * 86_400_000, minResolutions: 10, demoteBelow: 0.8 });
    expect(loadConfig({ DEFLECT_VERIFY_WINDOW: '2w', DEFLECT_VERIFY_MIN_RESOLUTIONS: '3', DEFLECT_VERIFY_DEMOTE_BELOW: '0.5' }).verify).toEqual({ windowMs: 14 * 86_400_000, minResolutions: 3, demoteBelow: 0.5 });
    expect(loadConfig({ DEFLECT_VERIFY_DEMOTE_BELOW: '0' }).verify.demoteBelow).toBeNull();
    expect(loadConfig({ DEFLECT_VERIFY_DEMOTE_BELOW: 'off' }).verify.demoteBelow).toBeNull();
    expect(() => loadConfig({ DEFLECT_VERIFY_DEMOTE_BELOW: '80%', DEFLECT_VERIFY_WINDOW: 'soon', DEFLECT_VERIFY_MIN_RESOLUTIONS: '0' })).toThrow(
      /DEFLECT_VERIFY_WINDOW: [\s\S]*DEFLECT_VERIFY_MIN_RESOLUTIONS: must be at least 1[\s\S]*DEFLECT_VERIFY_DEMOTE_BELOW: "80%": use a verified rate between 0 and 1/,
    );
  });

  it('requires all three Jira variables together', () => {
    expect(() => loadConfig({ JIRA_BASE_URL: 'https://acme.atlassian.net' })).toThrow(/JIRA_EMAIL, JIRA_API_TOKEN: required when JIRA_BASE_URL is set/);
  });

  it('reads GitHub: no token → github.token null; API URL without trailing slash; default organization acme', () => {
    expect(loadConfig({}).github).toEqual({ baseUrl: 'https://api.github.com', token: null, org: 'acme', timeoutMs: 10_000 });
    const config = loadConfig({ GITHUB_TOKEN: 'ghp_x', GITHUB_API_URL: 'https://github.example.com/api/v3/', GITHUB_ORG: 'globex', GITHUB_TIMEOUT_MS: '2500' });
    expect(config.github).toEqual({ baseUrl: 'https://github.example.com/api/v3', token: 'ghp_x', org: 'globex', timeoutMs: 2500 });
    expect(() => loadConfig({ GITHUB_API_URL: 'api.github.com', GITHUB_ORG: 'not an org' })).toThrow(/GITHUB_API_URL: must be a URL[\s\S]*GITHUB_ORG: must be a GitHub organization/);
  });
});
