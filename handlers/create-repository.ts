/**
 * Creates a GitHub repository from one of the platform templates.
 *
 * Ticket description form:
 * ```
 * Repository Name: payments-ledger
 * Template: service
 * Owning Team: payments
 * Visibility: private
 * ```
 * `Organization` defaults to `ctx.integrations.github.org` (`GITHUB_ORG`, default `acme`); the template is `<org>/template-<template>`.
 *
 * With GitHub configured (`ctx.integrations.github.api`) it makes two recorded actions — `github.create_from_template`
 * (`POST /repos/{template_owner}/{template_repo}/generate`, always private: GitHub's template API creates private or
 * public repositories only, so `internal` is left to the team as a next step) and `github.add_team_repository` (the
 * owning team gets admin) — then comments what was done and resolves the ticket. Without a token it changes nothing
 * (`ctx.notApplied`): it comments that the request is valid and exactly what a platform engineer must do, and leaves the ticket open.
 * In dry run the calls and the comment are planned, and the comment says what would be done.
 * Options (`with:` on the rule): `templates` (the templates this rule offers; default all) and `allowedTeams` (team
 * slugs that may own a new repository; default any). A request outside them is refused with a comment, nothing called.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineHandler } from '../src/automation/define-handler.js';
import { formEnum, whenValid } from '../src/automation/ticket-input.js';
import { md, type Markdown } from '../src/jira/comment-markdown.js';
import type { CreatedRepository } from '../src/integrations/github.js';

const TEMPLATES = ['service', 'library', 'terraform-module'] as const;
type Template = (typeof TEMPLATES)[number];

/** Next steps the owning team takes once the repository exists, per template. */
const TEMPLATE_NEXT_STEPS: Record<Template, Markdown[]> = {
  service: [
    md`Fill in \`catalog-info.yaml\` so the service shows up in the service catalog`,
    md`Set the deploy environments in \`.github/workflows/deploy.yml\` and merge the first pull request to deploy to staging`,
  ],
  library: [
    md`Replace the example module and its tests`,
    md`Tag \`v0.1.0\` to publish the first release to the internal package registry`,
  ],
  'terraform-module': [
    md`Replace the example resources in \`main.tf\` and document inputs and outputs in \`README.md\``,
    md`Tag \`v0.1.0\` to publish the module to the private Terraform registry`,
  ],
};

const input = z
  .object({
    repositoryName: z
      .string()
      .trim()
      .max(100, 'must be at most 100 characters')
      .regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'must be kebab-case: lower-case letters and digits separated by single dashes, for example `payments-ledger`')
      .describe('Name of the new repository, in kebab-case (for example `payments-ledger`).'),
    template: formEnum(TEMPLATES)
      .default('service')
      .describe('What the repository starts from: `service` (deployable app with CI/CD), `library` (package with release workflow) or `terraform-module`. Defaults to `service`.'),
    owningTeam: z
      .string()
      .trim()
      .regex(/^@?([A-Za-z0-9-]+\/)?[A-Za-z0-9][A-Za-z0-9 _.-]{0,99}$/, 'must be a GitHub team such as `payments` or `@acme/payments`')
      .describe('The GitHub team that will own the repository: it gets admin access and is written to CODEOWNERS (for example `payments`).'),
    visibility: formEnum(['private', 'internal'])
      .default('private')
      .describe('`private` (only people given access) or `internal` (everyone in the enterprise can read it). Defaults to `private`.'),
    organization: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/, 'must be a GitHub organization name such as `acme`')
      .optional()
      .describe("The GitHub organization to create the repository in. Defaults to the platform team's organization."),
  })
  .superRefine((value, ctx) => {
    // HCP Terraform / Terraform Enterprise private registries only publish repositories named terraform-<PROVIDER>-<NAME>
    // (https://developer.hashicorp.com/terraform/cloud-docs/registry/publish-modules#preparing-a-module-repository).
    if (value.template === 'terraform-module' && !/^terraform-[a-z0-9]+-[a-z0-9-]+$/.test(value.repositoryName)) {
      ctx.addIssue({
        code: 'custom',
        path: ['repositoryName'],
        message: 'must be named `terraform-<provider>-<name>` for a terraform-module, for example `terraform-aws-vpc`',
      });
    }
  }, whenValid('repositoryName', 'template'));

const options = z
  .object({
    templates: z.array(z.enum(TEMPLATES)).min(1).default([...TEMPLATES]).describe('Templates this rule offers.'),
    allowedTeams: z.array(z.string().trim().regex(/^[a-z0-9][a-z0-9-]{0,99}$/, 'must be a team slug such as `payments`')).min(1).optional(),
  })
  .strict();

