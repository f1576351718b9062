/**
 * The backtest on a real database of the pass's backend (test-backend.ts) filled through the real import path, with a real rules file and the real
 * grant-repo-access handler: per-ticket actions and input problems, rule modes (`off` still "would match"), the window,
 * the read-only guarantee (no run or action row is written), and the compare diff after changing the rule's `with:`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { findHandler, handlers } from '../../handlers/index.js';
import { defineHandler } from '../../src/automation/define-handler.js';
import { compareBacktests } from '../../src/backtest/compare-backtests.js';
import { BacktestUsageError } from '../../src/backtest/match-ticket.js';
import { runBacktest, type BacktestOptions } from '../../src/backtest/run-backtest.js';
import { loadConfig } from '../../src/config.js';
import { importParsedRows } from '../../src/import/import-tickets.js';
import { parseJsonlLines } from '../../src/import/parse-jsonl.js';
import { readRulesSnapshot } from '../../src/rules/live-rules.js';
import { parseRules } from '../../src/rules/rules-file.js';
import { freshDatabase } from '../support/test-backend.js';
import { writeHistory, writeRules } from './backtest-fixture.js';

const config = loadConfig({});
const grantRepoAccess = findHandler('grant-repo-access')!;

/** A database with the fixture history imported, and a backtest runner over it. */
async function storedHistory() {
  const database = await freshDatabase('deflect-backtest-');
  const dir = dirname(database.dbPath);
  const writable = await database.open();
  const lines = readFileSync(writeHistory(dir), 'utf8').split('\n');
  const result = await importParsedRows(writable, parseJsonlLines(lines), { source: 'jsonl:history' });
  expect(result.imported).toBe(6);
  await writable.close();
  const backtest = async (rulesFile: string, extra: Partial<BacktestOptions> = {}) => {
    const snapshot = await readRulesSnapshot(rulesFile, handlers);
    const db = await database.open();
    try {
      return await runBacktest({
        db,
        handler: grantRepoAccess,
        rules: snapshot.rules,
        rulesFile,
        rulesVersion: snapshot.version!,
        ruleName: null,
        window: { from: Date.now() - 90 * 86_400_000, to: Date.now() },
        since: '90d',
        config,
        ...extra,
      });
    } finally {
      await db.close();
    }
  };
  return { dir, database, backtest };
}

