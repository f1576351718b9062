/**
 * Which stored tickets a handler's rules match or would match, by the real classifier over a real rules file: the
 * created and labelled presentations, modes (off/shadow "would match", other rules keep theirs), first match wins
 * across handlers, and the label assumed for a request-type backtest.
 */
import { describe, expect, it } from 'vitest';
import { handlers } from '../../handlers/index.js';
import { createTicketMatcher, targetRulesOf } from '../../src/backtest/match-ticket.js';
import { testTicket } from '../../src/automation/test-context.js';
import { clearScratchRuns } from '../../src/db/scratch-runs.js';
import { openDatabase } from '../../src/db/client.js';
import { parseRules } from '../../src/rules/rules-file.js';
import { freshDatabase, onPostgres } from '../support/test-backend.js';

const rules = parseRules(
  [
    'rules:',
    '  - name: token-first',
    '    labels: [shared]',
    '    handler: reset-ci-token',
    '  - name: repo-access',
    '    labels: [access-request, shared]',
    '    handler: grant-repo-access',
    '    mode: off',
    '  - name: on-label-only',
    '    labels: [late]',
    '    handler: grant-repo-access',
    '    on: [label-added]',
    '  - name: off-elsewhere',
    '    labels: [new-repo]',
    '    handler: create-repository',
    '    mode: off',
    '',
  ].join('\n'),
  'rules.yaml',
  handlers,
);

describe('createTicketMatcher', () => {
  const match = createTicketMatcher(rules, 'grant-repo-access', targetRulesOf(rules, 'grant-repo-access', null));

  it('matches an off rule as "would match", saying its mode, as if the ticket had just been created', () => {
    const verdict = match(testTicket({ labels: ['Access-Request'] }));
    expect(verdict.matched && verdict.match).toMatchObject({ matchedAs: 'created', rule: { name: 'repo-access', mode: 'off' } });
    expect(verdict.matched && verdict.match.reason).toMatch(/label access-request → grant-repo-access \(rule repo-access #2\) \[rule is off: would match once live\]/);
  });

  it('tries a rule that fires only on label-added with the labels as just added', () => {
    const verdict = match(testTicket({ labels: ['late'] }));
    expect(verdict.matched && verdict.match).toMatchObject({ matchedAs: 'label-added', rule: { name: 'on-label-only' } });
  });

  it('leaves a ticket an earlier rule of another handler takes (first match wins), with the reason', () => {
    const verdict = match(testTicket({ labels: ['shared'] }));
    expect(verdict).toEqual({ matched: false, reason: 'label shared → reset-ci-token (rule token-first #1)' });
  });

  it('does not turn on rules of other handlers: create-repository stays off for grant-repo-access', () => {
    expect(match(testTicket({ labels: ['new-repo'] })).matched).toBe(false);
    const repo = createTicketMatcher(rules, 'create-repository', targetRulesOf(rules, 'create-repository', null));
    expect(repo(testTicket({ labels: ['new-repo'] })).matched).toBe(true);
  });

  it('assumes the rule\'s label for a request-type backtest and says so', () => {
    const typed = createTicketMatcher(rules, 'grant-repo-access', targetRulesOf(rules, 'grant-repo-access', 'repo-access'), 'access-request');
    const verdict = typed(testTicket({ labels: [] }));
    expect(verdict.matched && verdict.match.reason).toMatch(/label access-request assumed: request type backtest/);
    expect(match(testTicket({ labels: [] }))).toEqual({ matched: false, reason: 'no rule matches: the ticket has no labels' });
  });
});

describe('clearScratchRuns', () => {
  it('refuses the stored database (the pass\'s backend): only the in-memory scratch database may be cleared', async () => {
    const database = await freshDatabase();
    const store = await database.open();
    await store.insertDeliveries([
      { deliveryKey: 'scratch-guard', webhookIdentifier: null, event: 'jira:issue_created', issueKey: 'KEEP-1', headers: {}, body: '{}', eventTimestamp: null, receivedAt: Date.now() },
    ]);
    await expect(store.clearScratchRuns()).rejects.toThrow(onPostgres ? /refusing to clear runs of the PostgreSQL database/ : /refusing to clear runs of .*deflect\.db/);
    expect(await database.get('SELECT count(*) AS n FROM deliveries')).toEqual({ n: 1 });
    // The backtest's scratch database is an in-memory SQLite database on both backends (src/backtest/run-backtest.ts).
    const scratch = openDatabase(':memory:');
    expect(() => clearScratchRuns(scratch)).not.toThrow();
    scratch.$client.close();
  });
});
