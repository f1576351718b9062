/**
 * What the fake servers (fake Jira, fake GitHub) share: reading and recording a request, and injecting faults.
 * Both are real HTTP servers on loopback; only the routes and error shapes differ.
 */
import type { IncomingHttpHeaders, IncomingMessage, Server } from 'node:http';

/** One request as a fake received it. `receivedAt` is `Date.now()` in ms; `body` is parsed JSON or null. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: unknown;
  rawBody: string;
  receivedAt: number;
}

/** What `setFault` may return for a request: an answer, a delay before the normal answer, or a connection reset. */
export type Fault =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  | { delayMs: number }
  | { reset: true };

/** Reads the whole body and records the request; `badJson` is true when a non-empty body is not JSON. */
export async function recordRequest(request: IncomingMessage): Promise<{ recorded: RecordedRequest; badJson: boolean }> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const rawBody = Buffer.concat(chunks).toString('utf8');
  const url = new URL(request.url ?? '/', 'http://fake.invalid');
  let body: unknown = null;
  let badJson = false;
  if (rawBody.length > 0) {
    try {
      body = JSON.parse(rawBody);
    } catch {
      badJson = true;
    }
  }
  const recorded: RecordedRequest = {
    method: request.method ?? 'GET',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: request.headers,
    body,
    rawBody,
    receivedAt: Date.now(),
  };
  return { recorded, badJson };
}

/**
 * Applies an injected fault. Returns true when the fault answered (or reset) the request; after a delay it returns
 * false so the normal answer follows. Delay timers are kept in `timers` so `close()` can clear them.
 */
export async function applyFault(
  fault: Fault | undefined,
  request: IncomingMessage,
  send: (status: number, payload: unknown, headers?: Record<string, string>) => void,
  timers: Set<NodeJS.Timeout>,
  defaultBody: (status: number) => unknown,
): Promise<boolean> {
  if (!fault) return false;
  if ('reset' in fault) {
    request.socket.destroy();
    return true;
  }
  if ('status' in fault) {
    send(fault.status, fault.body ?? defaultBody(fault.status), fault.headers);
    return true;
  }
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => (timers.delete(timer), resolve()), fault.delayMs);
    timers.add(timer);
  });
  return false;
}

/** Stops a fake server: clears pending fault delays, drops open connections, and waits for it to close. */
export async function closeFakeServer(server: Server, timers: Set<NodeJS.Timeout>): Promise<void> {
  for (const timer of timers) clearTimeout(timer);
  timers.clear();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
