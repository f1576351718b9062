/**
 * Classification: which handlers (if any) a delivery routes to, and why. Pure: no I/O.
 * Every decision comes with a reason sentence that is stored for the audit.
 */
import type { Ticket } from '../ticket.js';
import type { TrackerEvent, TrackerName } from '../trackers/tracker.js';
import type { Rule, Trigger } from './rules-file.js';
import { checkScope, type MembershipOf, type MembershipQuestion } from './scope.js';

export interface RouteMatch {
  rule: Rule;
  handler: string;
  /** The (lower-cased) label that matched. */
  label: string;
  /** e.g. `label access-request → grant-repo-access (rule repo-access #1)`. */
  reason: string;
}

export interface Classification {
  matches: RouteMatch[];
  /** One sentence for the delivery: the matches joined, or why nothing matched. */
  reason: string;
  /** Rules that matched everything but the scope (reporters/groups), with the reason: the `scopeMessage` comments. */
  outOfScope: OutOfScope[];
  /** Membership questions with no answer in `membershipOf`: routing looks them up and routes again. */
  unresolved: MembershipQuestion[];
}

/** A rule the ticket would match but for its reporter (see `scope.ts`). */
export interface OutOfScope {
  rule: Rule;
  reason: string;
}

export interface ClassifyOptions {
  /** deflect's own account on the event's tracker (Jira accountId / name, GitHub login, Linear user id): its events are ignored (no loops). */
  selfAccountId?: string | null;
  /** The tracker `selfAccountId` belongs to, for the reason (default jira). */
  selfTracker?: string;
  /** Group membership answers at hand (no I/O); absent = none looked up (rules with `groups` report them unresolved). */
  membershipOf?: MembershipOf;
}

/** Triggers an event can fire, from its tracker-neutral kind. `label-added` only when the event adds a label. */
export function triggersOf(event: TrackerEvent): Trigger[] {
  switch (event.kind) {
    case 'created':
      return ['created'];
    case 'updated':
      return event.labelsAdded.length > 0 ? ['label-added', 'updated'] : ['updated'];
    case 'automation':
      return ['automation'];
    default:
      return [];
  }
}

/**
 * Applies the rules to an event, top to bottom; the first match wins unless the rule says `continue: true`.
 * Each handler is matched at most once per delivery. Shares its per-rule checks with {@link explainRules}.
 */
export function classify(event: TrackerEvent, rules: readonly Rule[], options: ClassifyOptions = {}): Classification {
  const none = (reason: string): Classification => ({ matches: [], reason, outOfScope: [], unresolved: [] });
  const ignored = ignoredReason(event, options);
  if (ignored) return none(ignored);
  const facts = factsOf(event);
  const matches: RouteMatch[] = [];
  const nearMisses: string[] = [];
  const outOfScope: OutOfScope[] = [];
  const unresolved: MembershipQuestion[] = [];
  for (const rule of rules) {
    if (matches.some((m) => m.handler === rule.handler)) continue;
    const check = checkRule(rule, facts, options);
    if (!check.ok) {
      if (check.nearMiss) nearMisses.push(check.reason);
      if (check.scope) outOfScope.push({ rule, reason: check.reason });
      unresolved.push(...(check.unresolved ?? []));
      continue;
    }
    matches.push({ rule, handler: rule.handler, label: check.label, reason: check.reason });
    if (!rule.continue) break;
  }
  if (matches.length > 0) return { matches, reason: matches.map((m) => m.reason).join('; '), outOfScope, unresolved };
  const labels = facts.labels;
  const base = labels.length === 0 ? 'no rule matches: the ticket has no labels' : `no rule matches labels [${labels.join(', ')}]`;
  return { ...none(nearMisses.length > 0 ? `${base} (${nearMisses.join('; ')})` : base), outOfScope, unresolved };
}

/** One rule's verdict for the rule tester (`deflect rules test`): the interface `{ rule, handler, matched, reason }`. */
export interface RuleExplanation {
  rule: string;
  handler: string;
  matched: boolean;
  reason: string;
}

/**
 * Every rule with matched / not matched and why, in file order, by the same checks as {@link classify} (including
 * first-match-wins: a rule after a winning rule without `continue` is "not matched"). Pure; membership answers come
 * from `options.membershipOf` (a rule whose groups were not looked up says so).
 */
export function explainRules(event: TrackerEvent, rules: readonly Rule[], options: ClassifyOptions = {}): RuleExplanation[] {
  const ignored = ignoredReason(event, options);
  const facts = ignored ? null : factsOf(event);
  const handlers = new Set<string>();
  let winner: Rule | null = null;
  return rules.map((rule) => {
    const verdict = (matched: boolean, reason: string): RuleExplanation => ({ rule: rule.name, handler: rule.handler, matched, reason });
    if (!facts) return verdict(false, ignored!);
    const check = checkRule(rule, facts, options);
    if (!check.ok) return verdict(false, check.reason);
    if (winner) return verdict(false, `${check.reason} would match, but rule ${winner.name} #${winner.index} matched first (first match wins; continue: true on it lets later rules match)`);
    if (handlers.has(rule.handler)) return verdict(false, `${check.reason} would match, but handler ${rule.handler} already matched by an earlier rule (each handler runs at most once per delivery)`);
    handlers.add(rule.handler);
    if (!rule.continue) winner = rule;
    return verdict(true, `${check.reason}${gateNotes(rule)}`);
  });
}

