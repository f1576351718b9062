/**
 * The health of every installed handler, as `deflect handlers` and `GET /api/handlers` show it: one row per handler
 * in `handlers/index.ts` (registry order), joined with its stored state (a handler that never finished a run has no
 * row in `handler_states` and shows as active with 0 failures).
 */
import { handlers } from '../../handlers/index.js';
import type { Store } from '../db/store.js';

export interface HandlerHealth {
  name: string;
  state: 'active' | 'paused';
  /** Runs that ended failed/dead in a row since the last success or resume. */
  consecutiveFailures: number;
  /** ISO 8601 time it was paused, or null. */
  pausedAt: string | null;
  pausedReason: string | null;
}

/** Thrown by {@link assertInstalledHandler}: the message names the installed handlers. */
export class UnknownHandlerError extends Error {
  override name = 'UnknownHandlerError';
}

/** @throws UnknownHandlerError naming the installed handlers when `name` is not one of them. */
export function assertInstalledHandler(name: string): void {
  if (!handlers.some((h) => h.name === name)) {
    throw new UnknownHandlerError(`no handler named "${name.slice(0, 100)}" (installed: ${handlers.map((h) => h.name).join(', ')})`);
  }
}

/** One {@link HandlerHealth} row per installed handler. */
export async function listHandlerHealth(db: Store): Promise<HandlerHealth[]> {
  const states = new Map((await db.listHandlerStates()).map((s) => [s.handler, s]));
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
