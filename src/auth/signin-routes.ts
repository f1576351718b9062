/**
 * Signing in to the pages: `GET /signin` (the form), `POST /signin` (a token → a session cookie, 303 to `next`),
 * `POST /signout` (ends the session, clears the cookie, 303 to `/signin`), and `GET /assets/signin.css`.
 *
 * The session is a random 256-bit id in the `deflect_session` cookie (httpOnly, SameSite=Strict, path `/`,
 * Secure when the request came over TLS — directly or through a proxy listed in DEFLECT_TRUSTED_PROXIES); only its
 * SHA-256 is stored, with an expiry of DEFLECT_SESSION_HOURS (table `auth_sessions`). SameSite=Strict is what keeps
 * other sites from making a browser send it (CSRF). A failed sign-in answers 401 and counts toward the failure limit.
 *
 * The form accepts `application/x-www-form-urlencoded` (the page) and JSON (`{ "token", "next" }`; answers JSON).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PACKAGE_ROOT } from '../db/client.js';
import type { Store } from '../db/store.js';
import { errorResponses, errorSchema, htmlResponse, redirectResponse } from '../routes/route-schemas.js';
import { safeNextPath, SESSION_COOKIE } from './auth-plugin.js';
import { generateSessionId, hashSecret } from './secrets.js';

const PAGE_DIR = join(PACKAGE_ROOT, 'src/auth/page');
const signInBody = z.object({ token: z.string().trim().min(1).max(200), next: z.string().max(600).optional() });

export interface SignInRoutesOptions {
  db: Store;
  /** Session lifetime, ms. */
  sessionTtlMs: number;
}

/** The sign-in answers: JSON for a JSON body, the form again (HTML) for a form post. */
const signInFailure = (description: string) => ({ description, content: { 'application/json': { schema: errorSchema }, 'text/html': { schema: z.string().describe('The form again, with the message.') } } });
const signInSchema = {
  tags: ['sign-in'],
  summary: 'Sign in with an API token',
  description:
    'Body: a form (`application/x-www-form-urlencoded`, from the page) or JSON `{ "token", "next" }`. A form post is redirected (303) to `next` ' +
    'with the `deflect_session` cookie set; a JSON post gets the session as JSON. Failures count toward DEFLECT_AUTH_FAILURE_LIMIT.',
  consumes: ['application/json', 'application/x-www-form-urlencoded'],
  response: {
    200: z.object({ name: z.string().describe('The token name.'), role: z.string(), expiresAt: z.string().describe('ISO 8601 time the session ends.') }).describe('Signed in (JSON body): the session cookie is set.'),
    303: redirectResponse('Signed in (form): to `next`, with the session cookie set.'),
    400: signInFailure('No token given.'),
    401: signInFailure('The token is not valid, or it was revoked.'),
    ...errorResponses(413, 415, 429),
  },
};

export async function signInRoutes(instance: FastifyInstance, options: SignInRoutesOptions): Promise<void> {
  const app = instance.withTypeProvider<ZodTypeProvider>();
  // Scoped to this plugin: form bodies are accepted here only (the webhook receiver still answers 415 to them).
  await app.register(fastifyFormbody, { bodyLimit: 4096 });
  const template = readFileSync(join(PAGE_DIR, 'signin.html'), 'utf8');
  const style = readFileSync(join(PAGE_DIR, 'signin.css'), 'utf8');
  // `next` passed safeNextPath (no quotes or markup) and messages are fixed text, so plain substitution is safe.
  const page = (next: string, message: string) => template.replace('{{next}}', next).replace('{{message}}', message);
  const html = (reply: FastifyReply, status: number, body: string) =>
    reply.code(status).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(body);
  const wantsJson = (request: FastifyRequest) => String(request.headers['content-type'] ?? '').startsWith('application/json');

  app.get('/assets/signin.css', { schema: { hide: true } }, async (_request, reply) => reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'no-cache').send(style));

  const next = z.union([z.string(), z.array(z.string())]).optional().describe('Where to go after signing in: a local path (anything else → the report page).');
  app.get(
    '/signin',
    { schema: { tags: ['sign-in'], summary: 'The sign-in form', querystring: z.object({ next }), response: { 200: htmlResponse('The form.') } } },
    async (request, reply) => html(reply, 200, page(safeNextPath(request.query.next), '')),
  );

  app.post('/signin', { bodyLimit: 4096, schema: signInSchema }, async (request, reply) => {
    const parsed = signInBody.safeParse(request.body ?? {});
    const next = safeNextPath(parsed.success ? parsed.data.next : undefined);
    const token = parsed.success ? await options.db.findActiveApiToken(hashSecret(parsed.data.token)) : undefined;
    if (!token) {
      const message = parsed.success ? 'That token is not valid, or it was revoked.' : 'Enter an API token.';
      if (wantsJson(request)) return reply.code(parsed.success ? 401 : 400).send({ message });
      return html(reply, parsed.success ? 401 : 400, page(next, message));
    }
    const id = generateSessionId();
    const expiresAt = Date.now() + options.sessionTtlMs;
    await options.db.createAuthSession({ idHash: hashSecret(id), tokenId: token.id, expiresAt });
    request.log.info({ token: token.name, role: token.role }, 'signed in');
    reply.setCookie(SESSION_COOKIE, id, {
      httpOnly: true,
      sameSite: 'strict',
      secure: request.protocol === 'https',
      path: '/',
      maxAge: Math.floor(options.sessionTtlMs / 1000),
    });
    if (wantsJson(request)) return reply.send({ name: token.name, role: token.role, expiresAt: new Date(expiresAt).toISOString() });
    return reply.redirect(next, 303);
  });

  app.post('/signout', { schema: { tags: ['sign-in'], summary: 'Sign out', description: 'Ends the session the cookie names and clears the cookie.', response: { 303: redirectResponse('To /signin.'), ...errorResponses(429) } } }, async (request, reply) => {
    const id = request.cookies[SESSION_COOKIE];
    if (id && id.length <= 100) await options.db.deleteAuthSession(hashSecret(id));
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: request.protocol === 'https' });
    return reply.redirect('/signin', 303);
  });
}
