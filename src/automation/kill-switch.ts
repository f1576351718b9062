/**
 * The kill switch: pause or resume every installed handler at once (`deflect handlers pause --all` / `resume --all`,
 * `POST /api/handlers/pause-all` / `resume-all`, the operator button on the report page). It is the per-handler
 * pause applied to each handler in `handlers/index.ts` (src/db/handler-states.ts): paused handlers keep their runs
 * `queued` — nothing is dropped — and a running deflect picks them up again within its poll interval of a resume.
 */
import { handlers } from '../../handlers/index.js';
import type { Store } from '../db/store.js';

/** What one switch did. */
export interface KillSwitchResult {
  /** Handlers whose state this call changed (paused by `pauseAll`, resumed by `resumeAll`), registry order. */
  changed: string[];
  /** Handlers that were already in the wanted state (a paused handler keeps its earlier reason). */
  unchanged: string[];
}

/** The switch as the page shows it: `paused` when every installed handler is, `active` when none is. */
export interface KillSwitchState {
  state: 'active' | 'paused' | 'partial';
  paused: string[];
  total: number;
}

/** Pauses every installed handler with `reason` (max 500 characters kept), in one transaction. */
export async function pauseAllHandlers(db: Store, reason: string, now = Date.now()): Promise<KillSwitchResult> {
  return await db.transaction(async () => split(await Promise.all(handlers.map(async (h) => [h.name, await db.pauseHandler(h.name, reason.slice(0, 500), now)] as const))));
}

/**
 * Resumes every paused installed handler (also those paused automatically after failures: the result names them),
 * resetting their failure streaks, in one transaction.
 */
export async function resumeAllHandlers(db: Store, now = Date.now()): Promise<KillSwitchResult> {
  return await db.transaction(async () => split(await Promise.all(handlers.map(async (h) => [h.name, await db.resumeHandler(h.name, now)] as const))));
}

/** Which installed handlers are paused now. */
export async function killSwitchState(db: Store): Promise<KillSwitchState> {
  const pausedNow = await db.listPausedHandlers();
  const paused = handlers.map((h) => h.name).filter((name) => pausedNow.has(name));
  const state = paused.length === 0 ? 'active' : paused.length === handlers.length ? 'paused' : 'partial';
  return { state, paused, total: handlers.length };
}

const split = (outcomes: ReadonlyArray<readonly [string, boolean]>): KillSwitchResult => ({
  changed: outcomes.filter(([, c]) => c).map(([name]) => name),
  unchanged: outcomes.filter(([, c]) => !c).map(([name]) => name),
});
