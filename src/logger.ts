/**
 * The pino logger. JSON lines on stdout; `pino-pretty` can be piped for humans (`deflect serve | npx pino-pretty`).
 * Secrets in headers are redacted.
 */
import pino, { type Logger } from 'pino';

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'deflect' },
      redact: ['req.headers.authorization', 'req.headers["x-hub-signature"]', 'req.headers["x-deflect-token"]', 'req.headers["x-trello-webhook"]'],
    },
    destination,
  );
}
