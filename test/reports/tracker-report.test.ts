/**
 * One ticket model across trackers, on the reading side, on a real SQLite file: grouping puts a request filed in Jira
 * and again in GitHub Issues and Linear into one request type; the report counts it as one row saying how many tickets
 * came from each tracker, links each ticket to its own tracker, and narrows to some trackers with the tracker filter
 * (the counts split); automation is matched per tracker (Jira's ENG-7 is not Linear's ENG-7); the audit lists each
 * run with its ticket's display key and tracker. Then the same through the CLI (`deflect report|audit --tracker`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/client.js';
import { listAudit } from '../../src/reports/audit.js';
import { regroupTickets } from '../../src/reports/regroup.js';
import type { ReportGroup, TopTicketsReport } from '../../src/reports/report-types.js';
import { buildTopTicketsReport, type ReportContext } from '../../src/reports/top-tickets-report.js';
import { parseTrackerFilter, ticketUrl } from '../../src/reports/tracker-filter.js';
import { DEFAULT_ESTIMATES } from '../../src/rules/rules-file.js';
import type { TrackerName } from '../../src/trackers/tracker.js';
import { freshDir, REPO_ROOT } from '../support/deflect-under-test.js';
import { ADD_TO_REPO, JIRA_SITE, OTHERS, seedMultiTracker } from '../support/multi-tracker-tickets.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T12:00:00Z');
const context: ReportContext = { rules: [], estimates: DEFAULT_ESTIMATES, jiraBaseUrl: JIRA_SITE };

/** Seeds of `tracker` among `seeds`. */
const countOf = (seeds: ReadonlyArray<{ tracker: TrackerName }>, tracker: TrackerName) => seeds.filter((s) => s.tracker === tracker).length;

