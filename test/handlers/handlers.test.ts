import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import createRepository from '../../handlers/create-repository.js';
import grantRepoAccess from '../../handlers/grant-repo-access.js';
import { findHandler, handlers } from '../../handlers/index.js';
import resetCiToken from '../../handlers/reset-ci-token.js';
import type { AnyHandler } from '../../src/automation/define-handler.js';
import { runHandler } from '../../src/automation/test-context.js';
import { parseTicketInput } from '../../src/automation/ticket-input.js';
import { GITHUB_PERMISSION, type GitHubApi } from '../../src/integrations/github.js';
import type { Ticket } from '../../src/ticket.js';
import { ticketWith as baseTicket } from '../support/ticket-fixture.js';

const HANDLERS_DIR = fileURLToPath(new URL('../../handlers/', import.meta.url));

/** PLAT-7 as a generic platform request (handler tests set their own form in the description). */
const ticketWith = (description: string | null, overrides: Partial<Ticket> = {}): Ticket =>
  baseTicket(description, { labels: ['platform-request'], summary: 'Platform request', ...overrides });

/** A fake GitHub: records every call and answers like GitHub would (`collaborator`: 201 invitation or 204). */
function fakeGitHub(options: { collaborator?: 201 | 204 } = {}) {
  const calls: Array<{ method: keyof GitHubApi; args: unknown[] }> = [];
  const github: GitHubApi = {
    timeoutMs: 1_000,
    async addCollaborator(repository, username, role) {
      calls.push({ method: 'addCollaborator', args: [repository, username, role] });
      return options.collaborator === 204
        ? { status: 204, outcome: 'granted', invitationId: null, invitationUrl: null, permission: GITHUB_PERMISSION[role] }
        : { status: 201, outcome: 'invited', invitationId: 7, invitationUrl: `https://github.com/${repository}/invitations`, permission: GITHUB_PERMISSION[role] };
    },
    async createFromTemplate(request) {
      calls.push({ method: 'createFromTemplate', args: [request] });
      const fullName = `${request.owner}/${request.name}`;
      return { created: true, fullName, htmlUrl: `https://github.com/${fullName}`, sshUrl: `git@github.com:${fullName}.git`, private: request.private, defaultBranch: 'main', template: request.template };
    },
    async addTeamToRepository(org, teamSlug, repository, role) {
      calls.push({ method: 'addTeamToRepository', args: [org, teamSlug, repository, role] });
      return { team: `${org}/${teamSlug}`, permission: GITHUB_PERMISSION[role] };
    },
  };
  return { github, calls };
}

interface FakeOptions {
  /** The GitHub client handlers get; null = `GITHUB_TOKEN` not set (the default here). */
  github?: GitHubApi | null;
  dryRun?: boolean;
  /** `GITHUB_ORG`: the GitHub integration's own setting. */
  githubOrg?: string;
  /** The rule's `with:` options (parsed by the handler's options schema). */
  options?: Record<string, unknown>;
  /** Run as approved by this approver. */
  approvedBy?: string;
}

/** Parses the ticket with the handler's schema and runs it with the shipped test context (`createTestContext`). */
async function runWith(handler: AnyHandler, description: string, overrides: Partial<Ticket> = {}, options: FakeOptions = {}) {
  const run = await runHandler(handler, {
    ticket: ticketWith(description, overrides),
    dryRun: options.dryRun,
    integrations: { github: { api: options.github ?? null, org: options.githubOrg ?? 'acme', callTimeoutMs: 1_000 } },
    options: options.options,
    approval: options.approvedBy ? { by: options.approvedBy, at: 1 } : null,
  });
  return { ...run, comment: run.comments.join('\n'), calls: run.calls, logLines: run.logLines };
}

function problemsFor(handler: AnyHandler, description: string | null, overrides: Partial<Ticket> = {}) {
  const parsed = parseTicketInput(ticketWith(description, overrides), handler.input);
  if (parsed.ok) throw new Error(`expected problems, got ${JSON.stringify(parsed.input)}`);
  return { ...parsed, comment: String(parsed.comment) };
}

