/**
 * Evaluation of text grouping against answer keys (`npm run eval:grouping`). Not a test: it prints figures and
 * exits 0 whatever they are; non-zero only on a crash.
 *
 *   node --import tsx scripts/eval-grouping.ts                                  # the shared corpora
 *   node --import tsx scripts/eval-grouping.ts --tickets FILE.jsonl --key KEY.json   # also any other corpus
 *   node --import tsx scripts/eval-grouping.ts --only text-v2 --no-rss           # one method, no RSS children (quick)
 *
 * Corpora (read in place from ../shared, skipped with a message when absent):
 * - k8s-org: 2,939 real GitHub-admin requests, keys `types.json` (fine) and `types-coarse.json` (coarse);
 * - fluid: 10,052 Jira issues scored pairwise on 100 hand labels (`test/fixtures/fluid-hand-labels.json`).
 * `--key` is `{ "<issue key>": "<type>" }`; tickets are Jira REST issues, one per line.
 *
 * Methods: `text-v2` (the product), `text-v1` (the previous algorithm), `exact summary` (same lower-cased,
 * space-collapsed summary), `frequent word` (each summary's most frequent non-placeholder word in the corpus).
 * Per corpus and key: ARI, NMI, purity of grouped tickets, share grouped, number of groups (≥ 2 tickets), for the
 * 5 largest true types the precision and recall of the group holding most of them, antonym merges (see
 * `eval-grouping-metrics.ts`), stability (group a fixed 90% of the tickets, then all: share of the 90% whose group
 * id changed), wall time, and peak RSS (max resident set of a child process that loads the corpus and runs only
 * that method). Writes everything to `eval/results/latest.json` (git-ignored).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { groupTickets, type GroupableTicket } from '../src/grouping/group-tickets.js';
import { isPlaceholder, normaliseText } from '../src/grouping/normalise-text.js';
import { groupTicketsV1 } from '../src/grouping/text-v1.js';
import { parseJsonlLines } from '../src/import/parse-jsonl.js';
import * as m from './eval-grouping-metrics.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = resolve(root, '../shared/fixtures/tickets');

let measureRss = true;
/** Peak RSS is measured for these only (a child process per corpus and method; text-v1's is in bench/grouping.ts). */
const RSS_METHODS = new Set(['text-v2']);

type Method = (tickets: GroupableTicket[]) => m.Prediction;

/** Groups of fewer than 2 tickets are no group: their tickets map to null. */
function dropSingles(pred: m.Prediction): m.Prediction {
  const size = new Map<string, number>();
  for (const g of pred.values()) if (g !== null) size.set(g, (size.get(g) ?? 0) + 1);
  for (const [k, g] of pred) if (g !== null && size.get(g)! < 2) pred.set(k, null);
  return pred;
}

const METHODS: Record<string, Method> = {
  'text-v2': (tickets) => new Map([...groupTickets(tickets).assignments].map(([k, a]) => [k, a.typeId])),
  'text-v1': (tickets) => new Map([...groupTicketsV1(tickets).assignments].map(([k, a]) => [k, a.groupId])),
  'exact summary': (tickets) => dropSingles(new Map(tickets.map((t) => [t.key, (t.summary ?? '').toLowerCase().replace(/\s+/g, ' ').trim() || null]))),
  'frequent word': (tickets) => {
    const words = tickets.map((t) => [...new Set(normaliseText(t.summary).tokens.filter((w) => !isPlaceholder(w)))]);
    const df = new Map<string, number>();
    for (const ws of words) for (const w of ws) df.set(w, (df.get(w) ?? 0) + 1);
    const top = (ws: string[]) => ws.reduce<string | null>((b, w) => (b === null || df.get(w)! > df.get(b)! || (df.get(w) === df.get(b) && w < b) ? w : b), null);
    return dropSingles(new Map(tickets.map((t, i) => [t.key, top(words[i])])));
  },
};

