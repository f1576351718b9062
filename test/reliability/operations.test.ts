/**
 * The operator's tools, run as real CLI processes next to a running server (same SQLite file), the fake Jira and a fake
 * GitHub:
 * `deflect runs retry <id>` / `--failed --since`, `deflect replay --delivery <id>`, automatic pause +
 * `deflect handlers resume`, `deflect audit` showing replays and paused handlers, `deflect reconcile` for missed
 * webhooks, and `/healthz` + `/readyz`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook, startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { accessRequestEvent, accessRequestUser, actionKeyOf, deflectEnv, githubEnv, runCli, tokenResetEvent } from './helpers.js';

type RunRow = { id: number; deliveryId: number; status: string; attempts: number; error: string | null; manualRetries: number; idempotencyKey: string };

describe('operations: retry, replay, pause/resume, reconcile, health', () => {
  let jira: FakeJira;
  let github: FakeGitHub;
  let deflect: DeflectUnderTest;
  let cliEnv: Record<string, string>;
  let nextId = 70_000;

  const runsOf = (key: string) =>
    deflect.db.sqlite!.$client
      .prepare(
        `SELECT id, delivery_id AS deliveryId, status, attempts, error, manual_retries AS manualRetries, idempotency_key AS idempotencyKey
         FROM runs WHERE ticket_key = ? ORDER BY id`,
      )
      .all(key) as RunRow[];
  const settled = (key: string, n: number) => {
    const rows = runsOf(key);
    return rows.length === n && rows.every((r) => !['queued', 'running'].includes(r.status)) ? rows : null;
  };
  /**
   * Seeds `key` in the fake Jira and delivers its signed `issue_created` webhook: a CI token reset (`reset-ci-token`: one
   * comment), or with `access` an access request (`grant-repo-access`: a GitHub call, a comment, a transition).
   */
  async function fileTicket(key: string, identifier = `ops-${key}`, kind: 'token' | 'access' = 'token'): Promise<void> {
    const id = String(nextId++);
    jira.seedIssue({ key, id });
    const event = kind === 'access' ? accessRequestEvent(key, id) : tokenResetEvent(key, id);
    expect((await postWebhook(deflect.url, event, { identifier })).status).toBe(200);
  }
  const cli = async (...args: string[]) => {
    const result = await runCli(args, cliEnv);
    expect(result.code, `deflect ${args.join(' ')}: ${result.stderr}`).toBe(0);
    return result.stdout;
  };

  beforeAll(async () => {
    jira = await startFakeJira();
    github = await startFakeGitHub();
    deflect = await startDeflect({
      fakeJira: jira,
      env: { ...githubEnv(github), DEFLECT_MAX_ATTEMPTS: '2', DEFLECT_RETRY_BASE_MS: '20', DEFLECT_PAUSE_AFTER_FAILURES: '3', JIRA_TIMEOUT_MS: '1000' },
    });
    cliEnv = deflectEnv(deflect.dbPath, jira);
  });
  afterAll(async () => {
    await deflect?.close(1000);
    await jira?.close();
    await github?.close();
  });

  it('deflect runs retry <id> re-runs a failed run with the same keys: applied actions are not repeated', async () => {
    // The GitHub call and the comment go through; the transition is refused with a permanent 400 → the run fails.
    jira.setFault((req) => (req.method === 'POST' && req.path === '/rest/api/3/issue/RETRY-1/transitions' ? { status: 400, body: { errorMessages: ['Transition is not valid.'], errors: {} } } : undefined));
    await fileTicket('RETRY-1', 'ops-RETRY-1', 'access');
    const [failed] = await waitFor('the run to fail', () => settled('RETRY-1', 1));
    expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
    expect(failed.error).toMatch(/400/);
    expect(jira.commentsFor('RETRY-1')).toHaveLength(1);

    jira.setFault(undefined);
    expect(await cli('runs', 'retry', String(failed.id))).toMatch(new RegExp(`Re-queued run #${failed.id} \\(RETRY-1, grant-repo-access, was failed`));
    const [retried] = await waitFor('the retried run to succeed', () => {
      const rows = settled('RETRY-1', 1);
      return rows?.[0].status === 'succeeded' ? rows : null;
    });
    expect(retried).toMatchObject({ id: failed.id, status: 'succeeded', attempts: 1, manualRetries: 1 });
    expect(jira.commentsFor('RETRY-1')).toHaveLength(1);
    expect(jira.requestsTo('POST', '/rest/api/3/issue/RETRY-1/comment')).toHaveLength(1);
    expect(github.requestsTo('PUT', `/repos/acme/payments-api/collaborators/${accessRequestUser('RETRY-1')}`)).toHaveLength(1);
    expect((jira.issue('RETRY-1')!.fields.status as { name: string }).name).toBe('Done');

    const refused = await runCli(['runs', 'retry', String(failed.id)], cliEnv);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is succeeded; only failed or dead runs can be retried/);
  });

  it('deflect runs retry --failed --since 1d re-queues every dead-lettered run', async () => {
    jira.setFault((req) => (/\/issue\/DEAD-\d/.test(req.path) ? { status: 503 } : undefined));
    await fileTicket('DEAD-1');
    await fileTicket('DEAD-2');
    await waitFor('both runs to be dead-lettered', () => settled('DEAD-1', 1)?.[0].status === 'dead' && settled('DEAD-2', 1)?.[0].status === 'dead');
    expect(runsOf('DEAD-1')[0].error).toMatch(/503.*gave up after 2 attempts/);

    jira.setFault(undefined);
    const out = await cli('runs', 'retry', '--failed', '--since', '1d');
    expect(out).toMatch(/Re-queued 2 run\(s\)/);
    expect(out).toMatch(/DEAD-1 reset-ci-token \(dead\)/);
    await waitFor('both to succeed', () => settled('DEAD-1', 1)?.[0].status === 'succeeded' && settled('DEAD-2', 1)?.[0].status === 'succeeded');
    expect(jira.commentsFor('DEAD-1')).toHaveLength(1);
    expect(jira.commentsFor('DEAD-2')).toHaveLength(1);
  });

  it('deflect replay --delivery re-runs a stored delivery with its original body, marked as a replay in the audit', async () => {
    await fileTicket('REPLAY-1', 'replay-original');
    const [original] = await waitFor('the original run', () => settled('REPLAY-1', 1));
    // The replay is stored directly in the database (trusted local CLI); the running server's worker routes it.
    const out = await cli('replay', '--delivery', String(original.deliveryId));
    expect(out).toMatch(new RegExp(`delivery #${original.deliveryId} → replay stored as delivery #\\d+`));

    const rows = await waitFor('the replayed run', () => settled('REPLAY-1', 2));
    expect(rows[1].status).toBe('succeeded');
    expect(rows[1].idempotencyKey).not.toBe(rows[0].idempotencyKey);
    const sql = deflect.db.sqlite!.$client;
    const replay = sql.prepare('SELECT replay_of AS replayOf, body, headers FROM deliveries WHERE id = ?').get(rows[1].deliveryId) as { replayOf: number; body: string; headers: string };
    const source = sql.prepare('SELECT body FROM deliveries WHERE id = ?').get(original.deliveryId) as { body: string };
    expect(replay.replayOf).toBe(original.deliveryId);
    expect(replay.body).toBe(source.body);
    expect(JSON.parse(replay.headers)).not.toHaveProperty('x-hub-signature');
    // A replay is an explicit re-run: it acts again, under its own keys.
    expect(jira.commentsFor('REPLAY-1').map(actionKeyOf)).toEqual([`${rows[0].idempotencyKey}:1:comment`, `${rows[1].idempotencyKey}:1:comment`]);

    const audit = JSON.parse(await cli('audit', '--ticket', 'REPLAY-1', '--format', 'json'));
    expect(audit.runs.map((r: { replayOf: number | null }) => r.replayOf)).toEqual([original.deliveryId, null]);
    expect(await cli('audit', '--ticket', 'REPLAY-1')).toContain(`replay of delivery #${original.deliveryId}`);
  });

  it('a handler failing 3 runs in a row is paused (audit, /readyz) until deflect handlers resume', async () => {
    jira.setFault((req) => (req.method === 'POST' && /\/issue\/PAUSE-\d\/comment$/.test(req.path) ? { status: 400, body: { errorMessages: [], errors: { comment: 'Comment body is not valid.' } } } : undefined));
    for (const key of ['PAUSE-1', 'PAUSE-2', 'PAUSE-3']) {
      await fileTicket(key);
      await waitFor(`${key} to fail`, () => settled(key, 1)?.[0].status === 'failed');
    }
    const audit = await cli('audit', '--limit', '5');
    expect(audit).toMatch(/PAUSED handler reset-ci-token since .*: 3 runs in a row failed; last error: .*400.*resume with: deflect handlers resume reset-ci-token/);
    const ready = await (await fetch(`${deflect.url}/readyz`)).json();
    expect(ready).toMatchObject({ status: 'ready', pausedHandlers: ['reset-ci-token'] });

    jira.setFault(undefined);
    await fileTicket('PAUSE-4');
    await new Promise((r) => setTimeout(r, 1500)); // more than one worker poll
    expect(runsOf('PAUSE-4')).toMatchObject([{ status: 'queued', attempts: 0 }]);
    expect(await cli('handlers')).toMatch(/reset-ci-token\s*│ paused/);

    expect(await cli('handlers', 'resume', 'reset-ci-token')).toMatch(/Resumed reset-ci-token/);
    await waitFor('the waiting run to succeed', () => settled('PAUSE-4', 1)?.[0].status === 'succeeded');
    expect(jira.commentsFor('PAUSE-4')).toHaveLength(1);
    expect(await cli('handlers', '--format', 'json')).toContain('"state": "active"');
  });

  it('deflect reconcile finds tickets whose webhook never arrived and processes them like a webhook, once', async () => {
    const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString().replace('Z', '+0000');
    // REC-1: created 10 minutes ago with the label; its webhook never came.
    // REC-1 and REC-3 are access requests (grant-repo-access: a GitHub call, a comment, a transition).
    const accessForm = (key: string) => `Repository: acme/payments-api\nGitHub User: ${accessRequestUser(key)}`;
    jira.seedIssue({ key: 'REC-1', id: '71001', fields: { labels: ['access-request'], created: minutesAgo(10), updated: minutesAgo(10), description: accessForm('REC-1') } });
    // REC-2: its webhook came, with the state Jira has now.
    const rec2 = jira.seedIssue({ key: 'REC-2', id: '71002', fields: { labels: [], created: minutesAgo(20), updated: minutesAgo(20) } });
    const delivered = tokenResetEvent('REC-2', '71002', { labels: [], timestamp: Date.now() - 20 * 60_000 });
    delivered.issue.fields.updated = String(rec2.fields.updated);
    await postWebhook(deflect.url, delivered, { identifier: 'rec-2' });
    // REC-3: delivered without labels; the label was added later and that webhook was lost.
    const rec3 = jira.seedIssue({ key: 'REC-3', id: '71003', fields: { labels: [], created: minutesAgo(30), updated: minutesAgo(30), description: accessForm('REC-3') } });
    const first = tokenResetEvent('REC-3', '71003', { labels: [], timestamp: Date.now() - 30 * 60_000 });
    first.issue.fields.updated = String(rec3.fields.updated);
    await postWebhook(deflect.url, first, { identifier: 'rec-3' });
    rec3.fields.labels = ['access-request'];
    rec3.fields.updated = minutesAgo(5);
    // REC-4: never seen, created long before the window, edited now: snapshot only, no handler.
    jira.seedIssue({ key: 'REC-4', id: '71004', fields: { labels: ['ci-token'], created: minutesAgo(3 * 24 * 60), updated: minutesAgo(3), description: 'Token: OLD' } });
    await waitFor(
      'the two webhooks to be routed',
      () => (deflect.db.sqlite!.$client.prepare("SELECT count(*) AS n FROM deliveries WHERE webhook_identifier IN ('rec-2', 'rec-3') AND status != 'pending'").get() as { n: number }).n === 2,
    );

    const out = await cli('reconcile', '--since', '2h', '--settle', '0m', '--jql', 'project = REC');
    expect(out).toContain('JQL: (project = REC) AND updated >= -120m ORDER BY updated ASC');
    expect(out).toMatch(/4 tickets checked: 1 up to date, 0 skipped .*3 missed, 3 stored as deliveries/);
    expect(jira.requestsTo('POST', '/rest/api/3/search/jql').at(-1)!.body).toMatchObject({ jql: expect.stringContaining('updated >= -120m') });

    await waitFor('REC-1 and REC-3 to be handled', () => settled('REC-1', 1)?.[0].status === 'succeeded' && settled('REC-3', 1)?.[0].status === 'succeeded', 15_000);
    expect(jira.commentsFor('REC-1')).toHaveLength(1);
    expect(jira.commentsFor('REC-3')).toHaveLength(1);
    expect(runsOf('REC-2')).toHaveLength(0);
    expect(runsOf('REC-4')).toHaveLength(0);
    const rec4 = await waitFor('the REC-4 snapshot', () => deflect.db.sqlite!.$client.prepare("SELECT labels FROM tickets WHERE key = 'REC-4'").get() as { labels: string } | undefined);
    expect(JSON.parse(rec4.labels)).toEqual(['ci-token']);
    const reasons = deflect.db.sqlite!.$client.prepare("SELECT issue_key AS key, event, reason FROM deliveries WHERE delivery_key LIKE 'reconcile:%' ORDER BY issue_key").all();
    expect(reasons).toMatchObject([
      { key: 'REC-1', event: 'jira:issue_created' },
      { key: 'REC-3', event: 'jira:issue_updated' },
      { key: 'REC-4', event: 'deflect:reconciled', reason: expect.stringMatching(/not routed/) },
    ]);

    // Running it again starts nothing: deflect's own transitions moved `updated` on REC-1 and REC-3 (the fake sends no
    // webhook for them), which only refreshes their snapshots.
    const again = JSON.parse(await cli('reconcile', '--since', '2h', '--settle', '0m', '--jql', 'project = REC', '--format', 'json'));
    expect(again.missed.map((m: { key: string; event: string }) => `${m.key} ${m.event}`)).toEqual(['REC-1 deflect:reconciled', 'REC-3 deflect:reconciled']);
    await waitFor('the refreshes to be routed', () => (deflect.db.sqlite!.$client.prepare("SELECT count(*) AS n FROM deliveries WHERE status = 'pending'").get() as { n: number }).n === 0);
    expect(await cli('reconcile', '--since', '2h', '--settle', '0m', '--jql', 'project = REC')).toMatch(/4 tickets checked: 4 up to date/);
    expect(runsOf('REC-1')).toHaveLength(1);
    expect(runsOf('REC-3')).toHaveLength(1);
    expect(jira.commentsFor('REC-1')).toHaveLength(1);
    expect(jira.commentsFor('REC-3')).toHaveLength(1);
  });

  it('/healthz answers while the process lives; /readyz checks the database, migrations and queue lag', async () => {
    expect(await (await fetch(`${deflect.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${deflect.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', problems: [] });
  });
});
