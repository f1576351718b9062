/**
 * Jira credentials in the config: `JIRA_BASE_URL` + `JIRA_PAT` selects Data Center, `JIRA_BASE_URL` + `JIRA_EMAIL` +
 * `JIRA_API_TOKEN` Cloud; a partial or mixed set is a ConfigError naming the variables; the secret is in no
 * serialisation of the config (JSON, util.inspect, pino) and in no error message.
 */
import { inspect } from 'node:util';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';

const PAT = 'NzA1MTIzNDU2Nzg5OpAtSecretValue';
const TOKEN = 'ATATT3xFfGF0-cloud-secret';

/** The ConfigError `fn` throws, as one string (message + problems). */
function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return `${(error as ConfigError).message}\n${(error as ConfigError).problems.join('\n')}`;
  }
  throw new Error('expected a ConfigError');
}

/** Every way the config could end up in a log or an answer. */
function serialisations(value: unknown): string {
  const lines: string[] = [];
  const logger = createLogger('info', new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
  logger.info({ config: value, jira: (value as { jira: unknown }).jira }, 'config');
  expect(lines).toHaveLength(1);
  return [JSON.stringify(value), inspect(value, { depth: 10 }), String(value), JSON.stringify({ ...(value as object) }), ...lines].join('\n');
}

describe('Jira deployment from the environment', () => {
  it('JIRA_BASE_URL + JIRA_PAT selects Data Center, with the base URL (context path kept, trailing slash dropped)', () => {
    const config = loadConfig({ JIRA_BASE_URL: 'https://jira.acme.internal/jira/', JIRA_PAT: PAT });
    expect(config.jira).toMatchObject({ deployment: 'datacenter', baseUrl: 'https://jira.acme.internal/jira', accountId: null });
    expect(config.jira?.deployment === 'datacenter' && config.jira.pat).toBe(PAT);
    expect(config.jiraSiteUrl).toBe('https://jira.acme.internal/jira');
    expect(config.dryRun).toBe(false);
  });

  it('JIRA_BASE_URL + JIRA_EMAIL + JIRA_API_TOKEN stays Cloud', () => {
    const config = loadConfig({ JIRA_BASE_URL: 'https://acme.atlassian.net', JIRA_EMAIL: 'bot@acme.com', JIRA_API_TOKEN: TOKEN, JIRA_ACCOUNT_ID: 'acc-1' });
    expect(config.jira).toMatchObject({ deployment: 'cloud', baseUrl: 'https://acme.atlassian.net', email: 'bot@acme.com', accountId: 'acc-1' });
    expect(config.jira?.deployment === 'cloud' && config.jira.apiToken).toBe(TOKEN);
  });

  it('refuses both sets at once, naming the variables and not the secrets', () => {
    const text = configError(() => loadConfig({ JIRA_BASE_URL: 'https://jira.acme.internal', JIRA_PAT: PAT, JIRA_EMAIL: 'bot@acme.com', JIRA_API_TOKEN: TOKEN }));
    expect(text).toMatch(/JIRA_PAT and JIRA_EMAIL, JIRA_API_TOKEN: set one credential set, not both/);
    expect(text).not.toContain(PAT);
    expect(text).not.toContain(TOKEN);
    expect(configError(() => loadConfig({ JIRA_BASE_URL: 'https://j.example', JIRA_PAT: PAT, JIRA_EMAIL: 'bot@acme.com' }))).toMatch(/JIRA_PAT and JIRA_EMAIL: set one/);
  });

  it('refuses partial sets, naming what is missing', () => {
    const noBase = configError(() => loadConfig({ JIRA_PAT: PAT }));
    expect(noBase).toMatch(/JIRA_BASE_URL: required when JIRA_PAT is set/);
    expect(noBase).not.toContain(PAT);
    expect(configError(() => loadConfig({ JIRA_BASE_URL: 'https://acme.atlassian.net', JIRA_EMAIL: 'bot@acme.com' }))).toMatch(/JIRA_API_TOKEN: required when JIRA_BASE_URL, JIRA_EMAIL is set/);
    expect(configError(() => loadConfig({ JIRA_API_TOKEN: TOKEN }))).toMatch(/JIRA_BASE_URL, JIRA_EMAIL: required when JIRA_API_TOKEN is set/);
  });

  it('keeps the PAT and the API token out of JSON, util.inspect, spreads and pino log lines', () => {
    const dc = loadConfig({ JIRA_BASE_URL: 'https://jira.acme.internal', JIRA_PAT: PAT });
    const dcText = serialisations(dc);
    expect(dcText).toContain('datacenter');
    expect(dcText).not.toContain(PAT);
    const cloud = loadConfig({ JIRA_BASE_URL: 'https://acme.atlassian.net', JIRA_EMAIL: 'bot@acme.com', JIRA_API_TOKEN: TOKEN });
    const cloudText = serialisations(cloud);
    expect(cloudText).toContain('bot@acme.com');
    expect(cloudText).not.toContain(TOKEN);
  });
});