describe('runBacktest', () => {
  it('shows per matched ticket the planned actions and the input problems, sends nothing and stores nothing', async () => {
    const { dir, database, backtest } = await storedHistory();
    const result = await backtest(writeRules(dir));
    expect(result.handler).toBe('grant-repo-access');
    expect(result.tickets.map((t) => t.key)).toEqual(['OPS-1', 'OPS-2', 'OPS-3']);
    const [granted, refused, incomplete] = result.tickets;

    expect(granted.actions.map((a) => [a.kind, a.target])).toEqual([
      ['github.add_collaborator', 'acme/api'],
      ['comment', 'OPS-1'],
      ['transition', 'OPS-1'],
    ]);
    expect(granted.actions[0].request).toEqual({ repository: 'acme/api', user: 'octocat', permission: 'push' });
    expect(granted.actions[1].summary).toMatch(/^Dry run: nothing was changed in GitHub/);
    expect(granted).toMatchObject({ outcome: 'planned', applied: true, problems: [], ruleMode: 'off', matchedAs: 'created' });
    expect(granted.reason).toMatch(/label access-request → grant-repo-access \(rule repo-access #1\).*rule is off: would match once live/);

    expect(refused.actions.map((a) => a.kind)).toEqual(['comment']);
    expect(refused.actions[0].summary).toMatch(/^Not allowed: deflect grants access only to repositories of acme/);
    expect(refused).toMatchObject({ outcome: 'planned', applied: false, problems: [] });

    expect(incomplete.problems).toEqual([{ field: 'repository', message: 'is missing' }]);
    expect(incomplete.actions.map((a) => a.kind)).toEqual(['comment']);
    expect(incomplete).toMatchObject({ outcome: 'skipped', applied: false });

    expect(result.summary).toMatchObject({
      ticketsConsidered: 5,
      ticketsMatched: 3,
      wouldAct: 2,
      wouldApply: 1,
      wouldReportProblems: 1,
      failed: 0,
      actionsByKind: { 'github.add_collaborator': 1, comment: 3, transition: 1 },
      byOutcome: { planned: 2, skipped: 1 },
    });
    // OPS-4 (no label) and OPS-5 (another handler's label) were classified and not matched.
    expect(result.summary.notMatched.reduce((n, r) => n + r.tickets, 0)).toBe(2);

    const rows = async (table: string) => (await database.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))!.n;
    expect([await rows('runs'), await rows('actions'), await rows('deliveries')]).toEqual([0, 0, 0]);
  });

  it('honours the window: a ticket created 200 days ago counts only with --since all', async () => {
    const { dir, backtest } = await storedHistory();
    const all = await backtest(writeRules(dir), { window: { from: null, to: Date.now() }, since: 'all' });
    expect(all.tickets.map((t) => t.key)).toEqual(['OPS-6', 'OPS-1', 'OPS-2', 'OPS-3']);
    expect(all.summary.ticketsConsidered).toBe(6);
  });

  it('without stand-ins runs as with no credentials: the handler plans its "not applied" comment', async () => {
    const { dir, backtest } = await storedHistory();
    const result = await backtest(writeRules(dir), { integrations: 'unconfigured' });
    const granted = result.tickets.find((t) => t.key === 'OPS-1')!;
    expect(granted.actions.map((a) => a.kind)).toEqual(['comment']);
    expect(granted.runSummary).toMatch(/GITHUB_TOKEN not set/);
    expect(granted.applied).toBe(false);
  });

  it('fails the run of a handler that calls an integration outside ctx.act: the stand-in client refuses, nothing is sent', async () => {
    const { database } = await storedHistory();
    const direct = defineHandler({
      name: 'direct-caller',
      description: 'calls GitHub without ctx.act (a bug the backtest must surface)',
      input: z.object({ summary: z.string() }),
      async run(ctx) {
        await ctx.integrations.github.api!.addCollaborator('acme/api', 'octocat', 'read');
        return { summary: 'granted' };
      },
    });
    const rules = parseRules('rules:\n  - labels: [access-request]\n    handler: direct-caller\n', 'direct.yaml', [...handlers, direct]);
    const db = await database.open();
    const result = await runBacktest({ db, handler: direct, rules, rulesFile: 'direct.yaml', rulesVersion: 'test', ruleName: null, window: { from: null, to: Date.now() }, since: 'all', config });
    await db.close();
    expect(result.tickets).toHaveLength(4);
    for (const ticket of result.tickets) {
      expect(ticket.outcome).toBe('failed');
      expect(ticket.error).toMatch(/github\.api\.addCollaborator\(\) was called outside ctx\.act; nothing is sent in a backtest/);
      expect(ticket.actions).toEqual([]);
    }
    expect(result.summary.failed).toBe(4);
  });

  it('refuses an unknown --rule or a rule of another handler, naming the handler\'s rules', async () => {
    const { dir, backtest } = await storedHistory();
    const rules = writeRules(dir);
    await expect(backtest(rules, { ruleName: 'nope' })).rejects.toThrow(BacktestUsageError);
    await expect(backtest(rules, { ruleName: 'nope' })).rejects.toThrow(/rules of grant-repo-access: repo-access/);
    await expect(backtest(rules, { ruleName: 'new-repository' })).rejects.toThrow(/routes to create-repository, not grant-repo-access/);
    expect((await backtest(rules, { ruleName: 'repo-access' })).tickets).toHaveLength(3);
  });

  it('compare: widening allowedOrgs makes the refused ticket act; lowering maxRoleWithoutApproval changes the write grant\'s comment', async () => {
    const { dir, backtest } = await storedHistory();
    const before = await backtest(writeRules(dir));
    const wider = await backtest(writeRules(dir, '{ allowedOrgs: [acme, other-org], maxRoleWithoutApproval: write }', 'wider.yaml'));
    const diff = compareBacktests(JSON.parse(JSON.stringify(before)), wider, 'before.json');
    expect(diff.changes.map((c) => c.key)).toEqual(['OPS-2']);
    const [change] = diff.changes;
    expect(change.change).toBe('changed');
    expect(change.actionsChanged).toEqual([
      expect.objectContaining({ position: 1, what: ['kind', 'target', 'request'], before: expect.objectContaining({ kind: 'comment' }), after: expect.objectContaining({ kind: 'github.add_collaborator', target: 'other-org/tool' }) }),
    ]);
    expect(change.actionsAdded.map((a) => a.kind)).toEqual(['comment', 'transition']);
    expect(diff.summary).toMatchObject({ ticketsBefore: 3, ticketsAfter: 3, changed: 1, newlyMatched: 0, noLongerMatched: 0, unchanged: 2, stopAtInput: 1 });

    const stricter = await backtest(writeRules(dir, '{ allowedOrgs: [acme], maxRoleWithoutApproval: read }', 'stricter.yaml'));
    const second = compareBacktests(JSON.parse(JSON.stringify(before)), stricter, 'before.json');
    expect(second.changes.map((c) => c.key)).toEqual(['OPS-1']);
    expect(second.changes[0].actionsChanged).toEqual([expect.objectContaining({ position: 2, what: ['request'] })]);
    expect(stricter.tickets[0].actions[1].summary).toMatch(/would ask the rule's approvers/);
  });

  it('compare: a rule that stops matching shows its tickets as no longer matched', async () => {
    const { dir, backtest } = await storedHistory();
    const before = await backtest(writeRules(dir));
    const narrower = join(dir, 'narrower.yaml');
    const text = readFileSync(writeRules(dir), 'utf8').replace('    mode: off\n', '    mode: off\n    issueTypes: [Bug]\n');
    writeFileSync(narrower, text);
    const diff = compareBacktests(JSON.parse(JSON.stringify(before)), await backtest(narrower), 'before.json');
    expect(diff.summary).toMatchObject({ noLongerMatched: 3, newlyMatched: 0, changed: 0, ticketsAfter: 0 });
    expect(diff.changes[0]).toMatchObject({ key: 'OPS-1', change: 'no-longer-matched', outcome: { before: 'planned', after: null } });
  });
});
