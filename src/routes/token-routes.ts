/**
 * Managing API tokens over HTTP (admin), the same operations as `deflect tokens`:
 * - `GET /api/tokens` → `{ tokens: [{ name, role, createdAt, lastUsedAt, revokedAt }] }` (ISO times; never tokens or hashes)
 * - `POST /api/tokens` with JSON `{ "name", "role" }` → 201 `{ name, role, token }` (the only time the token is shown);
 *   409 when an active token has the name
 * - `DELETE /api/tokens/:name` → `{ revoked: name }`, 404 when no active token has the name
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DuplicateTokenNameError, revokeApiToken } from '../db/api-tokens.js';
import type { Db } from '../db/client.js';
import { issueApiToken, listTokens, roleSchema, tokenNameSchema } from '../auth/issue-token.js';

const httpError = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode });
const createBody = z.object({ name: tokenNameSchema, role: roleSchema }).strict();

export async function tokenRoutes(app: FastifyInstance, options: { db: Db }): Promise<void> {
  app.get('/api/tokens', async () => ({ tokens: listTokens(options.db) }));

  app.post('/api/tokens', { bodyLimit: 4096 }, async (request, reply) => {
    const body = createBody.safeParse(request.body ?? {});
    if (!body.success) throw httpError(400, `invalid body: ${body.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
    try {
      const issued = issueApiToken(options.db, body.data.name, body.data.role);
      request.log.info({ token: issued.name, role: issued.role, by: request.identity?.name }, 'API token created');
      return reply.code(201).send(issued);
    } catch (error) {
      if (error instanceof DuplicateTokenNameError) throw httpError(409, error.message);
      throw error;
    }
  });

  app.delete<{ Params: { name: string } }>('/api/tokens/:name', async (request) => {
    if (!revokeApiToken(options.db, request.params.name)) throw httpError(404, `no active token named "${request.params.name.slice(0, 64)}"`);
    request.log.info({ token: request.params.name, by: request.identity?.name }, 'API token revoked');
    return { revoked: request.params.name };
  });
}
