/**
 * `GET /api/audit/chain` (auditor and up; decision 011): the state of the audit chain, as `deflect audit verify` finds
 * it, answering exactly `{ state: 'intact' | 'broken' | 'empty', checkedRows, firstBad: null | { table, id, problem },
 * checkedAt }` (`checkedAt` ISO 8601). The walk reads the whole chain, so it yields to the event loop between batches
 * (webhooks keep being received), concurrent requests share one walk, and an answer is reused for
 * {@link CHAIN_CHECK_REUSE_MS}: `checkedAt` says how fresh it is.
 */
import type { FastifyInstance } from 'fastify';
import { verifyAuditChainAsync, type ChainReport } from '../audit/verify-chain.js';
import type { Store } from '../db/store.js';
import { z } from 'zod';
import { AUTH_ERRORS, AUTHENTICATED, errorResponses } from './route-schemas.js';

const chainState = z
  .object({
    state: z.enum(['intact', 'broken', 'empty']),
    checkedRows: z.number().int().min(0),
    firstBad: z.object({ table: z.enum(['runs', 'actions']), id: z.string(), problem: z.string() }).nullable().describe('The first row changed, removed or inserted out of order.'),
    checkedAt: z.string().describe('ISO 8601 time of the walk this answer comes from.'),
  })
  .describe('The audit chain as `deflect audit verify` finds it.');

/** How long a verification is reused, ms. */
export const CHAIN_CHECK_REUSE_MS = 60_000;

/** The API's answer: the fields of {@link ChainReport} the page and other tools read. */
export type ChainStateAnswer = Pick<ChainReport, 'state' | 'checkedRows' | 'firstBad' | 'checkedAt'>;

/** Registers `GET /api/audit/chain` on `app` for the database `options.db`. */
export async function auditChainRoutes(app: FastifyInstance, options: { db: Store }): Promise<void> {
  let last: { at: number; answer: ChainStateAnswer } | null = null;
  let walking: Promise<ChainStateAnswer> | null = null;

  const check = (): Promise<ChainStateAnswer> =>
    (walking ??= verifyAuditChainAsync(options.db)
      .then(({ state, checkedRows, firstBad, checkedAt }) => {
        const answer = { state, checkedRows, firstBad, checkedAt };
        last = { at: Date.now(), answer };
        return answer;
      })
      .finally(() => {
        walking = null;
      }));

  const schema = {
    tags: ['reports'],
    summary: 'The audit chain state',
    description: 'Whether the recorded runs and actions are unchanged since they were sealed (auditor; decision 011). Reused for 60 s.',
    security: AUTHENTICATED,
    response: { 200: chainState, ...errorResponses(...AUTH_ERRORS) },
  };
  app.get('/api/audit/chain', { schema }, async () => {
    if (last && Date.now() - last.at < CHAIN_CHECK_REUSE_MS) return last.answer;
    return check();
  });
}
