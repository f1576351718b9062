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
 * deflect has no GitHub credentials here: the handler computes the repository (URL, template, owners, settings)
 * and reports it with the next steps. The GitHub call (`POST /repos/{template_owner}/{template_repo}/generate`)
 * belongs where `plan` is logged, guarded by `ctx.dryRun` and deduplicated with `ctx.idempotencyKey`.
 */
import { z } from 'zod';
import { defineHandler } from '../src/automation/define-handler.js';
import { formEnum, whenValid } from '../src/automation/ticket-input.js';

/** The GitHub organization used when the ticket does not name one. */
export const DEFAULT_ORGANIZATION = 'acme';

const TEMPLATES = ['service', 'library', 'terraform-module'] as const;
type Template = (typeof TEMPLATES)[number];

/** Next steps the owning team takes once the repository exists, per template. */
const TEMPLATE_NEXT_STEPS: Record<Template, string[]> = {
  service: [
    'Fill in `catalog-info.yaml` so the service shows up in the service catalog',
    'Set the deploy environments in `.github/workflows/deploy.yml` and merge the first pull request to deploy to staging',
  ],
  library: [
    'Replace the example module and its tests',
    'Tag `v0.1.0` to publish the first release to the internal package registry',
  ],
  'terraform-module': [
    'Replace the example resources in `main.tf` and document inputs and outputs in `README.md`',
    'Tag `v0.1.0` to publish the module to the private Terraform registry',
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
      .default(DEFAULT_ORGANIZATION)
      .describe(`The GitHub organization to create the repository in. Defaults to \`${DEFAULT_ORGANIZATION}\`.`),
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
  description: 'Creates a GitHub repository from a platform template, owned by a team, and resolves the ticket.',
  input,
  async run(ctx) {
    const { repositoryName, template, owningTeam, visibility, organization } = ctx.input;
    const fullName = `${organization}/${repositoryName}`;
    const url = `https://github.com/${fullName}`;
    const team = `@${organization}/${teamSlug(owningTeam)}`;
    const plan = { repository: fullName, url, template: `${organization}/template-${template}`, visibility, team };
    ctx.log.info({ plan, dryRun: ctx.dryRun, idempotencyKey: ctx.idempotencyKey }, 'creating repository from template');

    await ctx.jira.comment(
      [
        `Repository created: ${url}`,
        '',
        `- [x] Created **${fullName}** (${visibility}) from the \`${plan.template}\` template`,
        `- [x] Team \`${team}\` has admin access and owns every path in \`CODEOWNERS\``,
        '- [x] Branch protection on `main`: pull request with one approving review, status checks must pass',
        '',
        '**Next steps**',
        '',
        `1. Clone it: \`git clone git@github.com:${fullName}.git\``,
        ...TEMPLATE_NEXT_STEPS[template].map((step, i) => `${i + 2}. ${step}`),
        '',
        `Request id: \`${ctx.idempotencyKey}\``,
      ].join('\n'),
    );
    await ctx.jira.transition('Done');
    return { summary: `created ${fullName} (${template}, ${visibility}) owned by ${team}` };
  },
});
