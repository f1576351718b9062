/**
 * Effectively-once actions (src/jira/recorded-actions.ts) against the fake Jira over a real socket and a real SQLite
 * file: every comment carries its idempotency key as a comment property; an action whose earlier attempt has an
 * unknown outcome is checked in Jira before it is sent again; the per-ticket loop guard; no action after abort; and
 * `act` (calls to other systems): recorded like Jira actions in the same sequence, skipped when applied (returning the
 * recorded result), planned in dry run, called again after an unknown outcome.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { beginAction, findAction } from '../../src/db/actions.js';
import { openDatabase, type Db } from '../../src/db/client.js';
import { insertDeliveries } from '../../src/db/deliveries.js';
import { enqueueRun } from '../../src/db/runs.js';
import { createJiraApi } from '../../src/jira/jira-client.js';
import { LoopGuardError } from '../../src/trackers/recorded-actions.js';
import { ACTION_PROPERTY_KEY } from '../../src/trackers/jira/jira-ticket-ops.js';
import { createRecordedActions } from '../../src/trackers/jira/jira-tracker.js';
import { markdownToAdf } from '../../src/jira/markdown-to-adf.js';
import { freshDir } from '../support/deflect-under-test.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { actionKeyOf } from '../reliability/helpers.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';

const log = pino({ level: 'silent' });
let jira: FakeJira;
let db: Db;
let runSeq = 0;

/** A run row to hang actions on (actions.run_id is a foreign key), with a fresh run key. */
function newRun(ticketKey: string): { runId: number; runKey: string } {
  runSeq++;
  const [delivery] = insertDeliveries(db, [
    { deliveryKey: `test:${runSeq}`, webhookIdentifier: null, event: 'jira:issue_created', issueKey: ticketKey, headers: {}, body: '{}', eventTimestamp: null, receivedAt: Date.now() },
  ]);
  const runKey = `${ticketKey}:reset-ci-token:test:${runSeq}`;
  const runId = enqueueRun(db, { deliveryId: delivery.id, ticketKey, handler: 'reset-ci-token', reason: 'test', dryRun: false, idempotencyKey: runKey, maxAttempts: 5 })!;
  return { runId, runKey };
}

const actionsFor = (run: { runId: number; runKey: string }, ticketKey: string, extra: Partial<Parameters<typeof createRecordedActions>[0]> = {}) =>
  createRecordedActions({ db: sqliteStore(db), client: createJiraApi({ baseUrl: jira.url, email: 'bot@example.test', apiToken: 't', timeoutMs: 300 }), ...run, ticketKey, dryRun: false, log, ...extra });

beforeAll(async () => {
  jira = await startFakeJira();
  db = openDatabase(join(freshDir(), 'actions.db'));
});
afterAll(async () => {
  db.$client.close();
  await jira.close();
});
beforeEach(() => jira.setFault(undefined));

