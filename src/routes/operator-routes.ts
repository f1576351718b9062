/**
 * Operating deflect over HTTP, so a lead never needs a shell on the host (the same database functions as
 * `deflect handlers` and `deflect runs retry`):
 * - `GET /api/handlers` (auditor) → `{ handlers: [{ name, state: 'active'|'paused', consecutiveFailures, pausedAt, pausedReason,
 *   runs, resolved, verifiedResolved, pending, reopened, refiled, overridden, resolvedRate, verifiedRate, feedback, mode,
 *   demoted }] }` (verified resolution: `automation/handler-verification.ts`)
 * - `POST /api/handlers/:name/live` (operator) → `{ handler, mode: 'live', changed }`: puts a handler deflect demoted to
 *   shadow back live (recorded in the audit with the caller's name); `changed` false when it was not demoted.
 * - `POST /api/handlers/:name/pause` (operator), optional JSON `{ "reason" }` → `{ handler, state: 'paused', changed }`
 * - `POST /api/handlers/:name/resume` (operator) → `{ handler, state: 'active', changed }`
 * - `GET /api/handlers/kill-switch` (auditor) → `{ state: 'active'|'paused'|'partial', paused: [names], total,
 *   canOperate }`: the report page's kill-switch panel (`canOperate`: the caller's role may press it);
 * - `POST /api/handlers/pause-all` (operator), optional JSON `{ "reason" }` → `{ state: 'paused', changed: [names],
 *   unchanged: [names] }`: the kill switch (src/automation/kill-switch.ts); runs wait in the queue;
 * - `POST /api/handlers/resume-all` (operator) → `{ state: 'active', changed, unchanged }`;
 * - `POST /api/runs/:id/retry` (operator) → `{ run, status: 'queued', was, handlerPaused }`; 404 for an unknown run,
 *   409 for a run that is not failed or dead.
 * - `POST /api/deliveries/:id/replay` (operator) → `{ delivery, replayOf }` (202): stores a replay of a stored delivery
 *   through deflect's own trusted replay path (`replayStoredDelivery`); 404 for an unknown delivery, 410 when its
 *   body was pruned by retention.
 * Roles are enforced by src/auth (ROUTE_ACCESS); each change is logged with the caller's name.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { assertInstalledHandler, UnknownHandlerError } from '../automation/handler-health.js';
import { restoreHandlerLive } from '../automation/demotion.js';
import { listHandlerVerification } from '../automation/handler-verification.js';
import type { Rule } from '../rules/rules-file.js';
import { killSwitchState, pauseAllHandlers, resumeAllHandlers } from '../automation/kill-switch.js';
import { roleAllows } from '../auth/roles.js';
import { listPausedHandlers, pauseHandler, resumeHandler } from '../db/handler-states.js';
import { findRun, retryRun } from '../db/runs.js';
import { DeliveryNotFoundError, DeliveryPrunedError, replayStoredDelivery } from '../webhooks/replay-delivery.js';

export interface OperatorRoutesOptions {
  db: Db;
  /** Wakes the worker so a resumed handler or a retried run runs now rather than at the next poll. */
  wakeWorker?: () => void;
  /** The rules in force (live reload), for each handler's `mode`; absent = none. */
  rules?: () => readonly Rule[];
}

const httpError = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode });
const pauseBody = z.object({ reason: z.string().trim().min(1).max(500).optional() }).strict();

/** @throws 404 naming the installed handlers when `name` is not one of them. */
function checkHandler(name: string): void {
  try {
    assertInstalledHandler(name);
  } catch (error) {
    throw error instanceof UnknownHandlerError ? httpError(404, error.message) : error;
  }
}

const caller = (request: FastifyRequest) => request.identity?.name ?? 'unknown';

