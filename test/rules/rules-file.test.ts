import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRulesFile, parseRules, RulesFileError } from '../../src/rules/rules-file.js';
import { handlers } from '../../handlers/index.js';
import { REPO_ROOT } from '../support/deflect-under-test.js';

const KNOWN = ['grant-repo-access', 'reset-ci-token'];
const errorOf = (text: string) => {
  try {
    parseRules(text, 'rules.yaml', KNOWN);
  } catch (error) {
    expect(error).toBeInstanceOf(RulesFileError);
    return (error as Error).message;
  }
  throw new Error('expected a RulesFileError');
};

describe('rules file', () => {
  it('loads the shipped example against the shipped handlers', () => {
    const rules = loadRulesFile(join(REPO_ROOT, 'examples/rules.yaml'), handlers.map((h) => h.name));
    expect(rules.map((r) => r.handler)).toEqual(['grant-repo-access', 'create-repository', 'answer-with-runbook', 'reset-ci-token']);
    expect(rules[0]).toMatchObject({ name: 'repo-access', index: 1, labels: ['access-request', 'repo-access'], on: ['created', 'label-added', 'automation'] });
  });

  it('lower-cases labels, projects and issue types, and defaults the name to the handler', () => {
    const [rule] = parseRules('rules:\n  - labels: Access-Request\n    handler: grant-repo-access\n    projects: [PLAT]\n    issueTypes: [Task]\n', 'r.yaml', KNOWN);
    expect(rule).toMatchObject({ name: 'grant-repo-access', labels: ['access-request'], projects: ['plat'], issueTypes: ['task'], continue: false });
  });

  it('points at the line of an unknown handler', () => {
    const message = errorOf('rules:\n  - labels: [a]\n    handler: grant-repo-access\n  - labels: [b]\n    handler: grant-acess\n');
    expect(message).toMatch(/^rules\.yaml:5:14: rules\.1\.handler: unknown handler "grant-acess" \(known: grant-repo-access, reset-ci-token\)/);
  });

  it('points at the line of a bad trigger and of a misspelt key', () => {
    expect(errorOf('rules:\n  - labels: [a]\n    handler: reset-ci-token\n    on: [created, commented]\n')).toMatch(/^rules\.yaml:4:19: rules\.0\.on\.1:/);
    expect(errorOf('rules:\n  - labels: [a]\n    handler: reset-ci-token\n    project: [X]\n')).toMatch(/^rules\.yaml:2:5: rules\.0: .*project/);
  });

  it('reports a missing required field at its rule, and YAML syntax errors with a line', () => {
    expect(errorOf('rules:\n  - handler: reset-ci-token\n')).toMatch(/^rules\.yaml:2:5: rules\.0\.labels:/);
    expect(errorOf('rules:\n  - labels: [a\n    handler: x\n')).toMatch(/^rules\.yaml:\d+:\d+: YAML syntax error/);
  });

  it('says which file could not be read', () => {
    expect(() => loadRulesFile('/nonexistent/rules.yaml', KNOWN)).toThrow(/\/nonexistent\/rules\.yaml: cannot read the rules file.*DEFLECT_RULES/);
  });
});
