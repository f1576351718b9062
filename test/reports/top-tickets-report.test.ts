/**
 * The top-tickets report on a real SQLite file: ranking by unmet automatable demand, change against the previous
 * window, weekly series, time to resolution, bursts, repeat ratio, text groups, estimates; and the CLI formats.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/client.js';
import { insertDeliveries } from '../../src/db/deliveries.js';
import { enqueueRun, finishRun } from '../../src/db/runs.js';
import { upsertTickets } from '../../src/db/tickets.js';
import { regroupTickets } from '../../src/reports/regroup.js';
import { buildTopTicketsReport, type ReportContext } from '../../src/reports/top-tickets-report.js';
import { parseRulesConfig } from '../../src/rules/rules-file.js';
import type { Ticket } from '../../src/ticket.js';
import { freshDir, REPO_ROOT } from '../support/deflect-under-test.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T12:00:00Z');
let n = 0;
const ticket = (summary: string, labels: string[], daysAgo: number, resolvedAfterHours: number | null = null, project = 'PLAT'): Ticket => {
  n++;
  const created = NOW - daysAgo * DAY;
  return {
    id: String(1000 + n), key: `${project}-${n}`, project, issueType: 'Task', status: resolvedAfterHours === null ? 'To Do' : 'Done',
    labels, summary, description: null, reporter: 'Dev', reporterId: 'dev', created, updated: created,
    resolved: resolvedAfterHours === null ? null : created + resolvedAfterHours * 3_600_000, siteUrl: null,
  };
};

const { rules, estimates } = parseRulesConfig(
  `rules:
  - labels: [access-request]
    handler: grant-repo-access
estimates:
  defaultMinutes: 15
  handlers: { grant-repo-access: 10 }
  labels: { dns-change: 30 }
`,
  'rules.yaml',
  ['grant-repo-access'],
);
const context: ReportContext = { rules, estimates, jiraBaseUrl: 'https://acme.atlassian.net' };

function markAutomated(db: Db, key: string, applied = true): void {
  const [delivery] = insertDeliveries(db, [
    { deliveryKey: `test:${key}`, webhookIdentifier: null, event: 'jira:issue_created', issueKey: key, headers: {}, body: '{}', eventTimestamp: null, receivedAt: NOW },
  ]);
  const run = enqueueRun(db, { deliveryId: delivery.id, ticketKey: key, handler: 'grant-repo-access', reason: 'test', dryRun: false, idempotencyKey: `run:${key}`, maxAttempts: 3 });
  finishRun(db, run!, { status: 'succeeded', summary: applied ? 'ok' : 'validated; not applied', applied, durationMs: 5 });
}

describe('top-tickets report', () => {
  let db: Db;
  const tickets: Ticket[] = [];
  beforeAll(() => {
    db = openDatabase(join(freshDir(), 'report.db'));
    // access-request: 8 in the last 28 days (6 automated), 2 in the 28 days before.
    for (let i = 0; i < 8; i++) tickets.push(ticket(`Access to repo ${i}`, ['access-request'], 1 + i * 3, 2 + i));
    for (let i = 0; i < 2; i++) tickets.push(ticket(`Old access ${i}`, ['access-request'], 30 + i));
    // dns-change: 4 spread over the window, none automated, 30 minutes each.
    for (let i = 0; i < 4; i++) tickets.push(ticket(`DNS record for host ${i}`, ['dns-change'], 2 + i * 6));
    // vpn: a burst, 6 tickets in one week + 1 three weeks earlier.
    for (let i = 0; i < 6; i++) tickets.push(ticket(`VPN broken ${i}`, ['vpn'], 3));
    tickets.push(ticket('VPN slow', ['vpn'], 24));
    // Unlabelled repeats with different wording.
    for (const [i, repo] of ['sweet-chem', 'feedstock', 'pkg-a', 'pkg-b', 'pkg-c'].entries())
      tickets.push(ticket(`Reset ${repo} feedstock token`, i === 0 ? ['token'] : [], 5 + i));
    tickets.push(ticket('One-off question about the office coffee machine', [], 4));
    tickets.push(ticket('Access to repo x', ['access-request'], 2, null, 'WEB'));
    upsertTickets(db, tickets.map((t) => ({ ticket: t })), 'import');
    for (const t of tickets.filter((t) => t.labels?.includes('access-request') && t.project === 'PLAT').slice(0, 6)) markAutomated(db, t.key);
    // A run that succeeded without carrying the request out (no integration) is not automation.
    markAutomated(db, tickets.find((t) => t.labels?.includes('dns-change'))!.key, false);
    regroupTickets(db);
  });

  const report = (since = 28, project: string | null = 'PLAT', top = 10) =>
    buildTopTicketsReport(db, { window: { from: NOW - since * DAY, to: NOW }, top, project }, context);

  it('counts, shares and compares against the previous window', () => {
    const r = report();
    expect(r.totalTickets).toBe(tickets.filter((t) => t.project === 'PLAT' && t.created! >= NOW - 28 * DAY).length);
    const access = r.groups.find((g) => g.id === 'label:access-request')!;
    expect(access).toMatchObject({ kind: 'label', count: 8, previousCount: 2, change: 3, automated: 6, handler: 'grant-repo-access', minutesPerTicket: 10 });
    expect(access.share).toBeCloseTo(8 / r.totalTickets);
    expect(access.keys).toHaveLength(8);
    expect(access.keys).toEqual([...access.keys].sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1])));
  });

  it('ranks steady groups by unmet automatable demand, and puts bursts after them', () => {
    const r = report();
    const order = r.groups.map((g) => g.id);
    // dns-change: 4 × 30 min × 1 = 120; access-request: 8 × 10 × (1 − 6/8) = 20.
    expect(order.indexOf('label:dns-change')).toBeLessThan(order.indexOf('label:access-request'));
    const vpn = r.groups.find((g) => g.id === 'label:vpn')!;
    expect(vpn.burst).toBe(true);
    expect(vpn.burstReason).toMatch(/^6 of 7 tickets in the week of \d{4}-\d{2}-\d{2}$/);
    expect(order.indexOf('label:vpn')).toBeGreaterThan(Math.max(...r.groups.filter((g) => !g.burst).map((g) => order.indexOf(g.id))));
    expect(r.groups.find((g) => g.id === 'label:dns-change')).toMatchObject({ unmetDemandMinutes: 120, hoursSpent: 2, hoursSaved: 0 });
  });

  it('gives a zero-filled weekly series that sums to the count, and median/p90 time to resolution', () => {
    const access = report().groups.find((g) => g.id === 'label:access-request')!;
    expect(access.weekly.reduce((s, w) => s + w.count, 0)).toBe(8);
    expect(access.weekly.length).toBeGreaterThanOrEqual(4);
    expect(new Date(`${access.weekly[0].week}T00:00:00Z`).getUTCDay()).toBe(1);
    // resolution hours 2..9 → median 5.5, p90 8.3
    expect(access.medianTimeToResolutionHours).toBe(5.5);
    expect(access.p90TimeToResolutionHours).toBe(8.3);
  });

  it('finds unlabelled repeats by text and shows the labels their members carry', () => {
    const text = report().groups.find((g) => g.kind === 'text' && /feedstock token/i.test(g.key))!;
    expect(text).toBeDefined();
    expect(text.count).toBe(5);
    expect(text.key).toMatch(/^Reset <\*> feedstock token$/);
    expect(text.labels).toEqual([{ label: 'token', count: 1 }]);
    expect(text.dominantLabel).toBeNull();
  });

  it('reports the weekly repeat ratio and filters by project', () => {
    const r = report();
    const total = r.repeatRatio.reduce((s, w) => s + w.tickets, 0);
    const repeated = r.repeatRatio.reduce((s, w) => s + w.repeated, 0);
    expect(total).toBe(r.totalTickets);
    // Only the coffee-machine ticket repeats nothing.
    expect(repeated).toBe(total - 1);
    const web = report(28, 'WEB');
    expect(web.totalTickets).toBe(1);
    expect(web.groups).toEqual([]);
  });

  it('says when the stored grouping is stale', async () => {
    expect(report().grouping).toMatchObject({ algorithm: 'text-v1', currentAlgorithm: 'text-v1', ticketsSinceGrouping: 0, notice: null });
    await new Promise((r) => setTimeout(r, 5));
    upsertTickets(db, [{ ticket: ticket('Reset pkg-d feedstock token', [], 1) }], 'webhook');
    expect(report().grouping.notice).toBe('1 tickets arrived after the last text grouping; run `deflect group` to include them.');
    regroupTickets(db);
  });

  it('prints json, csv and markdown from the CLI', () => {
    const dir = freshDir();
    const rulesPath = join(dir, 'rules.yaml');
    writeFileSync(rulesPath, 'rules:\n  - labels: [access-request]\n    handler: grant-repo-access\n');
    const cli = (...args: string[]) =>
      execFileSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'report', '--since', 'all', ...args], {
        env: { PATH: process.env.PATH, DEFLECT_DB: db.$client.name, DEFLECT_RULES: rulesPath },
        encoding: 'utf8',
      });
    const json = JSON.parse(cli('--format', 'json', '--top', '3'));
    expect(json.groups).toHaveLength(3);
    for (const g of json.groups) expect(g.keys).toHaveLength(g.count);
    const csv = cli('--format', 'csv').trim().split('\n');
    expect(csv[0]).toMatch(/^id,group,kind,count,share/);
    expect(csv.length).toBeGreaterThan(3);
    expect(cli('--format', 'markdown')).toMatch(/\| # \| group \| kind \| count/);
    expect(() => cli('--format', 'xml')).toThrow(/invalid --format "xml": use one of table, json, csv, markdown/);
  });
});
