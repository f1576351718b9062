/**
 * text-v2 by example: the hard cases of request types (dates, antonyms, paraphrases, one word, other languages,
 * empty text), the contract's shape, determinism and explanations.
 */
import { createReadStream } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { explainTicket, groupTickets, GROUPING_VERSION, type GroupableTicket, type Grouping } from '../../src/grouping/group-tickets.js';
import { oppositeOf, parseIntent } from '../../src/grouping/intent.js';
import { parseJsonlLines } from '../../src/import/parse-jsonl.js';

const fixture = resolve(dirname(fileURLToPath(import.meta.url)), '../../examples/history/platform-requests.jsonl');

async function loadFixture(): Promise<GroupableTicket[]> {
  const out: GroupableTicket[] = [];
  for await (const row of parseJsonlLines(createInterface({ input: createReadStream(fixture), crlfDelay: Infinity }))) {
    if (row.ticket) out.push({ key: row.ticket.key, summary: row.ticket.summary, description: row.ticket.description, labels: row.ticket.labels ?? [] });
  }
  return out;
}

const t = (key: string, summary: string | null, labels: string[] = []): GroupableTicket => ({ key, summary, labels });
const tickets = (summaries: string[], prefix = 'T') => summaries.map((s, i) => t(`${prefix}-${i + 1}`, s));
const typeOf = (g: Grouping, key: string) => g.assignments.get(key)!.typeId;

