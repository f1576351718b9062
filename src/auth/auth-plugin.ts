/**
 * Authentication and authorization for every route, installed on the root instance by `buildApp` before any route.
 *
 * - Each route's access level comes from ROUTE_ACCESS (src/auth/route-access.ts); an `onRoute` hook throws
 *   MissingRouteAccessError for a route without a row, so the app refuses to start.
 * - A protected route authenticates in `onRequest` (before the body is read) with the first credential that works:
 *   `Authorization: Bearer <token>` (@fastify/bearer-auth, RFC 6750 §2.1), the `deflect_session` cookie
 *   (@fastify/cookie; opened at `/signin`), or the identity header of a trusted SSO proxy
 *   (`DEFLECT_TRUSTED_PROXY_AUTH`, only from `DEFLECT_TRUSTED_PROXIES`), composed with @fastify/auth. No valid
 *   credential → 401 (pages: 303 to `/signin`); a role below the route's → 403; both `{ message }`.
 * - Failed authentications (every 401, webhooks included) are counted per client address with
 *   @fastify/rate-limit (`createRateLimit`, counted only on failure); past `DEFLECT_AUTH_FAILURE_LIMIT` in a minute the
 *   address gets 429 with `Retry-After` on every route but the public GET ones until the minute is over.
 * - helmet (the library behind @fastify/helmet) sets the security headers, with a Content-Security-Policy that allows only deflect's own
 *   scripts, styles and connections (the report page's local Chart.js works under it).
 *
 * Tokens, session ids and identity headers are never logged; only the token's name is (`request.identity`).
 */
import fastifyAuth from '@fastify/auth';
import fastifyBearerAuth from '@fastify/bearer-auth';
import fastifyCookie from '@fastify/cookie';
import helmet from 'helmet';
import proxyAddr from '@fastify/proxy-addr';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { AuthConfig } from '../config.js';
import { type ApiTokenInfo } from '../db/api-tokens.js';
import type { Store } from '../db/store.js';
import { roleAllows, isRole, type Role } from './roles.js';
import { requiredRole, routeAccess, type RouteAccess } from './route-access.js';
import { hashSecret } from './secrets.js';

/** Name of the sign-in session cookie. */
export const SESSION_COOKIE = 'deflect_session';

/** Who made a request: a token's name (API or session) or a proxied identity; `role` null = no role granted. */
export interface Identity {
  name: string;
  role: Role | null;
  via: 'token' | 'session' | 'proxy';
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once a protected route's authentication succeeded; null on public and webhook routes. */
    identity: Identity | null;
    /** Why the credential that was presented did not authenticate (for the 401 message). */
    authProblem: string | null;
  }
  interface FastifyContextConfig {
    /** The route's row in ROUTE_ACCESS, set by the onRoute hook. */
    access?: RouteAccess;
  }
}

