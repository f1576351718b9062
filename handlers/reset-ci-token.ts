/**
 * Validates a CI/deploy token reset request and posts the exact rotation runbook for the platform team. Never prints
 * a secret.
 *
 * Ticket description form:
 * ```
 * Token: DEPLOY_TOKEN
 * System: github-actions
 * Reason: expired
 * ```
 * deflect does not rotate tokens: no token service is configured (issuing a token and writing a CI secret — for GitHub
 * Actions an encrypted secret — need a system of their own). So the handler computes the rotation (new token stored
 * under the same name, old one revoked now when it was exposed, else after a 24 h overlap), comments it as a runbook
 * with open checkboxes (`ctx.notApplied`), assigns nobody and leaves the ticket open for the platform team. When a token service exists,
 * register it in `src/integrations/index.ts`, call it here through `ctx.act('<service>.rotate_token', …)` and resolve the ticket.
 */
import { z } from 'zod';
import { defineHandler } from '../src/automation/define-handler.js';
import { formEnum, looksLikeSecret, whenValid } from '../src/automation/ticket-input.js';
import { md, type Markdown } from '../src/jira/comment-markdown.js';

const SYSTEMS = ['github-actions', 'gitlab-ci', 'jenkins', 'argo-cd'] as const;
type System = (typeof SYSTEMS)[number];

/** Where each CI system keeps the token, as the reporter would navigate to it. */
const STORED_IN: Record<System, { label: string; where: (token: string) => Markdown }> = {
  'github-actions': {
    label: 'GitHub Actions',
    where: (token) => md`repository or organization secret \`${token}\` (Settings → Secrets and variables → Actions); use it as \`${`\${{ secrets.${token} }}`}\``,
  },
  'gitlab-ci': {
    label: 'GitLab CI',
    where: (token) => md`masked, protected CI/CD variable \`${token}\` (Settings → CI/CD → Variables); use it as \`${`$${token}`}\``,
  },
  jenkins: {
    label: 'Jenkins',
    where: (token) => md`credential with ID \`${token}\` (Manage Jenkins → Credentials); use it with \`withCredentials\` or \`${`credentials('${token}')`}\``,
  },
  'argo-cd': {
    label: 'Argo CD',
    where: (token) => md`repository credential secret \`${token}\` in the \`argocd\` namespace (Settings → Repositories); Argo CD picks it up on the next sync`,
  },
};

/** A reason mentioning one of these puts revoking the old token first in the runbook, instead of after the overlap. */
const COMPROMISED = /\b(leak(ed)?|expos(ed|ure)|compromised?|committed|stolen|public)\b/i;
const OVERLAP_HOURS = 24;

const input = z
  .object({
    token: z
      .string()
      .trim()
      .max(100, 'must be at most 100 characters')
      .regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'must be the token name (letters, digits, `_`, `-`, `.`), for example `DEPLOY_TOKEN`')
      .refine((name) => !looksLikeSecret(name), 'must be the token name, not its value (revoke that token now: it is exposed in this ticket)')
      .describe('Name of the token to reset, as your pipeline refers to it (for example `DEPLOY_TOKEN`). Never paste the token value itself.'),
    system: formEnum(SYSTEMS)
      .default('github-actions')
      .describe('Where the token is used: `github-actions`, `gitlab-ci`, `jenkins` or `argo-cd`. Defaults to `github-actions`.'),
    reason: z
      .string()
      .trim()
      .max(500, 'must be at most 500 characters')
      .optional()
      .describe('Why it needs a reset (for example `expired` or `leaked in a build log`). If it was leaked or exposed, the old token is revoked immediately.'),
  })
  .superRefine((value, ctx) => {
    // GitHub secret names and GitLab variable keys allow only letters, digits and `_`; GitHub reserves `GITHUB_`
    // (https://docs.github.com/en/actions/security-for-github-actions/security-guides/using-secrets-in-github-actions#naming-your-secrets).
    const underscoreOnly = value.system === 'github-actions' || value.system === 'gitlab-ci';
    if (underscoreOnly && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value.token)) {
      ctx.addIssue({ code: 'custom', path: ['token'], message: `must use only letters, digits and \`_\` for ${value.system}, for example \`DEPLOY_TOKEN\`` });
    } else if (value.system === 'github-actions' && /^GITHUB_/i.test(value.token)) {
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'must not start with `GITHUB_` (reserved by GitHub Actions)' });
    }
  }, whenValid('token', 'system'));

export default defineHandler({
  name: 'reset-ci-token',
  description: 'Validates a CI/deploy token reset and posts the rotation runbook for the platform team; rotates nothing itself (no token service configured).',
  input,
  async run(ctx) {
    const { token, system, reason } = ctx.input;
    const compromised = reason !== undefined && COMPROMISED.test(reason);
    const plan = { token, system, revokeOldToken: compromised ? 'now' : `after ${OVERLAP_HOURS}h`, reason: reason ?? null };
    ctx.log.info({ plan, dryRun: ctx.dryRun, idempotencyKey: ctx.idempotencyKey }, 'CI token reset validated; rotation left to the platform team');

    const { label, where } = STORED_IN[system];
    // Comment text is built with `md`: the template is Markdown, every `${value}` is literal text in the ADF sent to Jira.
    const issue = md`Issue a new token for the same account and with the same scopes as \`${token}\``;
    const store = md`Store it as the ${where(token)}`;
    const steps = compromised
      ? [md`Revoke the old token **now**: the reason given says it was exposed`, issue, store, md`Check the audit log of the affected system for use of the old token since it was exposed`]
      : [issue, store, md`Revoke the old token in ${String(OVERLAP_HOURS)} hours, so running pipelines can finish`];
    return ctx.notApplied(
      md`no token service is configured, so the platform team rotates **${token}** (${label}) by hand.`,
      [...steps, md`Re-run any pipeline that failed with the old token`],
      { heading: md`**Runbook**`, note: md`The token value is never posted in Jira: read it only where it is stored.`, summary: 'rotation left to the platform team (no token service configured)' },
    );
  },
});
