/** The authentication variables of `loadConfig`: defaults, parsing, and the errors people get for mistakes. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

describe('auth configuration', () => {
  it('defaults to tokens and sessions only: no proxy, 12 h sessions, 20 failures a minute, webhook auth required', () => {
    const config = loadConfig({});
    expect(config.insecureNoAuth).toBe(false);
    expect(config.auth).toEqual({ proxyHeader: null, trustedProxies: [], proxyRoles: {}, sessionTtlMs: 12 * 3_600_000, failureLimit: 20, metricsPublic: false });
  });

  it('parses the proxy header, proxy addresses, roles (identities lower-cased), session hours and failure limit', () => {
    const config = loadConfig({
      DEFLECT_INSECURE_NO_AUTH: 'true',
      DEFLECT_TRUSTED_PROXY_AUTH: 'X-Forwarded-Email',
      DEFLECT_TRUSTED_PROXIES: '10.0.0.5, 10.1.0.0/16,::1',
      DEFLECT_PROXY_ROLES: 'Maya@Acme.com=admin, lead@acme.com=operator, *=auditor',
      DEFLECT_SESSION_HOURS: '0.5',
      DEFLECT_AUTH_FAILURE_LIMIT: '0',
    });
    expect(config.insecureNoAuth).toBe(true);
    expect(config.auth).toEqual({
      proxyHeader: 'x-forwarded-email',
      trustedProxies: ['10.0.0.5', '10.1.0.0/16', '::1'],
      proxyRoles: { 'maya@acme.com': 'admin', 'lead@acme.com': 'operator', '*': 'auditor' },
      sessionTtlMs: 1_800_000,
      failureLimit: 0,
      metricsPublic: false,
    });
  });

  it('lists every bad auth variable at once', () => {
    let message = '';
    try {
      loadConfig({ DEFLECT_INSECURE_NO_AUTH: 'maybe', DEFLECT_SESSION_HOURS: '-1', DEFLECT_AUTH_FAILURE_LIMIT: 'many', DEFLECT_TRUSTED_PROXIES: 'not-an-ip' });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const name of ['DEFLECT_INSECURE_NO_AUTH', 'DEFLECT_SESSION_HOURS', 'DEFLECT_AUTH_FAILURE_LIMIT', 'DEFLECT_TRUSTED_PROXIES']) expect(message).toContain(name);
  });
});
