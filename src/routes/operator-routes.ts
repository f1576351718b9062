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
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Store } from '../db/store.js';
import { assertInstalledHandler, UnknownHandlerError } from '../automation/handler-health.js';
import { restoreHandlerLive } from '../automation/demotion.js';
import { listHandlerVerification } from '../automation/handler-verification.js';
import type { Rule } from '../rules/rules-file.js';
import { killSwitchState, pauseAllHandlers, resumeAllHandlers } from '../automation/kill-switch.js';
import { roleAllows } from '../auth/roles.js';
import { RUN_STATUSES } from '../db/runs.js';
import { DeliveryNotFoundError, DeliveryPrunedError, replayStoredDelivery } from '../webhooks/replay-delivery.js';
import { AUTH_ERRORS, AUTHENTICATED, errorResponses, idParam } from './route-schemas.js';
import { documented } from './api-schemas.js';

export interface OperatorRoutesOptions {
  db: Store;
  /** Wakes the worker so a resumed handler or a retried run runs now rather than at the next poll. */
  wakeWorker?: () => void;
  /** The rules in force (live reload), for each handler's `mode`; absent = none. */
  rules?: () => readonly Rule[];
}

const httpError = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode });

/** Optional JSON `{ "reason" }` of the pause routes (no body = no reason). */
const pauseBody = z
  .object({ reason: z.string().trim().min(1).max(500).optional().describe('Why (shown in deflect handlers and the audit); default names the caller.') })
  .strict()
  .nullish();
const handlerParams = z.object({ name: z.string().max(200).describe('The handler name (handlers/index.ts), e.g. `grant-repo-access`.') });
const handlerState = z.enum(['active', 'paused']);
const handlerChange = z.object({ handler: z.string(), state: handlerState, changed: z.boolean().describe('False when it was already in that state.') }).describe('Its state now.');
const killSwitchResult = (state: 'active' | 'paused') =>
  z.object({
    state: z.literal(state),
    changed: z.array(z.string()).describe('Handlers this call changed, registry order.'),
    unchanged: z.array(z.string()).describe('Handlers that already were in that state.'),
  }).describe(`Every handler ${state}.`);
const handlers = z.object({
  handlers: z.array(
    z.object({
      name: z.string(),
      state: handlerState,
      consecutiveFailures: z.number().int().min(0).describe('Runs that ended failed/dead in a row since the last success or resume.'),
      pausedAt: z.string().nullable().describe('ISO 8601 time it was paused, or null.'),
      pausedReason: z.string().nullable(),
      mode: z.string().describe('The modes of its rules (`live`, `shadow`, `live,shadow`; `none` without a rule), `shadow` when demoted.'),
      runs: z.number().int().min(0),
      resolved: z.number().int().min(0),
      verifiedResolved: z.number().int().min(0),
      reopened: z.number().int().min(0),
      refiled: z.number().int().min(0),
      overridden: z.number().int().min(0),
      verifiedRate: z.number().nullable().describe('verified / (runs − pending), 0..1; null before any resolution is decided.'),
    }).loose(),
  ),
}).describe('Every installed handler, registry order, with its verified resolutions (decision 010).');
const killSwitch = z.object({
  state: z.enum(['active', 'paused', 'partial']),
  paused: z.array(z.string()),
  total: z.number().int().min(0),
  canOperate: z.boolean().describe("Whether the caller's role may press the switch (operator)."),
}).describe('The switch.');
const operate = { security: AUTHENTICATED } as const;

/** @throws 404 naming the installed handlers when `name` is not one of them. */
function checkHandler(name: string): void {
  try {
    assertInstalledHandler(name);
  } catch (error) {
    throw error instanceof UnknownHandlerError ? httpError(404, error.message) : error;
  }
}

const caller = (request: FastifyRequest) => request.identity?.name ?? 'unknown';

