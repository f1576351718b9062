import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import createRepository from '../../handlers/create-repository.js';
import grantRepoAccess from '../../handlers/grant-repo-access.js';
import { findHandler, handlers } from '../../handlers/index.js';
import resetCiToken from '../../handlers/reset-ci-token.js';
import type { AnyHandler, HandlerContext } from '../../src/automation/define-handler.js';
import { parseTicketInput } from '../../src/automation/ticket-input.js';
import type { JiraActions } from '../../src/jira/jira-actions.js';
import type { Ticket } from '../../src/ticket.js';

const HANDLERS_DIR = fileURLToPath(new URL('../../handlers/', import.meta.url));

function ticketWith(description: string | null, overrides: Partial<Ticket> = {}): Ticket {
  return {
    id: '10400',
    key: 'PLAT-7',
    project: 'PLAT',
    issueType: 'Task',
    status: 'To Do',
    labels: ['platform-request'],
    summary: 'Platform request',
    description,
    reporter: 'Jane Doe',
    reporterId: '5b10a2844c20165700ede21g',
    created: null,
    updated: null,
    resolved: null,
    siteUrl: 'https://acme.atlassian.net',
    ...overrides,
  };
}

/** A fake `ctx`: `jira` records every call in order; `log` writes JSON lines into `logLines`. */
function fakeContext(ticket: Ticket, input: unknown, handlerName: string) {
  const calls: Array<{ method: keyof JiraActions; args: unknown[] }> = [];
  const record =
    (method: keyof JiraActions) =>
    async (...args: unknown[]) => {
      calls.push({ method, args });
    };
  const jira: JiraActions = {
    comment: record('comment'),
    transition: record('transition'),
    assign: record('assign'),
    addLabels: record('addLabels'),
    removeLabels: record('removeLabels'),
  };
  const logLines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
  const ctx: HandlerContext = {
    ticket,
    input,
    jira,
    log,
    dryRun: false,
    idempotencyKey: `${ticket.key}:${handlerName}:delivery-1`,
    signal: new AbortController().signal,
  };
  return { ctx, calls, logLines };
}

/** Parses the ticket with the handler's schema (as the runner does) and runs it with a fake ctx. */
async function runWith(handler: AnyHandler, description: string, overrides: Partial<Ticket> = {}) {
  const ticket = ticketWith(description, overrides);
  const parsed = parseTicketInput(ticket, handler.input);
  if (!parsed.ok) throw new Error(`input rejected: ${JSON.stringify(parsed.problems)}`);
  const fake = fakeContext(ticket, parsed.input, handler.name);
  const result = await handler.run(fake.ctx);
  const comments = fake.calls.filter((call) => call.method === 'comment').map((call) => String(call.args[0]));
  return { ...fake, result, comment: comments.join('\n') };
}

function problemsFor(handler: AnyHandler, description: string | null, overrides: Partial<Ticket> = {}) {
  const parsed = parseTicketInput(ticketWith(description, overrides), handler.input);
  if (parsed.ok) throw new Error(`expected problems, got ${JSON.stringify(parsed.input)}`);
  return parsed;
}

describe('grant-repo-access', () => {
  it('grants the requested role to the named GitHub user, comments a checklist, then moves to Done', async () => {
    const { calls, comment, result, logLines } = await runWith(
      grantRepoAccess,
      '*Repository*: {{acme/api}}\n| Permission | Write |\n* GitHub user: @octocat',
    );
    expect(calls.map((call) => call.method)).toEqual(['comment', 'transition']);
    expect(calls[1].args).toEqual(['Done']);
    expect(comment).toContain('Access granted to **acme/api**');
    expect(comment).toContain('- [x] GitHub user `@octocat` added to `acme/api` with the **write** role');
    expect(comment).toContain('https://github.com/acme/api/invitations');
    expect(comment).toContain('Request id: `PLAT-7:grant-repo-access:delivery-1`');
    expect(result).toEqual({ summary: 'granted write on acme/api to octocat' });
    expect(logLines.some((line) => line.msg === 'granting repository access')).toBe(true);
  });

  it('defaults to read access for the reporter when no permission or GitHub user is given', async () => {
    const { comment, result } = await runWith(grantRepoAccess, 'Repository: acme/web');
    expect(comment).toContain('- [x] the GitHub account linked to Jane Doe (the reporter) added to `acme/web` with the **read** role');
    expect(result).toEqual({ summary: 'granted read on acme/web to reporter Jane Doe' });
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
  it('plans the repository from the template, comments URL and next steps, then moves to Done', async () => {
    const { calls, comment, result } = await runWith(
      createRepository,
      'Repository name: payments-ledger\nOwning team: Payments Team\nVisibility: Internal',
    );
    expect(calls.map((call) => call.method)).toEqual(['comment', 'transition']);
    expect(calls[1].args).toEqual(['Done']);
    expect(comment).toContain('Repository created: https://github.com/acme/payments-ledger');
    expect(comment).toContain('- [x] Created **acme/payments-ledger** (internal) from the `acme/template-service` template');
    expect(comment).toContain('Team `@acme/payments-team` has admin access');
    expect(comment).toContain('1. Clone it: `git clone git@github.com:acme/payments-ledger.git`');
    expect(comment).toContain('`catalog-info.yaml`');
    expect(comment).toContain('Request id: `PLAT-7:create-repository:delivery-1`');
    expect(result).toEqual({ summary: 'created acme/payments-ledger (service, internal) owned by @acme/payments-team' });
  });

  it('uses the organization and template from the form', async () => {
    const { comment } = await runWith(
      createRepository,
      'Repository name: terraform-aws-vpc\nTemplate: terraform-module\nOwning team: @acme/platform\nOrganization: acme-infra',
    );
    expect(comment).toContain('https://github.com/acme-infra/terraform-aws-vpc');
    expect(comment).toContain('(private) from the `acme-infra/template-terraform-module` template');
    expect(comment).toContain('private Terraform registry');
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
  it('rotates the token, says where it is stored, keeps a 24h overlap, then moves to Done', async () => {
    const { calls, comment, result } = await runWith(resetCiToken, 'Token: DEPLOY_TOKEN\nReason: expired');
    expect(calls.map((call) => call.method)).toEqual(['comment', 'transition']);
    expect(calls[1].args).toEqual(['Done']);
    expect(comment).toContain('Token **DEPLOY_TOKEN** (GitHub Actions) was rotated');
    expect(comment).toContain('Settings → Secrets and variables → Actions');
    expect(comment).toContain('The old token will be revoked in 24 hours');
    expect(comment).toContain('Request id: `PLAT-7:reset-ci-token:delivery-1`');
    expect(result).toEqual({ summary: 'rotated github-actions token DEPLOY_TOKEN; old token revoked after 24h' });
  });

  it('revokes the old token immediately when the reason says it leaked', async () => {
    const { comment, result } = await runWith(resetCiToken, 'Token: argocd-deployer\nSystem: Argo-CD\nReason: leaked in a build log');
    expect(comment).toContain('The old token will be revoked immediately');
    expect(comment).toContain('`argocd` namespace');
    expect(comment).toContain('Check the audit log');
    expect(result?.summary).toBe('rotated argo-cd token argocd-deployer; old token revoked now');
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
      if (!result.ok) for (const line of result.comment.split('\n').filter((l) => l.startsWith('- **'))) expect(line, handler.name).toContain(' — ');
    }
  });
});
