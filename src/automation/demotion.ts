/**
 * (verified resolution) Auto-demotion: a handler whose resolutions do not hold goes to shadow mode. Over its last
 * `minResolutions` resolutions (made since it was last put back live), once the verified rate can no longer reach
 * `demoteBelow` — (N − reopened − re-filed − overridden) / N < threshold, pending resolutions counted as if they will
 * hold — deflect records a `shadow` mode change (table `handler_mode_changes`): every rule routed to the handler then
 * queues shadow runs (route-event), whatever the rules file says. The change is logged, listed in the audit
 * (`modeChanges`, and a DEMOTED line in `deflect audit`) and in `/readyz` (`demotedHandlers`; not a 503).
 * A person puts it back with `deflect handlers live <name>` or `POST /api/handlers/:name/live`; only resolutions after
 * that count towards the next demotion. Decision record: docs/decisions/010-verified-resolution.md.
 */
import type { Logger } from 'pino';
import type { VerifySettings } from '../config.js';
import type { Store } from '../db/store.js';

/** The failing states of a resolution. */
const FAILED = new Set(['reopened', 'refiled', 'overridden']);

/** What {@link evaluateDemotion} decided: the reason of a new demotion, or null (nothing changed). */
export async function evaluateDemotion(db: Store, handler: string, settings: Pick<VerifySettings, 'minResolutions' | 'demoteBelow'>, logger?: Logger, now = Date.now()): Promise<string | null> {
  if (settings.demoteBelow === null) return null;
  const current = (await db.currentHandlerModes()).get(handler);
  if (current?.mode === 'shadow') return null;
  const since = current?.mode === 'live' ? current.at : 0;
  const states = await db.lastResolutionStates(handler, settings.minResolutions, since);
  if (states.length < settings.minResolutions) return null;
  const failed = states.filter((s) => FAILED.has(s)).length;
  const best = (states.length - failed) / states.length;
  if (best >= settings.demoteBelow) return null;
  const count = (s: string) => states.filter((x) => x === s).length;
  const reason =
    `verified rate over its last ${states.length} resolutions is at most ${best.toFixed(2)} ` +
    `(${count('reopened')} reopened, ${count('refiled')} re-filed, ${count('overridden')} overridden), below DEFLECT_VERIFY_DEMOTE_BELOW=${settings.demoteBelow}; ` +
    `its rules run in shadow until a person puts it back: deflect handlers live ${handler}`;
  await db.recordHandlerModeChange({ handler, mode: 'shadow', by: 'deflect', reason }, now);
  logger?.warn({ handler, verifiedRateAtMost: best, resolutions: states.length, failed }, `handler ${handler} demoted to shadow: ${reason}`);
  return reason;
}

/** Handlers demoted now (their latest mode change is `shadow`), with when and why. */
export async function listDemotedHandlers(db: Store): Promise<Array<{ handler: string; demotedAt: string; reason: string }>> {
  return [...(await db.currentHandlerModes()).values()]
    .filter((m) => m.mode === 'shadow')
    .map((m) => ({ handler: m.handler, demotedAt: new Date(m.at).toISOString(), reason: m.reason }));
}

/**
 * Puts a demoted handler back live (a person's decision). @returns false when it was not demoted (nothing recorded).
 * @param by who did it (their token name or user), for the audit.
 */
export async function restoreHandlerLive(db: Store, handler: string, by: string, now = Date.now()): Promise<boolean> {
  if ((await db.currentHandlerModes()).get(handler)?.mode !== 'shadow') return false;
  await db.recordHandlerModeChange({ handler, mode: 'live', by, reason: `put back live by ${by}; resolutions from now on count towards the next demotion` }, now);
  return true;
}
