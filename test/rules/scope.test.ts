/**
 * Rule scope (reporters / groups / scopeMessage) in the pure classifier and the rule tester's per-rule explanation:
 * in scope by reporter (case-insensitive) or group answer, out of scope with the reason, unresolved groups reported,
 * failed lookups named, and every rule explained with the same checks classify applies.
 */
import { describe, expect, it } from 'vitest';
import { classify, explainRules } from '../../src/rules/classify.js';
import { parseRules, RulesFileError } from '../../src/rules/rules-file.js';
import type { MembershipAnswer, MembershipQuestion } from '../../src/rules/scope.js';
import type { Ticket } from '../../src/ticket.js';
import type { TrackerEvent } from '../../src/trackers/tracker.js';

const handlers = ['grant-repo-access', 'create-repository', 'reset-ci-token'];
const rules = parseRules(
  `rules:
  - name: early
    labels: [access-request]
    handler: grant-repo-access
    reporters: [Alice-ID, bob@acme.com]
    groups: [platform-early]
    scopeMessage: "Ask #platform-help to join."
  - name: repos
    labels: [new-repo]
    handler: create-repository
    projects: [PLAT]
`,
  'rules.yaml',
  handlers,
);

const ticket = (reporterId: string | null, labels = ['access-request']): Ticket => ({
  tracker: 'jira', id: '1', key: 'PLAT-1', project: 'PLAT', issueType: 'Task', status: 'To Do', labels, summary: 's', description: null,
  reporter: 'Someone', reporterId, created: null, updated: null, resolved: null, siteUrl: null,
});
const created = (t: Ticket): TrackerEvent => ({
  event: 'jira:issue_created', kind: 'created', eventType: null, timestamp: 1, actor: 'x', ticket: t, labelsAdded: [], labelsRemoved: [], siteHost: null, selfHosts: [],
});
const answers = (map: Record<string, MembershipAnswer>) => (q: MembershipQuestion) => map[`${q.user}/${q.group}`];

describe('rule scope', () => {
  it('parses reporters (lower-cased), groups and scopeMessage; an empty list is an error with its line', () => {
    expect(rules[0]).toMatchObject({ reporters: ['alice-id', 'bob@acme.com'], groups: ['platform-early'], scopeMessage: 'Ask #platform-help to join.' });
    expect(rules[1]).toMatchObject({ reporters: null, groups: null, scopeMessage: null });
    expect(() => parseRules('rules:\n  - labels: [a]\n    handler: reset-ci-token\n    groups: []\n', 'r.yaml', handlers)).toThrow(RulesFileError);
    expect(() => parseRules('rules:\n  - labels: [a]\n    handler: reset-ci-token\n    groups: []\n', 'r.yaml', handlers)).toThrow(/^r\.yaml:4:\d+: rules\.0\.groups/);
  });

  it('lets a listed reporter in, case-insensitively, without any group lookup', () => {
    const decision = classify(created(ticket('ALICE-id')), rules);
    expect(decision.matches.map((m) => m.handler)).toEqual(['grant-repo-access']);
    expect(decision.reason).toContain('in scope: reporter ALICE-id');
    expect(decision.unresolved).toEqual([]);
  });

  it('reports the group question as unresolved when no answer is at hand, and keeps the ticket out of scope', () => {
    const decision = classify(created(ticket('carol')), rules);
    expect(decision.matches).toEqual([]);
    expect(decision.unresolved).toEqual([{ tracker: 'jira', user: 'carol', group: 'platform-early' }]);
    expect(decision.outOfScope.map((o) => o.rule.name)).toEqual(['early']);
    expect(decision.reason).toContain('reporter carol is not in the scope of rule early #1 (reporters/groups)');
  });

  it('uses the membership answers: member in, non-member out, failed lookup out with its reason', () => {
    expect(classify(created(ticket('carol')), rules, { membershipOf: answers({ 'carol/platform-early': { member: true } }) }).matches).toHaveLength(1);
    const out = classify(created(ticket('dave')), rules, { membershipOf: answers({ 'dave/platform-early': { member: false } }) });
    expect(out.matches).toEqual([]);
    expect(out.unresolved).toEqual([]);
    const failed = classify(created(ticket('erin')), rules, { membershipOf: answers({ 'erin/platform-early': { error: 'Jira GET /rest/api/3/user/groups → HTTP 503' } }) });
    expect(failed.outOfScope[0].reason).toContain('group platform-early lookup failed: Jira GET /rest/api/3/user/groups → HTTP 503');
  });

  it('puts a ticket without a reporter id out of scope of a scoped rule, and leaves unscoped rules open', () => {
    expect(classify(created(ticket(null)), rules).outOfScope[0].reason).toMatch(/^reporter \(unknown.*not in the scope of rule early #1/);
    expect(classify(created(ticket(null, ['new-repo'])), rules).matches.map((m) => m.handler)).toEqual(['create-repository']);
  });

  it('explains every rule with the reason classify would give', () => {
    const explained = explainRules(created(ticket('dave', ['access-request', 'new-repo'])), rules, { membershipOf: answers({ 'dave/platform-early': { member: false } }) });
    expect(explained).toEqual([
      { rule: 'early', handler: 'grant-repo-access', matched: false, reason: expect.stringContaining('reporter dave is not in the scope of rule early #1') },
      { rule: 'repos', handler: 'create-repository', matched: true, reason: 'label new-repo → create-repository (rule repos #2)' },
    ]);
    const inScope = explainRules(created(ticket('alice-id', ['access-request', 'new-repo'])), rules);
    expect(inScope.map((e) => e.matched)).toEqual([true, false]);
    expect(inScope[1].reason).toContain('but rule early #1 matched first');
  });
});

describe('the rule tester names the mode and the approval gate of a matching rule', () => {
  it('says a shadow rule sends nothing, an off rule is off, and who must approve', () => {
    const gated = parseRules(
      `rules:
  - name: off-rule
    labels: [access-request]
    handler: create-repository
    mode: off
  - name: shadowed
    labels: [access-request]
    handler: grant-repo-access
    mode: shadow
    continue: true
  - name: gated
    labels: [access-request]
    handler: reset-ci-token
    approval: { approvers: [Lead-1], when: { field: permission, in: [write] } }
`,
      'rules.yaml',
      handlers,
    );
    const [off, shadow, approval] = explainRules(created(ticket('alice-id')), gated);
    expect(off).toMatchObject({ rule: 'off-rule', matched: false, reason: 'rule off-rule #1 is off' });
    expect(shadow).toMatchObject({ rule: 'shadowed', matched: true });
    expect(shadow.reason).toContain('shadow mode: the run records what it would do and sends nothing');
    expect(approval).toMatchObject({ rule: 'gated', matched: true });
    expect(approval.reason).toContain('needs approval by lead-1 when {"field":"permission","in":["write"]}');
  });
});
