/**
 * The built-in `scope-message` handler: the one comment a reporter outside a rule's scope gets when the rule sets
 * `scopeMessage` (issue 11). Routing queues it (`pipeline/route-event.ts`) as an ordinary run, so the comment goes
 * through the same recorded actions as every handler: an action row in the audit, `planned` (nothing sent) in a dry run,
 * retried like any run. Once per ticket and rule, ever: the run's idempotency key is
 * `<ticket key>:scope-message:<rule name>` (runs.idempotency_key is UNIQUE), which is also how the run names its rule.
 *
 * The message is read from the rules current when the run executes (a rule removed meanwhile posts nothing). It is
 * operator text, inserted as literal text (never markup).
 */
import { z } from 'zod';
import { defineHandler, type AnyHandler } from '../automation/define-handler.js';
import { md } from '../jira/comment-markdown.js';
import type { Rule } from '../rules/rules-file.js';

/** The handler name runs of this handler carry (not a file in handlers/: rules cannot name it). */
export const SCOPE_MESSAGE_HANDLER = 'scope-message';

/** The idempotency key of the scope-message run of `ticketKey` and `ruleName` (one per ticket and rule, ever). */
export const scopeMessageKey = (ticketKey: string, ruleName: string) => `${ticketKey}:${SCOPE_MESSAGE_HANDLER}:${ruleName}`;

/** @param rules the rules in force (a getter, so a reloaded rules file is seen). */
export function createScopeMessageHandler(rules: () => readonly Rule[]): AnyHandler {
  return defineHandler({
    name: SCOPE_MESSAGE_HANDLER,
    description: 'Tells a reporter outside an early-access rule’s scope (reporters/groups) that the automation is in early access, once per ticket and rule.',
    input: z.object({}),
    async run(ctx) {
      const prefix = `${ctx.ticket.key}:${SCOPE_MESSAGE_HANDLER}:`;
      const ruleName = ctx.idempotencyKey.startsWith(prefix) ? ctx.idempotencyKey.slice(prefix.length) : null;
      const rule = rules().find((r) => r.name === ruleName);
      if (!rule?.scopeMessage) return { summary: `rule ${ruleName ?? '(unknown)'} has no scopeMessage any more: nothing posted`, applied: false };
      await ctx.tracker.comment(
        md`This automation (${rule.handler}) is in early access and not yet available to you, so nothing was done automatically. ${rule.scopeMessage}`,
      );
      return { summary: `${ctx.dryRun ? 'would post' : 'posted'} the early-access message of rule ${rule.name}`, applied: false };
    },
  });
}
