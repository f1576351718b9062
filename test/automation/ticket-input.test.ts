import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  formEnum,
  formKeyFor,
  formLabelFor,
  looksLikeSecret,
  parseTicketInput,
  readDescriptionForm,
  whenValid,
} from '../../src/automation/ticket-input.js';
import type { Ticket } from '../../src/ticket.js';
import { ticketWith } from '../support/ticket-fixture.js';


const accessSchema = z.object({
  repository: z.string().regex(/^[\w-]+\/[\w.-]+$/, 'must look like `org/name`').describe('The repository, as `org/name`.'),
  permissionLevel: formEnum(['read', 'write']).default('read').describe('Access level you need.'),
  team: z.string().optional().describe('Your team.'),
});

function parsed(description: string | null, schema: z.ZodType = accessSchema, overrides: Partial<Ticket> = {}) {
  const result = parseTicketInput(ticketWith(description, overrides), schema);
  if (!result.ok) throw new Error(`expected ok, got problems ${JSON.stringify(result.problems)}`);
  return result.input;
}

function failed(description: string | null, schema: z.ZodType = accessSchema, overrides: Partial<Ticket> = {}) {
  const result = parseTicketInput(ticketWith(description, overrides), schema);
  if (result.ok) throw new Error(`expected problems, got input ${JSON.stringify(result.input)}`);
  return result;
}

describe('readDescriptionForm', () => {
  it('reads plain `Label: value` lines and camelCases the labels', () => {
    expect(readDescriptionForm('Please help.\nRepository: acme/api\nPermission level: write\n')).toEqual({
      repository: 'acme/api',
      permissionLevel: 'write',
    });
  });

  it('reads wiki and Markdown bold labels, with the colon inside or outside the bold', () => {
    expect(readDescriptionForm('*Repository*: acme/api\n*Permission level:* write\n**Team**: payments')).toEqual({
      repository: 'acme/api',
      permissionLevel: 'write',
      team: 'payments',
    });
  });

  it('reads wiki table rows and skips header rows', () => {
    const description = '||Field||Value||\n| Repository | acme/api |\n|*Permission level*|write|\n|---|---|';
    expect(readDescriptionForm(description)).toEqual({ repository: 'acme/api', permissionLevel: 'write' });
  });

  it('reads list items (`*`, `-`, `#`, nested `**`) and wiki headings', () => {
    const description = '* Team: payments\n- Repository: acme/api\n# Permission level: read\n** Owner: jane\nh3. Visibility: private';
    expect(readDescriptionForm(description)).toEqual({
      team: 'payments',
      repository: 'acme/api',
      permissionLevel: 'read',
      owner: 'jane',
      visibility: 'private',
    });
  });

  it('strips {{monospace}}, backticks and quotes around values, and keeps colons inside values', () => {
    const description = 'Repository: {{acme/api}}\nTeam: `payments`\nOwner: "Jane Doe"\nLink: https://github.com/acme/api';
    expect(readDescriptionForm(description)).toEqual({
      repository: 'acme/api',
      team: 'payments',
      owner: 'Jane Doe',
      link: 'https://github.com/acme/api',
    });
  });

  it('ignores prose, bare URLs, code macros and empty values; the first non-empty value of a key wins', () => {
    const description = [
      'Hi team, I need this by Friday.',
      'https://github.com/acme/api',
      '{code:yaml}',
      'Repository:',
      'Repository: acme/api',
      'Repository: acme/other',
      'GitHub user (optional): octocat',
    ].join('\r\n');
    expect(readDescriptionForm(description)).toEqual({ repository: 'acme/api', githubUser: 'octocat' });
  });

  it('reads a form pasted into a {noformat} or {code} block, even on the macro lines', () => {
    expect(readDescriptionForm('{noformat}Repository: acme/api\nTeam: payments{noformat}')).toEqual({ repository: 'acme/api', team: 'payments' });
    expect(readDescriptionForm('{code:yaml}\nRepository: acme/api\n{code}')).toEqual({ repository: 'acme/api' });
  });

  it('returns {} for a null or empty description', () => {
    expect(readDescriptionForm(null)).toEqual({});
    expect(readDescriptionForm('')).toEqual({});
  });
});

describe('formLabelFor / formKeyFor', () => {
  it('turns keys into Title Case labels that read back to the same key', () => {
    expect(formLabelFor('repositoryName')).toBe('Repository Name');
    expect(formLabelFor('githubUser')).toBe('GitHub User');
    expect(formLabelFor('ciSystemUrl')).toBe('CI System URL');
    for (const key of ['repositoryName', 'githubUser', 'ciSystemUrl', 'token']) expect(formKeyFor(formLabelFor(key))).toBe(key);
  });
});

