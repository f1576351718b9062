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

  it('requires all three Jira variables together', () => {
    expect(() => loadConfig({ JIRA_BASE_URL: 'https://acme.atlassian.net' })).toThrow(/JIRA_EMAIL, JIRA_API_TOKEN: required when JIRA_BASE_URL is set/);
  });
});
