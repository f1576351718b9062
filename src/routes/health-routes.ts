/**
 * `GET /healthz`: the process is alive. `GET /readyz`: the database is writable, migrations are applied, and the
 * queue lag (pending deliveries + runs due now) is under `maxQueueLag`; otherwise 503 with what is wrong.
 */
import type { FastifyInstance } from 'fastify';
import { migrationStatus, type Db } from '../db/client.js';
import { countPendingDeliveries } from '../db/deliveries.js';
import { countRuns } from '../db/runs.js';

export async function healthRoutes(app: FastifyInstance, options: { db: Db; maxQueueLag?: number }): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const problems: string[] = [];
    let queueLag = 0;
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
      if (queueLag > max) problems.push(`queue lag ${queueLag} is over ${max}`);
    } catch (error) {
      problems.push(`database not readable: ${(error as Error).message}`);
    }
    return reply.code(problems.length ? 503 : 200).send({ status: problems.length ? 'unavailable' : 'ready', queueLag, problems });
  });
}
