/**
 * `GET /healthz`: the process is alive (answers without touching the database).
 * `GET /readyz`: the database is writable, migrations are applied, and the queue lag (pending deliveries + runs due
 * now, not counting runs of paused handlers) is at most `maxQueueLag`; otherwise 503 with what is wrong.
 * Both bodies are JSON: `/readyz` → `{ status: 'ready' | 'unavailable', queueLag, oldestPendingMs, pausedHandlers, problems }`.
 * A paused handler does not make the service unready (restarting would not fix it); it is listed so probes and
 * dashboards show it.
 */
import type { FastifyInstance } from 'fastify';
import { migrationStatus, type Db } from '../db/client.js';
import { countPendingDeliveries, oldestPendingDeliveryAt } from '../db/deliveries.js';
import { listPausedHandlers } from '../db/handler-states.js';
import { countRuns } from '../db/runs.js';

export interface HealthRoutesOptions {
  db: Db;
  /** Largest queue lag still ready (`DEFLECT_MAX_QUEUE_LAG`, default 1000). */
  maxQueueLag?: number;
  /** DEFLECT_INSECURE_NO_AUTH: webhooks are accepted unauthenticated; `/readyz` says so (`insecureNoAuth: true`). */
  insecureNoAuth?: boolean;
}

export async function healthRoutes(app: FastifyInstance, options: HealthRoutesOptions): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const problems: string[] = [];
    let queueLag = 0;
    let oldestPendingMs: number | null = null;
    let pausedHandlers: string[] = [];
    try {
      options.db.$client.prepare('BEGIN IMMEDIATE').run();
      options.db.$client.prepare('ROLLBACK').run();
    } catch (error) {
      problems.push(`database not writable: ${(error as Error).message}`);
    }
    try {
      const { applied, shipped } = migrationStatus(options.db);
      if (applied < shipped) problems.push(`migrations pending: ${applied} of ${shipped} applied (run deflect migrate)`);
      queueLag = countPendingDeliveries(options.db) + countRuns(options.db).due;
      const max = options.maxQueueLag ?? 1000;
      if (queueLag > max) problems.push(`queue lag ${queueLag} is over ${max} (DEFLECT_MAX_QUEUE_LAG)`);
      const oldest = oldestPendingDeliveryAt(options.db);
      oldestPendingMs = oldest === null ? null : Math.max(0, Date.now() - oldest);
      pausedHandlers = [...listPausedHandlers(options.db)];
    } catch (error) {
      problems.push(`database not readable: ${(error as Error).message}`);
    }
    return reply
      .code(problems.length ? 503 : 200)
      .send({ status: problems.length ? 'unavailable' : 'ready', queueLag, oldestPendingMs, pausedHandlers, problems, ...(options.insecureNoAuth ? { insecureNoAuth: true } : {}) });
  });
}
