/**
 * `GET /healthz`: the process is alive (answers without touching the database).
 * `GET /readyz`: 200 only when every condition holds, else 503 listing what is wrong:
 * - the database can be written: a real committed write ({@link recordHealthProbe});
 * - the database's filesystem has at least `minFreeBytes` free (`DEFLECT_MIN_FREE_BYTES`), so readiness fails
 *   *before* deliveries start failing with "database or disk is full" (a nearly full disk can still take small writes);
 * - migrations are applied;
 * - the queue lag (pending deliveries + runs due now, not counting runs of paused handlers) is at most `maxQueueLag`;
 * - webhooks are authenticated (a secret or a token is set), unless `DEFLECT_INSECURE_NO_AUTH=true`, which the body
 *   then reports in `warnings`.
 * Both bodies are JSON: `/readyz` → `{ status: 'ready' | 'unavailable', queueLag, oldestPendingMs, pausedHandlers,
 * demotedHandlers, freeBytes, insecureNoAuth, webhooks, problems, warnings }`; `webhooks` says per tracker route whether deliveries are
 * `verified` (a secret or token is set), `refused` (none set: every delivery gets 401) or `open` (no authentication). A paused handler does not make the service unready (restarting
 * would not fix it); it is listed so probes and dashboards show it. Likewise `demotedHandlers` (verified resolution:
 * handlers deflect moved to shadow because their resolutions did not hold, `[{ handler, demotedAt, reason }]`) is
 * reported, never a 503.
 */
import { statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Store } from '../db/store.js';
import { recordHealthProbe } from '../db/health-probe.js';
import { listDemotedHandlers } from '../automation/demotion.js';

export interface HealthRoutesOptions {
  db: Store;
  /** Largest queue lag still ready (`DEFLECT_MAX_QUEUE_LAG`, default 1000). */
  maxQueueLag?: number;
  /** Least free space on the database's filesystem, bytes (`DEFLECT_MIN_FREE_BYTES`); 0 or absent = no check. */
  minFreeBytes?: number;
  /** Whether webhooks are authenticated: secret/token counts, and the explicit opt-out (`DEFLECT_INSECURE_NO_AUTH`). */
  auth?: { webhookSecrets: number; webhookTokens: number; insecureNoAuth: boolean };
  /** Per tracker route: how its deliveries are authenticated (see the module doc). */
  webhooks?: Record<string, 'verified' | 'refused' | 'open'>;
}

/** Free bytes for an unprivileged writer on the filesystem holding the SQLite file `path`, or null (`:memory:`, no statfs). */
function freeBytesAt(path: string): number | null {
  if (!path || path === ':memory:') return null;
  try {
    const stats = statfsSync(dirname(resolve(path)));
    return Number(stats.bavail) * Number(stats.bsize);
  } catch {
    return null;
  }
}

const readiness = z.object({
  status: z.enum(['ready', 'unavailable']),
  queueLag: z.number().int().min(0).describe('Pending deliveries + runs due now (runs of paused handlers not counted).'),
  oldestPendingMs: z.number().nullable().describe('Age of the oldest delivery not yet routed, ms; null when none waits.'),
  pausedHandlers: z.array(z.string()),
  demotedHandlers: z.array(z.object({ handler: z.string(), demotedAt: z.string(), reason: z.string() })).describe('Handlers deflect moved to shadow because their resolutions did not hold (never a 503).'),
  freeBytes: z.number().nullable().describe("Free bytes on the database's filesystem; null when unknown (`:memory:`)."),
  insecureNoAuth: z.boolean().describe('True when webhooks run unauthenticated on purpose (DEFLECT_INSECURE_NO_AUTH).'),
  webhooks: z.record(z.string(), z.enum(['verified', 'refused', 'open'])).describe('Per tracker route: how its deliveries are authenticated.'),
  problems: z.array(z.string()).describe('Why it is not ready; empty when ready.'),
  warnings: z.array(z.string()),
});
const probe = { tags: ['operations'] };