async function loadTickets(file: string): Promise<GroupableTicket[]> {
  const out: GroupableTicket[] = [];
  for await (const row of parseJsonlLines(createInterface({ input: createReadStream(file), crlfDelay: Infinity }))) {
    if (row.ticket) out.push({ key: row.ticket.key, summary: row.ticket.summary, description: row.ticket.description, labels: row.ticket.labels ?? [], created: row.ticket.created });
  }
  return out;
}

/** Peak RSS (MB) of a fresh process that loads `file` and runs one method: the method's own memory plus the corpus. */
function peakRss(method: string, file: string): number | null {
  if (!measureRss || !RSS_METHODS.has(method)) return null;
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--rss-child', method, '--tickets', file], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const mb = Number(child.stdout?.trim().split('\n').at(-1));
  return child.status === 0 && mb > 0 ? mb : null;
}

interface Corpus {
  name: string;
  file: string;
  keys: Array<{ name: string; truth: Record<string, string> }>;
  hand?: Record<string, string>;
}

const fmt = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? 'n/a' : x.toFixed(d));
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

async function evaluate(corpus: Corpus) {
  const tickets = await loadTickets(corpus.file);
  const summaries = new Map(tickets.map((t) => [t.key, t.summary]));
  const part = tickets.filter((t) => createHash('sha1').update(t.key).digest()[0] % 10 !== 0); // a fixed ~90%
  const results: Record<string, unknown>[] = [];
  for (const [name, method] of Object.entries(METHODS)) {
    const started = performance.now();
    const pred = method(tickets);
    const seconds = (performance.now() - started) / 1000;
    const stability = m.changedShare(method(part), pred);
    const groups = new Set([...pred.values()].filter((g) => g !== null)).size;
    const grouped = [...pred.values()].filter((g) => g !== null).length / pred.size;
    const row: Record<string, unknown> = { method: name, seconds, stability, groups, grouped, rssMb: peakRss(name, corpus.file) };
    for (const key of corpus.keys) {
      const sizes = new Map<string, number>();
      for (const l of Object.values(key.truth)) sizes.set(l, (sizes.get(l) ?? 0) + 1);
      const top = [...sizes.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 5);
      row[key.name] = {
        ari: m.adjustedRandIndex(pred, key.truth),
        nmi: m.normalisedMutualInfo(pred, key.truth),
        purity: m.purity(pred, key.truth),
        antonyms: m.antonymMerges(pred, summaries, key.truth),
        top: top.map(([label, n]) => ({ label, n, ...m.bestGroupFor(pred, key.truth, label) })),
      };
    }
    if (corpus.hand) row.hand = m.pairwise(pred, corpus.hand);
    if (!corpus.keys.length) row.antonyms = m.antonymMerges(pred, summaries);
    results.push(row);
  }
  print(corpus, tickets.length, results);
  return { corpus: corpus.name, file: corpus.file, tickets: tickets.length, results };
}

