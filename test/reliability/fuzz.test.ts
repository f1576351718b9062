/**
 * Fuzz test (property-based, fast-check, fixed seed, 10,000 cases) of `POST /webhooks/jira` on the real server in a
 * child process: random and truncated JSON, wrong content types, huge label arrays, deep nesting, `__proto__` /
 * `constructor.prototype` keys, invalid UTF-8, oversized bodies and bad signatures must all get a 4xx (never a 2xx or
 * a 5xx); valid signed deliveries mixed in as controls must get a 200 and be stored. Afterwards the process is alive,
 * `/healthz` and `/readyz` answer 200, only the control deliveries were stored (nothing for an authentication
 * failure or any other refused body), and the server's resident memory stayed bounded. Controls are stamped just
 * before the run (events older than DEFLECT_MAX_EVENT_AGE are refused); a control whose body repeats an earlier one
 * (fast-check favours small values) is answered `duplicate` and not stored again.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBody } from '../../src/trackers/jira/verify-delivery.js';
import { spawnDeflect, type DeflectProcess } from '../support/deflect-process.js';
import { EXAMPLE_RULES, freshDir, TEST_SECRET } from '../support/deflect-under-test.js';
import { readDb, SITE } from './helpers.js';

const SEED = 424_242_424;
const CASES = 10_000;
/** Event timestamps are this minus up to 1,000 s: recent, whatever day the test runs. */
const NOW = Date.now();
const BODY_LIMIT = 64 * 1024;

type Category =
  | 'valid' | 'bad-signature' | 'wrong-content-type' | 'invalid-utf8' | 'truncated-json' | 'random-json'
  | 'deep-nesting' | 'huge-labels' | 'proto-keys' | 'oversized';

interface FuzzCase {
  category: Category;
  body: Buffer;
  /** Headers besides the identifier; `sign: false` means the case sets (or omits) the signature itself. */
  headers: Record<string, string>;
  sign: boolean;
}

const enc = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');
const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
const text = fc.string({ unit: 'grapheme', maxLength: 120 });

/** A well-formed Jira envelope with random content (no forbidden keys, labels within bounds). */
const envelope = fc
  .record({
    n: fc.integer({ min: 1, max: 999_999 }),
    event: fc.constantFrom('jira:issue_created', 'jira:issue_updated', 'comment_created', 'jira:issue_deleted'),
    labels: fc.array(label, { maxLength: 12 }),
    summary: text,
    description: fc.option(text, { nil: null }),
    custom: fc.dictionary(fc.stringMatching(/^customfield_[0-9]{1,5}$/), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
  })
  .map(({ n, event, labels, summary, description, custom }) => ({
    timestamp: NOW - n,
    webhookEvent: event,
    user: { accountId: `user-${n}` },
    issue: { id: String(n), key: `FUZZ-${n}`, self: `${SITE}/rest/api/2/issue/${n}`, fields: { summary, description, labels, ...custom } },
  }))
  .filter((e) => !/__proto__|"constructor"/.test(JSON.stringify(e)));

const signed = (category: Category, body: Buffer, headers: Record<string, string> = {}): FuzzCase => ({
  category, body, headers: { 'content-type': 'application/json', ...headers }, sign: true,
});

/** Nests `inner` `depth` times: arrays or single-key objects. */
const nest = (depth: number, asObject: boolean) => (asObject ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) : '['.repeat(depth) + ']'.repeat(depth));