export async function operatorRoutes(app: FastifyInstance, options: OperatorRoutesOptions): Promise<void> {
  const { db } = options;

  app.get('/api/handlers', async () => ({ handlers: listHandlerVerification(db, options.rules?.() ?? []) }));

  app.post<{ Params: { name: string } }>('/api/handlers/:name/live', async (request) => {
    checkHandler(request.params.name);
    const changed = restoreHandlerLive(db, request.params.name, `${caller(request)} over the API`);
    request.log.warn({ handler: request.params.name, by: caller(request), changed }, 'demoted handler put back live over the API');
    return { handler: request.params.name, mode: 'live', changed };
  });

  const parsePauseBody = (body: unknown) => {
    const parsed = pauseBody.safeParse(body ?? {});
    if (!parsed.success) throw httpError(400, `invalid body: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
    return parsed.data;
  };

  app.get('/api/handlers/kill-switch', async (request) => {
    const role = request.identity?.role ?? null;
    return { ...killSwitchState(db), canOperate: role !== null && roleAllows(role, 'operator') };
  });

  app.post('/api/handlers/pause-all', { bodyLimit: 4096 }, async (request) => {
    const reason = parsePauseBody(request.body).reason ?? `kill switch: every handler paused by ${caller(request)} over the API`;
    const result = pauseAllHandlers(db, reason);
    request.log.warn({ by: caller(request), paused: result.changed }, 'kill switch: every handler paused over the API');
    return { state: 'paused', ...result };
  });

  app.post('/api/handlers/resume-all', async (request) => {
    const result = resumeAllHandlers(db);
    request.log.warn({ by: caller(request), resumed: result.changed }, 'kill switch: every handler resumed over the API');
    if (result.changed.length > 0) options.wakeWorker?.();
    return { state: 'active', ...result };
  });

  app.post<{ Params: { name: string } }>('/api/handlers/:name/pause', { bodyLimit: 4096 }, async (request) => {
    checkHandler(request.params.name);
    const reason = parsePauseBody(request.body).reason ?? `paused by ${caller(request)} over the API`;
    const changed = pauseHandler(db, request.params.name, reason);
    request.log.info({ handler: request.params.name, by: caller(request), changed }, 'handler paused over the API');
    return { handler: request.params.name, state: 'paused', changed };
  });

  app.post<{ Params: { name: string } }>('/api/handlers/:name/resume', async (request) => {
    checkHandler(request.params.name);
    const changed = resumeHandler(db, request.params.name);
    request.log.info({ handler: request.params.name, by: caller(request), changed }, 'handler resumed over the API');
    if (changed) options.wakeWorker?.();
    return { handler: request.params.name, state: 'active', changed };
  });

  app.post<{ Params: { id: string } }>('/api/runs/:id/retry', async (request) => {
    const id = Number(request.params.id);
    if (!/^\d{1,15}$/.test(request.params.id) || id < 1) throw httpError(400, `invalid run id "${request.params.id.slice(0, 30)}": use the number shown by deflect audit`);
    const run = findRun(db, id);
    if (!run) throw httpError(404, `no run #${id}`);
    if (!retryRun(db, id)) {
      throw httpError(409, `run #${id} is ${run.status}; only failed or dead runs can be retried (replay its delivery ${run.deliveryId} instead)`);
    }
    request.log.info({ run: id, by: caller(request) }, 'run re-queued over the API');
    options.wakeWorker?.();
    return { run: id, status: 'queued', was: run.status, handlerPaused: listPausedHandlers(db).has(run.handler) };
  });

  app.post<{ Params: { id: string } }>('/api/deliveries/:id/replay', async (request, reply) => {
    const id = Number(request.params.id);
    if (!/^\d{1,15}$/.test(request.params.id) || id < 1) throw httpError(400, `invalid delivery id "${request.params.id.slice(0, 30)}": use the number shown by deflect audit`);
    try {
      const replay = replayStoredDelivery(db, id);
      request.log.info({ delivery: id, replay: replay.id, by: caller(request) }, 'delivery replayed over the API');
      options.wakeWorker?.();
      return reply.code(202).send({ delivery: replay.id, replayOf: id });
    } catch (error) {
      if (error instanceof DeliveryNotFoundError) throw httpError(404, error.message);
      if (error instanceof DeliveryPrunedError) throw httpError(410, error.message);
      throw error;
    }
  });
}
