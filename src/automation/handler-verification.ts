/**
 * (verified resolution) Per installed handler: how many of its live runs resolved a ticket, how many of those held
 * (verified), were reopened, re-filed or overridden, the rates, the reporters' feedback, and the mode its rules run in
 * now. Backs `deflect handlers` (table and `--format json`) and `GET /api/handlers`.
 *
 * Rates (0..1, rounded to 3 places; null when the denominator is 0):
 * - `resolvedRate` = resolved / runs: the raw figure (what "automated resolutions" counted before);
 * - `verifiedRate` = verifiedResolved / (runs − pending): of the runs whose outcome is known, the share that resolved
 *   the ticket for good. Pending resolutions (window still open) are left out, not counted as failures;
 * - `satisfaction` = thanks / (thanks + reopen answers): the reporters' own answers (`/thanks`, `/reopen`).
 * `mode`: the modes of the rules routed to the handler, in rule order, distinct, comma-joined (`live`, `shadow`,
 * `live,shadow`), a live rule counted as `shadow` while the handler is demoted; `none` when no rule names it.
 */
import { handlers } from '../../handlers/index.js';
import type { Store } from '../db/store.js';
import { type HandlerVerificationCounts } from '../db/run-verifications.js';
import type { Rule } from '../rules/rules-file.js';
import { listDemotedHandlers } from './demotion.js';
import { listHandlerHealth, type HandlerHealth } from './handler-health.js';

/** One handler's row: its health (state, failures, pause) plus its verification figures. */
export interface HandlerVerificationRow
  extends HandlerHealth,
    Pick<HandlerVerificationCounts, 'runs' | 'resolved' | 'verifiedResolved' | 'pending' | 'reopened' | 'refiled' | 'overridden'> {
  resolvedRate: number | null;
  verifiedRate: number | null;
  /** Reporter answers to the `/thanks` / `/reopen` invitation (rules with `feedback: true`). */
  feedback: { invited: number; thanks: number; reopen: number; satisfaction: number | null };
  mode: string;
  /** Set while deflect has demoted the handler to shadow (put back with `deflect handlers live <name>`). */
  demoted: { at: string; reason: string } | null;
}

const rate = (n: number, d: number) => (d > 0 ? Math.round((n / d) * 1000) / 1000 : null);

/** One row per installed handler (registry order). `rules`: the rules in force (for `mode`). */
export async function listHandlerVerification(db: Store, rules: readonly Rule[], now = Date.now()): Promise<HandlerVerificationRow[]> {
  const counts = new Map((await db.countHandlerVerifications(now)).map((c) => [c.handler, c]));
  const demoted = new Map((await listDemotedHandlers(db)).map((d) => [d.handler, d]));
  const health = new Map((await listHandlerHealth(db)).map((h) => [h.name, h]));
  return handlers.map((h) => {
    const c: HandlerVerificationCounts = counts.get(h.name) ?? { handler: h.name, runs: 0, resolved: 0, verifiedResolved: 0, pending: 0, reopened: 0, refiled: 0, overridden: 0, thanks: 0, reopenAnswers: 0, feedbackInvited: 0 };
    const d = demoted.get(h.name);
    const modes = [...new Set(rules.filter((r) => r.handler === h.name).map((r) => (d && (r.mode ?? 'live') === 'live' ? 'shadow' : (r.mode ?? 'live'))))];
    return {
      ...health.get(h.name)!,
      runs: c.runs,
      resolved: c.resolved,
      verifiedResolved: c.verifiedResolved,
      pending: c.pending,
      reopened: c.reopened,
      refiled: c.refiled,
      overridden: c.overridden,
      resolvedRate: rate(c.resolved, c.runs),
      verifiedRate: rate(c.verifiedResolved, c.runs - c.pending),
      feedback: { invited: c.feedbackInvited, thanks: c.thanks, reopen: c.reopenAnswers, satisfaction: rate(c.thanks, c.thanks + c.reopenAnswers) },
      mode: modes.length > 0 ? modes.join(',') : 'none',
      demoted: d ? { at: d.demotedAt, reason: d.reason } : null,
    };
  });
}