/** `@acme/Payments Team` → `payments-team`: the team slug GitHub uses in URLs and CODEOWNERS. */
function teamSlug(team: string): string {
  return team
    .replace(/^@?[A-Za-z0-9-]+\//, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

export default defineHandler({
  name: 'create-repository',
  description: 'Creates a GitHub repository from a platform template (via GITHUB_TOKEN), gives the owning team admin, and resolves the ticket.',
  input,
  options,
  async run(ctx) {
    const { repositoryName, template, owningTeam, visibility } = ctx.input;
    const { templates, allowedTeams } = ctx.options;
    const refusal = !templates.includes(template)
      ? md`the \`${template}\` template is not offered here (offered: ${templates.join(', ')})`
      : allowedTeams && !allowedTeams.includes(teamSlug(owningTeam))
        ? md`team \`${teamSlug(owningTeam)}\` may not own new repositories here (allowed: ${allowedTeams.join(', ')})`
        : null;
    if (refusal) {
      await ctx.tracker.comment(md`**Not allowed:** ${refusal}. Nothing was changed; ask the platform team if you need it. Request id: \`${ctx.idempotencyKey}\``);
      return { summary: `refused: ${String(refusal).replace(/`/g, '')}`, applied: false };
    }
    const organization = ctx.input.organization ?? ctx.integrations.github.org;
    const fullName = `${organization}/${repositoryName}`;
    const url = `https://github.com/${fullName}`;
    const slug = teamSlug(owningTeam);
    const team = `@${organization}/${slug}`;
    const templateRepo = `${organization}/template-${template}`;
    const plan = { repository: fullName, url, template: templateRepo, visibility, team };
    ctx.log.info({ plan, dryRun: ctx.dryRun, github: ctx.integrations.github.api !== null, idempotencyKey: ctx.idempotencyKey }, 'creating repository from template');
    // Comment text is built with `md`: the template is Markdown, every `${value}` is literal text in the ADF sent to
    // Jira (never a link or markup); links the handler builds itself go through md.link.
    const requestId = md`Request id: \`${ctx.idempotencyKey}\``;
    const internalStep = md`Switch the visibility to internal: Settings → General → Danger Zone → Change visibility (GitHub creates repositories from a template as private or public only)`;
    const nextSteps = [
      md`Clone it: \`git clone git@github.com:${fullName}.git\``,
      ...(visibility === 'internal' ? [internalStep] : []),
      md`Add a \`CODEOWNERS\` file with \`* ${team}\` and protect \`main\` (Settings → Branches: pull request with one approving review, status checks must pass), unless the template already does`,
      ...TEMPLATE_NEXT_STEPS[template],
    ].map((step) => md`1. ${step}`); // Markdown numbers an ordered list itself (ADF orderedList)

    const github = ctx.integrations.github.api;
    if (!github) {
      return ctx.notApplied(
        md`deflect has no GitHub token (\`GITHUB_TOKEN\` is not set), so it cannot change GitHub.`,
        [
          md`Create **${fullName}** (private) from the \`${templateRepo}\` template: ${md.link(`https://github.com/${templateRepo}`)} → Use this template${md` (API: \`POST /repos/${templateRepo}/generate\` with \`{"owner": "${organization}", "name": "${repositoryName}", "private": true}\`)`}`,
          ...(visibility === 'internal' ? [internalStep] : []),
          md`Give the team \`${team}\` the **admin** role on it: Settings → Collaborators and teams → Add teams${md` (API: \`PUT /orgs/${organization}/teams/${slug}/repos/${fullName}\` with \`{"permission": "admin"}\`)`}`,
        ],
        { summary: 'GITHUB_TOKEN not set' },
      );
    }

    const created: CreatedRepository | undefined = await ctx.act(
      'github.create_from_template',
      { template: templateRepo, owner: organization, name: repositoryName, private: true },
      (key) =>
        github.createFromTemplate({
          template: templateRepo,
          owner: organization,
          name: repositoryName,
          private: true,
          description: `Requested in ${ctx.ticket.key}`,
          // Lets a retry after an unknown outcome recognise the repository this request created (a short, unique tag).
          marker: `deflect ${createHash('sha256').update(key).digest('hex').slice(0, 16)}`,
        }),
    );
    await ctx.act('github.add_team_repository', { team: `${organization}/${slug}`, repository: fullName, permission: 'admin' }, () =>
      github.addTeamToRepository(organization, slug, fullName, 'admin'),
    );

    if (ctx.dryRun || !created) {
      await ctx.tracker.comment(
        md.join([
          md`Dry run: nothing was changed in GitHub. deflect would create **${fullName}** (private) from the \`${templateRepo}\` template, give the team \`${team}\` the admin role on it, then resolve this ticket.`,
          md``,
          requestId,
        ]),
      );
      await ctx.tracker.resolve();
      return { summary: `dry run: would create ${fullName} (${template}) owned by ${team}` };
    }

    const htmlUrl = created.htmlUrl || url;
    await ctx.tracker.comment(
      md.join([
        md`Repository created: ${md.link(htmlUrl)}`,
        md``,
        md`- [x] Created **${fullName}** (private) from the \`${templateRepo}\` template`,
        md`- [x] Team \`${team}\` has the admin role on it`,
        ...(visibility === 'internal' ? [md`- [ ] Internal visibility: not set by deflect (see the next steps)`] : []),
        md``,
        md`**Next steps** (for the owning team)`,
        md``,
        ...nextSteps,
        md``,
        requestId,
      ]),
    );
    await ctx.tracker.resolve();
    const visibilityNote = visibility === 'internal' ? 'private; internal left to the team' : 'private';
    return { summary: `created ${fullName} (${template}, ${visibilityNote}) owned by ${team}` };
  },
});