describe('report, grouping and audit across trackers', () => {
  let db: Db;
  let runs: { github: number; linear: number; jira: number };
  const report = async (trackers: TrackerName[] | null = null) =>
    await buildTopTicketsReport(sqliteStore(db), { window: { from: NOW - 60 * DAY, to: NOW }, top: 20, trackers }, context);
  /** The row holding `key` of `tracker`. */
  const rowOf = (r: TopTicketsReport, tracker: TrackerName, key: string): ReportGroup | undefined =>
    r.groups.find((g) => g.links.some((l) => l.key === key && l.tracker === tracker));

  beforeAll(async () => {
    db = openDatabase(join(freshDir(), 'trackers.db'));
    ({ runs } = seedMultiTracker(db, NOW));
    await regroupTickets(sqliteStore(db), NOW);
  });

  it('groups a Jira ticket and a GitHub issue asking the same thing into one request type', async () => {
    const jira = rowOf(await report(), 'jira', 'PLAT-1');
    const github = rowOf(await report(), 'github', 'acme/api#12');
    expect(jira).toBeDefined();
    expect(jira!.kind).toBe('type');
    expect(github?.id).toBe(jira!.id);
  });

  it('counts that request once, saying how many of its tickets came from each tracker', async () => {
    const r = await report();
    const row = rowOf(r, 'jira', 'PLAT-1')!;
    expect(row.count).toBe(ADD_TO_REPO.length);
    expect(row.trackers).toEqual({ jira: countOf(ADD_TO_REPO, 'jira'), github: countOf(ADD_TO_REPO, 'github'), linear: countOf(ADD_TO_REPO, 'linear') });
    expect(Object.values(row.trackers).reduce((n, c) => n + c!, 0)).toBe(row.count);
    expect(row.keys).toEqual(['ENG-4', 'PLAT-1', 'PLAT-2', 'PLAT-3', 'acme/api#12', 'acme/api#13']);
    expect(row.links.map((l) => l.key)).toEqual(row.keys);
    // No other row holds any of its tickets.
    expect(r.groups.filter((g) => g.keys.some((k) => row.keys.includes(k) && k !== 'ENG-7'))).toHaveLength(1);
    expect(r.totalTickets).toBe(ADD_TO_REPO.length + OTHERS.length);
    expect(r.ticketsByTracker).toEqual({
      jira: countOf([...ADD_TO_REPO, ...OTHERS], 'jira'),
      github: countOf([...ADD_TO_REPO, ...OTHERS], 'github'),
      linear: countOf([...ADD_TO_REPO, ...OTHERS], 'linear'),
    });
    expect(r.trackers).toBeNull();
  });

  it('links every ticket to its own tracker', async () => {
    const row = rowOf(await report(), 'jira', 'PLAT-1')!;
    const url = (key: string) => row.links.find((l) => l.key === key)!.url;
    expect(url('PLAT-1')).toBe(`${JIRA_SITE}/browse/PLAT-1`);
    expect(url('acme/api#12')).toBe('https://github.com/acme/api/issues/12');
    expect(url('ENG-4')).toBe('https://linear.app/acme/issue/ENG-4');
    expect(ticketUrl({ tracker: 'jira', site: 'other.atlassian.net', key: 'OPS-1' }, JIRA_SITE)).toBe('https://other.atlassian.net/browse/OPS-1');
    expect(ticketUrl({ tracker: 'jira', site: '', key: 'OPS-1' }, null)).toBeNull();
    expect(ticketUrl({ tracker: 'github', site: 'github.com', key: 'not a github key' }, null)).toBeNull();
  });

  it('splits the counts with the tracker filter', async () => {
    const all = rowOf(await report(), 'jira', 'PLAT-1')!;
    const github = await report(['github']);
    const githubRow = github.groups.find((g) => g.id === all.id)!;
    expect(githubRow).toMatchObject({ count: countOf(ADD_TO_REPO, 'github'), trackers: { github: countOf(ADD_TO_REPO, 'github') } });
    expect(githubRow.keys).toEqual(['acme/api#12', 'acme/api#13']);
    expect(github.trackers).toEqual(['github']);
    expect(github.totalTickets).toBe(countOf([...ADD_TO_REPO, ...OTHERS], 'github'));
    expect(Object.keys(github.ticketsByTracker)).toEqual(['github']);

    const jiraLinear = await report(['jira', 'linear']);
    const row = jiraLinear.groups.find((g) => g.id === all.id)!;
    expect(row.count).toBe(all.count - githubRow.count);
    expect(row.trackers).toEqual({ jira: all.trackers.jira, linear: all.trackers.linear });
    // Filtered totals add up to the unfiltered one.
    expect(jiraLinear.totalTickets + github.totalTickets).toBe((await report()).totalTickets);
    // Linear alone holds one such ticket: not a repeated request there.
    expect((await report(['linear'])).groups.find((g) => g.id === all.id)).toBeUndefined();
  });

  it('keeps a label group across trackers, labels compared without case', async () => {
    const vpn = (await report()).groups.find((g) => g.label === 'vpn')!;
    expect(vpn.count).toBe(3);
    expect(vpn.trackers).toEqual({ jira: 1, github: 2 });
  });

  it('groups both tickets of a display key two trackers share, and counts automation on the run’s own tracker', async () => {
    const r = await report();
    const rotate = r.groups.find((g) => g.keys.includes('ENG-7'))!;
    expect(rotate.keys).toEqual(['ENG-7', 'ENG-7']);
    expect(rotate.trackers).toEqual({ jira: 1, linear: 1 });
    expect(rotate.links.map((l) => l.url).sort()).toEqual([`${JIRA_SITE}/browse/ENG-7`, 'https://linear.app/acme/issue/ENG-7']);
    // One succeeded run, on Linear's ENG-7: Jira's ENG-7 is not automated.
    expect(rotate.automated).toBe(1);
    expect((await report(['jira'])).groups.find((g) => g.id === rotate.id)).toBeUndefined();
    const addRow = rowOf(r, 'jira', 'PLAT-1')!;
    // acme/api#12 (run with a GitHub snapshot) and PLAT-1 (run without a snapshot: Jira).
    expect(addRow.automated).toBe(2);
    expect(rowOf(await report(['github']), 'github', 'acme/api#12')!.automated).toBe(1);
  });

  it('lists runs with the display key and tracker of their ticket, and filters them by tracker', async () => {
    const audit = await listAudit(sqliteStore(db));
    const byId = new Map(audit.runs.map((r) => [r.id, r]));
    expect(byId.get(runs.github)).toMatchObject({ ticketKey: 'acme/api#12', tracker: 'github' });
    expect(byId.get(runs.linear)).toMatchObject({ ticketKey: 'ENG-7', tracker: 'linear' });
    expect(byId.get(runs.jira)).toMatchObject({ ticketKey: 'PLAT-1', tracker: 'jira' });
    expect((await listAudit(sqliteStore(db), { trackers: ['github'] })).runs.map((r) => r.id)).toEqual([runs.github]);
    expect((await listAudit(sqliteStore(db), { trackers: ['jira', 'linear'] })).runs.map((r) => r.id).sort()).toEqual([runs.jira, runs.linear].sort());
  });

  it('parses the tracker filter: repeated or comma-separated, any case; an unknown name lists the valid ones', () => {
    expect(parseTrackerFilter(undefined)).toBeNull();
    expect(parseTrackerFilter(['', ' '])).toBeNull();
    expect(parseTrackerFilter('GitHub')).toEqual(['github']);
    expect(parseTrackerFilter(['linear,jira', 'jira'])).toEqual(['jira', 'linear']);
    expect(() => parseTrackerFilter('jira,gitlab')).toThrow('unknown tracker "gitlab": use jira, github, linear or trello');
    expect(() => parseTrackerFilter('x'.repeat(500))).toThrow(/too long/);
  });

  describe('through the CLI', () => {
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), ...args], {
        env: { PATH: process.env.PATH, DEFLECT_DB: db.$client.name },
        encoding: 'utf8',
      });
    const ok = (...args: string[]) => {
      const result = cli(...args);
      expect(result.status, result.stderr).toBe(0);
      return result.stdout;
    };

    it('deflect report --tracker filters, repeated or comma-separated, and shows the per-tracker counts', () => {
      const all = JSON.parse(ok('report', '--since', 'all', '--format', 'json')) as TopTicketsReport;
      const row = all.groups.find((g) => g.keys.includes('PLAT-1'))!;
      expect(row.trackers).toEqual({ jira: 3, github: 2, linear: 1 });
      const github = JSON.parse(ok('report', '--since', 'all', '--tracker', 'github', '--format', 'json')) as TopTicketsReport;
      expect(github.trackers).toEqual(['github']);
      expect(github.groups.find((g) => g.id === row.id)).toMatchObject({ count: 2, trackers: { github: 2 } });
      const twice = JSON.parse(ok('report', '--since', 'all', '--tracker', 'jira', '--tracker', 'linear', '--format', 'json')) as TopTicketsReport;
      const comma = JSON.parse(ok('report', '--since', 'all', '--tracker', 'jira,linear', '--format', 'json')) as TopTicketsReport;
      expect(twice.trackers).toEqual(['jira', 'linear']);
      expect(comma.groups.map((g) => [g.id, g.count])).toEqual(twice.groups.map((g) => [g.id, g.count]));
      expect(twice.groups.find((g) => g.id === row.id)).toMatchObject({ count: 4, trackers: { jira: 3, linear: 1 } });

      const table = ok('report', '--since', 'all');
      expect(table).toMatch(/trackers/);
      const seeds = [...ADD_TO_REPO, ...OTHERS];
      expect(table).toContain(`${seeds.length} tickets (jira ${countOf(seeds, 'jira')}, github ${countOf(seeds, 'github')}, linear ${countOf(seeds, 'linear')})`);
      expect(table).toMatch(/github 2/);
      const csv = ok('report', '--since', 'all', '--format', 'csv').trim().split('\n');
      expect(csv[0]).toMatch(/,trackers$/);
      expect(csv.some((line) => line.endsWith(',jira 3 github 2 linear 1'))).toBe(true);
    });

    it('deflect report and audit refuse an unknown tracker, naming the valid ones', () => {
      for (const command of ['report', 'audit']) {
        const result = cli(command, '--tracker', 'gitlab');
        expect(result.status, command).not.toBe(0);
        expect(result.stderr).toContain('invalid --tracker: unknown tracker "gitlab": use jira, github, linear or trello');
      }
    });

    it('deflect audit --format json lists display keys and trackers, and --tracker filters', () => {
      const audit = JSON.parse(ok('audit', '--format', 'json')) as Awaited<ReturnType<typeof listAudit>>;
      expect(audit.runs.find((r) => r.id === runs.github)).toMatchObject({ ticketKey: 'acme/api#12', tracker: 'github' });
      expect(audit.runs).toHaveLength(3);
      const github = JSON.parse(ok('audit', '--format', 'json', '--tracker', 'github')) as Awaited<ReturnType<typeof listAudit>>;
      expect(github.runs.map((r) => [r.ticketKey, r.tracker])).toEqual([['acme/api#12', 'github']]);
      const table = execFileSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'audit', '--tracker', 'linear'], {
        env: { PATH: process.env.PATH, DEFLECT_DB: db.$client.name },
        encoding: 'utf8',
      });
      expect(table).toContain('ENG-7');
      expect(table).toContain('linear');
      expect(table).not.toContain('acme/api#12');
    });
  });
});
