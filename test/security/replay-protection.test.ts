/**
 * Replay protection and acting only on the configured site, on the real server (loopback socket, the pass's backend: a real SQLite file or a PostgreSQL database,
 * fake Jira and fake GitHub as real HTTP servers):
 * - a stored body re-sent with a fresh or missing `X-Atlassian-Webhook-Identifier` is a duplicate (no run);
 * - `X-Deflect-Replay-Of` from a sender is ignored; only `replayStoredDelivery` marks a replay;
 * - signature, token, authorization and cookie headers are never stored;
 * - events older than DEFLECT_MAX_EVENT_AGE or more than 5 minutes ahead are refused (422), nothing stored;
 * - an event stamped ahead of the clock never freezes the ticket's snapshot;
 * - events from another Jira site are recorded as ignored with the reason, never routed;
 * - two sites with the same issue id keep two tickets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { signBody } from '../../src/trackers/jira/verify-delivery.js';
import { replayStoredDelivery } from '../../src/webhooks/replay-delivery.js';
import { routePendingDeliveries } from '../../src/worker/route-deliveries.js';
import { postWebhook, startDeflect, TEST_SECRET, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { accessRequestEvent, githubEnv, SITE, tokenResetEvent } from '../reliability/helpers.js';

const OTHER_SITE = 'https://other-corp.atlassian.net';

describe('replay protection and the configured site', () => {
  let jira: FakeJira;
  let github: FakeGitHub;
  let deflect: DeflectUnderTest;
  const runsOf = (key: string) =>
    deflect.database.all<{ id: number; deliveryId: number; status: string }>('SELECT id, delivery_id AS "deliveryId", status FROM runs WHERE ticket_key = ? ORDER BY id', key);
  const deliveryCount = async () => (await deflect.database.get<{ n: number }>('SELECT count(*) AS n FROM deliveries'))!.n;

  beforeAll(async () => {
    jira = await startFakeJira();
    github = await startFakeGitHub();
    for (const key of ['RPL-1', 'RPL-2', 'RPL-3', 'RPL-5', 'PLAT-5']) jira.seedIssue({ key });
    deflect = await startDeflect({ fakeJira: jira, env: githubEnv(github) });
  });
  afterAll(async () => {
    await deflect?.close(1000);
    await jira?.close();
    await github?.close();
  });

  it('a stored body re-sent with fresh or missing identifiers is a duplicate: one delivery, one run, one comment', async () => {
    const body = JSON.stringify(accessRequestEvent('RPL-1', '81001'));
    const first = await postWebhook(deflect.url, body, { identifier: 'rpl-original' });
    expect(first).toMatchObject({ status: 200, json: { status: 'accepted' } });
    const replays = [];
    for (let i = 0; i < 10; i++) replays.push(await postWebhook(deflect.url, body, { identifier: i % 2 === 0 ? `fresh-${i}` : null }));
    expect(replays.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(replays.map((r) => r.json.status)).toEqual(Array(10).fill('duplicate'));
    expect(new Set(replays.map((r) => r.json.deliveryId))).toEqual(new Set([first.json.deliveryId]));

    await waitFor('the run to finish', async () => {
      const runs = await runsOf('RPL-1');
      return runs.every((r) => !['queued', 'running'].includes(r.status)) && runs.length > 0;
    });
    expect(await runsOf('RPL-1')).toHaveLength(1);
    expect(jira.commentsFor('RPL-1')).toHaveLength(1);
    console.log(`replay: 1 original + 10 replays (5 fresh identifiers, 5 without) → ${await deliveryCount()} delivery rows so far, ${(await runsOf('RPL-1')).length} run, ${jira.commentsFor('RPL-1').length} comment`);
  });

  it('1,000 concurrent copies of one body, each with its own identifier → one accepted, one run', async () => {
    const body = JSON.stringify(accessRequestEvent('RPL-5', '81005'));
    const signature = signBody(body, TEST_SECRET);
    const answers = await Promise.all(
      Array.from({ length: 1_000 }, async (_, i) => {
        const response = await fetch(`${deflect.url}/webhooks/jira`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hub-signature': signature, 'x-atlassian-webhook-identifier': `storm-fresh-${i}` },
          body,
        });
        return (await response.json()) as { status: string; deliveryId: number };
      }),
    );
    const accepted = answers.filter((a) => a.status === 'accepted').length;
    console.log(`replay storm: 1,000 concurrent copies with distinct identifiers → ${accepted} accepted, ${answers.filter((a) => a.status === 'duplicate').length} duplicate`);
    expect(accepted).toBe(1);
    expect(new Set(answers.map((a) => a.deliveryId)).size).toBe(1);
    await waitFor('the run to finish', async () => {
      const runs = await runsOf('RPL-5');
      return runs.length === 1 && runs[0].status === 'succeeded';
    });
    expect(jira.commentsFor('RPL-5')).toHaveLength(1);
  });

  it('ignores a sender-set X-Deflect-Replay-Of and stores no signature, token, authorization or cookie header', async () => {
    const body = JSON.stringify(tokenResetEvent('RPL-2', '81002'));
    const answer = await postWebhook(deflect.url, body, {
      identifier: 'rpl-forged',
      headers: { 'x-deflect-replay-of': '1', 'x-deflect-token': 'not-a-token', authorization: 'Bearer secret-looking', cookie: 'session=abc', 'x-hub-signature-256': 'sha256=00' },
    });
    expect(answer.json.status).toBe('accepted');
    const row = (await deflect.database.get<{ replayOf: number | null; headers: string }>('SELECT replay_of AS "replayOf", headers FROM deliveries WHERE id = ?', answer.json.deliveryId))!;
    expect(row.replayOf).toBeNull();
    const headers = JSON.parse(row.headers) as Record<string, string>;
    expect(Object.keys(headers).sort()).toEqual(['content-type', 'user-agent', 'x-atlassian-webhook-identifier']);
    expect(row.headers).not.toMatch(/sha256=|secret-looking|session=abc|not-a-token/);
  });

  it('replayStoredDelivery (deflect replay --delivery) stores a marked replay that the normal path routes into a second run', async () => {
    const [original] = await runsOf('RPL-1');
    const replay = await replayStoredDelivery(deflect.db, original.deliveryId);
    expect(await deflect.database.get('SELECT replay_of AS "replayOf", status FROM deliveries WHERE id = ?', replay.id)).toEqual({ replayOf: original.deliveryId, status: 'pending' });
    deflect.worker.wake();
    await waitFor('the replayed run', async () => {
      const runs = await runsOf('RPL-1');
      return runs.length === 2 && runs[1].status === 'succeeded';
    });
    expect((await runsOf('RPL-1'))[1].deliveryId).toBe(replay.id);
  });

  it.each([
    ['25 hours old', -25 * 3_600_000, /older than DEFLECT_MAX_EVENT_AGE \(1d\)/],
    ['a year old', -365 * 86_400_000, /is 365d old/],
    ['10 minutes ahead', 10 * 60_000, /in the future, more than 5m ahead/],
    ['stamped in 2100', Date.UTC(2100, 0, 1) - Date.now(), /2100-01-01T00:00:\d\d\.\d{3}Z is \d+d \d+h in the future/],
  ])('refuses an event %s with 422 naming the timestamp and the limit; nothing stored', async (_name, offset, message) => {
    const before = await deliveryCount();
    const timestamp = Date.now() + offset;
    const answer = await postWebhook(deflect.url, tokenResetEvent('RPL-3', '81003', { timestamp }));
    expect(answer.status).toBe(422);
    expect(answer.json.message).toMatch(message);
    expect(answer.json.message).toContain(new Date(timestamp).toISOString().slice(0, 16));
    expect(await deliveryCount()).toBe(before);
  });

  it('an event stamped ahead of the clock (within the skew) does not freeze the snapshot: a later event still updates it', async () => {
    const ahead = await postWebhook(deflect.url, tokenResetEvent('RPL-3', '81003', { timestamp: Date.now() + 4 * 60_000, summary: 'stamped 4 minutes ahead' }));
    expect(ahead.json.status).toBe('accepted');
    const next = await postWebhook(deflect.url, tokenResetEvent('RPL-3', '81003', { summary: 'the next edit' }));
    expect(next.json.status).toBe('accepted');
    const ticket = await waitFor('the snapshot', () =>
      deflect.database.get<{ summary: string; lastEventAt: number }>(`SELECT summary, last_event_at AS "lastEventAt" FROM tickets WHERE key = 'RPL-3'`),
    );
    expect(ticket.summary).toBe('the next edit');
    expect(ticket.lastEventAt).toBeLessThanOrEqual(Date.now());
  });

  it('a stored delivery stamped in 2100 (not through the receiver) is clamped to its receipt time when routed', async () => {
    const receivedAt = Date.now();
    const body = tokenResetEvent('RPL-4', '81004', { timestamp: Date.UTC(2100, 0, 1), labels: [] });
    await deflect.db.insertDeliveries([{ deliveryKey: 'test:2100', webhookIdentifier: null, event: body.webhookEvent, issueKey: 'RPL-4', headers: {}, body: JSON.stringify(body), eventTimestamp: body.timestamp, receivedAt }]);
    await routePendingDeliveries(deflect.db, { rules: [], dryRun: true, maxAttempts: 1, selfAccountId: null, logger: createLogger('silent'), siteUrl: SITE });
    const ticket = (await deflect.database.get<{ lastEventAt: number }>(`SELECT last_event_at AS "lastEventAt" FROM tickets WHERE key = 'RPL-4'`))!;
    expect(ticket.lastEventAt).toBe(receivedAt);
  });

  it('an event from another Jira site is recorded as ignored with the reason, and never routed or snapshotted', async () => {
    const event = accessRequestEvent('PLAT-5', '5');
    const foreign = JSON.parse(JSON.stringify(event).replaceAll(SITE, OTHER_SITE));
    const answer = await postWebhook(deflect.url, foreign);
    expect(answer.json.status).toBe('accepted');
    const row = await waitFor('the delivery to be decided', () =>
      deflect.database.get<{ status: string; reason: string }>("SELECT status, reason FROM deliveries WHERE id = ? AND status != 'pending'", answer.json.deliveryId),
    );
    expect(row.status).toBe('ignored');
    expect(row.reason).toBe(`ignored: event from ${OTHER_SITE}, deflect acts on ${SITE} (JIRA_SITE_URL or JIRA_BASE_URL)`);
    expect(await runsOf('PLAT-5')).toHaveLength(0);
    expect(await deflect.database.get("SELECT count(*) AS n FROM tickets WHERE key = 'PLAT-5'")).toEqual({ n: 0 });
    await new Promise((r) => setTimeout(r, 300));
    expect(jira.commentsFor('PLAT-5')).toHaveLength(0);
  });
});

describe('two Jira sites, same issue id (no site configured)', () => {
  let deflect: DeflectUnderTest;
  beforeAll(async () => {
    deflect = await startDeflect();
  });
  afterAll(async () => deflect?.close(1000));

  it('keeps one ticket per site, neither overwriting the other', async () => {
    const ours = tokenResetEvent('PLAT-5', '10005', { summary: 'ours' });
    const theirs = JSON.parse(JSON.stringify(tokenResetEvent('PLAT-5', '10005', { summary: 'theirs' })).replaceAll(SITE, OTHER_SITE));
    expect((await postWebhook(deflect.url, ours)).status).toBe(200);
    expect((await postWebhook(deflect.url, theirs)).status).toBe(200);
    const rows = await waitFor('both snapshots', async () => {
      const found = await deflect.database.all(`SELECT id, issue_id AS "issueId", site, summary FROM tickets WHERE key = 'PLAT-5' ORDER BY site`);
      return found.length === 2 ? found : null;
    });
    expect(rows).toEqual([
      { id: 'acme-example.atlassian.net:10005', issueId: '10005', site: 'acme-example.atlassian.net', summary: 'ours' },
      { id: 'other-corp.atlassian.net:10005', issueId: '10005', site: 'other-corp.atlassian.net', summary: 'theirs' },
    ]);
  });

  it('signs with the test secret (sanity: a wrong one is still refused)', async () => {
    const body = JSON.stringify(tokenResetEvent('PLAT-6', '10006'));
    const answer = await fetch(`${deflect.url}/webhooks/jira`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature': signBody(body, `${TEST_SECRET}x`) }, body });
    expect(answer.status).toBe(401);
  });
});