function print(corpus: Corpus, n: number, results: Record<string, unknown>[]) {
  for (const key of corpus.keys) {
    console.log(`\n### ${corpus.name}, ${key.name} key (${n} tickets)\n`);
    const top = (results[0][key.name] as { top: Array<{ label: string; n: number }> }).top;
    console.log(`| method | ARI | NMI | purity | grouped | groups | antonym merges (lexicon/key) | stability (changed) | time s | peak RSS MB | ${top.map((t) => `${t.label} (${t.n}) P/R`).join(' | ')} |`);
    console.log(`|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|${top.map(() => '---:').join('|')}|`);
    for (const r of results) {
      const k = r[key.name] as { ari: number; nmi: number; purity: number; antonyms: { lexicon: number; key: number }; top: Array<{ precision: number; recall: number }> };
      console.log(
        `| ${r.method} | ${fmt(k.ari)} | ${fmt(k.nmi)} | ${fmt(k.purity)} | ${pct(r.grouped as number)} | ${r.groups} | ${k.antonyms.lexicon}/${k.antonyms.key} | ` +
          `${pct(r.stability as number)} | ${fmt(r.seconds as number, 1)} | ${fmt(r.rssMb as number | null, 0)} | ${k.top.map((t) => `${fmt(t.precision)}/${fmt(t.recall)}`).join(' | ')} |`,
      );
    }
  }
  if (!corpus.keys.length && !corpus.hand) {
    console.log(`\n### ${corpus.name} (${n} tickets, no answer key)\n`);
    console.log('| method | grouped | groups | antonym merges (lexicon) | stability (changed) | time s | peak RSS MB |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const r of results) {
      const a = r.antonyms as { lexicon: number };
      console.log(`| ${r.method} | ${pct(r.grouped as number)} | ${r.groups} | ${a.lexicon} | ${pct(r.stability as number)} | ${fmt(r.seconds as number, 1)} | ${fmt(r.rssMb as number | null, 0)} |`);
    }
  }
  if (corpus.hand) {
    console.log(`\n### ${corpus.name}, ${Object.keys(corpus.hand).length} hand-labelled tickets, pairwise (${n} tickets grouped)\n`);
    console.log('| method | precision | recall | F1 | pairs right/wrongly together/wrongly apart | grouped | groups | antonym merges (lexicon) | stability (changed) | time s | peak RSS MB |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of results) {
      const h = r.hand as ReturnType<typeof m.pairwise>;
      const a = r.antonyms as { lexicon: number };
      console.log(
        `| ${r.method} | ${fmt(h.precision)} | ${fmt(h.recall)} | ${fmt(h.f1)} | ${h.tp}/${h.fp}/${h.fn} | ${pct(r.grouped as number)} | ${r.groups} | ${a.lexicon} | ` +
          `${pct(r.stability as number)} | ${fmt(r.seconds as number, 1)} | ${fmt(r.rssMb as number | null, 0)} |`,
      );
    }
  }
}

async function main() {
  const { values } = parseArgs({ options: { tickets: { type: 'string' }, key: { type: 'string' }, 'rss-child': { type: 'string' }, only: { type: 'string' }, 'no-rss': { type: 'boolean' } } });
  if (values.only) for (const name of Object.keys(METHODS)) if (name !== values.only) delete METHODS[name];
  if (values['no-rss']) measureRss = false;
  if (values['rss-child']) {
    const tickets = await loadTickets(values.tickets!);
    METHODS[values['rss-child']](tickets);
    console.log((process.resourceUsage().maxRSS / 1024).toFixed(0));
    return;
  }
  const corpora: Corpus[] = [];
  const k8s = resolve(shared, 'k8s-org-requests.jsonl');
  if (existsSync(k8s)) {
    const read = (f: string) => JSON.parse(readFileSync(resolve(shared, f), 'utf8')) as Record<string, string>;
    corpora.push({ name: 'k8s-org', file: k8s, keys: [{ name: 'coarse', truth: read('k8s-org-requests.types-coarse.json') }, { name: 'fine', truth: read('k8s-org-requests.types.json') }] });
  } else console.log(`eval-grouping: k8s-org skipped, corpus not found at ${k8s}`);
  const hand = JSON.parse(readFileSync(resolve(root, 'test/fixtures/fluid-hand-labels.json'), 'utf8')) as { source: string; labels: Record<string, string> };
  const fluid = resolve(root, hand.source);
  if (existsSync(fluid)) corpora.push({ name: 'fluid', file: fluid, keys: [], hand: hand.labels });
  else console.log(`eval-grouping: fluid skipped, corpus not found at ${fluid}`);
  if (values.tickets) {
    const truth = values.key ? (JSON.parse(readFileSync(values.key, 'utf8')) as Record<string, string>) : null;
    corpora.push({ name: values.tickets, file: resolve(values.tickets), keys: truth ? [{ name: 'given', truth }] : [] });
  }
  if (!corpora.length) {
    console.log('eval-grouping: no corpus found (../shared absent and no --tickets given); nothing to evaluate');
    return;
  }
  const out = [];
  for (const c of corpora) out.push(await evaluate(c));
  mkdirSync(resolve(root, 'eval/results'), { recursive: true });
  writeFileSync(resolve(root, 'eval/results/latest.json'), JSON.stringify({ at: new Date().toISOString(), node: process.version, corpora: out }, null, 1));
  console.log('\neval-grouping: figures written to eval/results/latest.json');
}

await main();
