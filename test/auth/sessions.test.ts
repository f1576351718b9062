/**
 * Signing in to the pages on the real server (loopback socket, a real database of the pass's backend): the sign-in form, the session cookie and
 * its flags, what is stored (hashes only), sign-out, expiry, revocation, `next` that cannot leave the site, and the
 * Secure flag behind a trusted TLS proxy.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestToken } from '../support/api-token.js';
import { startDeflect, type DeflectUnderTest } from '../support/deflect-under-test.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const form = (fields: Record<string, string>) => ({
  method: 'POST',
  redirect: 'manual' as const,
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});
const sessionOf = (response: Response) => /deflect_session=([^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1];

describe('sign-in sessions', () => {
  let deflect: DeflectUnderTest;
  let behindProxy: DeflectUnderTest;
  beforeAll(async () => {
    deflect = await startDeflect({ env: { DEFLECT_SESSION_HOURS: '2' } });
    behindProxy = await startDeflect({ env: { DEFLECT_TRUSTED_PROXIES: '127.0.0.1' } });
  });
  afterAll(async () => {
    await deflect?.close();
    await behindProxy?.close();
  });

  it('redirects a page without a session to the sign-in form, which is served under a strict CSP', async () => {
    const page = await fetch(`${deflect.url}/reports/top-tickets?since=90d`, { redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/signin?next=%2Freports%2Ftop-tickets%3Fsince%3D90d');
    const signin = await fetch(`${deflect.url}/signin?next=%2Freports%2Ftop-tickets%3Fsince%3D90d`);
    expect(signin.status).toBe(200);
    const html = await signin.text();
    expect(html).toContain('<form method="post" action="/signin">');
    expect(html).toContain('name="next" value="/reports/top-tickets?since=90d"');
    expect(signin.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(signin.headers.get('x-frame-options')).toBe('DENY');
  });

  it('refuses a bad token with 401 and the form again, and sets no cookie', async () => {
    const answer = await fetch(`${deflect.url}/signin`, form({ token: 'dfl_wrong', next: '/reports/top-tickets' }));
    expect(answer.status).toBe(401);
    expect(await answer.text()).toContain('That token is not valid, or it was revoked.');
    expect(answer.headers.get('set-cookie')).toBeNull();
  });

  it('signs in with a token: an httpOnly, SameSite=Strict session cookie (no Secure over plain http), stored hashed', async () => {
    const token = await createTestToken(deflect.db, 'auditor', 'page-reader');
    const answer = await fetch(`${deflect.url}/signin`, form({ token, next: '/reports/top-tickets?since=all' }));
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/reports/top-tickets?since=all');
    const cookie = answer.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).toMatch(/Max-Age=7200/);
    expect(cookie).not.toMatch(/Secure/i);
    const session = sessionOf(answer)!;
    expect(session).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const headers = { cookie: `deflect_session=${session}` };
    expect((await fetch(`${deflect.url}/reports/top-tickets`, { headers })).status).toBe(200);
    expect((await fetch(`${deflect.url}/api/runs`, { headers })).status).toBe(200);
    // An auditor's session cannot operate.
    const pause = await fetch(`${deflect.url}/api/handlers/grant-repo-access/pause`, { method: 'POST', headers });
    expect(pause.status).toBe(403);

    const sessions = await deflect.database.all<{ idHash: string; expiresAt: number }>('SELECT id_hash AS "idHash", expires_at AS "expiresAt" FROM auth_sessions');
    expect(sessions.map((s) => s.idHash)).toContain(sha256(session));
    const dump = JSON.stringify([sessions, await deflect.database.all('SELECT * FROM api_tokens')]);
    expect(dump).not.toContain(session);
    expect(dump).not.toContain(token);
    expect(dump).toContain(sha256(token));
  });

  it('ends the session on sign-out, on expiry and when its token is revoked', async () => {
    const token = await createTestToken(deflect.db, 'operator', 'page-operator');
    const open = async () => sessionOf(await fetch(`${deflect.url}/signin`, form({ token })))!;
    const runs = (session: string) => fetch(`${deflect.url}/api/runs`, { headers: { cookie: `deflect_session=${session}` } });

    const a = await open();
    const out = await fetch(`${deflect.url}/signout`, { method: 'POST', redirect: 'manual', headers: { cookie: `deflect_session=${a}` } });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/signin');
    expect(out.headers.get('set-cookie')).toMatch(/deflect_session=;.*Expires=Thu, 01 Jan 1970/);
    expect((await runs(a)).status).toBe(401);

    const b = await open();
    expect((await runs(b)).status).toBe(200);
    await deflect.database.run('UPDATE auth_sessions SET expires_at = ? WHERE id_hash = ?', Date.now() - 1, sha256(b));
    const expired = await runs(b);
    expect(expired.status).toBe(401);
    expect((await expired.json()).message).toMatch(/session expired/);

    const c = await open();
    expect((await runs(c)).status).toBe(200);
    expect(await deflect.db.revokeApiToken('page-operator')).toBe(true);
    expect((await runs(c)).status).toBe(401);
    expect(await deflect.database.get('SELECT count(*) AS n FROM auth_sessions WHERE id_hash = ?', sha256(c))).toEqual({ n: 0 });
  });

  it('never redirects off the site after signing in', async () => {
    const token = await createTestToken(deflect.db, 'auditor');
    for (const next of ['//evil.example/x', 'https://evil.example/', '/"><script>alert(1)</script>', 'javascript:alert(1)']) {
      const answer = await fetch(`${deflect.url}/signin`, form({ token, next }));
      expect(answer.headers.get('location'), next).toBe('/reports/top-tickets');
    }
    const html = await (await fetch(`${deflect.url}/signin?next=${encodeURIComponent('/"><script>alert(1)</script>')}`)).text();
    expect(html).not.toContain('<script>');
  });

  it('marks the cookie Secure when a trusted proxy says the request came over TLS, and not when anyone else says so', async () => {
    const token = await createTestToken(behindProxy.db, 'auditor');
    const viaProxy = await fetch(`${behindProxy.url}/signin`, { ...form({ token }), headers: { ...form({}).headers, 'x-forwarded-proto': 'https' } });
    expect(viaProxy.headers.get('set-cookie')).toMatch(/; Secure/i);
    const spoofed = await fetch(`${deflect.url}/signin`, { ...form({ token: await createTestToken(deflect.db, 'auditor') }), headers: { ...form({}).headers, 'x-forwarded-proto': 'https' } });
    expect(spoofed.status).toBe(303);
    expect(spoofed.headers.get('set-cookie')).not.toMatch(/Secure/i);
  });
});
