/**
 * The impact report on a real SQLite file seeded through deflect's own repository functions (impact-seed.ts), with
 * answers computed by hand; `GET /api/reports/impact` through app.inject with an auditor token (and its 400s and 401);
 * `deflect impact` as a process on the same file (read-only), and its empty state on a database without runs.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Db } from '../../src/db/client.js';
import { upsertTickets } from '../../src/db/tickets.js';
import { createLogger } from '../../src/logger.js';
import { buildImpactReport } from '../../src/reports/impact-report.js';
import type { ImpactReport, ImpactType } from '../../src/reports/impact-types.js';
import { authHeader } from '../support/api-token.js';
import { freshDir, REPO_ROOT } from '../support/deflect-under-test.js';
import { DAY, HOUR, IMPACT_CONTEXT, seedImpact, type ImpactSeed } from './impact-seed.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';

let db: Db;
let dbPath: string;
let seed: ImpactSeed;
let report: ImpactReport;
const byLabel = (r: ImpactReport, label: string) => r.types.find((t) => t.label === label || t.id === `label:${label}`) as ImpactType;

beforeAll(async () => {
  dbPath = join(freshDir('impact-'), 'impact.db');
  db = openDatabase(dbPath);
  seed = await seedImpact(db);
  report = await buildImpactReport(sqliteStore(db), { window: { from: seed.now - 70 * DAY, to: seed.now } }, IMPACT_CONTEXT);
});
afterAll(() => db.$client.close());

describe('impact per request type', () => {
  it('lists only the rows with automated runs, earliest start first; shadow, dry and not-applied runs are not automation', () => {
    expect(report.types.map((t) => t.handler)).toEqual(['grant-repo-access', 'create-repository']);
    expect(report.types.some((t) => t.label === 'vpn' || /vpn/i.test(t.name))).toBe(false);
    // The vpn label (folded with the request type its wording makes) is listed without automation.
    expect(report.withoutAutomation.examples.filter((e) => /vpn/i.test(e.name)).map((e) => e.tickets)).toEqual([3]);
    expect(report.emptyHint).toBeNull();
  });

  it('starts the automation at the first automated run and splits before and after', () => {
    const access = byLabel(report, 'access-request');
    expect(access.automationStart).toBe(new Date(seed.start).toISOString());
    expect(access.before.tickets).toBe(6);
    expect(access.after.tickets).toBe(4);
    expect(access.before.weeks).toBeCloseTo(Math.round(((seed.start - (seed.now - 70 * DAY)) / (7 * DAY)) * 10) / 10, 5);
    expect(access.before.ticketsPerWeek).toBeCloseTo(Math.round((6 / ((seed.start - (seed.now - 70 * DAY)) / (7 * DAY))) * 10) / 10, 5);
    expect(access.after.ticketsPerWeek).toBeCloseTo(Math.round((4 / ((seed.now - seed.start) / (7 * DAY))) * 10) / 10, 5);
  });

  it("computes time to resolution p50/p90 before (people) and after (deflect's transition when the tracker has not said)", () => {
    const access = byLabel(report, 'access-request');
    // 2, 4, 6, 8, 10, 12 h → p50 7, p90 10 + 0.5 × 2 = 11.
    expect([access.before.ttrP50Hours, access.before.ttrP90Hours, access.before.resolved]).toEqual([7, 11, 6]);
    // alice's ticket was waiting when the automation started (its run is the start): in neither side's times.
    expect(access.waitingAtStart).toBe(1);
    // 1 (bob: the tracker's resolution), 1 (carol: deflect's transition), 20 (dave, people) → p50 1, p90 1 + 0.8 × 19 = 16.2.
    expect([access.after.ttrP50Hours, access.after.ttrP90Hours, access.after.resolved]).toEqual([1, 16.2, 3]);
    expect([access.before.shorterThanAWeek, access.after.shorterThanAWeek]).toEqual([false, false]);
  });

  it('counts the share resolved by deflect and the hours returned from the median human TTR before', () => {
    const access = byLabel(report, 'access-request');
    expect([access.automated, access.resolvedByDeflect, access.shareResolvedByDeflect]).toEqual([3, 3, 0.75]);
    expect([access.hoursReturned, access.hoursPerTicket, access.hoursReturnedBasis]).toEqual([21, 7, 'history']);
    // No history for new-repo: the fixed estimate (45 minutes a ticket).
    const repo = byLabel(report, 'new-repo');
    expect(repo.before.tickets).toBe(0);
    expect([repo.hoursReturned, repo.hoursPerTicket, repo.hoursReturnedBasis]).toEqual([1.5, 0.8, 'estimate']);
    expect(report.totals).toEqual({ automated: 5, resolvedByDeflect: 5, hoursReturned: 22.5 });
  });

  it('draws adoption per week of the run, from early adopters to the majority', () => {
    const access = byLabel(report, 'access-request');
    expect(access.adoption[0].week).toBe(access.automationStartWeek);
    expect(access.adoption.reduce((n, w) => n + w.reporters, 0)).toBe(3); // alice, bob, carol: one week each
    const last = access.adoption[access.adoption.length - 1];
    expect([last.cumulativeReporters, last.cumulativeTeams, access.reportersAfter, access.teamsAfter]).toEqual([3, 2, 4, 2]);
    expect(last.reporterShare).toBe(0.75);
    // The running totals never fall.
    for (let i = 1; i < access.adoption.length; i++) expect(access.adoption[i].cumulativeReporters).toBeGreaterThanOrEqual(access.adoption[i - 1].cumulativeReporters);
  });

  it('gives a zero-filled weekly series of the window with the automated tickets after the start', () => {
    const access = byLabel(report, 'access-request');
    expect(access.weekly.reduce((n, w) => n + w.tickets, 0)).toBe(10);
    expect(access.weekly.filter((w) => w.week < access.automationStartWeek).reduce((n, w) => n + w.automated, 0)).toBe(0);
    expect(access.weekly.reduce((n, w) => n + w.automated, 0)).toBe(3);
    expect(access.weekly.length).toBeGreaterThanOrEqual(10);
  });

  it("computes the repeat share of the team's own resolutions (deflect's left out), with the report's repeat definition", () => {
    const resolved = report.repeatShare.reduce((n, w) => n + w.resolvedByPeople, 0);
    const repeated = report.repeatShare.reduce((n, w) => n + w.repeated, 0);
    expect([resolved, repeated]).toEqual([11, 10]);
    for (const w of report.repeatShare) expect(w.share).toBe(w.resolvedByPeople ? w.repeated / w.resolvedByPeople : null);
  });

  it('selects one row with typeId, and says so when it has no automated runs', async () => {
    const access = byLabel(report, 'access-request');
    const one = await buildImpactReport(sqliteStore(db), { window: { from: seed.now - 70 * DAY, to: seed.now }, typeId: access.id }, IMPACT_CONTEXT);
    expect(one.types.map((t) => t.id)).toEqual([access.id]);
    const none = await buildImpactReport(sqliteStore(db), { window: { from: seed.now - 70 * DAY, to: seed.now }, typeId: 'label:vpn' }, IMPACT_CONTEXT);
    expect(none.types).toEqual([]);
    expect(none.emptyHint).toMatch(/^no automated runs yet for "label:vpn"/);
  });

  it('says "no automated runs yet" on a database whose tickets have no automated run', async () => {
    const empty = openDatabase(join(freshDir('impact-empty-'), 'empty.db'));
    const created = seed.now - 3 * DAY;
    upsertTickets(empty, [0, 1].map((i) => ({ ticket: { id: String(i), key: `PLAT-${i}`, project: 'PLAT', issueType: 'Task', status: 'Done', labels: ['vpn'], summary: `VPN drops ${i}`, description: null, reporter: 'x', reporterId: 'x', created, updated: created, resolved: created + HOUR, siteUrl: null } })), 'import');
    const r = await buildImpactReport(sqliteStore(empty), { window: { from: seed.now - 30 * DAY, to: seed.now } }, IMPACT_CONTEXT);
    expect(r.types).toEqual([]);
    expect(r.emptyHint).toMatch(/^no automated runs yet: .*Shadow and dry runs do not count/);
    expect(r.withoutAutomation.count).toBe(1);
    empty.$client.close();
  });
});

describe('GET /api/reports/impact', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApp({ config: { webhookSecrets: ['s'], webhookTokens: [], bodyLimitBytes: 64 * 1024, auth: loadConfig({}).auth }, db: sqliteStore(db), logger: createLogger('silent'), report: IMPACT_CONTEXT });
  });
  afterAll(() => app.close());

  it('answers the report to an auditor token', async () => {
    const res = await app.inject({ url: '/api/reports/impact?since=70d', headers: await authHeader(db, 'auditor') });
    expect(res.statusCode).toBe(200);
    const body = res.json() as ImpactReport;
    const access = byLabel(body, 'access-request');
    expect([access.before.ttrP50Hours, access.hoursReturned, access.shareResolvedByDeflect]).toEqual([7, 21, 0.75]);
    const one = await app.inject({ url: `/api/reports/impact?since=70d&type=${encodeURIComponent(access.id)}`, headers: await authHeader(db, 'auditor') });
    expect((one.json() as ImpactReport).types.map((t) => t.id)).toEqual([access.id]);
  });

  it('refuses a request without a token (401) and bad queries with a 400 naming the field', async () => {
    expect((await app.inject({ url: '/api/reports/impact' })).statusCode).toBe(401);
    const headers = await authHeader(db, 'auditor');
    for (const [query, field] of [['since=forever', 'since'], ['type=robots', 'type'], ['from=2026-02-01&to=2026-01-01', 'from must be before to'], ['tracker=gitlab', 'tracker']]) {
      const res = await app.inject({ url: `/api/reports/impact?${query}`, headers });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().message, query).toContain(field);
    }
  });
});

describe('deflect impact', () => {
  const cli = (...args: string[]) =>
    execFileSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'impact', ...args], {
      cwd: REPO_ROOT, env: { ...process.env, DEFLECT_DB: dbPath, DEFLECT_RULES: '', DEFLECT_LOG_LEVEL: 'silent' }, encoding: 'utf8',
    });

  it('prints the same figures as JSON and as a table', () => {
    const json = JSON.parse(cli('--since', '70d', '--format', 'json')) as ImpactReport;
    expect(byLabel(json, 'access-request').hoursReturned).toBe(21);
    const table = cli('--since', '70d');
    expect(table).toContain('7.0 → 1.0'); // TTR p50 before → after
    expect(table).toContain('median human TTR before');
    expect(table).toContain('fixed estimate: no history');
    expect(table).toMatch(/3 of 4 reporters/);
  });

  it('rejects a bad --type with a message', () => {
    expect(() => execFileSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'impact', '--type', 'robots'], { cwd: REPO_ROOT, env: { ...process.env, DEFLECT_DB: dbPath }, encoding: 'utf8', stdio: 'pipe' })).toThrow(/invalid --type "robots"/);
  });
});
