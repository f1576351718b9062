import { describe, expect, it } from 'vitest';
import { handlers } from '../../handlers/index.js';
import { conditionRequiresApproval } from '../../src/automation/approval-rule.js';
import { parseRules, RulesFileError } from '../../src/rules/rules-file.js';
import { decisionOf } from '../../src/pipeline/approval-decisions.js';

const errorOf = (text: string) => {
  try {
    parseRules(text, 'rules.yaml', handlers);
  } catch (error) {
    expect(error).toBeInstanceOf(RulesFileError);
    return (error as Error).message;
  }
  throw new Error('expected a RulesFileError');
};

describe('rule `with:` options and `approval:`', () => {
  it('parses with: by the handler options schema (defaults applied) and the approval block', () => {
    const [rule] = parseRules(
      [
        'rules:',
        '  - labels: [access-request]',
        '    handler: grant-repo-access',
        '    with: { allowedOrgs: [acme] }',
        '    approval:',
        '      approvers: [Lead-Account, boss@acme.com]',
        '      when: { field: permission, in: [write, maintain] }',
        '      expiresAfter: 2d',
      ].join('\n'),
      'rules.yaml',
      handlers,
    );
    expect(rule.with).toEqual({ allowedOrgs: ['acme'], maxRoleWithoutApproval: 'read' });
    expect(rule.approval).toEqual({ approvers: ['lead-account', 'boss@acme.com'], when: { field: 'permission', in: ['write', 'maintain'] }, expiresAfterMs: 2 * 86_400_000 });
  });

  it('reports every bad option with path:line:col and the option path', () => {
    const message = errorOf(
      ['rules:', '  - labels: [a]', '    handler: grant-repo-access', '    with:', '      maxRoleWithoutApproval: admin', '      allowedOrgs: ["not an org"]'].join('\n'),
    );
    expect(message).toMatch(/^rules\.yaml:5:31: rules\.0\.with\.maxRoleWithoutApproval: /m);
    expect(message).toMatch(/^rules\.yaml:6:21: rules\.0\.with\.allowedOrgs\.0: must be a GitHub organization/m);
    expect(errorOf('rules:\n  - labels: [a]\n    handler: grant-repo-access\n    with: { allowedOrg: [acme] }\n')).toMatch(/^rules\.yaml:4:11: rules\.0\.with: .*allowedOrg/);
    expect(errorOf('rules:\n  - labels: [a]\n    handler: reset-ci-token\n    with: { x: 1 }\n')).toMatch(/^rules\.yaml:4:11: rules\.0\.with: handler "reset-ci-token" takes no options/);
  });

  it('reports a bad approval block with its position', () => {
    expect(errorOf('rules:\n  - labels: [a]\n    handler: reset-ci-token\n    approval: { approvers: [] }\n')).toMatch(/^rules\.yaml:4:28: rules\.0\.approval\.approvers: /);
    expect(errorOf('rules:\n  - labels: [a]\n    handler: reset-ci-token\n    approval: { approvers: [x], expiresAfter: soon }\n')).toMatch(
      /^rules\.yaml:4:47: rules\.0\.approval\.expiresAfter: "soon" is not a duration: use a whole number above 0 and a unit/,
    );
    expect(errorOf('rules:\n  - labels: [a]\n    handler: reset-ci-token\n    approval: { approvers: [x], when: "input.permission == 1" }\n')).toMatch(/rules\.0\.approval\.when/);
  });

  it('evaluates when: declaratively, case-insensitively', () => {
    expect(conditionRequiresApproval({ field: 'permission', in: ['write', 'maintain'] }, { permission: 'Write' })).toBe('permission is write');
    expect(conditionRequiresApproval({ field: 'permission', in: ['write'] }, { permission: 'read' })).toBeNull();
    expect(conditionRequiresApproval({ field: 'permission', notIn: ['read'] }, {})).toBe('permission is not given');
    expect(conditionRequiresApproval({ field: 'env', equals: 'prod' }, { env: 'PROD' })).toBe('env is prod');
    expect(conditionRequiresApproval('always', {})).toMatch(/every request/);
    expect(conditionRequiresApproval(null, { permission: 'admin' })).toBeNull();
  });

  it('reads a decision only from the first non-empty line of a comment', () => {
    expect(decisionOf('/approve')).toBe('approve');
    expect(decisionOf('\n  /DENY: not this quarter')).toBe('deny');
    expect(decisionOf('An approver comments /approve to go ahead')).toBeNull();
    expect(decisionOf('/approved')).toBeNull();
  });
});
