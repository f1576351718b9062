import { describe, expect, it } from 'vitest';
import { classify } from '../../src/rules/classify.js';
import { parseRules } from '../../src/rules/rules-file.js';
import { jiraEventKind, type JiraEvent } from '../../src/trackers/jira/jira-event.js';
import type { Ticket } from '../../src/ticket.js';

const rules = parseRules(
  `rules:
  - name: plat-access
    labels: [access-request]
    handler: grant-repo-access
    projects: [PLAT]
  - name: any-access
    labels: [access-request, repo-access]
    handler: grant-repo-access-fallback
  - name: token
    labels: [token-reset]
    handler: reset-ci-token
    continue: true
  - name: token-audit
    labels: [token-reset]
    handler: audit-token
    on: [created, updated]
`,
  'rules.yaml',
  ['grant-repo-access', 'grant-repo-access-fallback', 'reset-ci-token', 'audit-token'],
);

const ticket = (labels: string[] | null, project = 'PLAT'): Ticket => ({
  id: '1', key: `${project}-1`, project, issueType: 'Task', status: 'To Do', labels, summary: 's', description: null,
  reporter: null, reporterId: null, created: null, updated: null, resolved: null, siteUrl: null,
});
const event = (over: Partial<JiraEvent>): JiraEvent => ({
  event: 'jira:issue_created', eventType: null, timestamp: 1, actor: 'someone', ticket: ticket(['Access-Request']),
  labelsAdded: [], labelsRemoved: [], siteHost: null, selfHosts: [], ...over,
  kind: over.kind ?? jiraEventKind(over.event ?? 'jira:issue_created'),
});

describe('classify', () => {
  it('matches labels case-insensitively and lets the first matching rule win', () => {
    const result = classify(event({}), rules);
    expect(result.matches.map((m) => m.handler)).toEqual(['grant-repo-access']);
    expect(result.reason).toBe('label access-request → grant-repo-access (rule plat-access #1)');
  });

  it('skips a rule whose project filter does not match and falls through to the next', () => {
    const result = classify(event({ ticket: ticket(['access-request'], 'WEB') }), rules);
    expect(result.matches.map((m) => m.handler)).toEqual(['grant-repo-access-fallback']);
  });

  it('runs several handlers when a rule says continue', () => {
    const result = classify(event({ ticket: ticket(['token-reset']) }), rules);
    expect(result.matches.map((m) => m.handler)).toEqual(['reset-ci-token', 'audit-token']);
  });

  it('fires on an update only when the label was added, unless the rule asks for updates', () => {
    const plainUpdate = classify(event({ event: 'jira:issue_updated', ticket: ticket(['access-request']) }), rules);
    expect(plainUpdate.matches).toEqual([]);
    expect(plainUpdate.reason).toMatch(/^no rule matches labels \[access-request\] \(label access-request matches rule plat-access #1, which fires on \[created, label-added, automation\]/);
    const added = classify(event({ event: 'jira:issue_updated', ticket: ticket(['access-request']), labelsAdded: ['access-request'] }), rules);
    expect(added.matches.map((m) => m.handler)).toEqual(['grant-repo-access']);
    const tokenUpdate = classify(event({ event: 'jira:issue_updated', ticket: ticket(['token-reset']) }), rules);
    expect(tokenUpdate.matches.map((m) => m.handler)).toEqual(['audit-token']);
  });

  it('explains every non-match', () => {
    expect(classify(event({ ticket: ticket(['sad', 'test-label']) }), rules).reason).toBe('no rule matches labels [sad, test-label]');
    expect(classify(event({ ticket: ticket([]) }), rules).reason).toBe('no rule matches: the ticket has no labels');
    expect(classify(event({ ticket: ticket(null) }), rules).reason).toBe('ignored: the jira:issue_created payload carries no labels');
    expect(classify(event({ event: 'comment_created' }), rules).reason).toMatch(/comment_created is not routed/);
    expect(classify(event({ ticket: null }), rules).reason).toBe('ignored: jira:issue_created carries no issue');
    expect(classify(event({ actor: 'bot-1' }), rules, { selfAccountId: 'bot-1' }).reason).toMatch(/own Jira account \(bot-1\)/);
  });
});

describe('classify across trackers', () => {
  const multi = parseRules(
    `rules:
  - name: github-only
    labels: [access-request]
    handler: grant-repo-access
    trackers: [github]
  - name: anywhere
    labels: [access-request]
    handler: grant-repo-access-fallback
`,
    'rules.yaml',
    ['grant-repo-access', 'grant-repo-access-fallback'],
  );

  it('routes on the adapter-given kind, and narrows a rule to its trackers', () => {
    const fromGitHub = event({ event: 'issues.labeled', kind: 'updated', labelsAdded: ['access-request'], ticket: { ...ticket(['access-request']), tracker: 'github', key: 'acme/api#12' } });
    expect(classify(fromGitHub, multi).matches.map((m) => m.handler)).toEqual(['grant-repo-access']);
    const fromJira = event({ ticket: ticket(['access-request']) });
    const jiraResult = classify(fromJira, multi);
    expect(jiraResult.matches.map((m) => m.handler)).toEqual(['grant-repo-access-fallback']);
    const fromLinear = event({ event: 'Issue.update', kind: 'updated', labelsAdded: [], ticket: { ...ticket(['access-request']), tracker: 'linear' } });
    const linearResult = classify(fromLinear, multi);
    expect(linearResult.matches).toEqual([]);
    expect(linearResult.reason).toContain('fires on [created, label-added, automation], not on this updated');
  });

  it('says which trackers a rule is for when it skips one', () => {
    const only = parseRules('rules:\n  - labels: [x]\n    handler: h\n    trackers: [linear]\n', 'rules.yaml', ['h']);
    const result = classify(event({ ticket: ticket(['x']) }), only);
    expect(result.reason).toContain('rule h #1 is for trackers [linear], not jira');
  });

  it('refuses an unknown tracker name in the rules file, with its line', () => {
    expect(() => parseRules('rules:\n  - labels: [x]\n    handler: h\n    trackers: [jira, gitlab]\n', 'rules.yaml', ['h'])).toThrow(
      /rules\.yaml:4:\d+: rules\.0\.trackers\.1: .*"jira"\|"github"\|"linear"|rules\.yaml:4:\d+: rules\.0\.trackers\.1/,
    );
  });
});