describe('parseTicketInput', () => {
  it('parses a valid form, applies defaults and case-insensitive enums, and strips extra keys', () => {
    expect(parsed('Repository: acme/api\nNotes: urgent please')).toEqual({ repository: 'acme/api', permissionLevel: 'read' });
    expect(parsed('Repository: acme/api\nPermission level: WRITE')).toEqual({ repository: 'acme/api', permissionLevel: 'write' });
  });

  it('matches form labels to schema keys ignoring case and punctuation', () => {
    const schema = z.object({ githubUser: z.string() });
    expect(parsed('Github-User: octocat', schema)).toEqual({ githubUser: 'octocat' });
    expect(parsed('githubuser: octocat', schema)).toEqual({ githubUser: 'octocat' });
  });

  it('offers ticket fields by name, and form values win over them', () => {
    const schema = z.object({ summary: z.string(), labels: z.array(z.string()), key: z.string(), reporterId: z.string() });
    expect(parsed('Summary: from the form', schema)).toEqual({
      summary: 'from the form',
      labels: ['repo-access'],
      key: 'PLAT-7',
      reporterId: '5b10a2844c20165700ede21g',
    });
  });

  it('leaves out ticket fields that are null, so optional fields stay optional', () => {
    const schema = z.object({ reporter: z.string().optional() });
    expect(parsed(null, schema, { reporter: null })).toEqual({});
  });

  it('on a missing field, names the field and quotes its description in the comment', () => {
    const result = failed('Permission level: write');
    expect(result.problems).toEqual([{ field: 'repository', message: 'is missing' }]);
    expect(String(result.comment)).toContain('Hi Jane Doe,');
    expect(String(result.comment)).toContain('- **Repository** is missing — The repository, as `org/name`.');
    expect(String(result.comment)).not.toContain('**Permission Level**');
  });

  it('handles a null description: every required field is reported, nothing throws', () => {
    const result = failed(null, accessSchema, { reporter: null });
    expect(result.problems.map((problem) => problem.field)).toEqual(['repository']);
    expect(String(result.comment).startsWith('Hi, ')).toBe(true);
  });

  it('on a wrong value, quotes it and lists the allowed options or the schema message', () => {
    const result = failed('Repository: not a repo\nPermission level: admin');
    expect(result.problems).toEqual([
      { field: 'repository', message: '`not a repo` is not valid: must look like `org/name`' },
      { field: 'permissionLevel', message: '`admin` is not valid: must be one of `read`, `write`' },
    ]);
    expect(String(result.comment)).toContain('- **Permission Level** `admin` is not valid: must be one of `read`, `write` — Access level you need.');
  });

  it('never repeats a value that looks like a secret', () => {
    const secret = 'ghp_16C7e42F292c6912E7710c838347Ae178B4a';
    const result = failed(`Repository: ${secret}`);
    expect(String(result.comment)).not.toContain(secret);
    expect(result.problems[0].message).toContain('looks like a secret');
  });

  it('shows a copy-paste form with hints and the values already given, which reads back once filled in', () => {
    const result = failed('Team: payments');
    const form = String(result.comment).split('```')[1].trim();
    expect(form.split('\n')).toEqual([
      'Repository:',
      'Permission Level (optional, read / write): read',
      'Team (optional): payments',
    ]);
    expect(parsed(form.replace('Repository:', 'Repository: acme/api'))).toEqual({
      repository: 'acme/api',
      permissionLevel: 'read',
      team: 'payments',
    });
  });

  it('reports cross-field checks together with missing fields when using whenValid', () => {
    const schema = z
      .object({ name: z.string().describe('Name.'), kind: z.string().describe('Kind.'), owner: z.string().describe('Owner.') })
      .superRefine((value, ctx) => {
        if (value.kind === 'module' && !value.name.startsWith('terraform-')) {
          ctx.addIssue({ code: 'custom', path: ['name'], message: 'must start with `terraform-`' });
        }
      }, whenValid('name', 'kind'));
    const result = failed('Name: vpc\nKind: module', schema);
    expect(result.problems).toEqual([
      { field: 'name', message: '`vpc` is not valid: must start with `terraform-`' },
      { field: 'owner', message: 'is missing' },
    ]);
  });
});

describe('looksLikeSecret', () => {
  it('flags token formats and long random strings, not token names', () => {
    expect(looksLikeSecret('glpat-xxxxxxxxxxxxxxxxxxxx')).toBe(true);
    expect(looksLikeSecret('a3f9c2e17b4d8e6f0a1b2c3d4e5f6a7b')).toBe(true);
    expect(looksLikeSecret('PAYMENTS_SERVICE_PRODUCTION_DEPLOY_TOKEN_2')).toBe(false);
    expect(looksLikeSecret('acme/payments-ledger')).toBe(false);
  });
});