/** An authentication (401) or authorization (403) refusal; `signIn` = redirect a page to `/signin` instead. */
export class AuthError extends Error {
  constructor(
    readonly statusCode: 401 | 403,
    message: string,
    readonly signIn: string | null = null,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

export interface AuthOptions {
  db: Store;
  auth: AuthConfig;
}

/** The policy of every page (and the default for every answer): only deflect's own resources. */
export const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

const NO_CREDENTIAL = 'authentication required: send Authorization: Bearer <token> (create one with deflect tokens create) or sign in at /signin';

/** A safe place to return to after signing in: a local path without quotes or markup; else the report page. */
export function safeNextPath(next: unknown): string {
  return typeof next === 'string' && /^\/(?!\/)[A-Za-z0-9/_.~%?=&+-]{0,500}$/.test(next) ? next : '/reports/top-tickets';
}

/** Registers the plugins and hooks described above on `app` (the root instance). Call before registering routes. */
export async function installAuth(app: FastifyInstance, options: AuthOptions): Promise<void> {
  const { db, auth } = options;
  // The middleware is built once: @fastify/helmet 13 rebuilds it (and re-parses the CSP) on every request, which in
  // the receiver fuzz test grew the server's RSS by ~60 MiB over 10,000 requests against ~25 MiB without it.
  const securityHeaders = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    // HSTS only means something over TLS; browsers ignore it on plain http (local trials).
    strictTransportSecurity: { maxAge: 15_552_000, includeSubDomains: false },
    // The pages are never framed (CSP frame-ancestors 'none'; X-Frame-Options for older browsers).
    xFrameOptions: { action: 'deny' },
  });
  // Not on the webhook routes: their answers are read by Jira, not a browser, and they are the receiver's hot path.
  app.addHook('onRequest', (request, reply, done) => {
    if ((request.routeOptions.config as { access?: string }).access === 'webhook') return done();
    securityHeaders(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined));
  });
  await app.register(fastifyCookie);
  await app.register(fastifyRateLimit, { global: false });
  await app.register(fastifyAuth);
  app.decorateRequest('identity', null);
  app.decorateRequest('authProblem', null);

  const asIdentity = async (request: FastifyRequest, token: ApiTokenInfo, via: Identity['via']): Promise<void> => {
    request.identity = { name: token.name, role: isRole(token.role) ? token.role : null, via };
    await db.touchApiToken(token);
  };

  await app.register(fastifyBearerAuth, {
    addHook: false,
    keys: [],
    verifyErrorLogLevel: 'debug',
    // Looked up by SHA-256: no secret is compared, and the token is never stored or logged.
    auth: async (key: string, request: FastifyRequest) => {
      const token = key.length <= 200 ? await db.findActiveApiToken(hashSecret(key)) : undefined;
      if (!token) {
        request.authProblem = 'invalid or revoked API token (deflect tokens list shows the active ones)';
        return false;
      }
      await asIdentity(request, token, 'token');
      return true;
    },
  });

  const fromSession = async (request: FastifyRequest) => {
    const id = request.cookies[SESSION_COOKIE];
    if (!id) throw new AuthError(401, NO_CREDENTIAL);
    const token = id.length <= 100 ? await db.findSessionToken(hashSecret(id)) : undefined;
    if (!token) {
      request.authProblem ??= 'session expired, signed out or its token revoked: sign in again at /signin';
      throw new AuthError(401, request.authProblem);
    }
    await asIdentity(request, token, 'session');
  };

  const trustedPeer = proxyAddr.compile(auth.trustedProxies);
  const fromProxy = async (request: FastifyRequest) => {
    const header = auth.proxyHeader;
    const value = header ? request.headers[header] : undefined;
    if (typeof value !== 'string' || !value.trim()) throw new AuthError(401, NO_CREDENTIAL);
    // The direct peer must be a configured proxy; anyone else could set the header themselves.
    if (!trustedPeer(request.socket.remoteAddress ?? '', 0)) {
      request.log.warn({ peer: request.socket.remoteAddress }, `ignored ${header} from an address not in DEFLECT_TRUSTED_PROXIES`);
      throw new AuthError(401, NO_CREDENTIAL);
    }
    const who = value.trim().toLowerCase().slice(0, 320);
    request.identity = { name: who, role: auth.proxyRoles[who] ?? auth.proxyRoles['*'] ?? null, via: 'proxy' };
  };

  const refuse = (page: boolean) => async (request: FastifyRequest) => {
    const message = request.authProblem ?? NO_CREDENTIAL;
    throw new AuthError(401, message, page ? `/signin?next=${encodeURIComponent(safeNextPath(request.url))}` : null);
  };

  const requireRole = (needed: Role) => async (request: FastifyRequest) => {
    const who = request.identity!;
    if (!who.role) throw new AuthError(403, `${who.name} has no deflect role: add it to DEFLECT_PROXY_ROLES (e.g. ${who.name}=auditor)`);
    if (!roleAllows(who.role, needed)) {
      throw new AuthError(403, `the ${needed} role is required; ${who.via === 'proxy' ? '' : 'token '}"${who.name}" has the ${who.role} role`);
    }
  };

  const failures =
    auth.failureLimit > 0 ? app.createRateLimit({ max: auth.failureLimit, timeWindow: 60_000 }) : null;

  /** 429 for an address past its failure budget; peeks without counting (failures are counted in onResponse). */
  const refuseWhenLimited = async (request: FastifyRequest, reply: FastifyReply) => {
    const status = await failures!(request, { increment: false });
    if (status.isAllowed || status.remaining > 0 || status.ttl <= 0) return;
    return reply
      .code(429)
      .header('retry-after', String(status.ttlInSeconds))
      .send({
        statusCode: 429,
        error: 'Too Many Requests',
        message: `too many failed authentication attempts from this address (${status.max} a minute): retry in ${status.ttlInSeconds} s`,
      });
  };

  app.addHook('onRoute', (route) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).map(String);
    const levels = new Set(methods.map((method) => routeAccess(method, route.url, { metricsPublic: auth.metricsPublic })));
    if (levels.size > 1) throw new Error(`route ${route.url} is registered for ${methods.join(', ')} with different access levels: register them separately`);
    const access = [...levels][0];
    route.config = { ...(route.config ?? {}), access } as typeof route.config;
    const hooks: onRequestHookHandler[] = [];
    const readOnlyPublic = access === 'public' && methods.every((m) => m === 'GET' || m === 'HEAD');
    if (failures && !readOnlyPublic) hooks.push(refuseWhenLimited as onRequestHookHandler);
    const needed = requiredRole(access);
    if (needed) {
      hooks.push(app.auth([[app.verifyBearerAuth!, fromSession, fromProxy, refuse(needed.page)], requireRole(needed.role)], { relation: 'and' }) as onRequestHookHandler);
    }
    const existing = route.onRequest ? (Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]) : [];
    route.onRequest = [...hooks, ...existing];
  });

  if (failures) {
    app.addHook('onResponse', async (request, reply) => {
      if (reply.statusCode === 401) await failures(request);
    });
  }
}