describe('grant-repo-access', () => {
  it('asks for approval (no GitHub call, nothing posted by the handler) for a role above maxRoleWithoutApproval (default read)', async () => {
    const gh = fakeGitHub({ collaborator: 201 });
    await expect(runWith(grantRepoAccess, 'Repository: acme/api\nPermission: write\nGitHub User: octocat', {}, { github: gh.github })).rejects.toMatchObject({
      name: 'ApprovalRequiredError',
      reason: expect.stringContaining('the write role on acme/api is above read'),
    });
    expect(gh.calls).toEqual([]);
    const raised = await runWith(grantRepoAccess, 'Repository: acme/api\nPermission: write\nGitHub User: octocat', {}, { github: gh.github, options: { maxRoleWithoutApproval: 'write' } });
    expect(raised.result).toEqual({ summary: 'invited octocat to acme/api with write (invitation pending)' });
  });

  it('refuses a repository outside allowedOrgs with a clear comment and no GitHub call', async () => {
    const gh = fakeGitHub({ collaborator: 201 });
    const run = await runWith(grantRepoAccess, 'Repository: evil/api\nGitHub User: octocat', {}, { github: gh.github, options: { allowedOrgs: ['acme', 'acme-labs'] } });
    expect(gh.calls).toEqual([]);
    expect(run.calls.map((c) => c.method)).toEqual(['comment']);
    expect(run.comment).toContain('**Not allowed:** deflect grants access only to repositories of acme, acme-labs, and `evil/api` belongs to `evil`');
    expect(run.result).toEqual({ summary: 'refused: evil is not an allowed organization', applied: false });
    // Default allowedOrgs: the GITHUB_ORG organization.
    const byDefault = await runWith(grantRepoAccess, 'Repository: other/api\nGitHub User: octocat', {}, { github: gh.github, githubOrg: 'acme' });
    expect(byDefault.comment).toContain('only to repositories of acme');
  });

  it('rejects invalid options with the field named', () => {
    expect(grantRepoAccess.options!.safeParse({ maxRoleWithoutApproval: 'admin' }).success).toBe(false);
    expect(grantRepoAccess.options!.safeParse({ allowedOrgs: ['not an org'] }).success).toBe(false);
    expect(grantRepoAccess.options!.parse({})).toEqual({ maxRoleWithoutApproval: 'read' });
  });

  it('with GitHub: adds the collaborator as a recorded action, comments the invitation, then moves to Done', async () => {
    const gh = fakeGitHub({ collaborator: 201 });
    const { calls, comment, result, logLines } = await runWith(
      grantRepoAccess,
      '*Repository*: {{acme/api}}\n| Permission | Write |\n* GitHub user: @octocat',
      {},
      { github: gh.github, approvedBy: 'lead-account' },
    );
    expect(calls.map((call) => call.method)).toEqual(['act', 'comment', 'resolve']);
    expect(calls[0].args).toEqual(['github.add_collaborator', { repository: 'acme/api', user: 'octocat', permission: 'push' }]);
    expect(gh.calls).toEqual([{ method: 'addCollaborator', args: ['acme/api', 'octocat', 'write'] }]);
    expect(calls[2].args).toEqual(['Done']);
    expect(comment).toContain('Invitation sent for **acme/api**');
    expect(comment).toContain('- [x] GitHub invited GitHub user `@octocat` to `acme/api` with the **write** role');
    expect(comment).toContain('- [ ] Accept the invitation at https://github.com/acme/api/invitations (it expires after 7 days)');
    expect(comment).toContain('Request id: `PLAT-7:grant-repo-access:delivery-1`');
    expect(result).toEqual({ summary: 'invited octocat to acme/api with write (invitation pending)' });
    expect(logLines.some((line) => line.msg === 'granting repository access')).toBe(true);
  });

  it('with GitHub: says access was granted when GitHub answers 204 (already a collaborator or org member)', async () => {
    const gh = fakeGitHub({ collaborator: 204 });
    const { comment, result } = await runWith(grantRepoAccess, 'Repository: acme/web\nGitHub User: jdoe', {}, { github: gh.github });
    expect(gh.calls[0].args).toEqual(['acme/web', 'jdoe', 'read']);
    expect(comment).toContain('Access granted to **acme/web**');
    expect(comment).toContain('now has the **read** role on `acme/web`');
    expect(comment).not.toContain('Accept the invitation');
    expect(result).toEqual({ summary: 'granted read on acme/web to jdoe' });
  });

  it('without GITHUB_TOKEN: comments exactly what to apply, changes nothing and leaves the ticket open', async () => {
    const { calls, comment, result } = await runWith(grantRepoAccess, 'Repository: acme/api\nPermission: write\nGitHub User: octocat');
    expect(calls.map((call) => call.method)).toEqual(['comment']);
    expect(comment).toContain('valid and allowed by the rules, but it was **not applied**');
    expect(comment).toContain('`GITHUB_TOKEN` is not set');
    expect(comment).toContain('- [ ] Add `@octocat` to `acme/api` with the **write** role');
    expect(comment).toContain('`PUT /repos/acme/api/collaborators/octocat` with `{"permission": "push"}`');
    expect(comment).not.toMatch(/Access granted|Invitation sent/);
    expect(result).toEqual({ summary: 'validated; not applied: GITHUB_TOKEN not set', applied: false });
  });

  it('with GitHub but no GitHub username: does not guess the account, asks a platform engineer to apply it', async () => {
    const gh = fakeGitHub();
    const { calls, comment, result } = await runWith(grantRepoAccess, 'Repository: acme/web', {}, { github: gh.github });
    expect(calls.map((call) => call.method)).toEqual(['comment']);
    expect(gh.calls).toEqual([]);
    expect(comment).toContain('- [ ] Add the GitHub account of Jane Doe (the reporter');
    expect(comment).toContain('with the **read** role');
    expect(comment).toContain('reply with your GitHub username');
    expect(result).toEqual({ summary: 'validated; not applied: no GitHub username on the ticket', applied: false });
  });

  it('in dry run: plans the GitHub call, the comment says what would be done, and GitHub is not called', async () => {
    const gh = fakeGitHub();
    const { calls, comment, result } = await runWith(grantRepoAccess, 'Repository: acme/api\nGitHub User: octocat', {}, { github: gh.github, dryRun: true });
    expect(calls.map((call) => call.method)).toEqual(['act', 'comment', 'resolve']);
    expect(gh.calls).toEqual([]);
    expect(comment).toContain('Dry run: nothing was changed in GitHub. deflect would add GitHub user `@octocat` to `acme/api` with the **read** role');
    expect(result).toEqual({ summary: 'dry run: would grant read on acme/api to octocat' });
  });

  it('asks for the missing repository and rejects an unknown permission, quoting the field help', () => {
    const { problems, comment } = problemsFor(grantRepoAccess, 'Permission: admin');
    expect(problems.map((problem) => problem.field)).toEqual(['repository', 'permission']);
    expect(comment).toContain('- **Repository** is missing — The GitHub repository you need access to');
    expect(comment).toContain('must be one of `read`, `triage`, `write`, `maintain`');
  });

  it('needs a GitHub user when the ticket has no reporter', () => {
    const { problems } = problemsFor(grantRepoAccess, 'Repository: acme/api', { reporter: null });
    expect(problems).toEqual([{ field: 'githubUser', message: 'is needed because this ticket has no reporter' }]);
  });
});

