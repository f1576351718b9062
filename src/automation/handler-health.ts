/**
 * The health of every installed handler, as `deflect handlers` and `GET /api/handlers` show it: one row per handler
 * in `handlers/index.ts` (registry order), joined with its stored state (a handler that never finished a run has no
 * row in `handler_states` and shows as active with 0 failures).
 */
import { handlers } from '../../handlers/index.js';
import type { Db } from '../db/client.js';
import { listHandlerStates } from '../db/handler-states.js';

export interface HandlerHealth {
  name: string;
  state: 'active' | 'paused';
  /** Runs that ended failed/dead in a row since the last success or resume. */
  consecutiveFailures: number;
  /** ISO 8601 time it was paused, or null. */
  pausedAt: string | null;
  pausedReason: string | null;
}

/** One {@link HandlerHealth} row per installed handler. */
export function listHandlerHealth(db: Db): HandlerHealth[] {
  const states = new Map(listHandlerStates(db).map((s) => [s.handler, s]));
  return handlers.map((h) => {
    const state = states.get(h.name);
    return {
      name: h.name,
      state: state?.pausedAt ? 'paused' : 'active',
      consecutiveFailures: state?.consecutiveFailures ?? 0,
      pausedAt: state?.pausedAt ? new Date(state.pausedAt).toISOString() : null,
      pausedReason: state?.pausedReason ?? null,
    };
  });
}
