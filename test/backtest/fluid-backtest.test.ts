/**
 * The backtest on the real fluid corpus (../shared/fixtures/tickets/fluid-jira-issues.jsonl, 10,052 Jira issues):
 * imported and grouped by `deflect import jsonl`, its most frequent INFRA request type ("Ansible role: <*>", each role
 * its own repository) backtested against create-repository with a rule written here (the corpus carries no labels, so
 * `--type` tests the type's tickets as if labelled), then `--compare` after changing the rule's `with:` and its filter.
 * Skipped when ../shared is absent.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshDir, REPO_ROOT } from '../support/deflect-under-test.js';

const CORPUS = join(REPO_ROOT, '../shared/fixtures/tickets/fluid-jira-issues.jsonl');
const haveCorpus = existsSync(CORPUS);
if (!haveCorpus) console.warn(`fluid backtest skipped: ${CORPUS} is absent (the shared fixtures live next to the repository)`);

const rulesWith = (extra: string) =>
  ['rules:', '  - name: ansible-role-repo', '    labels: [ansible-role]', '    handler: create-repository', '    projects: [INFRA]', '    mode: off', ...extra.split('\n'), ''].join('\n');

describe.skipIf(!haveCorpus)('backtest over the fluid corpus', () => {
  it('asks every reporter of the type for the missing form fields; with: changes nothing there, a narrower rule unmatches', { timeout: 60_000 }, () => {
    const dir = freshDir('deflect-backtest-fluid-');
    const env = { PATH: process.env.PATH ?? '', DEFLECT_DB: join(dir, 'fluid.db') };
    const deflect = (...args: string[]) => {
      const result = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/deflect.js'), ...args], { env, encoding: 'utf8', timeout: 30_000 });
      expect(result.status, result.stderr).toBe(0);
      return result.stdout;
    };
    expect(deflect('import', 'jsonl', CORPUS)).toMatch(/imported 10052 tickets/);
    const report = JSON.parse(deflect('report', '--since', 'all', '--project', 'INFRA', '--format', 'json'));
    const type = report.groups.find((g: { name: string }) => g.name.startsWith('Ansible role'));
    expect(type, 'the INFRA "Ansible role" request type').toBeDefined();

    const before = join(dir, 'before.json');
    const rules = join(dir, 'rules.yaml');
    writeFileSync(rules, rulesWith('    with:\n      templates: [library, terraform-module]'));
    const backtest = JSON.parse(deflect('backtest', 'create-repository', '--since', 'all', '--type', type.id, '--rules', rules, '--format', 'json', '--save', before));
    expect(backtest.requestType).toEqual({ id: type.id, name: type.name, assumedLabel: 'ansible-role' });
    expect(backtest.tickets).toHaveLength(type.count);
    for (const ticket of backtest.tickets) {
      expect(ticket.key).toMatch(/^INFRA-/);
      expect(ticket.problems.map((p: { field: string }) => p.field)).toEqual(['repositoryName', 'owningTeam']);
      expect(ticket.actions.map((a: { kind: string }) => a.kind)).toEqual(['comment']);
    }

    // Options are read only once the input is complete: on these form-less tickets they change nothing.
    const options = join(dir, 'options.yaml');
    writeFileSync(options, rulesWith('    with:\n      templates: [service]\n      allowedTeams: [infra]'));
    const sameDiff = JSON.parse(deflect('backtest', 'create-repository', '--since', 'all', '--type', type.id, '--rules', options, '--compare', before, '--format', 'json'));
    expect(sameDiff.summary).toMatchObject({ changed: 0, newlyMatched: 0, noLongerMatched: 0, unchanged: type.count, stopAtInput: type.count });

    // A rule narrowed to other issue types no longer matches the type's Tasks.
    const narrower = join(dir, 'narrower.yaml');
    writeFileSync(narrower, rulesWith('    issueTypes: [Improvement, Bug]\n    with:\n      templates: [service]'));
    const narrowed = JSON.parse(deflect('backtest', 'create-repository', '--since', 'all', '--type', type.id, '--rules', narrower, '--compare', before, '--format', 'json'));
    expect(narrowed.summary.noLongerMatched).toBeGreaterThan(0);
    expect(narrowed.summary.noLongerMatched + narrowed.summary.unchanged).toBe(type.count);
    expect(narrowed.changes.every((c: { change: string }) => c.change === 'no-longer-matched')).toBe(true);
  });
});