describe('create-repository', () => {
  it('refuses a template the rule does not offer, or a team not allowed to own repositories, without calling GitHub', async () => {
    const form = 'Repository Name: payments-ledger\nTemplate: library\nOwning Team: payments';
    const onlyService = await runWith(createRepository, form, {}, { options: { templates: ['service'] } });
    expect(onlyService.calls.map((c) => c.method)).toEqual(['comment']);
    expect(onlyService.comment).toContain('**Not allowed:** the `library` template is not offered here (offered: service)');
    expect(onlyService.result).toMatchObject({ applied: false });
    const teams = await runWith(createRepository, form, {}, { options: { allowedTeams: ['platform', 'search'] } });
    expect(teams.comment).toContain('team `payments` may not own new repositories here (allowed: platform, search)');
    const allowed = await runWith(createRepository, form, {}, { options: { allowedTeams: ['payments'] } });
    expect(allowed.comment).not.toContain('Not allowed');
  });

  it('with GitHub: creates the repository from the template, gives the team admin, comments URL and next steps, then moves to Done', async () => {
    const gh = fakeGitHub();
    const { calls, comment, result } = await runWith(
      createRepository,
      'Repository name: payments-ledger\nOwning team: Payments Team\nVisibility: Internal',
      {},
      { github: gh.github },
    );
    expect(calls.map((call) => call.method)).toEqual(['act', 'act', 'comment', 'resolve']);
    expect(calls[0].args).toEqual(['github.create_from_template', { template: 'acme/template-service', owner: 'acme', name: 'payments-ledger', private: true }]);
    expect(calls[1].args).toEqual(['github.add_team_repository', { team: 'acme/payments-team', repository: 'acme/payments-ledger', permission: 'admin' }]);
    expect(calls[3].args).toEqual(['Done']);
    expect(gh.calls[0]).toMatchObject({
      method: 'createFromTemplate',
      args: [{ template: 'acme/template-service', owner: 'acme', name: 'payments-ledger', private: true, marker: expect.stringMatching(/^deflect [0-9a-f]{16}$/) }],
    });
    expect(gh.calls[1]).toEqual({ method: 'addTeamToRepository', args: ['acme', 'payments-team', 'acme/payments-ledger', 'admin'] });
    expect(comment).toContain('Repository created: https://github.com/acme/payments-ledger');
    expect(comment).toContain('- [x] Created **acme/payments-ledger** (private) from the `acme/template-service` template');
    expect(comment).toContain('- [x] Team `@acme/payments-team` has the admin role on it');
    expect(comment).toContain('- [ ] Internal visibility: not set by deflect');
    expect(comment).toContain('1. Clone it: `git clone git@github.com:acme/payments-ledger.git`');
    expect(comment).toContain('1. Switch the visibility to internal');
    expect(comment).toContain('`catalog-info.yaml`');
    expect(comment).not.toContain('Branch protection on `main`: pull request');
    expect(comment).toContain('Request id: `PLAT-7:create-repository:delivery-1`');
    expect(result).toEqual({ summary: 'created acme/payments-ledger (service, private; internal left to the team) owned by @acme/payments-team' });
  });

  it('uses the organization and template from the form, and GITHUB_ORG when the form names none', async () => {
    const gh = fakeGitHub();
    const { comment } = await runWith(
      createRepository,
      'Repository name: terraform-aws-vpc\nTemplate: terraform-module\nOwning team: @acme/platform\nOrganization: acme-infra',
      {},
      { github: gh.github },
    );
    expect(comment).toContain('https://github.com/acme-infra/terraform-aws-vpc');
    expect(comment).toContain('(private) from the `acme-infra/template-terraform-module` template');
    expect(comment).toContain('private Terraform registry');

    const other = await runWith(createRepository, 'Repository name: ledger\nOwning team: payments', {}, { github: fakeGitHub().github, githubOrg: 'globex' });
    expect(other.comment).toContain('Repository created: https://github.com/globex/ledger');
    expect(other.result).toEqual({ summary: 'created globex/ledger (service, private) owned by @globex/payments' });
  });

  it('without GITHUB_TOKEN: comments exactly what to create, changes nothing and leaves the ticket open', async () => {
    const { calls, comment, result } = await runWith(createRepository, 'Repository name: payments-ledger\nOwning team: payments');
    expect(calls.map((call) => call.method)).toEqual(['comment']);
    expect(comment).toContain('**not applied**: deflect has no GitHub token (`GITHUB_TOKEN` is not set)');
    expect(comment).toContain('- [ ] Create **acme/payments-ledger** (private) from the `acme/template-service` template');
    expect(comment).toContain('`POST /repos/acme/template-service/generate`');
    expect(comment).toContain('- [ ] Give the team `@acme/payments` the **admin** role');
    expect(comment).not.toContain('Repository created');
    expect(result).toEqual({ summary: 'validated; not applied: GITHUB_TOKEN not set', applied: false });
  });

  it('in dry run: plans both GitHub calls and says what would be done', async () => {
    const gh = fakeGitHub();
    const { calls, comment } = await runWith(createRepository, 'Repository name: payments-ledger\nOwning team: payments', {}, { github: gh.github, dryRun: true });
    expect(calls.map((call) => call.method)).toEqual(['act', 'act', 'comment', 'resolve']);
    expect(gh.calls).toEqual([]);
    expect(comment).toContain('Dry run: nothing was changed in GitHub. deflect would create **acme/payments-ledger**');
  });

  it('rejects names that are not kebab-case, and terraform modules not named terraform-<provider>-<name>', () => {
    expect(problemsFor(createRepository, 'Repository name: Payments_Ledger\nOwning team: payments').problems[0].field).toBe('repositoryName');
    const { problems } = problemsFor(createRepository, 'Repository name: vpc\nTemplate: terraform-module');
    expect(problems).toEqual([
      { field: 'repositoryName', message: '`vpc` is not valid: must be named `terraform-<provider>-<name>` for a terraform-module, for example `terraform-aws-vpc`' },
      { field: 'owningTeam', message: 'is missing' },
    ]);
  });
});