describe('recorded actions', () => {
  it('posts each comment with its idempotency key as a comment property, and skips it when already applied', async () => {
    jira.seedIssue({ key: 'ACT-1' });
    const run = newRun('ACT-1');
    await actionsFor(run, 'ACT-1').comment('Done.');
    const [comment] = jira.commentsFor('ACT-1');
    expect(actionKeyOf(comment)).toBe(`${run.runKey}:1:comment`);
    expect(findAction(db, `${run.runKey}:1:comment`)).toMatchObject({ status: 'applied' });

    // A second attempt of the same run (same keys, same order) sends nothing: the row says applied.
    const before = jira.requests.length;
    await actionsFor(run, 'ACT-1').comment('Done.');
    expect(jira.requests.length).toBe(before);
    expect(jira.commentsFor('ACT-1')).toHaveLength(1);
  });

  it('crash window: a comment left `started` that Jira did create is found by its property and not posted again', async () => {
    jira.seedIssue({ key: 'ACT-2' });
    const run = newRun('ACT-2');
    const key = `${run.runKey}:1:comment`;
    // The previous process wrote `started`, Jira created the comment, and the process died before writing `applied`.
    beginAction(db, { runId: run.runId, seq: 1, kind: 'comment', ticketKey: 'ACT-2', idempotencyKey: key, request: {}, status: 'started' });
    const api = createJiraApi({ baseUrl: jira.url, email: 'bot@example.test', apiToken: 't' });
    await api.addComment('ACT-2', markdownToAdf('someone else'));
    await api.addComment('ACT-2', markdownToAdf('Done.'), [{ key: ACTION_PROPERTY_KEY, value: { idempotencyKey: key, runId: run.runId } }]);

    await actionsFor(run, 'ACT-2').comment('Done.');
    expect(jira.commentsFor('ACT-2')).toHaveLength(2);
    expect(jira.requestsTo('GET', '/rest/api/3/issue/ACT-2/comment')).toHaveLength(1);
    expect(jira.requestsTo('GET', '/rest/api/3/issue/ACT-2/comment')[0].query.expand).toContain('properties');
    const row = findAction(db, key)!;
    expect(row.status).toBe('applied');
    expect(JSON.parse(row.response!)).toEqual({ id: jira.commentsFor('ACT-2')[1].id, verifiedInTracker: true });
  });

  it('a comment left `started` that Jira never received is posted once', async () => {
    jira.seedIssue({ key: 'ACT-3' });
    const run = newRun('ACT-3');
    beginAction(db, { runId: run.runId, seq: 1, kind: 'comment', ticketKey: 'ACT-3', idempotencyKey: `${run.runKey}:1:comment`, request: {}, status: 'started' });
    await actionsFor(run, 'ACT-3').comment('Done.');
    expect(jira.commentsFor('ACT-3').map(actionKeyOf)).toEqual([`${run.runKey}:1:comment`]);
  });

  it('a comment that timed out but was applied late by Jira is found on the retry, not duplicated', async () => {
    jira.seedIssue({ key: 'ACT-4' });
    const run = newRun('ACT-4');
    // Jira answers after 500 ms (client timeout 300 ms) but still creates the comment.
    jira.setFault((req) => (req.method === 'POST' && req.path.endsWith('/comment') ? { delayMs: 500 } : undefined));
    const first = actionsFor(run, 'ACT-4');
    const error = await first.comment('Done.').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'JiraRequestError', status: null, transient: true });
    expect(first.lastFailureAmbiguous).toBe(true);
    expect(findAction(db, `${run.runKey}:1:comment`)).toMatchObject({ status: 'failed' });
    jira.setFault(undefined);
    await new Promise((r) => setTimeout(r, 400)); // the run executor waits at least JIRA_TIMEOUT_MS before a retry
    await actionsFor(run, 'ACT-4').comment('Done.');
    expect(jira.commentsFor('ACT-4')).toHaveLength(1);
    expect(jira.requestsTo('POST', '/rest/api/3/issue/ACT-4/comment')).toHaveLength(1);
    expect(findAction(db, `${run.runKey}:1:comment`)).toMatchObject({ status: 'applied' });
  });

  it('a transition left `started` is checked against the issue status and not sent again when already there', async () => {
    jira.seedIssue({ key: 'ACT-5', fields: { status: { id: '10001', name: 'Done' } } });
    const run = newRun('ACT-5');
    beginAction(db, { runId: run.runId, seq: 1, kind: 'transition', ticketKey: 'ACT-5', idempotencyKey: `${run.runKey}:1:transition`, request: {}, status: 'started' });
    await actionsFor(run, 'ACT-5').transition('Done');
    expect(jira.requestsTo('POST', '/rest/api/3/issue/ACT-5/transitions')).toHaveLength(0);
    expect(JSON.parse(findAction(db, `${run.runKey}:1:transition`)!.response!)).toEqual({ alreadyIn: 'Done', verifiedInTracker: true });

    // Not there yet → the transition is performed.
    jira.seedIssue({ key: 'ACT-6' });
    const other = newRun('ACT-6');
    beginAction(db, { runId: other.runId, seq: 1, kind: 'transition', ticketKey: 'ACT-6', idempotencyKey: `${other.runKey}:1:transition`, request: {}, status: 'started' });
    await actionsFor(other, 'ACT-6').transition('Done');
    expect(jira.requestsTo('POST', '/rest/api/3/issue/ACT-6/transitions')).toHaveLength(1);
    expect((jira.issue('ACT-6')!.fields.status as { name: string }).name).toBe('Done');
  });

  it('the loop guard refuses actions past the per-ticket hourly cap, counting every run on the ticket', async () => {
    jira.seedIssue({ key: 'ACT-7' });
    const runA = actionsFor(newRun('ACT-7'), 'ACT-7', { maxActionsPerHour: 3 });
    await runA.comment('1');
    await runA.addLabels('a');
    const runB = actionsFor(newRun('ACT-7'), 'ACT-7', { maxActionsPerHour: 3 });
    await runB.comment('3');
    const refused = await runB.comment('4').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LoopGuardError);
    expect((refused as Error).message).toMatch(/ACT-7 already had 3 automated actions in the last hour/);
    expect(jira.commentsFor('ACT-7')).toHaveLength(2);
    // An hour later the window has moved on.
    const later = actionsFor(newRun('ACT-7'), 'ACT-7', { maxActionsPerHour: 3, now: () => Date.now() + 3_600_001 });
    await later.comment('5');
    expect(jira.commentsFor('ACT-7')).toHaveLength(3);
  });

  it('starts no action once its signal is aborted, and waits for the call in flight', async () => {
    jira.seedIssue({ key: 'ACT-8' });
    const controller = new AbortController();
    jira.setFault((req) => (req.method === 'POST' ? { delayMs: 150 } : undefined));
    const actions = actionsFor(newRun('ACT-8'), 'ACT-8', { signal: controller.signal });
    const first = actions.comment('in flight');
    await new Promise((r) => setTimeout(r, 30));
    controller.abort(new Error('handler timed out'));
    await actions.whenIdle();
    expect(jira.commentsFor('ACT-8')).toHaveLength(1); // the call in flight completed before whenIdle resolved
    await first;
    await expect(actions.comment('too late')).rejects.toThrow('handler timed out');
    expect(jira.requestsTo('POST', '/rest/api/3/issue/ACT-8/comment')).toHaveLength(1);
  });
});

