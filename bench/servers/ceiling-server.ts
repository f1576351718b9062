/**
 * The ceiling for the ingest scenario: a bare Fastify 5 server with one route, `POST /webhooks/jira`, that parses
 * the JSON body (Fastify's default parser) and answers 202 with no body. No signature check, no storage, no logging:
 * what the machine can do with this framework and this payload, and nothing else.
 *
 *   PORT=4000 node --import tsx bench/servers/ceiling-server.ts
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 5 * 1024 * 1024 });
app.post('/webhooks/jira', async (_request, reply) => reply.code(202).send());
app.get('/', async () => ({ status: 'ok' }));
await app.listen({ port: Number(process.env.PORT ?? 4000), host: process.env.HOST ?? '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