export async function healthRoutes(instance: FastifyInstance, options: HealthRoutesOptions): Promise<void> {
  const app = instance.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/healthz',
    { schema: { ...probe, summary: 'Liveness', description: 'The process is alive; does not touch the database (public).', response: { 200: z.object({ status: z.literal('ok') }).describe('Alive.') } } },
    async () => ({ status: 'ok' as const }),
  );

  const readyDescription = 'Ready to receive: the database is writable with enough free space, migrations are applied, the queue lag is within DEFLECT_MAX_QUEUE_LAG and webhooks are authenticated (public).';
  app.get('/readyz', { schema: { ...probe, summary: 'Readiness', description: readyDescription, response: { 200: readiness.describe('Ready.'), 503: readiness.describe('Not ready: `problems` says why.') } } }, async (_request, reply) => {
    const problems: string[] = [];
    const warnings: string[] = [];
    let queueLag = 0;
    let oldestPendingMs: number | null = null;
    let pausedHandlers: string[] = [];
    let demotedHandlers: Awaited<ReturnType<typeof listDemotedHandlers>> = [];
    try {
      await options.db.recordHealthProbe();
    } catch (error) {
      problems.push(`database not writable: ${(error as Error).message}`);
    }
    // Free space matters where a SQLite file lives; a PostgreSQL server watches its own disk.
    const freeBytes = options.db.sqlite ? freeBytesAt(options.db.sqlite.$client.name) : null;
    const minFree = options.minFreeBytes ?? 0;
    if (freeBytes !== null && minFree > 0 && freeBytes < minFree) {
      problems.push(`disk nearly full: ${freeBytes} bytes free where the database lives, under ${minFree} (DEFLECT_MIN_FREE_BYTES)`);
    }
    try {
      const { applied, shipped } = await options.db.migrationStatus();
      if (applied < shipped) problems.push(`migrations pending: ${applied} of ${shipped} applied (run deflect migrate)`);
      queueLag = await options.db.countPendingDeliveries() + (await options.db.countRuns()).due;
      const max = options.maxQueueLag ?? 1000;
      if (queueLag > max) problems.push(`queue lag ${queueLag} is over ${max} (DEFLECT_MAX_QUEUE_LAG)`);
      const oldest = await options.db.oldestPendingDeliveryAt();
      oldestPendingMs = oldest === null ? null : Math.max(0, Date.now() - oldest);
      pausedHandlers = [...await options.db.listPausedHandlers()];
      demotedHandlers = await listDemotedHandlers(options.db);
    } catch (error) {
      problems.push(`database not readable: ${(error as Error).message}`);
    }
    const auth = options.auth;
    const unauthenticated = auth !== undefined && auth.webhookSecrets === 0 && auth.webhookTokens === 0;
    if (unauthenticated && auth.insecureNoAuth) {
      warnings.push('webhooks are NOT authenticated: DEFLECT_INSECURE_NO_AUTH=true accepts unsigned deliveries from anyone who can reach /webhooks/jira, /webhooks/github, /webhooks/linear and /webhooks/trello');
    } else if (unauthenticated) {
      problems.push('webhooks are not authenticated: set DEFLECT_WEBHOOK_SECRET or DEFLECT_WEBHOOK_TOKEN (Jira), DEFLECT_GITHUB_WEBHOOK_SECRET, DEFLECT_LINEAR_WEBHOOK_SECRET, TRELLO_WEBHOOK_SECRET or SLACK_SIGNING_SECRET (or DEFLECT_INSECURE_NO_AUTH=true on purpose)');
    }
    return reply.code(problems.length ? 503 : 200).send({
      status: problems.length ? ('unavailable' as const) : ('ready' as const),
      queueLag,
      oldestPendingMs,
      pausedHandlers,
      demotedHandlers,
      freeBytes,
      insecureNoAuth: unauthenticated && auth.insecureNoAuth,
      webhooks: options.webhooks ?? {},
      problems,
      warnings,
    });
  });
}