describe('act: recorded calls to other systems', () => {
  it('records the call in the run\'s action sequence and, on a later attempt, skips it and returns the recorded result', async () => {
    jira.seedIssue({ key: 'ACT-9' });
    const run = newRun('ACT-9');
    const keys: string[] = [];
    const call = async (key: string) => {
      keys.push(key);
      return { status: 201, invitationId: 7 };
    };
    const first = actionsFor(run, 'ACT-9');
    await first.comment('Working on it.');
    expect(await first.act('github.add_collaborator', { repository: 'acme/api', user: 'octocat' }, call)).toEqual({ status: 201, invitationId: 7 });
    expect(keys).toEqual([`${run.runKey}:2:github.add_collaborator`]);
    expect(findAction(db, `${run.runKey}:2:github.add_collaborator`)).toMatchObject({
      seq: 2, kind: 'github.add_collaborator', status: 'applied', ticketKey: 'ACT-9',
      request: JSON.stringify({ repository: 'acme/api', user: 'octocat' }), response: JSON.stringify({ status: 201, invitationId: 7 }),
    });

    // The retry: same keys in the same order; the applied call is not made again, its recorded result comes back.
    const retry = actionsFor(run, 'ACT-9');
    await retry.comment('Working on it.');
    expect(await retry.act('github.add_collaborator', { repository: 'acme/api', user: 'octocat' }, call)).toEqual({ status: 201, invitationId: 7 });
    expect(keys).toHaveLength(1);
    expect(jira.commentsFor('ACT-9')).toHaveLength(1);
  });

  it('in dry run records the call as planned and does not make it', async () => {
    const run = newRun('ACT-10');
    let called = false;
    const result = await actionsFor(run, 'ACT-10', { dryRun: true }).act('github.create_from_template', { name: 'x' }, async () => (called = true));
    expect(result).toBeUndefined();
    expect(called).toBe(false);
    expect(findAction(db, `${run.runKey}:1:github.create_from_template`)).toMatchObject({ status: 'planned' });
  });

  it('calls again after an unknown outcome (left started), and records a failure with the error', async () => {
    const run = newRun('ACT-11');
    const key = `${run.runKey}:1:tokens.rotate`;
    beginAction(db, { runId: run.runId, seq: 1, kind: 'tokens.rotate', ticketKey: 'ACT-11', idempotencyKey: key, request: {}, status: 'started' });
    const seen: string[] = [];
    await actionsFor(run, 'ACT-11').act('tokens.rotate', { token: 'T' }, async (k) => void seen.push(k));
    expect(seen).toEqual([key]);
    expect(findAction(db, key)).toMatchObject({ status: 'applied', response: null });

    const other = newRun('ACT-11');
    const failing = actionsFor(other, 'ACT-11');
    const unavailable = Object.assign(new Error('token service → 503'), { transient: true });
    await expect(failing.act('tokens.rotate', { token: 'T' }, async () => Promise.reject(unavailable))).rejects.toBe(unavailable);
    expect(findAction(db, `${other.runKey}:1:tokens.rotate`)).toMatchObject({ status: 'failed', error: 'token service → 503' });
    expect(failing.lastFailureAmbiguous).toBe(false);
  });

  it('refuses a kind that is not <system>.<operation>, and starts nothing once aborted', async () => {
    const run = newRun('ACT-12');
    await expect(actionsFor(run, 'ACT-12').act('comment', {}, async () => 1)).rejects.toThrow(/must look like <system>\.<operation>/);
    const controller = new AbortController();
    controller.abort(new Error('handler timed out'));
    let called = false;
    await expect(actionsFor(run, 'ACT-12', { signal: controller.signal }).act('github.x', {}, async () => (called = true))).rejects.toThrow('handler timed out');
    expect(called).toBe(false);
  });
});
