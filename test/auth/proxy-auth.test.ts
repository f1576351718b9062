/**
 * An SSO proxy's identity header (oauth2-proxy's X-Forwarded-Email) on the real server: trusted only when the request
 * comes from an address in DEFLECT_TRUSTED_PROXIES, with the role DEFLECT_PROXY_ROLES gives the identity.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startDeflect, type DeflectUnderTest } from '../support/deflect-under-test.js';

const as = (email: string) => ({ 'x-forwarded-email': email });

describe('trusted proxy identity header', () => {
  let trusted: DeflectUnderTest;
  let untrusted: DeflectUnderTest;
  let noFallback: DeflectUnderTest;
  beforeAll(async () => {
    const proxyEnv = { DEFLECT_TRUSTED_PROXY_AUTH: 'X-Forwarded-Email', DEFLECT_PROXY_ROLES: 'Lead@Acme.test=operator,*=auditor' };
    // The tests connect from 127.0.0.1: a proxy there is trusted; one at 10.20.30.40 is not us.
    trusted = await startDeflect({ env: { ...proxyEnv, DEFLECT_TRUSTED_PROXIES: '127.0.0.1/32' } });
    untrusted = await startDeflect({ env: { ...proxyEnv, DEFLECT_TRUSTED_PROXIES: '10.20.30.40' } });
    noFallback = await startDeflect({ env: { DEFLECT_TRUSTED_PROXY_AUTH: 'X-Forwarded-Email', DEFLECT_TRUSTED_PROXIES: '127.0.0.1', DEFLECT_PROXY_ROLES: 'lead@acme.test=admin' } });
  });
  afterAll(async () => {
    await Promise.all([trusted?.close(), untrusted?.close(), noFallback?.close()]);
  });

  it('gives a proxied identity its listed role, and everyone else the * role', async () => {
    expect((await fetch(`${trusted.url}/api/runs`, { headers: as('dev@acme.test') })).status).toBe(200);
    expect((await fetch(`${trusted.url}/reports/top-tickets`, { headers: as('dev@acme.test'), redirect: 'manual' })).status).toBe(200);
    const devPause = await fetch(`${trusted.url}/api/handlers/grant-repo-access/pause`, { method: 'POST', headers: as('dev@acme.test') });
    expect(devPause.status).toBe(403);
    expect((await devPause.json()).message).toBe('the operator role is required; "dev@acme.test" has the auditor role');
    // Identities compare case-insensitively (e-mail addresses as proxies send them).
    const leadPause = await fetch(`${trusted.url}/api/handlers/grant-repo-access/pause`, { method: 'POST', headers: as('lead@ACME.test') });
    expect(leadPause.status).toBe(200);
    expect(await leadPause.json()).toEqual({ handler: 'grant-repo-access', state: 'paused', changed: true });
    expect((await fetch(`${trusted.url}/api/tokens`, { headers: as('lead@acme.test') })).status).toBe(403);
  });

  it('ignores the header from an address that is not a configured proxy', async () => {
    const answer = await fetch(`${untrusted.url}/api/runs`, { headers: as('lead@acme.test') });
    expect(answer.status).toBe(401);
    expect((await answer.json()).message).toMatch(/authentication required/);
    expect((await fetch(`${untrusted.url}/reports/top-tickets`, { headers: as('lead@acme.test'), redirect: 'manual' })).status).toBe(303);
  });

  it('answers 403 for an identity with no role when there is no * entry', async () => {
    const answer = await fetch(`${noFallback.url}/api/runs`, { headers: as('stranger@elsewhere.test') });
    expect(answer.status).toBe(403);
    expect((await answer.json()).message).toBe('stranger@elsewhere.test has no deflect role: add it to DEFLECT_PROXY_ROLES (e.g. stranger@elsewhere.test=auditor)');
    expect((await fetch(`${noFallback.url}/api/tokens`, { headers: as('lead@acme.test') })).status).toBe(200);
  });

  it('refuses a proxy header without proxy addresses, bad addresses and bad role entries at start-up', () => {
    expect(() => loadConfig({ DEFLECT_TRUSTED_PROXY_AUTH: 'X-Forwarded-Email' })).toThrow(/DEFLECT_TRUSTED_PROXIES: required when DEFLECT_TRUSTED_PROXY_AUTH is set/);
    expect(() => loadConfig({ DEFLECT_TRUSTED_PROXIES: '10.0.0.0/99' })).toThrow(ConfigError);
    expect(() => loadConfig({ DEFLECT_PROXY_ROLES: 'alice@acme.test=root' })).toThrow(/DEFLECT_PROXY_ROLES: "alice@acme.test=root": use identity=role/);
    expect(() => loadConfig({ DEFLECT_TRUSTED_PROXY_AUTH: 'X Forwarded', DEFLECT_TRUSTED_PROXIES: '127.0.0.1' })).toThrow(/must be a header name/);
  });
});
