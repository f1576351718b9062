/**
 * Fault test: the real server (loopback socket, SQLite file) against a fake Jira that answers with a seeded random mix
 * of 429 + Retry-After, 500, responses slower than JIRA_TIMEOUT_MS (the write still lands, late), and connection resets;
 * three "cursed" issues answer 503 to everything. Every run must end `succeeded` or `dead` (dead letter, with the last
 * error), no comment or transition may be applied twice, and after each 429 the next request for that issue must come
 * no sooner than Retry-After (asserted from the fake's recorded receive times).
 *
 * Each ticket is an access request (`grant-repo-access` against a fake GitHub that answers normally: a GitHub call, a
 * comment, a transition); retries must not repeat the GitHub call once it was applied.
 *
 * The fault for a request is drawn from a hash of (issue, n-th request to that issue, seed), not from arrival order
 * across issues, so concurrency does not reshuffle the mix (runs for one issue are serial).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook, startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { startFakeJira, type Fault, type FakeJira, type RecordedRequest } from '../support/fake-jira.js';
import { accessRequestEvent, accessRequestUser, actionKeyOf, githubEnv, hashUnit } from './helpers.js';

const SEED = 20_251_121;
const ISSUES = 40;
const CURSED = new Set(['FAULT-38', 'FAULT-39', 'FAULT-40']);
const JIRA_TIMEOUT_MS = 300;
const MAX_ATTEMPTS = 8;
const RETRY_AFTER_S = 1;

type Kind = 'rate-limited' | 'server-error' | 'slow' | 'reset' | 'cursed-503' | 'none';

/** The seeded mix for ordinary issues: 6 % 429, 5 % 500, 4 % slow, 4 % reset, the rest answered normally. */
function drawFault(issueKey: string, n: number): Kind {
  if (CURSED.has(issueKey)) return 'cursed-503';
  const u = hashUnit(`${issueKey}#${n}`, SEED);
  if (u < 0.06) return 'rate-limited';
  if (u < 0.11) return 'server-error';
  if (u < 0.15) return 'slow';
  if (u < 0.19) return 'reset';
  return 'none';
}

const issueOf = (req: RecordedRequest) => /^\/rest\/api\/3\/issue\/([^/]+)/.exec(req.path)?.[1] ?? null;

