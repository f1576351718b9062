/** text-v1, kept as the evaluation baseline of `npm run eval:grouping` (not used by the product). */
import { createReadStream } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GroupableTicket } from '../../src/grouping/grouping-contract.js';
import { explainTicketV1 as explainTicket, groupTicketsV1 as groupTickets, GROUPING_VERSION_V1 as GROUPING_VERSION, type GroupingV1 as Grouping } from '../../src/grouping/text-v1.js';
import { parseJsonlLines } from '../../src/import/parse-jsonl.js';

const fixture = resolve(dirname(fileURLToPath(import.meta.url)), '../../examples/history/platform-requests.jsonl');

async function loadFixture(): Promise<GroupableTicket[]> {
  const out: GroupableTicket[] = [];
  for await (const row of parseJsonlLines(createInterface({ input: createReadStream(fixture), crlfDelay: Infinity }))) {
    if (row.ticket) out.push({ key: row.ticket.key, summary: row.ticket.summary, description: row.ticket.description, labels: row.ticket.labels ?? [] });
  }
  return out;
}

const t = (key: string, summary: string, labels: string[] = []): GroupableTicket => ({ key, summary, labels });

/** Seeded Fisher-Yates shuffle, so a failure can be replayed. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let a = seed;
  const rand = () => ((a = (a * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe('groupTickets on the platform fixture', () => {
  let tickets: GroupableTicket[];
  let grouping: Grouping;
  beforeAll(async () => {
    tickets = await loadFixture();
    grouping = groupTickets(tickets);
  });

  it('puts the three token-reset wordings from the issue in one group', () => {
    const byKey = new Map(tickets.map((x) => [x.summary, x.key]));
    const keys = ['Reset sweet-chem feedstock token', 'reset several tokens', 'request token reset for packages'].map((s) => byKey.get(s)!);
    const ids = keys.map((k) => grouping.assignments.get(k)?.groupId);
    expect(ids[0]).toMatch(/^text:/);
    expect(new Set(ids).size).toBe(1);
    const group = grouping.groups.find((g) => g.id === ids[0])!;
    expect(group.keys).toEqual(expect.arrayContaining(keys));
    // No VPN or DNS request in the token group.
    const summaries = group.keys.map((k) => tickets.find((x) => x.key === k)!.summary!.toLowerCase());
    expect(summaries.some((s) => s.includes('vpn') || s.includes('dns'))).toBe(false);
  });

  it('lists only repeated groups, with sorted keys, at most 5 examples and member labels', () => {
    expect(grouping.groups.length).toBeGreaterThan(3);
    for (const g of grouping.groups) {
      expect(g.count).toBeGreaterThanOrEqual(2);
      expect(g.keys).toHaveLength(g.count);
      expect([...g.keys].sort()).toEqual(g.keys);
      expect(g.exampleKeys.length).toBeLessThanOrEqual(5);
      for (const k of g.exampleKeys) expect(g.keys).toContain(k);
      const expected = new Map<string, number>();
      for (const k of g.keys) for (const l of tickets.find((x) => x.key === k)!.labels) expected.set(l, (expected.get(l) ?? 0) + 1);
      expect(new Map(g.labels.map((l) => [l.label, l.count]))).toEqual(expected);
      const top = g.labels[0];
      expect(g.dominantLabel).toBe(top && top.count * 2 >= g.count ? top.label : null);
    }
    const grouped = new Set(grouping.groups.flatMap((g) => g.keys));
    expect(grouping.assignments.size).toBe(tickets.length);
    for (const [key, a] of grouping.assignments) expect(a.groupId !== null).toBe(grouped.has(key));
  });

  it('explains a singleton', () => {
    const key = tickets.find((x) => x.summary === 'Flaky integration test in checkout')!.key;
    expect(grouping.assignments.get(key)?.groupId).toBeNull();
    expect(explainTicket(grouping, key)).toMatch(new RegExp(`^${key} "Flaky integration test in checkout" → no repeated group: normalised to \\[flaki integr test checkout\\]`));
  });

  it('explains a member: group, normalised tokens, similarity and varying part', () => {
    const key = tickets.find((x) => x.summary === 'Reset sweet-chem feedstock token')!.key;
    const a = grouping.assignments.get(key)!;
    const group = grouping.groups.find((g) => g.id === a.groupId)!;
    const sentence = explainTicket(grouping, key);
    expect(sentence.startsWith(`${key} "Reset sweet-chem feedstock token" → group ${JSON.stringify(group.template)} (${group.count} tickets): normalised to [reset sweet chem feedstock token]`)).toBe(true);
    expect(sentence).toContain(`group signature [${group.signature.join(' ')}]`);
    expect(sentence).toContain('varying part: sweet-chem');
    const other = tickets.find((x) => x.summary === 'reset several tokens')!.key;
    expect(explainTicket(grouping, other)).toMatch(/joined \[[^\]]+\] at similarity (0\.[5-9]\d|1\.00) ≥ 0\.5/);
    expect(explainTicket(grouping, 'NOPE-1')).toContain('not in this grouping');
  });

  it('gives the same result whatever the input order', () => {
    const snapshot = (g: Grouping) => JSON.stringify({ groups: g.groups, assignments: [...g.assignments.entries()].sort() });
    const reference = snapshot(grouping);
    for (const seed of [1, 7, 99]) expect(snapshot(groupTickets(shuffled(tickets, seed)))).toBe(reference);
    expect(snapshot(groupTickets([...tickets].reverse()))).toBe(reference);
  });
});

describe('groupTickets', () => {
  it('builds the template from the most common wording, variable parts as <*>', () => {
    const g = groupTickets([
      t('P-1', 'Reset sweet-chem feedstock token'),
      t('P-2', 'Reset tiny-lib feedstock token'),
      t('P-3', 'Reset geo-kit feedstock token'),
      t('P-4', 'Add DNS record for the wiki'),
    ]);
    expect(g.groups).toHaveLength(1);
    expect(g.groups[0]).toMatchObject({ kind: 'text', template: 'Reset <*> feedstock token', count: 3, keys: ['P-1', 'P-2', 'P-3'] });
    expect(g.assignments.get('P-4')?.groupId).toBeNull();
    expect(g.algorithm).toBe(GROUPING_VERSION);
    expect(g.parameters).toEqual({ threshold: 0.5, minDocFreq: 2, descriptionWords: 12 });
  });

  it('keeps typed placeholders and original casing in the template', () => {
    const g = groupTickets([t('I-1', 'Upgrade servers to CentOS 7.2'), t('I-2', 'Update all servers to CentOS 7.4'), t('I-3', 'Update servers to CentOS 7.8')]);
    expect(g.groups.map((x) => x.template)).toEqual(['Upgrade servers to CentOS <version>']);
  });

  it('reports the dominant label only when at least half of the members carry it', () => {
    const many = groupTickets([t('A-1', 'VPN access for ana', ['vpn']), t('A-2', 'VPN access for bo', ['vpn']), t('A-3', 'VPN access for cy')]);
    expect(many.groups[0]).toMatchObject({ labels: [{ label: 'vpn', count: 2 }], dominantLabel: 'vpn' });
    const few = groupTickets([t('A-1', 'VPN access for ana', ['vpn']), t('A-2', 'VPN access for bo'), t('A-3', 'VPN access for cy')]);
    expect(few.groups[0]).toMatchObject({ labels: [{ label: 'vpn', count: 1 }], dominantLabel: null });
  });

  it('derives a stable id from the signature, so more members do not change it', () => {
    const base = [t('B-1', 'Rotate credentials for billing'), t('B-2', 'Rotate credentials for search'), t('B-3', 'Order more coffee')];
    const a = groupTickets(base).groups[0];
    const b = groupTickets([...base, t('B-4', 'Rotate credentials for ingest')]).groups[0];
    expect(a.id).toMatch(/^text:[0-9a-f]{12}$/);
    expect(b.id).toBe(a.id);
    expect(b.count).toBe(3);
  });

  it('does not group tickets that only share placeholders or stop words', () => {
    const g = groupTickets([t('C-1', 'Investigate memory on worker-7'), t('C-2', 'Disk full on agent-3'), t('C-3', 'please help'), t('C-4', 'help please')]);
    expect(g.groups).toEqual([]);
    expect(g.assignments.get('C-3')?.reason).toContain('no informative word');
  });

  it('handles empty input and null summaries', () => {
    expect(groupTickets([]).groups).toEqual([]);
    const g = groupTickets([{ key: 'N-1', summary: null, labels: [] }]);
    expect(g.assignments.get('N-1')?.groupId).toBeNull();
  });
});

describe('groupTickets options', () => {
  it('rejects a threshold outside (0, 1]', () => {
    expect(() => groupTickets([], { threshold: 0 })).toThrow(RangeError);
    expect(() => groupTickets([], { threshold: 1.5 })).toThrow(RangeError);
  });

  it('merges less at a higher threshold', () => {
    const tickets = [t('R-1', 'Reset sweet-chem feedstock token'), t('R-2', 'Reset tiny-lib feedstock token'), t('R-3', 'reset several tokens'), t('R-4', 'reset the token')];
    const loose = groupTickets(tickets, { threshold: 0.5 });
    const strict = groupTickets(tickets, { threshold: 0.95 });
    expect(loose.groups.map((g) => g.count)).toEqual([4]);
    expect(strict.groups.map((g) => g.count)).toEqual([2, 2]);
    expect(strict.parameters.threshold).toBe(0.95);
  });
});
