/**
 * (Slack, issue 15) Which request types the front door offers a Slack user: the rules with `slack:` set whose handler
 * is installed, whose mode is `live`, and whose scope admits the user. Pure.
 *
 * - `off` rules are never offered; `shadow` rules are not offered either: filing a real Jira ticket from Slack is a
 *   visible side effect, and a rule being tried in shadow must stay invisible to developers.
 * - Scope: a rule's `reporters` match the user's email (from `users.info`) or Slack user id, case-insensitively. A rule
 *   scoped by `groups` only is not offered: tracker groups cannot be checked for a Slack user (the Jira account behind
 *   it is unknown); list the early adopters' emails in `reporters` to open such a rule in Slack.
 * - The first rule per name wins (names identify request types in the modal).
 */
import type { AnyHandler } from '../automation/define-handler.js';
import type { Rule } from '../rules/rules-file.js';
import type { RequestType } from './slack-modal.js';
import type { SlackUser } from './slack-api.js';

/** An offered request type with its rule and handler. */
export interface OfferedType extends RequestType {
  ruleRef: Rule & { slack: { project: string; issueType: string } };
  handlerRef: AnyHandler;
}

/** Whether any rule offered in Slack needs the user's email to decide its scope (then `users.info` is called first). */
export const scopeNeedsUser = (rules: readonly Rule[]) => rules.some((r) => r.slack && (r.reporters?.length ?? 0) > 0);

/** The request types `user` may file from Slack, in rules-file order. `user.email` null = only unscoped rules and id matches. */
export function requestTypesFor(rules: readonly Rule[], handlers: ReadonlyMap<string, AnyHandler>, user: Pick<SlackUser, 'id' | 'email'>): OfferedType[] {
  const offered: OfferedType[] = [];
  const ids = [user.id.toLowerCase(), user.email?.toLowerCase()].filter((v): v is string => !!v);
  for (const rule of rules) {
    if (!rule.slack || (rule.mode ?? 'live') !== 'live' || offered.some((t) => t.rule === rule.name)) continue;
    const handler = handlers.get(rule.handler);
    if (!handler) continue;
    const scoped = (rule.reporters?.length ?? 0) > 0 || (rule.groups?.length ?? 0) > 0;
    if (scoped && !ids.some((id) => rule.reporters?.includes(id))) continue;
    offered.push({ rule: rule.name, handler: handler.name, description: handler.description, ruleRef: rule as OfferedType['ruleRef'], handlerRef: handler });
  }
  return offered;
}
