/**
 * Classification: which handlers (if any) a delivery routes to, and why. Pure: no I/O.
 * Every decision comes with a reason sentence that is stored for the audit.
 */
import type { TrackerEvent } from '../trackers/tracker.js';
import type { Rule, Trigger } from './rules-file.js';

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
}

export interface ClassifyOptions {
  /** deflect's own account on the event's tracker (Jira accountId / name, GitHub login, Linear user id): its events are ignored (no loops). */
  selfAccountId?: string | null;
  /** The tracker `selfAccountId` belongs to, for the reason (default jira). */
  selfTracker?: string;
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
 * Each handler is matched at most once per delivery.
 */
export function classify(event: TrackerEvent, rules: readonly Rule[], options: ClassifyOptions = {}): Classification {
  const none = (reason: string): Classification => ({ matches: [], reason });
  if (options.selfAccountId && event.actor === options.selfAccountId) {
    const tracker = { jira: 'Jira', github: 'GitHub', linear: 'Linear' }[options.selfTracker ?? 'jira'] ?? options.selfTracker;
    return none(`ignored: caused by deflect's own ${tracker} account (${options.selfAccountId})`);
  }
  if (!event.ticket) return none(`ignored: ${event.event} carries no issue`);
  const triggers = triggersOf(event);
  if (triggers.length === 0) return none(`ignored: ${event.event} is not routed (rules fire on issue created, updated or label added, and Automation requests)`);
  if (event.ticket.labels === null) return none(`ignored: the ${event.event} payload carries no labels`);

  const labels = event.ticket.labels.map((l) => l.toLowerCase());
  const project = event.ticket.project?.toLowerCase() ?? null;
  const tracker = event.ticket.tracker ?? 'jira';
  const issueType = event.ticket.issueType?.toLowerCase() ?? null;
  const matches: RouteMatch[] = [];
  const nearMisses: string[] = [];
  for (const rule of rules) {
    if (matches.some((m) => m.handler === rule.handler)) continue;
    const label = firstMatchingLabel(rule, triggers, labels, event.labelsAdded);
    if (!label) {
      const carried = rule.labels.find((l) => labels.includes(l));
      if (carried) nearMisses.push(`label ${carried} matches rule ${rule.name} #${rule.index}, which fires on [${rule.on.join(', ')}], not on this ${triggers.join('/')}`);
      continue;
    }
    const off = offReason(rule);
    if (off) {
      nearMisses.push(off);
      continue;
    }
    if (rule.trackers && !rule.trackers.includes(tracker)) {
      nearMisses.push(`rule ${rule.name} #${rule.index} is for trackers [${rule.trackers.join(', ')}], not ${tracker}`);
      continue;
    }
    if (rule.projects && (project === null || !rule.projects.includes(project))) {
      nearMisses.push(`rule ${rule.name} #${rule.index} is for projects [${rule.projects.join(', ')}], not ${project ?? 'an unknown project'}`);
      continue;
    }
    if (rule.issueTypes && (issueType === null || !rule.issueTypes.includes(issueType))) {
      nearMisses.push(`rule ${rule.name} #${rule.index} is for issue types [${rule.issueTypes.join(', ')}], not ${issueType ?? 'an unknown type'}`);
      continue;
    }
    matches.push({ rule, handler: rule.handler, label, reason: `label ${label} → ${rule.handler} (rule ${rule.name} #${rule.index})` });
    if (!rule.continue) break;
  }
  if (matches.length > 0) return { matches, reason: matches.map((m) => m.reason).join('; ') };
  const base = labels.length === 0 ? 'no rule matches: the ticket has no labels' : `no rule matches labels [${labels.join(', ')}]`;
  return none(nearMisses.length > 0 ? `${base} (${nearMisses.join('; ')})` : base);
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
