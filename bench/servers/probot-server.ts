/**
 * The peer for the ingest scenario: a Probot 14 app receiving GitHub webhooks through Probot's documented Node
 * middleware (`createNodeMiddleware`) on a plain `node:http` server. The app registers a no-op handler for
 * `issues.labeled`; logging is off (a pino logger at level `silent`). Probot verifies `X-Hub-Signature-256`,
 * parses the JSON and runs the handler before answering 200, like deflect verifies before it answers.
 * (Probot's own `Server` class cannot listen on a chosen free port of 0 and adds request logging, so the
 * middleware is the lighter, fairer setup.)
 *
 *   PORT=4001 WEBHOOK_SECRET=s node --import tsx bench/servers/probot-server.ts
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import { pino } from 'pino';
import { createNodeMiddleware, Probot } from 'probot';

// A throwaway app key: no call to GitHub is made, but Probot requires app credentials to start.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
const probot = new Probot({ appId: 123, privateKey, secret: process.env.WEBHOOK_SECRET ?? 'development', log: pino({ level: 'silent' }) });
const middleware = await createNodeMiddleware(
  (app) => {
    app.on('issues.labeled', async () => {});
  },
  { probot },
);

const server = createServer((req, res) => {
  void middleware(req, res, () => {
    res.writeHead(req.url === '/' ? 200 : 404).end();
  });
});
server.listen(Number(process.env.PORT ?? 4001), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
