/**
 * Grants a developer access to a GitHub repository.
 *
 * Ticket description form:
 * ```
 * Repository: acme/api
 * Permission: write
 * GitHub User: octocat
 * ```
 * deflect has no GitHub credentials here: the handler computes the grant (who, which repository, which role,
 * what the role allows) and reports it. The GitHub call (`PUT /repos/{owner}/{repo}/collaborators/{username}`)
 * belongs where `plan` is logged, guarded by `ctx.dryRun` and deduplicated with `ctx.idempotencyKey`.
 */
import { z } from 'zod';
import { defineHandler } from '../src/automation/define-handler.js';
import { formEnum, whenValid } from '../src/automation/ticket-input.js';

const PERMISSIONS = ['read', 'triage', 'write', 'maintain'] as const;
type Permission = (typeof PERMISSIONS)[number];

/** What each GitHub repository role allows (https://docs.github.com/en/organizations/managing-user-access-to-your-organizations-repositories/managing-repository-roles/repository-roles-for-an-organization). */
const ROLE_ALLOWS: Record<Permission, string> = {
  read: 'clone and pull, open and comment on issues and pull requests',
  triage: 'everything in read, plus label, assign and close issues and pull requests',
  write: 'everything in triage, plus push to branches and merge pull requests (branch protection still applies)',
  maintain: 'everything in write, plus manage issues settings, topics and releases (no access to secrets or destructive settings)',
};

const input = z
  .object({
    repository: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9._-]{1,100}$/, 'must look like `org/name`, for example `acme/api`')
      .describe('The GitHub repository you need access to, as `org/name` (for example `acme/api`).'),
    permission: formEnum(PERMISSIONS)
      .default('read')
      .describe('Access level: `read` (clone, comment), `triage` (manage issues), `write` (push, merge) or `maintain` (write + settings). Defaults to `read`.'),
    githubUser: z
      .string()
      .trim()
      .regex(/^@?[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/, 'must be a GitHub username such as `octocat`')
      .optional()
      .describe('Your GitHub username (for example `octocat`). Leave it out to use the GitHub account linked to the reporter.'),
    reporter: z.string().optional(),
  })
  .superRefine((value, ctx) => {
    if (!value.githubUser && !value.reporter) {
      ctx.addIssue({ code: 'custom', path: ['githubUser'], message: 'is needed because this ticket has no reporter' });
    }
  }, whenValid('githubUser'));

export default defineHandler({
  name: 'grant-repo-access',
  description: 'Grants a GitHub user read, triage, write or maintain access to one repository and resolves the ticket.',
  input,
  async run(ctx) {
    const { repository, permission, githubUser, reporter } = ctx.input;
    const grantee = githubUser
      ? `GitHub user \`@${githubUser.replace(/^@/, '')}\``
      : `the GitHub account linked to ${reporter} (the reporter)`;
    const plan = { repository, permission, githubUser: githubUser?.replace(/^@/, '') ?? null, reporter: reporter ?? null };
    ctx.log.info({ plan, dryRun: ctx.dryRun, idempotencyKey: ctx.idempotencyKey }, 'granting repository access');

    const org = repository.split('/')[0];
    await ctx.jira.comment(
      [
        `Access granted to **${repository}**:`,
        '',
        `- [x] ${grantee} added to \`${repository}\` with the **${permission}** role`,
        `- [x] The ${permission} role allows: ${ROLE_ALLOWS[permission]}`,
        `- [ ] If you are not a member of the \`${org}\` organization yet, accept the invitation at https://github.com/${repository}/invitations (it expires after 7 days)`,
        '',
        `Need a different level? File a new ticket with the permission you need. Request id: \`${ctx.idempotencyKey}\``,
      ].join('\n'),
    );
    await ctx.jira.transition('Done');
    return { summary: `granted ${permission} on ${repository} to ${plan.githubUser ?? `reporter ${reporter}`}` };
  },
});