describe('reset-ci-token', () => {
  it('does not claim a rotation: comments the runbook (24h overlap, where to store it), assigns nobody, leaves the ticket open', async () => {
    const { calls, comment, result } = await runWith(resetCiToken, 'Token: DEPLOY_TOKEN\nReason: expired');
    expect(calls.map((call) => call.method)).toEqual(['comment']);
    expect(comment).toContain('valid and allowed by the rules, but it was **not applied**: no token service is configured, so the platform team rotates **DEPLOY_TOKEN** (GitHub Actions) by hand.');
    expect(comment).toContain('**Runbook**');
    expect(comment).toContain('- [ ] Resolve this ticket');
    expect(comment).not.toMatch(/was rotated|A new token was issued/);
    expect(comment).toContain('- [ ] Issue a new token for the same account and with the same scopes as `DEPLOY_TOKEN`');
    expect(comment).toContain('Settings → Secrets and variables → Actions');
    expect(comment).toContain('- [ ] Revoke the old token in 24 hours');
    expect(comment).toContain('Request id: `PLAT-7:reset-ci-token:delivery-1`');
    expect(result).toEqual({ summary: 'validated; not applied: rotation left to the platform team (no token service configured)', applied: false });
  });

  it('puts revoking first when the reason says it leaked', async () => {
    const { comment, result } = await runWith(resetCiToken, 'Token: argocd-deployer\nSystem: Argo-CD\nReason: leaked in a build log');
    const steps = comment.split('\n').filter((line) => line.startsWith('- [ ]'));
    expect(steps[0]).toContain('Revoke the old token **now**: the reason given says it was exposed');
    expect(comment).not.toContain('leaked in a build log'); // free text is never quoted back (it could hold a secret)
    expect(comment).toContain('`argocd` namespace');
    expect(comment).toContain('Check the audit log');
    expect(result?.summary).toBe('validated; not applied: rotation left to the platform team (no token service configured)');
  });

  it('refuses a pasted token value and never repeats it', () => {
    const secret = 'glpat-Abc123Def456Ghi789Jkl0';
    const { problems, comment } = problemsFor(resetCiToken, `Token: ${secret}\nSystem: jenkins`);
    expect(problems.map((problem) => problem.field)).toEqual(['token']);
    expect(comment).toContain('must be the token name, not its value');
    expect(comment).not.toContain(secret);
  });

  it('checks the name against the CI system rules', () => {
    expect(problemsFor(resetCiToken, 'Token: deploy-token').problems[0].message).toContain('only letters, digits and `_`');
    expect(problemsFor(resetCiToken, 'Token: GITHUB_TOKEN').problems[0].message).toContain('must not start with `GITHUB_`');
  });
});