/** What the tester adds to a matching rule: it runs in shadow mode, or its runs may wait for an approver. */
function gateNotes(rule: Rule): string {
  const notes: string[] = [];
  if (rule.mode === 'shadow') notes.push('shadow mode: the run records what it would do and sends nothing');
  if (rule.approval) {
    const when = rule.approval.when === null ? 'when the handler asks for it' : `when ${JSON.stringify(rule.approval.when)}`;
    notes.push(`needs approval by ${rule.approval.approvers.join(', ')} ${when}`);
  }
  return notes.length > 0 ? `; ${notes.join('; ')}` : '';
}

/** Why the whole event is ignored before any rule is tried, or null. */
function ignoredReason(event: TrackerEvent, options: ClassifyOptions): string | null {
  if (options.selfAccountId && event.actor === options.selfAccountId) {
    const tracker = { jira: 'Jira', github: 'GitHub', linear: 'Linear', trello: 'Trello' }[options.selfTracker ?? 'jira'] ?? options.selfTracker;
    return `ignored: caused by deflect's own ${tracker} account (${options.selfAccountId})`;
  }
  if (!event.ticket) return `ignored: ${event.event} carries no issue`;
  if (triggersOf(event).length === 0) return `ignored: ${event.event} is not routed (rules fire on issue created, updated or label added, and Automation requests)`;
  // A payload without the ticket's labels can still add one (Trello's addLabelToCard): rules see the labels it adds.
  if (event.ticket.labels === null && event.labelsAdded.length === 0) return `ignored: the ${event.event} payload carries no labels`;
  return null;
}

/** What the per-rule checks read of an event that carries a ticket with labels. */
interface EventFacts {
  ticket: Ticket;
  triggers: Trigger[];
  labels: string[];
  labelsAdded: string[];
  project: string | null;
  tracker: TrackerName;
  issueType: string | null;
}

function factsOf(event: TrackerEvent): EventFacts {
  const ticket = event.ticket!;
  return {
    ticket,
    triggers: triggersOf(event),
    labels: (ticket.labels ?? event.labelsAdded).map((l) => l.toLowerCase()),
    labelsAdded: event.labelsAdded,
    project: ticket.project?.toLowerCase() ?? null,
    tracker: ticket.tracker ?? 'jira',
    issueType: ticket.issueType?.toLowerCase() ?? null,
  };
}

type RuleCheck =
  | { ok: true; label: string; reason: string }
  | { ok: false; reason: string; nearMiss: boolean; scope?: boolean; unresolved?: MembershipQuestion[] };

/**
 * One rule against one event: label and trigger, mode, trackers, projects, issue types, scope — in that order, the
 * first failing check gives the reason. Adding a check (a rule mode, an approval) is one more line here.
 */
function checkRule(rule: Rule, f: EventFacts, options: ClassifyOptions): RuleCheck {
  const miss = (reason: string, nearMiss = true): RuleCheck => ({ ok: false, reason, nearMiss });
  const label = firstMatchingLabel(rule, f.triggers, f.labels, f.labelsAdded);
  if (!label) {
    const carried = rule.labels.find((l) => f.labels.includes(l));
    if (carried) return miss(`label ${carried} matches rule ${rule.name} #${rule.index}, which fires on [${rule.on.join(', ')}], not on this ${f.triggers.join('/')}`);
    return miss(`the ticket carries none of the labels [${rule.labels.join(', ')}] of rule ${rule.name} #${rule.index}`, false);
  }
  const off = offReason(rule);
  if (off) return miss(off);
  if (rule.trackers && !rule.trackers.includes(f.tracker)) return miss(`rule ${rule.name} #${rule.index} is for trackers [${rule.trackers.join(', ')}], not ${f.tracker}`);
  if (rule.projects && (f.project === null || !rule.projects.includes(f.project))) {
    return miss(`rule ${rule.name} #${rule.index} is for projects [${rule.projects.join(', ')}], not ${f.project ?? 'an unknown project'}`);
  }
  if (rule.issueTypes && (f.issueType === null || !rule.issueTypes.includes(f.issueType))) {
    return miss(`rule ${rule.name} #${rule.index} is for issue types [${rule.issueTypes.join(', ')}], not ${f.issueType ?? 'an unknown type'}`);
  }
  const scope = checkScope(rule, f.ticket, options.membershipOf);
  if (!scope.ok) return { ok: false, reason: scope.reason, nearMiss: true, scope: true, unresolved: scope.unresolved };
  const within = scope.via ? `; in scope: ${scope.via}` : '';
  return { ok: true, label, reason: `label ${label} → ${rule.handler} (rule ${rule.name} #${rule.index}${within})` };
}

/**
 * Modes (issue 11): a rule in `mode: off` never matches (and never stops later rules); the reason names it. `shadow`
 * rules match like `live` ones: route-event queues their runs as shadow runs.
 */
function offReason(rule: Rule): string | null {
  return rule.mode === 'off' ? `rule ${rule.name} #${rule.index} is off` : null;
}

function firstMatchingLabel(rule: Rule, triggers: Trigger[], labels: string[], labelsAdded: string[]): string | undefined {
  for (const trigger of triggers) {
    if (!rule.on.includes(trigger)) continue;
    const pool = trigger === 'label-added' ? labelsAdded : labels;
    const label = rule.labels.find((l) => pool.includes(l));
    if (label) return label;
  }
  return undefined;
}