export async function operatorRoutes(instance: FastifyInstance, options: OperatorRoutesOptions): Promise<void> {
  const { db } = options;
  const app = instance.withTypeProvider<ZodTypeProvider>();

  app.get(
    '/api/handlers',
    {
      schema: {
        ...operate,
        tags: ['handlers'],
        summary: 'Handler health and verified resolutions',
        description: 'Every installed handler with its state, failure streak, runs, resolutions and how many held, mode and demotion (auditor).',
        response: { 200: handlers, ...errorResponses(...AUTH_ERRORS) },
      },
    },
    async () => documented(handlers, { handlers: await listHandlerVerification(db, options.rules?.() ?? []) }),
  );

  app.post(
    '/api/handlers/:name/live',
    {
      schema: {
        ...operate,
        tags: ['handlers'],
        summary: 'Put a demoted handler back live',
        description: 'Undoes a demotion to shadow mode; resolutions from now on count towards the next one (operator).',
        params: handlerParams,
        response: { 200: z.object({ handler: z.string(), mode: z.literal('live'), changed: z.boolean() }), ...errorResponses(404, ...AUTH_ERRORS) },
      },
    },
    async (request) => {
      checkHandler(request.params.name);
      const changed = await restoreHandlerLive(db, request.params.name, `${caller(request)} over the API`);
      request.log.warn({ handler: request.params.name, by: caller(request), changed }, 'demoted handler put back live over the API');
      return { handler: request.params.name, mode: 'live' as const, changed };
    },
  );

  app.get(
    '/api/handlers/kill-switch',
    { schema: { ...operate, tags: ['handlers'], summary: 'Kill switch state', description: 'Which handlers are paused, for the report page panel (auditor).', response: { 200: killSwitch, ...errorResponses(...AUTH_ERRORS) } } },
    async (request) => {
      const role = request.identity?.role ?? null;
      return { ...await killSwitchState(db), canOperate: role !== null && roleAllows(role, 'operator') };
    },
  );

  app.post(
    '/api/handlers/pause-all',
    {
      bodyLimit: 4096,
      schema: { ...operate, tags: ['handlers'], summary: 'Pause every handler (kill switch)', description: 'Runs wait in the queue; nothing is dropped (operator).', body: pauseBody, response: { 200: killSwitchResult('paused'), ...errorResponses(400, ...AUTH_ERRORS) } },
    },
    async (request) => {
      const reason = request.body?.reason ?? `kill switch: every handler paused by ${caller(request)} over the API`;
      const result = await pauseAllHandlers(db, reason);
      request.log.warn({ by: caller(request), paused: result.changed }, 'kill switch: every handler paused over the API');
      return { state: 'paused' as const, ...result };
    },
  );

  app.post(
    '/api/handlers/resume-all',
    { schema: { ...operate, tags: ['handlers'], summary: 'Resume every handler', description: 'Also those paused automatically after failures (operator).', response: { 200: killSwitchResult('active'), ...errorResponses(...AUTH_ERRORS) } } },
    async (request) => {
      const result = await resumeAllHandlers(db);
      request.log.warn({ by: caller(request), resumed: result.changed }, 'kill switch: every handler resumed over the API');
      if (result.changed.length > 0) options.wakeWorker?.();
      return { state: 'active' as const, ...result };
    },
  );

  app.post(
    '/api/handlers/:name/pause',
    {
      bodyLimit: 4096,
      schema: { ...operate, tags: ['handlers'], summary: 'Pause a handler', description: 'Its runs wait in the queue until it is resumed (operator).', params: handlerParams, body: pauseBody, response: { 200: handlerChange, ...errorResponses(400, 404, ...AUTH_ERRORS) } },
    },
    async (request) => {
      const { name } = request.params;
      checkHandler(name);
      const reason = request.body?.reason ?? `paused by ${caller(request)} over the API`;
      const changed = await db.pauseHandler(name, reason);
      request.log.info({ handler: name, by: caller(request), changed }, 'handler paused over the API');
      return { handler: name, state: 'paused' as const, changed };
    },
  );

  app.post(
    '/api/handlers/:name/resume',
    { schema: { ...operate, tags: ['handlers'], summary: 'Resume a handler', description: 'Resets its failure streak; its queued runs run again (operator).', params: handlerParams, response: { 200: handlerChange, ...errorResponses(404, ...AUTH_ERRORS) } } },
    async (request) => {
      const { name } = request.params;
      checkHandler(name);
      const changed = await db.resumeHandler(name);
      request.log.info({ handler: name, by: caller(request), changed }, 'handler resumed over the API');
      if (changed) options.wakeWorker?.();
      return { handler: name, state: 'active' as const, changed };
    },
  );

  app.post(
    '/api/runs/:id/retry',
    {
      schema: {
        ...operate,
        tags: ['runs'],
        summary: 'Re-queue a failed or dead run',
        description: 'The run keeps its idempotency key, so actions it already applied are not repeated (operator).',
        params: z.object({ id: idParam('run') }),
        response: {
          200: z.object({ run: z.number().int(), status: z.literal('queued'), was: z.string().describe(`Its status before: ${RUN_STATUSES.join(', ')}.`), handlerPaused: z.boolean().describe('True when its handler is paused: it waits until resumed.') }).describe('Re-queued.'),
          ...errorResponses(400, 404, 409, ...AUTH_ERRORS),
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const run = await db.findRun(id);
      if (!run) throw httpError(404, `no run #${id}`);
      if (!await db.retryRun(id)) {
        throw httpError(409, `run #${id} is ${run.status}; only failed or dead runs can be retried (replay its delivery ${run.deliveryId} instead)`);
      }
      request.log.info({ run: id, by: caller(request) }, 'run re-queued over the API');
      options.wakeWorker?.();
      return { run: id, status: 'queued' as const, was: run.status, handlerPaused: (await db.listPausedHandlers()).has(run.handler) };
    },
  );

  app.post(
    '/api/deliveries/:id/replay',
    {
      schema: {
        ...operate,
        tags: ['runs'],
        summary: 'Replay a stored delivery',
        description: 'Stores a copy of the delivery as a new pending delivery marked as its replay; the worker routes it (operator).',
        params: z.object({ id: idParam('delivery') }),
        response: {
          202: z.object({ delivery: z.number().int().describe('The new delivery.'), replayOf: z.number().int().describe('The delivery it replays.') }).describe('Stored as a new pending delivery.'),
          ...errorResponses(400, 404, 410, ...AUTH_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      try {
        const replay = await replayStoredDelivery(db, id);
        request.log.info({ delivery: id, replay: replay.id, by: caller(request) }, 'delivery replayed over the API');
        options.wakeWorker?.();
        return reply.code(202).send({ delivery: replay.id, replayOf: id });
      } catch (error) {
        if (error instanceof DeliveryNotFoundError) throw httpError(404, error.message);
        if (error instanceof DeliveryPrunedError) throw httpError(410, error.message);
        throw error;
      }
    },
  );
}
