/**
 * The top-tickets report on a real SQLite file: request types with their variants, a label and a type shown as one
 * row, ranking by unmet automatable demand, change against the previous window, weekly or monthly series, time to
 * resolution, bursts, repeat ratio, the empty-window hint, estimates; and the CLI formats.
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
import type { TopTicketsReport } from '../../src/reports/report-types.js';
import { buildTopTicketsReport, type ReportContext } from '../../src/reports/top-tickets-report.js';
import { parseRulesConfig } from '../../src/rules/rules-file.js';
import type { Ticket } from '../../src/ticket.js';
import { freshDir, REPO_ROOT } from '../support/deflect-under-test.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';

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
  beforeAll(async () => {
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
    await regroupTickets(sqliteStore(db));
  });

  const report = async (since = 28, project: string | null = 'PLAT', top = 10) =>
    await buildTopTicketsReport(sqliteStore(db), { window: { from: NOW - since * DAY, to: NOW }, top, project }, context);

  const rowOfLabel = (r: TopTicketsReport, label: string) => r.groups.find((g) => g.label === label)!;

  it('counts, shares and compares against the previous window', async () => {
    const r = await report();
    expect(r.totalTickets).toBe(tickets.filter((t) => t.project === 'PLAT' && t.created! >= NOW - 28 * DAY).length);
    const access = rowOfLabel(r, 'access-request');
    expect(access).toMatchObject({ count: 8, previousCount: 2, change: 3, automated: 6, handler: 'grant-repo-access', minutesPerTicket: 10 });
    expect(access.share).toBeCloseTo(8 / r.totalTickets);
    expect(access.keys).toHaveLength(8);
    expect(access.keys).toEqual([...access.keys].sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1])));
  });

  it('shows a label group and a request type that cover mostly the same tickets as one row that says both', async () => {
    const r = await report();
    const access = rowOfLabel(r, 'access-request');
    // "Access to repo <n>" is both a request type and the label access-request: one row, the type, naming the label.
    expect(access.kind).toBe('type');
    expect(access.id).toMatch(/^type:[0-9a-f]{12}$/);
    expect(access.merged).toEqual({ label: 'access-request', typeIds: [access.id], shared: 8 });
    expect(r.groups.filter((g) => g.id === 'label:access-request' || g.id === access.id)).toHaveLength(1);
    // A ticket counts once: no key is in two of these rows.
    const seen = new Map<string, string>();
    for (const g of r.groups) for (const key of g.keys) {
      expect(seen.get(key), `${key} in ${g.id} and ${seen.get(key)}`).toBeUndefined();
      seen.set(key, g.id);
    }
  });

  it('ranks steady rows by unmet automatable demand, and puts bursts after them', async () => {
    const r = await report();
    const order = r.groups.map((g) => g.id);
    const dns = rowOfLabel(r, 'dns-change');
    const access = rowOfLabel(r, 'access-request');
    // dns-change: 4 × 30 min × 1 = 120; access-request: 8 × 10 × (1 − 6/8) = 20.
    expect(order.indexOf(dns.id)).toBeLessThan(order.indexOf(access.id));
    const vpn = rowOfLabel(r, 'vpn');
    expect(vpn.burst).toBe(true);
    expect(vpn.burstReason).toMatch(/^6 of 7 tickets in the week of \d{4}-\d{2}-\d{2}$/);
    expect(order.indexOf(vpn.id)).toBeGreaterThan(Math.max(...r.groups.filter((g) => !g.burst).map((g) => order.indexOf(g.id))));
    expect(dns).toMatchObject({ unmetDemandMinutes: 120, hoursSpent: 2, hoursSaved: 0 });
  });

  it('gives a zero-filled weekly series for a short window that sums to the count, and median/p90 time to resolution', async () => {
    const r = await report();
    expect(r.granularity).toBe('week');
    const access = rowOfLabel(r, 'access-request');
    expect(access.series.reduce((s, w) => s + w.count, 0)).toBe(8);
    expect(access.series.length).toBeGreaterThanOrEqual(4);
    expect(access.series.map((p) => p.period)).toEqual(r.repeatRatio.map((p) => p.period));
    expect(new Date(`${access.series[0].period}T00:00:00Z`).getUTCDay()).toBe(1);
    // resolution hours 2..9 → median 5.5, p90 8.3
    expect(access.medianTimeToResolutionHours).toBe(5.5);
    expect(access.p90TimeToResolutionHours).toBe(8.3);
  });

  it('buckets a window longer than ~6 months by month, every month present, with no ratio for a month without tickets', async () => {
    const r = await report(400);
    expect(r.granularity).toBe('month');
    const months = r.repeatRatio.map((p) => p.period);
    expect(months.length).toBeGreaterThanOrEqual(13);
    for (const m of months) expect(m).toMatch(/^\d{4}-\d{2}-01$/);
    for (let i = 1; i < months.length; i++) expect(Date.parse(months[i])).toBeGreaterThan(Date.parse(months[i - 1]));
    const empty = r.repeatRatio.filter((p) => p.tickets === 0);
    expect(empty.length).toBeGreaterThan(0);
    for (const p of empty) expect(p.ratio).toBeNull();
    for (const g of r.groups) expect(g.series.reduce((s, p) => s + p.count, 0)).toBe(g.count);
  });

  it('finds unlabelled repeats as a request type with its variants, and shows the labels their members carry', async () => {
    const r = await report();
    const type = r.groups.find((g) => g.kind === 'type' && g.variants.some((v) => /feedstock token/i.test(v.template)))!;
    expect(type).toBeDefined();
    expect(type.count).toBe(5);
    expect(type.merged).toBeNull();
    expect(type.labels).toEqual([{ label: 'token', count: 1 }]);
    expect(type.dominantLabel).toBeNull();
    // The variants partition the keys.
    expect(type.variants.reduce((n, v) => n + v.count, 0)).toBe(type.count);
    expect(type.variants.flatMap((v) => v.keys).sort()).toEqual([...type.keys].sort());
    for (const v of type.variants) expect(v.keys).toHaveLength(v.count);
  });

  it('reports the repeat ratio over the same rows it shows, and filters by project', async () => {
    const r = await report();
    const total = r.repeatRatio.reduce((s, w) => s + w.tickets, 0);
    const repeated = r.repeatRatio.reduce((s, w) => s + w.repeated, 0);
    expect(total).toBe(r.totalTickets);
    // Only the coffee-machine ticket repeats nothing.
    expect(repeated).toBe(total - 1);
    const web = await report(28, 'WEB');
    expect(web.totalTickets).toBe(1);
    expect(web.groups).toEqual([]);
    // Nothing repeats in WEB, so no period may say otherwise.
    expect(web.repeatRatio.every((p) => p.repeated === 0)).toBe(true);
  });

  it('says when the window is empty, with the date of the newest ticket', async () => {
    const r = await buildTopTicketsReport(sqliteStore(db), { window: { from: NOW - 400 * DAY, to: NOW - 300 * DAY } }, context);
    const newest = Math.max(...tickets.map((t) => t.created!));
    expect(r.totalTickets).toBe(0);
    expect(r.newestTicket).toBe(new Date(newest).toISOString());
    expect(r.emptyWindowHint).toContain(new Date(newest).toISOString().slice(0, 10));
    expect(r.emptyWindowHint).toContain('--since all');
    expect((await report()).emptyWindowHint).toBeNull();
  });

  it('says when the stored grouping is stale', async () => {
    expect((await report()).grouping).toMatchObject({ algorithm: 'text-v2', currentAlgorithm: 'text-v2', ticketsSinceGrouping: 0, notice: null });
    await new Promise((r) => setTimeout(r, 5));
    upsertTickets(db, [{ ticket: ticket('Reset pkg-d feedstock token', [], 1) }], 'webhook');
    expect((await report()).grouping.notice).toBe('1 tickets arrived after the last text grouping; run `deflect group` to include them.');
    await regroupTickets(sqliteStore(db));
  });

  it('prints json (types with variants), csv and markdown from the CLI, and the empty-window hint', async () => {
    const dir = freshDir();
    const rulesPath = join(dir, 'rules.yaml');
    writeFileSync(rulesPath, 'rules:\n  - labels: [access-request]\n    handler: grant-repo-access\n');
    const run = (...args: string[]) =>
      execFileSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'report', ...args], {
        env: { PATH: process.env.PATH, DEFLECT_DB: db.$client.name, DEFLECT_RULES: rulesPath },
        encoding: 'utf8',
      });
    const cli = (...args: string[]) => run('--since', 'all', ...args);
    const json = JSON.parse(cli('--format', 'json', '--top', '3')) as TopTicketsReport;
    expect(json.groups).toHaveLength(3);
    for (const g of json.groups) {
      expect(Object.keys(g)).toEqual(expect.arrayContaining(['id', 'key', 'kind', 'name', 'count', 'keys', 'variants']));
      expect(['type', 'label']).toContain(g.kind);
      expect(g.keys).toHaveLength(g.count);
      expect(g.variants.flatMap((v) => v.keys).sort()).toEqual([...g.keys].sort());
      for (const v of g.variants) {
        expect(Object.keys(v)).toEqual(expect.arrayContaining(['template', 'count', 'keys']));
        expect(v.keys).toHaveLength(v.count);
      }
    }
    const csv = cli('--format', 'csv').trim().split('\n');
    expect(csv[0]).toMatch(/^id,name,kind,label,count,share/);
    expect(csv.length).toBeGreaterThan(3);
    const markdown = cli('--format', 'markdown');
    expect(markdown).toMatch(/\| # \| request type \/ label \| kind \| count/);
    const table = cli('--top', '20');
    // Types list their top variants under their name.
    const feedstock = (await report()).groups.find((g) => g.kind === 'type' && g.variants.some((v) => /feedstock token/i.test(v.template)))!;
    expect(table).toContain(feedstock.name);
    expect(table).toContain(`· ${feedstock.variants[0].template} ×${feedstock.variants[0].count}`);
    expect(() => cli('--format', 'xml')).toThrow(/invalid --format "xml": use one of table, json, csv, markdown/);
    const empty = run('--from', '2020-01-01', '--to', '2020-02-01');
    expect(empty).toContain('No request repeated in this window.');
    expect(empty).toContain(`the newest ticket was created on ${new Date(Math.max(...tickets.map((t) => t.created!))).toISOString().slice(0, 10)}. Use --since all`);
  });
});
