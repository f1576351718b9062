/**
 * Reading a webhook body: a Fastify content-type parser that authenticates and depth-scans the bytes as they stream
 * in (the tracker adapter's `createVerifier`, `DepthScan`), instead of buffering the whole body first. A body that fails
 * authentication is never concatenated, so a refused 5 MB body costs 64 KB-sized HMAC steps spread over its arrival,
 * not one long block of the event loop. A body nesting deeper than {@link MAX_JSON_DEPTH} is refused (400) the moment
 * the scan trips, without reading the rest: no JSON of that shape can be a Jira event, whoever signed it.
 * The body limit is enforced as Fastify's own buffering parser does: a `Content-Length` over the limit is refused
 * before reading, and reading stops once more bytes than the limit arrived (413, `FST_ERR_CTP_BODY_TOO_LARGE`;
 * Fastify then closes the connection).
 */
import { errorCodes, type FastifyRequest } from 'fastify';
import type { AuthResult, BodyVerifier } from '../trackers/tracker.js';
import { DepthScan, MAX_JSON_DEPTH } from './safe-json.js';

/** What the route handler gets as `request.body`. */
export interface ReceivedBody {
  /** The raw bytes, or null when authentication failed. */
  raw: Buffer | null;
  auth: AuthResult;
}

/** A body nesting too deep: answered 400 with this message (the connection is then closed). */
export class TooDeepError extends Error {
  readonly statusCode = 400;
  constructor(at: number) {
    super(`JSON nested deeper than ${MAX_JSON_DEPTH} levels (at byte ${at}): not a Jira webhook`);
    this.name = 'TooDeepError';
  }
}

/**
 * A Fastify content-type parser (raw stream form) for webhook bodies.
 * @param limitBytes largest body accepted (DEFLECT_BODY_LIMIT).
 * @param createVerifier starts authenticating a body from the request headers (the tracker adapter's, bound to the configured secrets and tokens).
 */
export function receiveBodyParser(limitBytes: number, verifierFor: (request: FastifyRequest) => BodyVerifier) {
  return (request: FastifyRequest, payload: NodeJS.ReadableStream & { receivedEncodedLength?: number }, done: (err: Error | null, body?: ReceivedBody) => void): void => {
    const declared = Number(request.headers['content-length']);
    if (declared > limitBytes) return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    const verifier = verifierFor(request);
    const depth = new DepthScan(MAX_JSON_DEPTH);
    const chunks: Buffer[] = [];
    let received = 0;
    let keep = verifier.early === null || verifier.early.ok;

    const stop = () => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onEnd);
    };
    function onData(chunk: Buffer | string) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      received += bytes.length;
      if (received > limitBytes || (payload.receivedEncodedLength ?? 0) > limitBytes) {
        stop();
        chunks.length = 0;
        return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      }
      if (!keep) return;
      depth.push(bytes);
      if (depth.tooDeepAt >= 0) {
        stop();
        chunks.length = 0;
        return done(new TooDeepError(depth.tooDeepAt));
      }
      verifier.update(bytes);
      chunks.push(bytes);
    }
    function onEnd(error?: Error & { statusCode?: number }) {
      stop();
      if (error) {
        if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) error.statusCode = 400;
        return done(error);
      }
      if (!Number.isNaN(declared) && received !== declared) return done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
      const auth = verifier.finish();
      const raw = auth.ok ? Buffer.concat(chunks, received) : null;
      chunks.length = 0;
      done(null, { raw, auth });
    }
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onEnd);
    payload.resume();
  };
}
