/**
 * Managing API tokens over HTTP (admin), the same operations as `deflect tokens`:
 * - `GET /api/tokens` → `{ tokens: [{ name, role, createdAt, lastUsedAt, revokedAt }] }` (ISO times; never tokens or hashes)
 * - `POST /api/tokens` with JSON `{ "name", "role" }` → 201 `{ name, role, token }` (the only time the token is shown);
 *   409 when an active token has the name
 * - `DELETE /api/tokens/:name` → `{ revoked: name }`, 404 when no active token has the name
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DuplicateTokenNameError } from '../db/api-tokens.js';
import type { Store } from '../db/store.js';
import { issueApiToken, listTokens, roleSchema, tokenNameSchema } from '../auth/issue-token.js';
import { ROLES } from '../auth/roles.js';
import { AUTH_ERRORS, AUTHENTICATED, errorResponses } from './route-schemas.js';

const httpError = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode });
const createBody = z
  .object({ name: tokenNameSchema.describe('A name for the token, e.g. `ci-bot`: unique among active tokens.'), role: roleSchema.describe('auditor reads, operator also operates, admin also manages tokens.') })
  .strict();
/** A token as listed: never the token or its hash (the schema is what is serialised, so nothing else can leak). */
const tokenListing = z.object({
  name: z.string(),
  role: z.string().describe(`One of ${ROLES.join(', ')}.`),
  createdAt: z.string().describe('ISO 8601 time.'),
  lastUsedAt: z.string().nullable().describe('ISO 8601 time of its last use (updated at most once a minute), or null.'),
  revokedAt: z.string().nullable().describe('ISO 8601 time it was revoked, or null while active.'),
});
const admin = { tags: ['tokens'], security: AUTHENTICATED };

export async function tokenRoutes(instance: FastifyInstance, options: { db: Store }): Promise<void> {
  const app = instance.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/api/tokens',
    { schema: { ...admin, summary: 'List API tokens', description: 'Every token, oldest first, revoked ones included; never the token or its hash (admin).', response: { 200: z.object({ tokens: z.array(tokenListing) }).describe('Every token.'), ...errorResponses(...AUTH_ERRORS) } } },
    async () => ({ tokens: await listTokens(options.db) }),
  );

  app.post(
    '/api/tokens',
    {
      bodyLimit: 4096,
      schema: {
        ...admin,
        summary: 'Create an API token',
        description: 'Answers the token once: only its SHA-256 is stored (admin).',
        body: createBody,
        response: {
          201: z.object({ name: z.string(), role: roleSchema, token: z.string().describe('The token: shown this once, store it now.') }).describe('Created.'),
          ...errorResponses(400, 409, ...AUTH_ERRORS),
        },
      },
    },
    async (request, reply) => {
      try {
        const issued = await issueApiToken(options.db, request.body.name, request.body.role);
        request.log.info({ token: issued.name, role: issued.role, by: request.identity?.name }, 'API token created');
        return reply.code(201).send(issued);
      } catch (error) {
        if (error instanceof DuplicateTokenNameError) throw httpError(409, error.message);
        throw error;
      }
    },
  );

  app.delete(
    '/api/tokens/:name',
    {
      schema: {
        ...admin,
        summary: 'Revoke an API token',
        description: 'Its sessions end with it (admin).',
        params: z.object({ name: z.string().max(200).describe('The token name.') }),
        response: { 200: z.object({ revoked: z.string().describe('The revoked token name.') }).describe('Revoked.'), ...errorResponses(404, ...AUTH_ERRORS) },
      },
    },
    async (request) => {
      if (!await options.db.revokeApiToken(request.params.name)) throw httpError(404, `no active token named "${request.params.name.slice(0, 64)}"`);
      request.log.info({ token: request.params.name, by: request.identity?.name }, 'API token revoked');
      return { revoked: request.params.name };
    },
  );
}
