/**
 * The stored two-level grouping on a real SQLite file: request types and variants saved and read back, `deflect
 * explain` at both levels (and the nearest type of a singleton), a `text-v1` grouping reported as stale until
 * `deflect group` runs, and labels that are also `Object.prototype` names (`constructor`, `__proto__`).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explainLines } from '../../src/cli/commands/group-command.js';
import { openDatabase, type Db } from '../../src/db/client.js';
import { insertDeliveries } from '../../src/db/deliveries.js';
import { enqueueRun, finishRun } from '../../src/db/runs.js';
import { findTicketGroup, groupingMeta, listRequestTypes, listVariants, saveGrouping } from '../../src/db/text-groups.js';
import { upsertTickets } from '../../src/db/tickets.js';
import type { Grouping, TicketAssignment } from '../../src/grouping/grouping-contract.js';
import { regroupTickets } from '../../src/reports/regroup.js';
import { buildTopTicketsReport } from '../../src/reports/top-tickets-report.js';
import { DEFAULT_ESTIMATES, parseRulesConfig } from '../../src/rules/rules-file.js';
import type { Ticket } from '../../src/ticket.js';
import { freshDir, REPO_ROOT } from '../support/deflect-under-test.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-03-02T12:00:00Z');
const ticket = (n: number, summary: string, labels: string[] = [], daysAgo = n): Ticket => ({
  id: String(5000 + n), key: `OPS-${n}`, project: 'OPS', issueType: 'Task', status: 'To Do', labels, summary, description: null,
  reporter: 'Dev', reporterId: 'dev', created: NOW - daysAgo * DAY, updated: NOW - daysAgo * DAY, resolved: null, siteUrl: null,
});

function freshDb(tickets: Ticket[]): Db {
  const db = openDatabase(join(freshDir(), 'types.db'));
  upsertTickets(db, tickets.map((t) => ({ ticket: t })), 'import', NOW - DAY);
  return db;
}

const ALL_TIME = { window: { from: null, to: NOW + DAY } };
const context = { rules: [], estimates: DEFAULT_ESTIMATES, jiraBaseUrl: null };

describe('stored request types', () => {
  it('stores types, variants and each ticket’s type, variant, reason and deciding words, and explains both levels', async () => {
    const db = freshDb([
      ticket(1, 'Add alice to the platform team'),
      ticket(2, 'Add bob to the platform team'),
      ticket(3, 'Please add carol to team payments'),
      ticket(4, 'Add dan to the payments team'),
      ticket(5, 'The office coffee machine is broken'),
    ]);
    const result = await regroupTickets(sqliteStore(db), NOW);
    expect(result.algorithm).toBe('text-v2');
    expect(groupingMeta(db)).toMatchObject({ algorithm: 'text-v2', computedAt: NOW, types: result.types });
    const types = listRequestTypes(db);
    expect(types.length).toBe(result.types);
    const variants = listVariants(db);
    expect(variants.length).toBe(result.variants);
    for (const t of types) expect(variants.filter((v) => v.typeId === t.id).reduce((n, v) => n + v.size, 0)).toBe(t.size);

    const member = [...result.grouping.assignments].find(([, a]) => a.typeId !== null)!;
    const stored = findTicketGroup(db, member[0])!;
    const type = result.grouping.types.find((t) => t.id === member[1].typeId)!;
    expect(stored.type).toEqual({ id: type.id, name: type.name, size: type.count });
    expect(stored.variant?.id).toBe(member[1].variantId);
    expect(stored.decidingWords).toEqual(member[1].decidingWords);
    const lines = explainLines(stored);
    expect(lines[0]).toBe(`request type: "${type.name}" (${type.count} tickets, ${type.id})`);
    expect(lines[1]).toBe(`  decided by: ${member[1].decidingWords.join(', ')}`);
    expect(lines[2]).toMatch(/^variant: ".+" \(\d+ tickets, variant:[0-9a-f]{12}\)$/);
    expect(lines[3]).toBe(`why (text-v2): ${member[1].reason}`);
    db.$client.close();
  });

  it('explains a ticket that repeats nothing with its nearest type and why it stayed alone', async () => {
    const db = freshDb([ticket(1, 'Add alice to team a'), ticket(2, 'Add bob to team b'), ticket(3, 'Remove carol from team c')]);
    // A small hand-made grouping, so the singleton's nearest type is explicit.
    const grouping: Grouping = {
      algorithm: 'text-v2',
      parameters: {},
      types: [
        {
          id: 'type:aaaaaaaaaaaa', kind: 'type', name: 'Add … to a team', keyWords: ['add', 'team'], count: 2, keys: ['OPS-1', 'OPS-2'], exampleKeys: ['OPS-1'],
          labels: [], dominantLabel: null,
          variants: [{ id: 'variant:bbbbbbbbbbbb', template: 'Add <*> to team <*>', count: 2, keys: ['OPS-1', 'OPS-2'] }],
        },
      ],
      assignments: new Map([
        ['OPS-1', { typeId: 'type:aaaaaaaaaaaa', variantId: 'variant:bbbbbbbbbbbb', reason: 'action add on team', decidingWords: ['add', 'team'], nearest: null, summary: 'Add alice to team a' }],
        ['OPS-2', { typeId: 'type:aaaaaaaaaaaa', variantId: 'variant:bbbbbbbbbbbb', reason: 'action add on team', decidingWords: ['add', 'team'], nearest: null, summary: 'Add bob to team b' }],
        ['OPS-3', { typeId: null, variantId: null, reason: 'remove is the antonym of add', decidingWords: [], nearest: { typeId: 'type:aaaaaaaaaaaa', name: 'Add … to a team', similarity: 0.5, why: 'opposite action (remove vs add)' }, summary: 'Remove carol from team c' }],
      ]),
    };
    saveGrouping(db, grouping, new Map([['OPS-1', '5001'], ['OPS-2', '5002'], ['OPS-3', '5003']]), NOW);
    expect(explainLines(findTicketGroup(db, 'OPS-3')!)).toEqual([
      'request type: none (it repeats nothing)',
      '  nearest type: "Add … to a team" (type:aaaaaaaaaaaa, similarity 0.50): opposite action (remove vs add)',
      'why (text-v2): remove is the antonym of add',
    ]);
    expect(explainLines(findTicketGroup(db, 'OPS-1')!)).toContain('variant: "Add <*> to team <*>" (2 tickets, variant:bbbbbbbbbbbb)');
    // The report: one type with its one variant.
    const report = await buildTopTicketsReport(sqliteStore(db), ALL_TIME, context);
    expect(report.groups).toHaveLength(1);
    expect(report.groups[0]).toMatchObject({ id: 'type:aaaaaaaaaaaa', kind: 'type', name: 'Add … to a team', count: 2, keys: ['OPS-1', 'OPS-2'] });
    expect(report.groups[0].variants).toEqual([{ id: 'variant:bbbbbbbbbbbb', template: 'Add <*> to team <*>', count: 2, keys: ['OPS-1', 'OPS-2'] }]);
    db.$client.close();
  });

  it('reports a stored text-v1 grouping as stale, without types, until `deflect group` runs', async () => {
    const db = freshDb([ticket(1, 'Add alice to team a'), ticket(2, 'Add bob to team b'), ticket(3, 'Add carol to team c')]);
    // What the migration leaves of a text-v1 grouping: assignments with their algorithm, no type.
    for (const id of ['5001', '5002', '5003']) {
      db.$client.prepare("INSERT INTO ticket_groups (ticket_id, algorithm, reason, computed_at, created) VALUES (?, 'text-v1', 'joined [add team]', ?, ?)").run(id, NOW, NOW - DAY);
    }
    const stale = await buildTopTicketsReport(sqliteStore(db), ALL_TIME, context);
    expect(stale.grouping.algorithm).toBe('text-v1');
    expect(stale.grouping.notice).toBe(
      'The stored text grouping was made by text-v1; this deflect uses text-v2, so request types are not shown. Run `deflect group` to regroup.',
    );
    expect(stale.groups.filter((g) => g.kind === 'type')).toEqual([]);
    expect(explainLines(findTicketGroup(db, 'OPS-1')!)[0]).toBe('request type: unknown — grouped by text-v1; this deflect uses text-v2: run `deflect group`');

    // `deflect group` through the CLI replaces it.
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'group'], {
      env: { PATH: process.env.PATH, DEFLECT_DB: db.$client.name },
      encoding: 'utf8',
    });
    expect(out).toMatch(/^replaced a grouping made by text-v1\ngrouped 3 tickets by text \(text-v2\) in \d+\.\d s: \d+ request types \(\d+ variants\) holding \d+ tickets\n$/);
    const fresh = await buildTopTicketsReport(sqliteStore(db), ALL_TIME, context);
    expect(fresh.grouping).toMatchObject({ algorithm: 'text-v2', notice: null });
    expect(fresh.groups.some((g) => g.kind === 'type')).toBe(true);
    db.$client.close();
  });

  it('shows a label and the request types it holds as one row, each ticket once', async () => {
    const db = freshDb([
      ticket(1, 'VPN drops every few minutes', ['vpn']),
      ticket(2, 'VPN drops at home', ['vpn']),
      ticket(3, 'Cannot connect to VPN from Warsaw', ['vpn']),
      ticket(4, 'Cannot connect to VPN from Prague', ['vpn']),
      ticket(5, 'Cannot connect to VPN from Oslo', []),
      ticket(6, 'Printer offline', ['vpn']),
    ]);
    const type = (id: string, name: string, keys: string[]) => ({
      id, kind: 'type' as const, name, keyWords: [name], count: keys.length, keys, exampleKeys: keys, labels: [], dominantLabel: null,
      variants: [{ id: id.replace('type:', 'variant:'), template: name, count: keys.length, keys }],
    });
    const drops = type('type:dddddddddddd', 'VPN drops …', ['OPS-1', 'OPS-2']);
    const connect = type('type:cccccccccccc', 'Cannot connect to VPN from <*>', ['OPS-3', 'OPS-4', 'OPS-5']);
    const assignments = new Map<string, TicketAssignment>();
    for (const t of [drops, connect]) for (const key of t.keys) assignments.set(key, { typeId: t.id, variantId: t.variants[0].id, reason: 'test', decidingWords: [], nearest: null, summary: null });
    assignments.set('OPS-6', { typeId: null, variantId: null, reason: 'test', decidingWords: [], nearest: null, summary: null });
    saveGrouping(db, { algorithm: 'text-v2', parameters: {}, types: [connect, drops], assignments }, new Map([1, 2, 3, 4, 5, 6].map((n) => [`OPS-${n}`, String(5000 + n)])), NOW);
    // Automated: one labelled member and the one member only its type holds; each counts once.
    for (const key of ['OPS-1', 'OPS-5']) {
      const [delivery] = insertDeliveries(db, [{ deliveryKey: `t:${key}`, webhookIdentifier: null, event: 'jira:issue_created', issueKey: key, headers: {}, body: '{}', eventTimestamp: null, receivedAt: NOW }]);
      const run = enqueueRun(db, { deliveryId: delivery.id, ticketKey: key, handler: 'vpn-fix', reason: 'test', dryRun: false, idempotencyKey: `run:${key}`, maxAttempts: 3 });
      finishRun(db, run!, { status: 'succeeded', summary: 'ok', applied: true, durationMs: 5 });
    }
    const report = await buildTopTicketsReport(sqliteStore(db), ALL_TIME, context);
    // Both types are mostly inside the label, and together they hold most of it: one row, the label, with both types.
    expect(report.groups).toHaveLength(1);
    const row = report.groups[0];
    expect(row).toMatchObject({ id: 'label:vpn', kind: 'label', name: 'vpn', label: 'vpn', count: 6, keys: ['OPS-1', 'OPS-2', 'OPS-3', 'OPS-4', 'OPS-5', 'OPS-6'] });
    expect(row.merged).toEqual({ label: 'vpn', typeIds: ['type:cccccccccccc', 'type:dddddddddddd'], shared: 4 });
    expect(row).toMatchObject({ automated: 2, automatedShare: 2 / 6 });
    expect(row.variants.map((v) => [v.template, v.count])).toEqual([
      ['Cannot connect to VPN from <*>', 3],
      ['VPN drops …', 2],
      ['(wording not repeated)', 1],
    ]);
    db.$client.close();
  });

  it('reports labels named like Object.prototype members as plain labels', async () => {
    const db = freshDb([
      ticket(1, 'Rotate the kafka keystore', ['constructor']),
      ticket(2, 'Grafana alert routing for checkout', ['constructor']),
      ticket(3, 'Terraform drift in the staging VPC', ['constructor']),
      ticket(4, 'Helm chart lint fails for notifier', ['__proto__']),
      ticket(5, 'Sentry drops mobile events', ['__proto__']),
      ticket(6, 'Nightly e2e runs out of memory', ['hasOwnProperty', 'toString']),
      ticket(7, 'Printer on floor three offline', ['hasOwnProperty', 'toString']),
    ]);
    await regroupTickets(sqliteStore(db), NOW);
    const { rules, estimates } = parseRulesConfig('rules: []\nestimates:\n  labels: { constructor: 20 }\n', 'rules.yaml', []);
    const report = await buildTopTicketsReport(sqliteStore(db), ALL_TIME, { rules, estimates, jiraBaseUrl: null });
    const byLabel = new Map(report.groups.map((g) => [g.label, g]));
    expect(byLabel.get('constructor')).toMatchObject({ count: 3, minutesPerTicket: 20, hoursSpent: 1, unmetDemandMinutes: 60 });
    expect(byLabel.get('__proto__')).toMatchObject({ count: 2, minutesPerTicket: 15, hoursSpent: 0.5, unmetDemandMinutes: 30 });
    expect(byLabel.get('hasownproperty')).toMatchObject({ count: 2, minutesPerTicket: 15 });
    for (const g of report.groups) {
      for (const value of [g.hoursSpent, g.hoursSaved, g.unmetDemandMinutes, g.minutesPerTicket, g.share]) expect(Number.isFinite(value)).toBe(true);
      expect(g.labels.every((l) => typeof l.label === 'string' && Number.isInteger(l.count))).toBe(true);
    }
    expect(byLabel.get('hasownproperty')!.labels).toEqual([{ label: 'hasownproperty', count: 2 }, { label: 'tostring', count: 2 }]);
    db.$client.close();
  });
});
