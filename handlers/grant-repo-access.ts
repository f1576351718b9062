/**
 * Grants a developer access to a GitHub repository.
 *
 * Ticket description form:
 * ```
 * Repository: acme/api
 * Permission: write
 * GitHub User: octocat
 * ```
 * With GitHub configured (`ctx.integrations.github.api`, from `GITHUB_TOKEN`) it calls
 * `PUT /repos/{owner}/{repo}/collaborators/{username}` as the recorded action `github.add_collaborator`, comments what
 * GitHub did (201: invitation sent; 204: the user already had access, role set) and resolves the ticket.
 * Without a token, or when the ticket names no GitHub username (deflect cannot map a Jira reporter to a GitHub
 * account), it changes nothing: it comments that the request is valid and exactly what a platform engineer must apply,
 * and leaves the ticket open (`ctx.notApplied`). In dry run the call and the comment are planned, and the comment says what would be done.
 *
 * Options (`with:` on the rule): `allowedOrgs` (repositories of other organizations are refused with a comment, nothing
 * is called; default: the organization of `GITHUB_ORG`) and `maxRoleWithoutApproval` (default `read`: a higher role
 * waits for an approver of the rule's `approval.approvers`, see `ctx.requireApproval`).
 */
import { z } from 'zod';
import { defineHandler } from '../src/automation/define-handler.js';
import { formEnum, whenValid } from '../src/automation/ticket-input.js';
import { md } from '../src/jira/comment-markdown.js';
import { GITHUB_PERMISSION, type CollaboratorResult } from '../src/integrations/github.js';

const PERMISSIONS = ['read', 'triage', 'write', 'maintain'] as const;
type Permission = (typeof PERMISSIONS)[number];

/** What each GitHub repository role allows (https://docs.github.com/en/organizations/managing-user-access-to-your-organizations-repositories/managing-repository-roles/repository-roles-for-an-organization). */
const ROLE_ALLOWS: Record<Permission, string> = {
  read: 'clone and pull, open and comment on issues and pull requests',
  triage: 'everything in read, plus label, assign and close issues and pull requests',
  write: 'everything in triage, plus push to branches and merge pull requests (branch protection still applies)',
  maintain: 'everything in write, plus manage issues settings, topics and releases (no access to secrets or destructive settings)',
};

const options = z
  .object({
    allowedOrgs: z
      .array(z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/, 'must be a GitHub organization such as `acme`'))
      .min(1)
      .optional()
      .describe('Organizations whose repositories may be requested; default: the GITHUB_ORG organization.'),
    maxRoleWithoutApproval: z.enum(PERMISSIONS).default('read').describe('The highest role granted without approval; a higher one waits for an approver.'),
  })
  .strict();

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
      .describe('Your GitHub username (for example `octocat`). Without it deflect cannot apply the grant itself: a platform engineer looks up your account.'),
    reporter: z.string().optional(),
  })
  .superRefine((value, ctx) => {
    if (!value.githubUser && !value.reporter) {
      ctx.addIssue({ code: 'custom', path: ['githubUser'], message: 'is needed because this ticket has no reporter' });
    }
  }, whenValid('githubUser'));