const cases: fc.Arbitrary<FuzzCase> = fc.oneof(
  { weight: 3, arbitrary: envelope.map((e) => signed('valid', enc(e))) },
  {
    // Valid too: nesting where Jira allows anything (a custom field), within the depth limit (64 levels in all).
    weight: 1,
    arbitrary: fc.tuple(envelope, fc.integer({ min: 1, max: 55 })).map(([e, depth]) =>
      signed('valid', Buffer.from(JSON.stringify(e).replace('"fields":{', `"fields":{"customfield_99999":${nest(depth, true)},`))),
    ),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(envelope, fc.constantFrom('missing', 'wrong-secret', 'malformed', 'sha1', 'truncated', 'other-body', 'empty'))
      .map(([e, how]): FuzzCase => {
        const body = enc(e);
        const good = signBody(body, TEST_SECRET);
        const signature = {
          missing: undefined,
          'wrong-secret': signBody(body, 'not the secret'),
          malformed: 'sha256=not-hex!',
          sha1: `sha1=${good.slice(7, 47)}`,
          truncated: good.slice(0, -2),
          'other-body': signBody(enc({ ...e, timestamp: 1 }), TEST_SECRET),
          empty: '',
        }[how];
        return { category: 'bad-signature', body, headers: { 'content-type': 'application/json', ...(signature === undefined ? {} : { 'x-hub-signature': signature }) }, sign: false };
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(envelope, fc.oneof(fc.constantFrom('text/plain', 'text/html', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp', 'application/octet-stream', 'json'), fc.stringMatching(/^[a-z]{1,10}\/[a-z0-9.+-]{1,20}$/)))
      .filter(([, type]) => !/^application\/json$/i.test(type))
      .map(([e, type]) => signed('wrong-content-type', enc(e), { 'content-type': type })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(envelope, fc.constantFrom([0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80]))
      .map(([e, bad]) => {
        // Put the bad bytes inside the summary string, so only the encoding is wrong.
        const marker = 'INVALID_UTF8_HERE';
        const json = JSON.stringify({ ...e, issue: { ...e.issue, fields: { ...e.issue.fields, summary: marker } } });
        const [before, after] = json.split(marker);
        return signed('invalid-utf8', Buffer.concat([Buffer.from(before), Buffer.from(bad), Buffer.from(after)]));
      }),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(envelope, fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true })).map(([e, at]) => {
      const json = enc(e);
      return signed('truncated-json', json.subarray(0, Math.max(1, Math.floor(at * json.length))));
    }),
  },
  {
    weight: 1,
    arbitrary: fc
      .jsonValue({ maxDepth: 4 })
      .filter((v) => {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) return true;
        return !('webhookEvent' in v) && !('key' in v && 'fields' in v);
      })
      .map((v) => signed('random-json', enc(v))),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(envelope, fc.integer({ min: 65, max: 20_000 }), fc.constantFrom('top-array', 'labels', 'event', 'key', 'issue'))
      .map(([e, depth, where]) => {
        const json = JSON.stringify(e);
        const body = {
          'top-array': nest(depth, false),
          labels: json.replace(/"labels":\[[^\]]*\]/, `"labels":${nest(depth, false)}`),
          event: json.replace(/"webhookEvent":"[^"]*"/, `"webhookEvent":${nest(depth, true)}`),
          key: json.replace(/"key":"[^"]*"/, `"key":${nest(depth, true)}`),
          issue: `{"webhookEvent":"jira:issue_created","issue":${nest(depth, true)}}`,
        }[where];
        return signed('deep-nesting', Buffer.from(body));
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(envelope, fc.integer({ min: 1_001, max: 6_000 }), fc.boolean(), fc.integer({ min: 256, max: 4_000 }))
      .map(([e, count, many, length]) => {
        const labels = many ? Array.from({ length: count }, (_, i) => `l${i}`) : ['x'.repeat(length)];
        return signed('huge-labels', enc({ ...e, issue: { ...e.issue, fields: { ...e.issue.fields, labels } } }));
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(envelope, fc.constantFrom('top', 'issue', 'fields', 'user'), fc.constantFrom('"__proto__":{"isAdmin":true}', '"\\u005f_proto__":{"x":1}', '"constructor":{"prototype":{"x":1}}', '"__proto__":null'))
      .map(([e, where, member]) => {
        const json = JSON.stringify(e);
        const anchor = { top: '{', issue: '"issue":{', fields: '"fields":{', user: '"user":{' }[where];
        return signed('proto-keys', Buffer.from(json.replace(anchor, `${anchor}${member},`)));
      }),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT * 3 }), fc.boolean()).map(([size, sign]) => {
      const body = Buffer.from(JSON.stringify({ webhookEvent: 'jira:issue_created', padding: 'x'.repeat(size) }));
      return sign ? signed('oversized', body) : { category: 'oversized' as const, body, headers: { 'content-type': 'application/json' }, sign: false };
    }),
  },
);

/** Resident set size of a process, MiB (Linux /proc). */
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

describe('fuzzing the receiver', () => {
  const dbPath = join(freshDir('deflect-fuzz-'), 'deflect.db');
  let deflect: DeflectProcess;

  beforeAll(async () => {
    deflect = await spawnDeflect({
      DEFLECT_DB: dbPath,
      DEFLECT_RULES: EXAMPLE_RULES,
      DEFLECT_WEBHOOK_SECRET: TEST_SECRET,
      DEFLECT_BODY_LIMIT: String(BODY_LIMIT),
      // Thousands of bad signatures from one address on purpose: the auth failure limit would turn them into 429s.
      DEFLECT_AUTH_FAILURE_LIMIT: '0',
      DEFLECT_LOG_LEVEL: 'info',
    });
  });
  afterAll(async () => {
    await deflect?.kill('SIGTERM');
  });

  it(`${CASES} hostile requests: only 4xx (controls 200), nothing stored but the controls, process healthy, memory bounded`, { timeout: 300_000 }, async () => {
    const pid = deflect.child.pid!;
    const byCategory = new Map<Category, number>();
    const byStatus = new Map<number, number>();
    const validIds: string[] = [];
    const rss: number[] = [];
    let counter = 0;
    let duplicates = 0;
    let warmRss = 0;

    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        counter++;
        const identifier = `fuzz-${c.category}-${counter}`;
        const headers: Record<string, string> = { ...c.headers, 'x-atlassian-webhook-identifier': identifier };
        if (c.sign) headers['x-hub-signature'] = signBody(c.body, TEST_SECRET);
        let status: number;
        let answer: { status?: string } = {};
        try {
          const response = await fetch(`${deflect.url}/webhooks/jira`, { method: 'POST', headers, body: new Uint8Array(c.body) });
          status = response.status;
          answer = (await response.json().catch(() => ({}))) as { status?: string };
        } catch (error) {
          // The only acceptable transport failures: the server answered and closed before reading the whole body (an
          // oversized one: 413; one nesting too deep: 400 as soon as the byte scan trips).
          if (c.category === 'oversized') status = 413;
          else if (c.category === 'deep-nesting') status = 400;
          else throw error;
        }
        byCategory.set(c.category, (byCategory.get(c.category) ?? 0) + 1);
        byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
        if (counter === 500) warmRss = rssMiB(pid);
        if (counter % 1000 === 0) rss.push(rssMiB(pid));
        if (c.category === 'valid') {
          expect(status).toBe(200);
          if (answer.status === 'accepted') validIds.push(identifier);
          else duplicates++;
        } else {
          expect(status, `${c.category} (${c.body.length} bytes) must get a 4xx`).toBeGreaterThanOrEqual(400);
          expect(status).toBeLessThan(500);
          const exact: Partial<Record<Category, number>> = { 'bad-signature': 401, 'invalid-utf8': 400, 'proto-keys': 400, oversized: 413 };
          if (exact[c.category]) expect(status).toBe(exact[c.category]);
          // Too deep is refused by the byte scan (400), or by the size limit first when also too large (413).
          if (c.category === 'deep-nesting') expect([400, 413]).toContain(status);
        }
      }),
      { seed: SEED, numRuns: CASES, endOnFailure: true },
    );

    expect(deflect.child.exitCode).toBeNull();
    expect((await fetch(`${deflect.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${deflect.url}/readyz`);
    expect(ready.status, JSON.stringify(await ready.clone().json())).toBe(200);

    const stored = readDb(dbPath, (db) => (db.prepare('SELECT webhook_identifier AS id FROM deliveries').all() as Array<{ id: string }>).map((r) => r.id));
    expect(stored.filter((id) => !id.startsWith('fuzz-valid-'))).toEqual([]);
    expect(stored.sort()).toEqual([...validIds].sort());

    const peak = Math.max(...rss);
    const fiveXX = [...byStatus].filter(([s]) => s >= 500).reduce((n, [, k]) => n + k, 0);
    console.log(
      `fuzz: ${counter} cases (seed ${SEED}) by category ${JSON.stringify(Object.fromEntries(byCategory))}; ` +
        `answers ${JSON.stringify(Object.fromEntries(byStatus))}; 5xx ${fiveXX}; stored ${stored.length} (= the ${validIds.length} valid controls; ${duplicates} repeated bodies answered duplicate); ` +
        `server RSS ${warmRss.toFixed(0)} MiB after warm-up, peak ${peak.toFixed(0)} MiB, samples ${rss.map((r) => r.toFixed(0)).join('/')}`,
    );
    expect(counter).toBeGreaterThanOrEqual(CASES);
    expect(peak - warmRss).toBeLessThan(64);
  });
});