describe('fault injection: 429 + Retry-After, 5xx, slow responses, connection resets', () => {
  let jira: FakeJira;
  let github: FakeGitHub;
  let deflect: DeflectUnderTest;
  const injected = new Map<RecordedRequest, Kind>();
  const perIssue = new Map<string, number>();

  beforeAll(async () => {
    jira = await startFakeJira();
    github = await startFakeGitHub();
    for (let i = 1; i <= ISSUES; i++) jira.seedIssue({ key: `FAULT-${i}`, id: String(40_000 + i) });
    jira.setFault((req): Fault | undefined => {
      const issue = issueOf(req);
      if (!issue) return undefined;
      const n = (perIssue.get(issue) ?? 0) + 1;
      perIssue.set(issue, n);
      const kind = drawFault(issue, n);
      injected.set(req, kind);
      switch (kind) {
        case 'rate-limited':
          return { status: 429, headers: { 'retry-after': String(RETRY_AFTER_S), 'ratelimit-reason': 'jira-per-issue-on-write' }, body: { errorMessages: ['Rate limit exceeded.'], errors: {} } };
        case 'server-error':
          return { status: 500, body: { errorMessages: ['Internal server error'], errors: {} } };
        case 'cursed-503':
          return { status: 503, body: { errorMessages: ['Service unavailable'], errors: {} } };
        case 'slow':
          return { delayMs: JIRA_TIMEOUT_MS + 20 + Math.floor(hashUnit(`${issue}#${n}:delay`, SEED) * 180) };
        case 'reset':
          return { reset: true };
        default:
          return undefined;
      }
    });
    deflect = await startDeflect({
      fakeJira: jira,
      env: {
        ...githubEnv(github),
        JIRA_TIMEOUT_MS: String(JIRA_TIMEOUT_MS),
        DEFLECT_RETRY_BASE_MS: '50',
        DEFLECT_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
        DEFLECT_HANDLER_TIMEOUT_MS: '10000',
        // The cursed issues dead-letter in a row; pausing the handler is tested in test/worker.
        DEFLECT_PAUSE_AFTER_FAILURES: '0',
      },
    });
  });
  afterAll(async () => {
    await deflect?.close(1000);
    await jira?.close();
    await github?.close();
  });

  it('every run ends succeeded or dead-lettered, nothing is applied twice, and Retry-After is honoured', async () => {
    for (let i = 1; i <= ISSUES; i++) {
      const answer = await postWebhook(deflect.url, accessRequestEvent(`FAULT-${i}`, String(40_000 + i)), { identifier: `fault-${i}` });
      expect(answer.status).toBe(200);
    }
    const sql = deflect.db.sqlite!.$client;
    const runs = await waitFor(
      'every run to reach an outcome',
      () => {
        const rows = sql.prepare('SELECT ticket_key AS key, status, attempts, error FROM runs ORDER BY id').all() as Array<{
          key: string; status: string; attempts: number; error: string | null;
        }>;
        return rows.length === ISSUES && rows.every((r) => !['queued', 'running'].includes(r.status)) ? rows : null;
      },
      90_000,
    );

    // Outcomes: only succeeded or dead; the cursed issues are dead with the last error and every attempt used.
    expect(runs.filter((r) => !['succeeded', 'dead'].includes(r.status))).toEqual([]);
    for (const run of runs.filter((r) => CURSED.has(r.key))) {
      expect(run).toMatchObject({ status: 'dead', attempts: MAX_ATTEMPTS });
      expect(run.error).toMatch(new RegExp(`→ 503 .*gave up after ${MAX_ATTEMPTS} attempts`));
    }
    const succeeded = runs.filter((r) => r.status === 'succeeded');
    expect(succeeded.length).toBeGreaterThanOrEqual(ISSUES - CURSED.size - 3);

    // Nothing applied twice: comments by their property, transitions by the requests Jira applied (answered or late).
    let duplicated = 0;
    for (const run of runs) {
      const keys = jira.commentsFor(run.key).map(actionKeyOf);
      const appliedTransitions = jira
        .requestsTo('POST', `/rest/api/3/issue/${run.key}/transitions`)
        .filter((r) => ['none', 'slow'].includes(injected.get(r) ?? 'none')).length;
      duplicated += Math.max(0, keys.length - 1) + Math.max(0, appliedTransitions - 1);
      expect(new Set(keys).size).toBe(keys.length);
      // GitHub answers normally: each request's collaborator call went out once, however many attempts the run took.
      const collaboratorPath = `/repos/acme/payments-api/collaborators/${accessRequestUser(run.key)}`;
      expect(github.requests.filter((r) => r.method === 'PUT' && r.path === collaboratorPath), run.key).toHaveLength(1);
      if (run.status === 'succeeded') {
        expect(keys).toHaveLength(1);
        expect(appliedTransitions).toBe(1);
        expect((jira.issue(run.key)!.fields.status as { name: string }).name).toBe('Done');
      } else {
        expect(keys.length).toBeLessThanOrEqual(1);
        expect(appliedTransitions).toBeLessThanOrEqual(1);
      }
    }
    expect(duplicated).toBe(0);

    // Retry-After: the request after a 429 for the same issue comes at least Retry-After later.
    const gaps: number[] = [];
    for (const [req, kind] of injected) {
      if (kind !== 'rate-limited') continue;
      const issue = issueOf(req)!;
      const next = jira.requests.find((r) => r.receivedAt >= req.receivedAt && r !== req && issueOf(r) === issue && jira.requests.indexOf(r) > jira.requests.indexOf(req));
      if (next) gaps.push(next.receivedAt - req.receivedAt);
    }
    expect(gaps.length).toBeGreaterThanOrEqual(3);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(RETRY_AFTER_S * 1000);

    const counts = Object.fromEntries((['rate-limited', 'server-error', 'slow', 'reset', 'cursed-503'] as Kind[]).map((k) => [k, [...injected.values()].filter((v) => v === k).length]));
    for (const kind of ['rate-limited', 'server-error', 'slow', 'reset'] as Kind[]) expect(counts[kind]).toBeGreaterThan(0);
    const attempts = runs.reduce((n, r) => n + r.attempts, 0);
    const verified = (sql.prepare(`SELECT count(*) AS n FROM actions WHERE response LIKE '%"verifiedInTracker":true%'`).get() as { n: number }).n;
    console.log(
      `fault mix (seed ${SEED}): ${jira.requests.length} Jira requests, faults injected ${JSON.stringify(counts)}; ` +
        `runs ${runs.length}: ${succeeded.length} succeeded, ${runs.length - succeeded.length} dead-lettered, ${attempts - runs.length} retries; ` +
        `writes found already applied in Jira on retry ${verified}; duplicated actions ${duplicated}; after a 429 (Retry-After ${RETRY_AFTER_S}s) the next request came ${Math.min(...gaps)}–${Math.max(...gaps)} ms later (${gaps.length} cases)`,
    );
  });
});
