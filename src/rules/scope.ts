/**
 * Rule scope (issue 11, early adopters): a rule with `reporters` and/or `groups` only fires for tickets whose reporter
 * is listed, or is a member of one of the groups. Pure: group membership is looked up elsewhere
 * (`src/scope/membership-cache.ts`, by routing) and handed in as {@link MembershipOf}; an answer that is missing is
 * reported as `unresolved`, so routing can look it up and route again (decision record 008-rule-scope.md).
 *
 * Semantics: `reporters` and `groups` are alternatives (in scope = listed OR member of any group); a rule with neither
 * is open to everyone. Reporters match case-insensitively against the ticket's `reporterId` (Jira accountId / Data
 * Center user name, GitHub login, Linear user id) — an email entry therefore matches where the tracker's id is the
 * email (many Data Center user names are). A ticket without a reporter id is out of scope of any scoped rule.
 */
import type { Ticket } from '../ticket.js';
import type { TrackerName } from '../trackers/tracker.js';
import type { Rule } from './rules-file.js';

/** One membership question: is `user` (the tracker's reporter id) in `group` of `tracker`? */
export interface MembershipQuestion {
  tracker: TrackerName;
  user: string;
  /** As written in the rule (`platform-early-adopters`, `acme/payments`, `ENG`). */
  group: string;
}

/** A looked-up answer: member or not, or why the lookup failed (the failure puts the ticket out of scope). */
export type MembershipAnswer = { member: boolean } | { error: string };

/** The answers routing has at hand; `undefined` = not looked up (yet). Must not do I/O. */
export type MembershipOf = (question: MembershipQuestion) => MembershipAnswer | undefined;

/** In scope (with how), or out of it with the reason and the questions that still need an answer. */
export type ScopeCheck =
  | { ok: true; via: string | null }
  | { ok: false; reason: string; unresolved: MembershipQuestion[] };

/** Whether `rule` has a scope at all (reporters or groups). */
export const isScoped = (rule: Rule): boolean => Boolean(rule.reporters?.length || rule.groups?.length);

/**
 * Checks the ticket's reporter against the rule's scope.
 * @returns `{ ok: true, via }` (`via` = `reporter x` / `group g`, null for an unscoped rule), or `{ ok: false, reason }`
 *   with reason `reporter x is not in the scope of rule y #n (reporters/groups)` plus the failed lookups, and the
 *   membership questions with no answer yet.
 */
export function checkScope(rule: Rule, ticket: Ticket, membershipOf: MembershipOf | undefined): ScopeCheck {
  if (!isScoped(rule)) return { ok: true, via: null };
  const user = ticket.reporterId?.trim() || null;
  const fields = [rule.reporters?.length ? 'reporters' : null, rule.groups?.length ? 'groups' : null].filter(Boolean).join('/');
  const outOfScope = (details: string[], unresolved: MembershipQuestion[] = []): ScopeCheck => ({
    ok: false,
    reason: `reporter ${user ?? '(unknown: the payload names no reporter)'} is not in the scope of rule ${rule.name} #${rule.index} (${fields})${details.length ? `: ${details.join('; ')}` : ''}`,
    unresolved,
  });
  if (user === null) return outOfScope([]);
  if (rule.reporters?.includes(user.toLowerCase())) return { ok: true, via: `reporter ${user}` };
  const details: string[] = [];
  const unresolved: MembershipQuestion[] = [];
  for (const group of rule.groups ?? []) {
    const question: MembershipQuestion = { tracker: ticket.tracker ?? 'jira', user, group };
    const answer = membershipOf?.(question);
    if (answer === undefined) {
      unresolved.push(question);
      details.push(`membership of group ${group} not looked up`);
    } else if ('error' in answer) {
      details.push(`group ${group} lookup failed: ${answer.error}`);
    } else if (answer.member) {
      return { ok: true, via: `group ${group}` };
    }
  }
  return outOfScope(details, unresolved);
}