export default defineHandler({
  name: 'grant-repo-access',
  description: 'Grants a GitHub user read, triage, write or maintain access to one repository (via GITHUB_TOKEN) and resolves the ticket.',
  input,
  options,
  async run(ctx) {
    const { repository, permission, githubUser, reporter } = ctx.input;
    const allowedOrgs = ctx.options.allowedOrgs ?? [ctx.integrations.github.org];
    const org = repository.split('/')[0];
    if (!allowedOrgs.some((allowed) => allowed.toLowerCase() === org.toLowerCase())) {
      // Refused before anything else: no GitHub call, the ticket stays open for a person to answer.
      await ctx.tracker.comment(
        md`**Not allowed:** deflect grants access only to repositories of ${allowedOrgs.join(', ')}, and \`${repository}\` belongs to \`${org}\`. Nothing was changed; ask the platform team if you need it. Request id: \`${ctx.idempotencyKey}\``,
      );
      return { summary: `refused: ${org} is not an allowed organization`, applied: false };
    }
    const user = githubUser?.replace(/^@/, '') ?? null;
    const githubPermission = GITHUB_PERMISSION[permission];
    const plan = { repository, permission, githubPermission, githubUser: user, reporter: reporter ?? null };
    ctx.log.info({ plan, dryRun: ctx.dryRun, github: ctx.integrations.github.api !== null, idempotencyKey: ctx.idempotencyKey }, 'granting repository access');
    // Comment text is built with `md`: the template is Markdown, every `${value}` (ticket text such as the reporter's
    // display name, form values, the request id) is literal text in the ADF sent to Jira, never a link or markup.
    const requestId = md`Request id: \`${ctx.idempotencyKey}\``;
    const roleLine = md`The ${permission} role allows: ${ROLE_ALLOWS[permission]}.`;

    const github = ctx.integrations.github.api;
    if (!github || !user) {
      const who = user ? md`\`@${user}\`` : md`the GitHub account of ${reporter} (the reporter; look it up, deflect cannot map Jira users to GitHub)`;
      const step = md`Add ${who} to \`${repository}\` with the **${permission}** role: Settings → Collaborators and teams → Add people${md` (API: \`PUT /repos/${repository}/collaborators/${user ?? '<username>'}\` with \`{"permission": "${githubPermission}"}\`)`}`;
      const askReporter = user ? [] : [md`If you are the reporter: reply with your GitHub username to speed this up.`];
      return !github
        ? ctx.notApplied(md`deflect has no GitHub token (\`GITHUB_TOKEN\` is not set), so it cannot change GitHub.`, [step], { summary: 'GITHUB_TOKEN not set', note: [...askReporter, roleLine] })
        : ctx.notApplied(md`the ticket names no GitHub username, and deflect cannot look up the GitHub account of a Jira user.`, [step], { summary: 'no GitHub username on the ticket', note: [...askReporter, roleLine] });
    }

    const needsApproval = PERMISSIONS.indexOf(permission) > PERMISSIONS.indexOf(ctx.options.maxRoleWithoutApproval);
    // A dry run sends nothing, so there is nothing to approve: its comment says approval would be asked.
    if (needsApproval && !ctx.dryRun) {
      ctx.requireApproval(`the ${permission} role on ${repository} is above ${ctx.options.maxRoleWithoutApproval}, the highest role granted without approval`);
    }
    const result: CollaboratorResult | undefined = await ctx.act('github.add_collaborator', { repository, user, permission: githubPermission }, () =>
      github.addCollaborator(repository, user, permission),
    );
    const grantee = md`GitHub user \`@${user}\``;
    if (ctx.dryRun || !result) {
      // Dry run: the call above was only planned.
      await ctx.tracker.comment(
        md.join([
          md`Dry run: nothing was changed in GitHub. deflect would ${needsApproval ? md`ask the rule's approvers (the **${permission}** role needs approval), then ` : md``}add ${grantee} to \`${repository}\` with the **${permission}** role${md` (an invitation, if they are not in the organization yet), then resolve this ticket.`}`,
          md``,
          roleLine,
          md``,
          requestId,
        ]),
      );
      await ctx.tracker.resolve();
      return { summary: `dry run: would grant ${permission} on ${repository} to ${user}` };
    }

    const invited = result.status === 201;
    const invitationUrl = md.link(result.invitationUrl ?? `https://github.com/${repository}/invitations`);
    await ctx.tracker.comment(
      md.join([
        invited ? md`Invitation sent for **${repository}**:` : md`Access granted to **${repository}**:`,
        md``,
        invited
          ? md`- [x] GitHub invited ${grantee} to \`${repository}\` with the **${permission}** role`
          : md`- [x] ${grantee} now has the **${permission}** role on \`${repository}\` (GitHub: they already had access as a collaborator or organization member; the role was set)`,
        ...(invited ? [md`- [ ] Accept the invitation at ${invitationUrl} (it expires after 7 days); until then you have no access`] : []),
        md``,
        roleLine,
        md``,
        md`Need a different level? File a new ticket with the permission you need. ${requestId}`,
      ]),
    );
    await ctx.tracker.resolve();
    return {
      summary: invited
        ? `invited ${user} to ${repository} with ${permission} (invitation pending)`
        : `granted ${permission} on ${repository} to ${user}`,
    };
  },
});