/** Seeded Fisher-Yates shuffle, so a failure can be replayed. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let a = seed;
  const rand = () => (a = (a * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const snapshot = (g: Grouping) => JSON.stringify({ types: g.types, assignments: [...g.assignments.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)) });

describe('text-v2 request types', () => {
  it('does not split a type over dates written in six formats, nor over names and numbers', () => {
    const g = groupTickets(
      tickets([
        'Add members 2019-02-27',
        'add members nov-07-2025',
        'Add Members 06-14-2021',
        'Add members (190903)',
        'Add members 20210924',
        'Add members 4/8/19',
        'Add members October 2',
        'Add members for release 1.28',
      ]),
    );
    const ids = new Set([...g.assignments.values()].map((a) => a.typeId));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^type:[0-9a-f]{12}$/);
    expect(g.types[0]).toMatchObject({ name: 'Add members …', keyWords: ['add', 'member'], count: 8 });
  });

  it('puts one request phrased 10 ways in one type', () => {
    const g = groupTickets(
      tickets([
        'Add alice to the billing team',
        'Please add bob to the search team',
        'add carol to team ingest',
        'Adding dan to the web-ui team',
        'Added erin to payments team',
        'Can you add frank to the data team?',
        'Invite grace to the platform team',
        'Onboard heidi to the billing team',
        'Grant ivan membership in the search team',
        'Include judy in the reporting team',
      ]),
    );
    expect(g.types).toHaveLength(1);
    expect(g.types[0]).toMatchObject({ name: 'Add … to team', keyWords: ['add', 'in', 'team'], count: 10 });
    expect(g.types[0].variants.length).toBeGreaterThan(1);
  });

  it('sends "Add members" to the usual place of additions, but keeps "Add teams" (creating them) apart', () => {
    const g = groupTickets(
      tickets([
        'Add members 2019-02-27',
        'Add members 2019-03-01',
        'Add members 2019-04-02',
        'Add members 2019-05-07',
        'Add alice to the acme org',
        'Add bob to the acme org',
        'Add carol to the beta org',
        'Add dan to the beta org',
        'Add erin to acme members',
        'Add frank to acme members',
        'Add gina to beta members',
        'Add teams for the billing repo',
        'Add teams for the search repo',
        'Add teams for the wiki repo',
        'Add hal to the billing team',
        'Add ian to the search team',
        'Add jo to the wiki team',
        'Add kim to the wiki team',
      ]),
    );
    const org = typeOf(g, 'T-5');
    for (const k of ['T-1', 'T-2', 'T-6', 'T-9']) expect(typeOf(g, k)).toBe(org);
    expect(g.types.find((x) => x.id === org)!.name).toBe('Add … to org / members');
    expect(typeOf(g, 'T-12')).not.toBe(org);
    expect(typeOf(g, 'T-12')).not.toBe(typeOf(g, 'T-15'));
    expect(g.assignments.get('T-1')!.reason).toContain('"member" says who joins but not where, and "org" is where this action usually goes');
  });

  it('never merges antonyms, even with the same object and wording', () => {
    const g = groupTickets(
      tickets([
        'Add alice to the billing team',
        'Add bob to the billing team',
        'Remove carol from the billing team',
        'Remove dan from the billing team',
        'Enable SSO for the wiki',
        'Enable SSO for the tracker',
        'Disable SSO for the wiki',
        'Disable SSO for the tracker',
        'Lock account of erin',
        'Lock account of frank',
        'Unlock account of erin',
        'Unlock account of frank',
      ]),
    );
    expect(g.types.map((x) => x.name).sort()).toEqual(['Add … to team', 'Disable sso …', 'Enable sso …', 'Lock account …', 'Remove … from team', 'Unlock account …']);
  });

  it('never puts both sides of a polar pair in one type (property)', () => {
    const verbs = ['add', 'remove', 'grant', 'revoke', 'invite', 'offboard', 'create', 'delete', 'enable', 'disable', 'lock', 'unlock', 'archive', 'unarchive'];
    const objects = ['team', 'repository', 'group', 'bucket', 'account'];
    const summary = fc.tuple(fc.constantFrom(...verbs), fc.constantFrom('', 'please ', 'Pls '), fc.stringMatching(/^[a-z]{3,8}$/), fc.constantFrom('to', 'from', 'for', 'in'), fc.constantFrom(...objects));
    fc.assert(
      fc.property(fc.array(summary, { minLength: 2, maxLength: 40 }), (rows) => {
        const input = rows.map(([verb, please, name, prep, object], i) => t(`P-${i}`, `${please}${verb} ${name} ${prep} the ${object}`));
        const g = groupTickets(input);
        const summaries = new Map(input.map((x) => [x.key, x.summary]));
        for (const type of g.types) {
          const actions = new Set(type.keys.map((k) => parseIntent(summaries.get(k)!).action));
          for (const a of actions) expect(actions.has(oppositeOf(a ?? '') ?? '')).toBe(false);
        }
      }),
      { numRuns: 60, seed: 42 },
    );
  });

  it('handles a single-word summary', () => {
    const g = groupTickets(tickets(['VPN', 'vpn', 'VPN', 'Reset', 'reset', 'Coffee']));
    expect(typeOf(g, 'T-1')).not.toBeNull();
    expect(typeOf(g, 'T-2')).toBe(typeOf(g, 'T-1'));
    expect(typeOf(g, 'T-4')).not.toBeNull();
    expect(typeOf(g, 'T-5')).toBe(typeOf(g, 'T-4'));
    expect(typeOf(g, 'T-4')).not.toBe(typeOf(g, 'T-1'));
    expect(typeOf(g, 'T-6')).toBeNull();
  });

  it('groups non-English text by its wording without inventing an English action', () => {
    const g = groupTickets(
      tickets(['Réinitialiser le jeton du paquet alpha', 'Réinitialiser le jeton du paquet beta', 'Réinitialiser le jeton du paquet gamma', 'パスワードをリセット', 'パスワードをリセット', 'Bitte VPN-Zugang für Anna']),
    );
    expect(typeOf(g, 'T-1')).not.toBeNull();
    expect(new Set(['T-1', 'T-2', 'T-3'].map((k) => typeOf(g, k))).size).toBe(1);
    expect(typeOf(g, 'T-4')).not.toBeNull();
    expect(typeOf(g, 'T-5')).toBe(typeOf(g, 'T-4'));
    expect(typeOf(g, 'T-6')).toBeNull();
    expect(g.assignments.get('T-1')!.reason).toContain('no action word');
  });

  it('leaves empty summaries alone, and reads the description when the summary says nothing', () => {
    const g = groupTickets([
      t('E-1', ''),
      t('E-2', null),
      t('E-3', '   '),
      { key: 'E-4', summary: '', description: 'Reset the feedstock token for alpha', labels: [] },
      t('E-5', 'Reset the feedstock token for beta'),
    ]);
    for (const k of ['E-1', 'E-2', 'E-3']) {
      expect(typeOf(g, k)).toBeNull();
      expect(g.assignments.get(k)!.reason).toContain('no informative word');
    }
    expect(typeOf(g, 'E-4')).not.toBeNull();
    expect(typeOf(g, 'E-4')).toBe(typeOf(g, 'E-5'));
    expect(groupTickets([]).types).toEqual([]);
  });

  it('reads a bounded prefix of huge summaries and descriptions', () => {
    const huge = ' lorem'.repeat(200_000);
    const g = groupTickets([
      t('H-1', `Reset the feedstock token for alpha${huge}`),
      t('H-2', `Reset the feedstock token for beta${huge}`),
      { key: 'H-3', summary: '', description: `Reset the feedstock token for gamma${huge}`, labels: [] },
    ]);
    expect(new Set(['H-1', 'H-2', 'H-3'].map((k) => typeOf(g, k))).size).toBe(1);
    expect(g.types[0].keyWords).toEqual(['reset', 'token']);
  });

  it('keeps a type id when more members join, and rejects bad options', () => {
    const base = tickets(['Rotate credentials for billing', 'Rotate credentials for search', 'Rotate credentials for wiki', 'Order more coffee']);
    const a = groupTickets(base).types[0];
    const b = groupTickets([...base, t('T-9', 'rotate the credentials of ingest')]).types[0];
    expect(a.keyWords).toEqual(['rotate', 'credenti']);
    expect(b.id).toBe(a.id);
    expect(b.count).toBe(4);
    expect(() => groupTickets([], { minObjectDf: 0 })).toThrow(RangeError);
    expect(() => groupTickets([], { descriptionWords: -1 })).toThrow(RangeError);
  });
});

describe('text-v2 on the platform fixture', () => {
  let input: GroupableTicket[];
  let grouping: Grouping;
  beforeAll(async () => {
    input = await loadFixture();
    grouping = groupTickets(input);
  });

  it('puts the token-reset wordings from the issue in one type, and nothing else', () => {
    const byKey = new Map(input.map((x) => [x.summary, x.key]));
    const keys = ['Reset sweet-chem feedstock token', 'reset several tokens', 'request token reset for packages'].map((s) => byKey.get(s)!);
    const ids = new Set(keys.map((k) => typeOf(grouping, k)));
    expect(ids.size).toBe(1);
    const type = grouping.types.find((x) => x.id === [...ids][0])!;
    expect(type.name).toBe('Reset token …');
    const summaries = type.keys.map((k) => input.find((x) => x.key === k)!.summary!.toLowerCase());
    expect(summaries.every((s) => s.includes('token'))).toBe(true);
  });

  it('follows the contract: sorted types and keys, variants partitioning each type, labels', () => {
    expect(grouping.algorithm).toBe(GROUPING_VERSION);
    expect(grouping.assignments.size).toBe(input.length);
    for (let i = 1; i < grouping.types.length; i++) expect(grouping.types[i - 1].count).toBeGreaterThanOrEqual(grouping.types[i].count);
    for (const type of grouping.types) {
      expect(type.kind).toBe('type');
      expect(type.count).toBeGreaterThanOrEqual(2);
      expect([...type.keys].sort()).toEqual(type.keys);
      expect(type.exampleKeys.length).toBeLessThanOrEqual(5);
      expect(type.variants.reduce((s, v) => s + v.count, 0)).toBe(type.count);
      expect(type.variants.flatMap((v) => v.keys).sort()).toEqual(type.keys);
      for (const v of type.variants) {
        expect(v.id).toMatch(/^variant:[0-9a-f]{12}$/);
        for (const k of v.keys) expect(grouping.assignments.get(k)).toMatchObject({ typeId: type.id, variantId: v.id });
      }
      const expected = new Map<string, number>();
      for (const k of type.keys) for (const l of input.find((x) => x.key === k)!.labels) expected.set(l, (expected.get(l) ?? 0) + 1);
      expect(new Map(type.labels.map((l) => [l.label, l.count]))).toEqual(expected);
      const top = type.labels[0];
      expect(type.dominantLabel).toBe(top && top.count * 2 >= type.count ? top.label : null);
    }
    for (const a of grouping.assignments.values()) expect(a.variantId === null).toBe(a.typeId === null);
  });

  it('gives the same result whatever the input order', () => {
    const reference = snapshot(grouping);
    for (const seed of [1, 7, 99]) expect(snapshot(groupTickets(shuffled(input, seed)))).toBe(reference);
    expect(snapshot(groupTickets([...input].reverse()))).toBe(reference);
  });

  it('explains a member: the deciding words, its type and its variant', () => {
    const key = input.find((x) => x.summary === 'Reset sweet-chem feedstock token')!.key;
    const a = grouping.assignments.get(key)!;
    expect(a.decidingWords).toEqual(['reset', 'token']);
    const sentence = explainTicket(grouping, key);
    expect(sentence).toContain(`${key} "Reset sweet-chem feedstock token" → type "Reset token …"`);
    expect(sentence).toContain('variant "Reset <*> feedstock token"');
    expect(sentence).toContain('action "reset" (from "Reset") and object "token" (from "token")');
    expect(explainTicket(grouping, 'NOPE-1')).toContain('not in this grouping');
  });

  it('explains a ticket left alone: the nearest type and why it did not join', () => {
    const key = input.find((x) => x.summary === 'Remove stale DNS records for legacy.acme.io')!.key;
    const a = grouping.assignments.get(key)!;
    expect(a.typeId).toBeNull();
    expect(a.nearest).toMatchObject({ name: 'Add record …' });
    expect(a.nearest!.why).toBe('same object "record" but the action is "remove", not "add"');
    expect(explainTicket(grouping, key)).toContain('→ no repeated request type: action "remove" (from "Remove") and object "record"');
  });
});
