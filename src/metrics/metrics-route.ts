/**
 * `GET /metrics`: Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format) of the process-wide instruments
 * (`metrics.ts`) plus gauges read from SQLite when scraped (a handful of indexed counts per scrape, none per
 * request):
 * - `deflect_queue_lag`: pending deliveries + runs due now (not counting paused handlers' runs), as `/readyz` counts it;
 * - `deflect_dead_letters`: runs in the dead-letter state (`dead`);
 * - `deflect_paused_handlers`: handlers paused after repeated failures or by an operator;
 * - `deflect_demoted_handlers`: handlers deflect moved to shadow because their resolutions did not hold (verified resolution);
 * - `deflect_oldest_pending_delivery_seconds`: age of the oldest delivery not yet routed, seconds (0 when none waits);
 * - `deflect_audit_chain_head_seq` and `deflect_audit_chain_head_info{hash}` (value 1): the audit chain's head, so a
 *   Prometheus server keeps an outside copy of it (decision 011: someone who can rewrite the database and recompute the
 *   chain cannot make an older scraped head reappear); `deflect_audit_chain_checkpoints`: retention checkpoints.
 * Access: any role (`GET /metrics` row in route-access.ts), or public with `DEFLECT_METRICS_PUBLIC=true`.
 */
import type { FastifyInstance } from 'fastify';
import { Gauge, Registry } from 'prom-client';
import { z } from 'zod';
import type { Store } from '../db/store.js';
import { listDemotedHandlers } from '../automation/demotion.js';
import { AUTH_ERRORS, AUTHENTICATED, errorResponses } from '../routes/route-schemas.js';
import { metricsRegistry } from './metrics.js';

export interface MetricsRouteOptions {
  db: Store;
}

export async function metricsRoute(app: FastifyInstance, options: MetricsRouteOptions): Promise<void> {
  const { db } = options;
  // The database gauges belong to this app's database, so they live in a registry of their own.
  const databaseRegistry = new Registry();
  // prom-client awaits an async collect() while gathering (https://github.com/siimon/prom-client#usage-with-async-collect).
  const gauge = (name: string, help: string, read: () => Promise<number>) =>
    new Gauge({
      name,
      help,
      registers: [databaseRegistry],
      async collect() {
        this.set(await read());
      },
    });
  gauge('deflect_queue_lag', 'Deliveries waiting to be routed plus runs due now (runs of paused handlers not counted).', async () => await db.countPendingDeliveries() + (await db.countRuns()).due);
  gauge('deflect_dead_letters', 'Runs in the dead-letter state (attempts exhausted), waiting for deflect runs retry.', async () => (await db.countRuns()).byStatus.dead ?? 0);
  gauge('deflect_paused_handlers', 'Handlers paused (after repeated failures or by an operator).', async () => (await db.listPausedHandlers()).size);
  gauge('deflect_demoted_handlers', 'Handlers demoted to shadow because their verified rate fell below DEFLECT_VERIFY_DEMOTE_BELOW.', async () => (await listDemotedHandlers(db)).length);
  gauge('deflect_oldest_pending_delivery_seconds', 'Age of the oldest delivery not yet routed, seconds; 0 when none waits.', async () => {
    const oldest = await db.oldestPendingDeliveryAt();
    return oldest === null ? 0 : Math.max(0, (Date.now() - oldest) / 1000);
  });

  gauge('deflect_audit_chain_head_seq', 'Sequence number of the newest audit chain entry (0 when none).', async () => (await db.findChainHead()).seq);
  gauge('deflect_audit_chain_checkpoints', 'Audit chain checkpoints written by retention (DEFLECT_AUDIT_RETENTION).', async () => await db.countCheckpoints());
  new Gauge({
    name: 'deflect_audit_chain_head_info',
    help: 'The newest audit chain entry hash (label hash, SHA-256 hex), value 1: copy it elsewhere to anchor the chain.',
    labelNames: ['hash'] as const,
    registers: [databaseRegistry],
    async collect() {
      this.reset();
      this.set({ hash: (await db.findChainHead()).hash }, 1);
    },
  });

  const schema = {
    tags: ['operations'],
    summary: 'Prometheus metrics',
    description: 'Text exposition format 0.0.4: `deflect_*` instruments plus process metrics. Any role, or public with DEFLECT_METRICS_PUBLIC=true.',
    security: AUTHENTICATED,
    response: {
      200: { description: 'The metrics.', content: { 'text/plain': { schema: z.string().describe('Prometheus text format (`text/plain; version=0.0.4`).') } } },
      ...errorResponses(...AUTH_ERRORS),
    },
  };
  app.get('/metrics', { schema }, async (_request, reply) => {
    const text = (await metricsRegistry.metrics()) + (await databaseRegistry.metrics());
    return reply.type(metricsRegistry.contentType).send(text);
  });
}
