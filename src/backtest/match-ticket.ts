/**
 * (backtest) Which stored tickets a handler's rules match, or would match, by the real classifier
 * (src/rules/classify.ts) over the live rules file. Pure: no I/O.
 *
 * A stored snapshot is not an event, so each ticket is presented twice, as routing would first have seen it:
 * 1. as just created (`created` trigger, every label it carries), then, if that does not match,
 * 2. as having just had all its labels added (`label-added` and `updated` triggers), for rules that fire on labelling.
 *
 * The target rules (the `--rule`, or every rule of the handler) are classified as `live` whatever their mode: a
 * backtest asks what the handler would do once its rule is on, so `off` and `shadow` rules "would match" (each
 * ticket says the rule's real mode). Every other rule keeps its mode, so an earlier rule of another handler that wins
 * (first match wins) still takes the ticket, as it would in production. Group scope (`groups:`) is not looked up (no
 * tracker credentials): such a rule matches only reporters listed in `reporters:`; the reason says so.
 */
import { classify, type Classification } from '../rules/classify.js';
import type { Rule } from '../rules/rules-file.js';
import type { Ticket } from '../ticket.js';
import type { TrackerEvent } from '../trackers/tracker.js';

/** A ticket one of the target rules would route to the handler. */
export interface TicketMatch {
  rule: Rule;
  matchedAs: 'created' | 'label-added';
  reason: string;
}

/** The verdict for one ticket: a match, or why not (the classifier's reason). */
export type MatchVerdict = { matched: true; match: TicketMatch } | { matched: false; reason: string };

/** A usage mistake in choosing the rules (unknown `--rule`, a rule of another handler): the CLI exits 2. */
export class BacktestUsageError extends Error {
  override name = 'BacktestUsageError';
}

/**
 * The rules to backtest: `ruleName`'s rule, or every rule routing to `handler`.
 * @throws BacktestUsageError naming the handler's rules when `ruleName` is not one of them, or when no rule routes to
 *   `handler` (the message says how to add one).
 */
export function targetRulesOf(rules: readonly Rule[], handler: string, ruleName: string | null): Rule[] {
  const own = rules.filter((r) => r.handler === handler);
  const names = own.map((r) => r.name).join(', ') || 'none';
  if (ruleName !== null) {
    const named = rules.filter((r) => r.name === ruleName);
    if (named.length === 0) throw new BacktestUsageError(`no rule named "${ruleName.slice(0, 100)}" in the rules file (rules of ${handler}: ${names})`);
    const mine = named.filter((r) => r.handler === handler);
    if (mine.length === 0) throw new BacktestUsageError(`rule "${ruleName}" routes to ${named[0].handler}, not ${handler} (rules of ${handler}: ${names})`);
    return mine;
  }
  if (own.length === 0) throw new BacktestUsageError(`no rule of the rules file routes to ${handler}: add one (labels + handler: ${handler}, mode: off is enough) or pass --rules FILE`);
  return own;
}

/** A synthetic event presenting a stored snapshot to the classifier. */
function eventOf(ticket: Ticket, kind: 'created' | 'updated'): TrackerEvent {
  const labels = (ticket.labels ?? []).map((l) => l.toLowerCase());
  return {
    event: kind === 'created' ? 'backtest:created' : 'backtest:labelled',
    kind,
    eventType: null,
    timestamp: ticket.created,
    actor: null,
    ticket: { ...ticket, labels: ticket.labels ?? [] },
    labelsAdded: kind === 'updated' ? labels : [],
    labelsRemoved: [],
    siteHost: null,
    selfHosts: [],
  };
}

/**
 * Builds the matcher for `handler` over the rules file's `rules` with `targets` forced live.
 * @param assumeLabel when set (`--type`), every ticket is classified as if it also carried this label.
 */
export function createTicketMatcher(rules: readonly Rule[], handler: string, targets: readonly Rule[], assumeLabel: string | null = null): (ticket: Ticket) => MatchVerdict {
  const targetIndexes = new Set(targets.map((r) => r.index));
  const live = rules.map((r) => (targetIndexes.has(r.index) ? { ...r, mode: 'live' as const } : r));
  const byIndex = new Map(rules.map((r) => [r.index, r]));
  const mine = (c: Classification) => c.matches.find((m) => m.handler === handler && targetIndexes.has(m.rule.index));
  return (stored) => {
    const carried = stored.labels ?? [];
    const withLabel = assumeLabel && !carried.some((l) => l.toLowerCase() === assumeLabel) ? [...carried, assumeLabel] : carried;
    const ticket = { ...stored, labels: withLabel };
    const assumed = withLabel === carried ? '' : ` (label ${assumeLabel} assumed: request type backtest)`;
    let lastReason = '';
    for (const [kind, matchedAs] of [['created', 'created'], ['updated', 'label-added']] as const) {
      const classification = classify(eventOf(ticket, kind), live);
      const match = mine(classification);
      if (match) {
        const rule = byIndex.get(match.rule.index)!;
        const mode = rule.mode ?? 'live';
        const modeNote = mode === 'live' ? '' : ` [rule is ${mode}: would match once live]`;
        return { matched: true, match: { rule, matchedAs, reason: `${match.reason}${assumed}${modeNote}` } };
      }
      if (kind === 'created') lastReason = classification.reason;
    }
    return { matched: false, reason: lastReason };
  };
}
