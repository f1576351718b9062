/**
 * Rotates a CI/deploy token and tells the reporter where the new one is stored. Never prints a secret.
 *
 * Ticket description form:
 * ```
 * Token: DEPLOY_TOKEN
 * System: github-actions
 * Reason: expired
 * ```
 * deflect has no CI credentials here: the handler computes the rotation (new token stored under the same name,
 * old one revoked now or after an overlap) and reports it. The calls to the token issuer and the CI system's
 * secret store belong where `plan` is logged, guarded by `ctx.dryRun` and deduplicated with `ctx.idempotencyKey`.
 */
import { z } from 'zod';
import { defineHandler } from '../src/automation/define-handler.js';
import { formEnum, looksLikeSecret, whenValid } from '../src/automation/ticket-input.js';

const SYSTEMS = ['github-actions', 'gitlab-ci', 'jenkins', 'argo-cd'] as const;
type System = (typeof SYSTEMS)[number];

/** Where each CI system keeps the token, as the reporter would navigate to it. */
const STORED_IN: Record<System, { label: string; where: (token: string) => string }> = {
  'github-actions': {
    label: 'GitHub Actions',
    where: (token) => `repository or organization secret \`${token}\` (Settings → Secrets and variables → Actions); use it as \`\${{ secrets.${token} }}\``,
  },
  'gitlab-ci': {
    label: 'GitLab CI',
    where: (token) => `masked, protected CI/CD variable \`${token}\` (Settings → CI/CD → Variables); use it as \`$${token}\``,
  },
  jenkins: {
    label: 'Jenkins',
    where: (token) => `credential with ID \`${token}\` (Manage Jenkins → Credentials); use it with \`withCredentials\` or \`credentials('${token}')\``,
  },
  'argo-cd': {
    label: 'Argo CD',
    where: (token) => `repository credential secret \`${token}\` in the \`argocd\` namespace (Settings → Repositories); Argo CD picks it up on the next sync`,
  },
};

/** A reason mentioning one of these revokes the old token immediately instead of after the overlap. */
const COMPROMISED = /\b(leak(ed)?|expos(ed|ure)|compromised?|committed|stolen|public)\b/i;
const OVERLAP_HOURS = 24;

const input = z
  .object({
    token: z
      .string()
      .trim()
      .max(100, 'must be at most 100 characters')
      .regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'must be the token *name* (letters, digits, `_`, `-`, `.`), for example `DEPLOY_TOKEN`')
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
  description: 'Rotates a named CI/deploy token, stores the new value where the CI system reads it, and resolves the ticket.',
  input,
  async run(ctx) {
    const { token, system, reason } = ctx.input;
    const compromised = reason !== undefined && COMPROMISED.test(reason);
    const revoke = compromised ? 'revoked immediately' : `revoked in ${OVERLAP_HOURS} hours, so running pipelines can finish`;
    const plan = { token, system, revokeOldToken: compromised ? 'now' : `after ${OVERLAP_HOURS}h`, reason: reason ?? null };
    ctx.log.info({ plan, dryRun: ctx.dryRun, idempotencyKey: ctx.idempotencyKey }, 'rotating CI token');

    const { label, where } = STORED_IN[system];
    await ctx.jira.comment(
      [
        `Token **${token}** (${label}) was rotated:`,
        '',
        `- [x] A new token was issued and stored as the ${where(token)}`,
        `- [x] The old token will be ${revoke}`,
        '- [ ] Re-run any pipeline that failed with the old token',
        ...(compromised ? ['- [ ] Check the audit log of the affected system for use of the old token since it was exposed'] : []),
        '',
        'The token value is never posted in Jira: read it only where it is stored.',
        '',
        `Request id: \`${ctx.idempotencyKey}\``,
      ].join('\n'),
    );
    await ctx.jira.transition('Done');
    return { summary: `rotated ${system} token ${token}; old token ${plan.revokeOldToken === 'now' ? 'revoked now' : `revoked after ${OVERLAP_HOURS}h`}` };
  },
});
