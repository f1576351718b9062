/**
 * `GET /api/runs` filters and keyset paging, and `GET /api/runs/:id` traces, on the real app (`buildApp` + `inject`)
 * over a real SQLite file. Runs are recorded through the repository functions routing and the worker use
 * (test/support/audit-runs.ts); the crash trace drives the real effectively-once actions against the fake Jira
 * (a real HTTP server): attempt 1 applies a comment and dies with a transition `started` that Jira did apply; the
 * lease expires, attempt 2 skips the comment, checks the transition in Jira, and applies a label edit.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { beginAction, finishAction } from '../../src/db/actions.js';
import { recordApprovalStep } from '../../src/db/approvals.js';
import { openDatabase, type Db } from '../../src/db/client.js';
import { claimDueRuns, finishOwnedRun, requeueExpiredRuns } from '../../src/db/runs.js';
import { createJiraApi } from '../../src/jira/jira-client.js';
import { createLogger } from '../../src/logger.js';
import { DEFAULT_ESTIMATES } from '../../src/rules/rules-file.js';
import { createRecordedActions } from '../../src/trackers/jira/jira-tracker.js';
import { authHeader } from '../support/api-token.js';
import { seedRun } from '../support/audit-runs.js';
import { freshDir } from '../support/deflect-under-test.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

async function appOn(db: Db): Promise<FastifyInstance> {
  return buildApp({
    config: { webhookSecrets: ['s'], webhookTokens: [], bodyLimitBytes: 64 * 1024, auth: { ...loadConfig({}).auth, failureLimit: 0 } },
    db: sqliteStore(db),
    logger: createLogger('silent'),
    report: { rules: [], estimates: DEFAULT_ESTIMATES, jiraBaseUrl: 'https://acme.atlassian.net' },
  });
}

describe('GET /api/runs: filters', () => {
  let db: Db;
  let app: FastifyInstance;
  let auditor: { authorization: string };
  const keys = async (query: string) => {
    const answer = await app.inject({ url: `/api/runs?${query}`, headers: auditor });
    expect(answer.statusCode, answer.body).toBe(200);
    return (answer.json().runs as Array<{ ticketKey: string }>).map((r) => r.ticketKey);
  };

  beforeAll(async () => {
    db = openDatabase(join(freshDir('audit-api-'), 'audit.db'));
    seedRun(db, { ticketKey: 'PLAT-1', createdAt: T0, summary: 'granted write on acme/payments-api', reporter: 'Jane Doe' });
    seedRun(db, { ticketKey: 'PLAT-2', createdAt: T0 + DAY, handler: 'create-repository', rule: 'new-repository', status: 'failed', summary: null, error: 'GitHub answered 422: name already exists', reporter: 'Bob Stone', reporterId: 'bob-1' });
    seedRun(db, { ticketKey: 'acme/api#3', tracker: 'github', siteUrl: 'https://github.com', createdAt: T0 + 2 * DAY, handler: 'reset-ci-token', rule: 'ci-token-reset', status: 'dead', error: 'CI answered 503', reporter: 'bob-gh' });
    seedRun(db, { ticketKey: 'ENG-4', tracker: 'linear', siteUrl: 'https://linear.app/acme', createdAt: T0 + 3 * DAY, status: 'shadow', shadow: true, ticketSummary: 'Access to the billing repo' });
    seedRun(db, { ticketKey: 'PLAT-5', createdAt: T0 + 4 * DAY, status: 'awaiting-approval', summary: 'awaiting approval: maintain needs an approver' });
    seedRun(db, { ticketKey: 'PLAT-6', createdAt: T0 + 5 * DAY, status: 'planned', summary: 'dry run: would grant read' });
    seedRun(db, { ticketKey: 'PLAT-7', createdAt: T0 + 6 * DAY, status: 'skipped', summary: '100% done_ok' });
    seedRun(db, { ticketKey: 'PLAT-8', createdAt: T0 + 7 * DAY, summary: '100 percent doneXok' });
    app = await appOn(db);
    auditor = await authHeader(db, 'auditor');
  });
  afterAll(async () => {
    await app?.close();
    db?.$client.close();
  });

  it('lists newest first with the existing fields, ticket links and the viewer', async () => {
    const answer = await app.inject({ url: '/api/runs', headers: auditor });
    const body = answer.json();
    expect(body.runs.map((r: { ticketKey: string }) => r.ticketKey)).toEqual(['PLAT-8', 'PLAT-7', 'PLAT-6', 'PLAT-5', 'ENG-4', 'acme/api#3', 'PLAT-2', 'PLAT-1']);
    expect(Object.keys(body.runs[0])).toEqual(expect.arrayContaining(['id', 'deliveryId', 'ticketKey', 'tracker', 'handler', 'reason', 'status', 'rulesVersion', 'replayOf', 'actions', 'approvals', 'ticketUrl']));
    expect(body.runs.find((r: { ticketKey: string }) => r.ticketKey === 'acme/api#3').ticketUrl).toBe('https://github.com/acme/api/issues/3');
    expect(body.runs[0].ticketUrl).toBe('https://acme.atlassian.net/browse/PLAT-8');
    expect(body.viewer).toEqual({ role: 'auditor', canOperate: false });
    expect(body.page).toEqual({ older: null, newer: null });
  });

  it.each([
    ['from/to (to exclusive)', `from=${new Date(T0 + DAY).toISOString()}&to=${new Date(T0 + 3 * DAY).toISOString()}`, ['acme/api#3', 'PLAT-2']],
    ['dates', 'from=2026-01-06&to=2026-01-07', ['PLAT-2']],
    ['handler', 'handler=create-repository', ['PLAT-2']],
    ['rule', 'rule=ci-token-reset', ['acme/api#3']],
    ['outcome succeeded', 'outcome=succeeded', ['PLAT-8', 'PLAT-1']],
    ['outcome failed', 'outcome=failed', ['PLAT-2']],
    ['outcome dead', 'outcome=dead', ['acme/api#3']],
    ['outcome shadow', 'outcome=shadow', ['ENG-4']],
    ['outcome awaiting-approval', 'outcome=awaiting-approval', ['PLAT-5']],
    ['outcome planned', 'outcome=planned', ['PLAT-6']],
    ['outcome skipped', 'outcome=skipped', ['PLAT-7']],
    ['several outcomes (comma list)', 'outcome=failed,dead', ['acme/api#3', 'PLAT-2']],
    ['status (the old name)', 'status=dead', ['acme/api#3']],
    ['ticket', 'ticket=acme%2Fapi%233', ['acme/api#3']],
    ['reporter by name, any case', 'reporter=bob%20stone', ['PLAT-2']],
    ['reporter by account id', 'reporter=bob-gh', ['acme/api#3']],
    ['tracker', 'tracker=github,linear', ['ENG-4', 'acme/api#3']],
    ['text in the run summary', 'q=payments-api', ['PLAT-1']],
    ['text in the error', 'q=already%20exists', ['PLAT-2']],
    ['text in the ticket summary', 'q=BILLING', ['ENG-4']],
    ['text with LIKE wildcards taken literally', 'q=100%25%20done_ok', ['PLAT-7']],
    ['filters combine', 'outcome=succeeded&q=percent', ['PLAT-8']],
  ])('%s', async (_name, query, expected) => {
    expect(await keys(query)).toEqual(expected);
  });

  it('since counts back from now (all seeded runs are older than a day)', async () => {
    expect(await keys('since=1d')).toEqual([]);
    expect(await keys('since=all')).toHaveLength(8);
  });

  it.each([
    ['outcome=finished', /outcome: use one or more of queued, running, succeeded/],
    ['since=yesterday', /since: use a number of days/],
    ['from=soon', /from: use a date/],
    ['from=2026-02-01&to=2026-01-01', /from must be before to/],
    ['tracker=gitlab', /unknown tracker "gitlab"/],
    [`q=${'x'.repeat(201)}`, /q: at most 200 characters/],
    ['cursor=bm90LWEtY3Vyc29y', /cursor: use the "older" or "newer" cursor/],
    ['limit=0', /limit: /],
    ['limit=5000', /limit: /],
  ])('400 for %s', async (query, message) => {
    const answer = await app.inject({ url: `/api/runs?${query}`, headers: auditor });
    expect(answer.statusCode).toBe(400);
    expect(answer.json().message).toMatch(/^invalid query: /);
    expect(answer.json().message).toMatch(message);
  });

  it('serves the /audit page under the strict CSP, and sends a browser without a session to sign in', async () => {
    const page = await app.inject({ url: '/audit', headers: auditor });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.body).toContain('<script src="/assets/audit-page.js" type="module"></script>');
    expect(page.body).not.toMatch(/<script>|<script type="module">|style="/);
    const anonymous = await app.inject({ url: '/audit?outcome=failed' });
    expect(anonymous.statusCode).toBe(303);
    expect(anonymous.headers.location).toBe(`/signin?next=${encodeURIComponent('/audit?outcome=failed')}`);
    for (const asset of ['audit-page.js', 'audit-trace.js', 'audit-page.css']) expect((await app.inject({ url: `/assets/${asset}` })).statusCode).toBe(200);
  });

  it('an operator is told it may operate', async () => {
    const answer = await app.inject({ url: '/api/runs?limit=1', headers: await authHeader(db, 'operator') });
    expect(answer.json().viewer).toEqual({ role: 'operator', canOperate: true });
  });
});

describe('GET /api/runs: keyset paging', () => {
  let db: Db;
  let app: FastifyInstance;
  let auditor: { authorization: string };
  const page = async (cursor?: string | null, query = '') => {
    const answer = await app.inject({ url: `/api/runs?limit=50${query}${cursor ? `&cursor=${cursor}` : ''}`, headers: auditor });
    expect(answer.statusCode, answer.body).toBe(200);
    const body = answer.json();
    return { ids: body.runs.map((r: { id: number }) => r.id) as number[], older: body.page.older as string | null, newer: body.page.newer as string | null };
  };

  beforeAll(async () => {
    db = openDatabase(join(freshDir('audit-paging-'), 'paging.db'));
    // 230 runs, several created in the same millisecond (ties are ordered by id).
    for (let i = 0; i < 230; i++) seedRun(db, { ticketKey: `PAGE-${i}`, createdAt: T0 + Math.floor(i / 3) * 1000, handler: i % 2 ? 'reset-ci-token' : 'grant-repo-access' });
    app = await appOn(db);
    auditor = await authHeader(db, 'auditor');
  });
  afterAll(async () => {
    await app?.close();
    db?.$client.close();
  });

  const newestFirst = (where = '') =>
    (db.$client.prepare(`SELECT id FROM runs ${where} ORDER BY created_at DESC, id DESC`).all() as Array<{ id: number }>).map((r) => r.id);

  it('walks every run once, newest first, with no duplicates and no gaps, and back again with "newer"', async () => {
    const seen: number[] = [];
    const pages: number[][] = [];
    let cursor: string | null = null;
    do {
      const next = await page(cursor);
      pages.push(next.ids);
      seen.push(...next.ids);
      cursor = next.older;
    } while (cursor);
    expect(pages.map((p) => p.length)).toEqual([50, 50, 50, 50, 30]);
    expect(seen).toEqual(newestFirst());
    expect(new Set(seen).size).toBe(230);

    // Back from the last page with "newer": each page as it was, and the first page has no "newer".
    let last = await page(null);
    while (last.older) last = await page(last.older);
    expect(last.ids).toEqual(pages[4]);
    for (let i = 3; i >= 0; i--) {
      last = await page(last.newer);
      expect(last.ids).toEqual(pages[i]);
    }
    expect(last.newer).toBeNull();
  });

  it('is stable under inserts: new runs do not shift the older pages, and show up through "newer"', async () => {
    const before = newestFirst();
    const first = await page(null);
    const added = Array.from({ length: 7 }, (_, i) => seedRun(db, { ticketKey: `NEW-${i}`, createdAt: T0 + 10 * DAY + i }));
    const rest: number[] = [];
    let cursor = first.older;
    while (cursor) {
      const next = await page(cursor);
      rest.push(...next.ids);
      cursor = next.older;
    }
    expect([...first.ids, ...rest]).toEqual(before);
    const back = await page((await page(first.older)).newer);
    expect(back.ids).toEqual(first.ids);
    expect(back.newer).not.toBeNull();
    const newest = await page(back.newer);
    expect(newest.ids).toEqual([...added].reverse());
  });

  it('pages a filtered view the same way', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const next = await page(cursor, '&handler=reset-ci-token');
      seen.push(...next.ids);
      cursor = next.older;
    } while (cursor);
    expect(seen).toEqual(newestFirst("WHERE handler = 'reset-ci-token'"));
  });
});

describe('GET /api/runs/:id: the trace', () => {
  let db: Db;
  let app: FastifyInstance;
  let jira: FakeJira;
  let auditor: { authorization: string };
  const log = pino({ level: 'silent' });
  const CANARIES = {
    ticket: 'ghp_CanaryTicket0123456789abcdefABCDEF',
    option: 'canary-option-secret-value',
    integration: 'canary-integration-token-value',
    response: 'canary-response-secret-value',
    comment: 'xoxb-1234567890-CanaryInComment42',
  };

  beforeAll(async () => {
    db = openDatabase(join(freshDir('audit-trace-'), 'trace.db'));
    jira = await startFakeJira();
    app = await appOn(db);
    auditor = await authHeader(db, 'auditor');
  });
  afterAll(async () => {
    await app?.close();
    db?.$client.close();
    await jira?.close();
  });

  it('a run retried after a crash shows the delivery, decision, input, and each action as skipped on retry / checked after a crash / applied', async () => {
    jira.seedIssue({ key: 'CR-1' });
    const id = seedRun(db, {
      ticketKey: 'CR-1',
      status: 'queued',
      siteUrl: null,
      description: `my token is ${CANARIES.ticket} please rotate`,
      options: { allowedOrgs: ['acme'], apiToken: CANARIES.option },
    });
    const run = db.$client.prepare('SELECT idempotency_key AS key FROM runs WHERE id = ?').get(id) as { key: string };
    const client = createJiraApi({ baseUrl: jira.url, email: 'bot@example.test', apiToken: 't', timeoutMs: 1000 });
    const actionsFor = () => createRecordedActions({ db: sqliteStore(db), client, runId: id, runKey: run.key, ticketKey: 'CR-1', dryRun: false, log });

    // Attempt 1: the comment is applied; the transition is written `started`, Jira applies it, the process dies.
    const [claimed] = claimDueRuns(db, 1, new Set(), { owner: 'proc-1', leaseMs: 1 });
    expect(claimed.id).toBe(id);
    await actionsFor().comment(`Rotated. Your new one: ${CANARIES.comment}`);
    beginAction(db, { runId: id, seq: 2, kind: 'transition', ticketKey: 'CR-1', idempotencyKey: `${run.key}:2:transition`, request: { status: 'Done' }, status: 'started' });
    (jira.issue('CR-1')!.fields.status as { name: string }).name = 'Done';
    await new Promise((r) => setTimeout(r, 10));
    expect(requeueExpiredRuns(db).map((r) => r.id)).toEqual([id]);

    // Attempt 2, after the lease expired: same keys, same order.
    await new Promise((r) => setTimeout(r, 10));
    const [again] = claimDueRuns(db, 1, new Set(), { owner: 'proc-2', leaseMs: 60_000 });
    expect(again.id).toBe(id);
    const second = actionsFor();
    await second.comment(`Rotated. Your new one: ${CANARIES.comment}`);
    await second.transition('Done');
    await second.addLabels('deflect-done');
    expect(finishOwnedRun(db, id, 'proc-2', { status: 'succeeded', summary: 'rotated the CI token', durationMs: 12 })).toBe(true);
    expect(jira.commentsFor('CR-1')).toHaveLength(1);

    const answer = await app.inject({ url: `/api/runs/${id}`, headers: auditor });
    expect(answer.statusCode, answer.body).toBe(200);
    const trace = answer.json();
    expect(Object.keys(trace)).toEqual(['run', 'delivery', 'decision', 'input', 'actions', 'approvals', 'attempts', 'errors', 'verification']);
    expect(trace.run).toMatchObject({ id, status: 'succeeded', handler: 'grant-repo-access', ticketKey: 'CR-1', tracker: 'jira', ticketUrl: 'https://acme.atlassian.net/browse/CR-1' });
    expect(trace.delivery).toMatchObject({ event: 'jira:issue_created', tracker: 'jira', authentication: 'webhook', replayOf: null });
    expect(trace.decision).toEqual({ reason: 'label access-request → grant-repo-access (rule repo-access #1)', rule: 'repo-access', rulesVersion: 'abc123def456' });
    expect(trace.input.ticket.key).toBe('CR-1');
    expect(trace.input.options.allowedOrgs).toEqual(['acme']);
    expect(trace.actions.map((a: { seq: number; kind: string; state: string }) => [a.seq, a.kind, a.state])).toEqual([
      [1, 'comment', 'skipped on retry'],
      [2, 'transition', 'checked after a crash'],
      [3, 'add_labels', 'applied'],
    ]);
    expect(trace.actions[1].response).toMatchObject({ verifiedInTracker: true });
    expect(trace.actions[0].idempotencyKey).toBe(`${run.key}:1:comment`);
    expect(trace.attempts).toEqual({ count: 1, max: 5, manualRetries: 0 });
    expect(trace.errors).toEqual([]);
  });

  it('masks secrets put into a ticket, a handler option, an integration request and its response (canaries never appear)', async () => {
    const id = seedRun(db, { ticketKey: 'CAN-1', description: `token: ${CANARIES.ticket}`, options: { apiToken: CANARIES.option, nested: { password: CANARIES.option } } });
    const key = `CAN-1:grant-repo-access:canary:1`;
    const action = beginAction(db, { runId: id, seq: 1, kind: 'github.add_collaborator', ticketKey: 'CAN-1', idempotencyKey: key, request: { repo: 'acme/api', token: CANARIES.integration, headers: { Authorization: `Bearer ${CANARIES.integration}` } }, status: 'started' });
    finishAction(db, action, { status: 'failed', error: `GitHub answered 401 for token ${CANARIES.integration}`, response: { secret: CANARIES.response } });
    recordApprovalStep(db, { runId: id, decision: 'approved', by: 'lead@acme.example', commentId: '77' });
    const trace = await app.inject({ url: `/api/runs/${id}`, headers: auditor });
    const list = await app.inject({ url: '/api/runs?ticket=CAN-1', headers: auditor });
    const text = trace.body + list.body;
    for (const canary of Object.values(CANARIES)) expect(text).not.toContain(canary);
    expect(text).toContain('«masked»');
    const body = trace.json();
    expect(body.actions[0]).toMatchObject({ kind: 'github.add_collaborator', target: 'github', state: 'failed', httpStatus: 401 });
    expect(body.actions[0].request.repo).toBe('acme/api');
    expect(body.approvals).toEqual([expect.objectContaining({ decision: 'approved', by: 'lead@acme.example' })]);
    expect(body.errors).toEqual([expect.objectContaining({ source: 'action 1 (github.add_collaborator)' })]);
  });

  it('404 for an unknown run, 400 for an id that is not a number, 401 without a token', async () => {
    expect((await app.inject({ url: '/api/runs/999999', headers: auditor })).json()).toMatchObject({ statusCode: 404, message: 'no run #999999' });
    expect((await app.inject({ url: '/api/runs/abc', headers: auditor })).statusCode).toBe(400);
    expect((await app.inject({ url: '/api/runs/1' })).statusCode).toBe(401);
  });
});
