/**
 * The real k8s org-requests corpus (../shared/fixtures/tickets/k8s-org-requests.jsonl, ~2,900 public GitHub issues
 * as Jira issues) imported through the CLI, grouped into request types and reported: the top rows are request types
 * whose keys match their counts and whose variants partition them, and on this old corpus the default window is
 * empty and says how to see it. Skipped when ../shared is absent.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TopTicketsReport } from '../../src/reports/report-types.js';
import { freshDir, REPO_ROOT } from '../support/deflect-under-test.js';

const K8S = join(REPO_ROOT, '../shared/fixtures/tickets/k8s-org-requests.jsonl');
if (!existsSync(K8S)) console.warn(`skipping the k8s corpus report: ${K8S} is absent (it is provided beside the repository as ../shared)`);

describe.skipIf(!existsSync(K8S))('the k8s org-requests corpus, imported and reported', () => {
  it('reports request types whose keys match their counts, and hints at --since all for the empty default window', () => {
    const dbPath = join(freshDir(), 'k8s.db');
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), ...args], {
        env: { PATH: process.env.PATH, DEFLECT_DB: dbPath },
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
    const imported = cli('import', 'jsonl', K8S);
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/grouped \d+ tickets by text \(text-v2\) in [\d.]+ s: \d+ request types \(\d+ variants\) holding \d+ tickets/);

    const report = JSON.parse(cli('report', '--since', 'all', '--top', '10', '--format', 'json').stdout) as TopTicketsReport;
    expect(report.totalTickets).toBeGreaterThan(2000);
    expect(report.granularity).toBe('month');
    expect(report.grouping).toMatchObject({ algorithm: 'text-v2', notice: null });
    expect(report.groups).toHaveLength(10);
    const top = report.groups[0];
    expect(top.kind).toBe('type');
    expect(top.keys).toHaveLength(top.count);
    expect(new Set(top.keys).size).toBe(top.count);
    for (const g of report.groups) {
      expect(g.keys).toHaveLength(g.count);
      expect(g.variants.reduce((n, v) => n + v.count, 0)).toBe(g.count);
      expect(g.variants.flatMap((v) => v.keys).sort()).toEqual([...g.keys].sort());
      expect(g.series.reduce((n, p) => n + p.count, 0)).toBe(g.count);
    }
    console.log(`k8s report: top rows ${report.groups.slice(0, 5).map((g) => `"${g.name}" ×${g.count} (${g.variants.length} variants)`).join(', ')}`);

    // The default window (30 days) on a corpus whose newest ticket is older: the CLI says so and how to see it.
    const newest = Date.parse(report.newestTicket!);
    if (newest < Date.now() - 30 * 86_400_000) {
      const table = cli('report');
      expect(table.status, table.stderr).toBe(0);
      expect(table.stdout).toContain('No request repeated in this window.');
      expect(table.stdout).toContain(`the newest ticket was created on ${report.newestTicket!.slice(0, 10)}. Use --since all to see every ticket.`);
      const json = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'report', '--format', 'json'], { env: { PATH: process.env.PATH, DEFLECT_DB: dbPath }, encoding: 'utf8' })) as TopTicketsReport;
      expect(json.totalTickets).toBe(0);
      expect(json.emptyWindowHint).toContain('--since all');
    }
  }, 120_000);
});