describe('handlers/index.ts', () => {
  it('lists exactly the handler files in handlers/, each named after its file', async () => {
    const files = readdirSync(HANDLERS_DIR)
      .filter((file) => file.endsWith('.ts') && file !== 'index.ts' && !file.endsWith('.d.ts'))
      .map((file) => file.slice(0, -'.ts'.length))
      .sort();
    expect(files.length).toBeGreaterThan(0);
    expect(handlers.map((handler) => handler.name).sort()).toEqual(files);
    for (const file of files) {
      const module = (await import(/* @vite-ignore */ join(HANDLERS_DIR, `${file}.ts`))) as { default: AnyHandler };
      expect(module.default.name).toBe(file);
      expect(handlers).toContain(module.default);
    }
  });

  it('finds a handler by name and returns undefined for an unknown one', () => {
    expect(findHandler('reset-ci-token')).toBe(resetCiToken);
    expect(findHandler('no-such-handler')).toBeUndefined();
  });

  it('gives every input field a description for the reporter', () => {
    // Handlers scaffolded from a group may have no required field; the shipped ones all need a form.
    const refusing = handlers.filter((handler) => !parseTicketInput(ticketWith(null, { reporter: null }), handler.input).ok);
    expect(refusing.map((h) => h.name)).toEqual(expect.arrayContaining(['create-repository', 'grant-repo-access', 'reset-ci-token']));
    for (const handler of refusing) {
      const result = parseTicketInput(ticketWith(null, { reporter: null }), handler.input);
      if (!result.ok) for (const line of String(result.comment).split('\n').filter((l) => l.startsWith('- **'))) expect(line, handler.name).toContain(' — ');
    }
  });
});
