/**
 * Duplicate storm: the same signed delivery (same `X-Atlassian-Webhook-Identifier`) POSTed 1,000 times concurrently to
 * the real server on a loopback socket (on the pass's backend: SQLite or PostgreSQL) → every request gets a 200, exactly one is `accepted`, one delivery row, one
 * run, one GitHub call, one comment and one transition in the fake Jira.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBody } from '../../src/trackers/jira/verify-delivery.js';
import { startDeflect, TEST_SECRET, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { accessRequestEvent, accessRequestUser, githubEnv } from './helpers.js';

const COPIES = 1_000;

describe('duplicate storm', () => {
  let jira: FakeJira;
  let github: FakeGitHub;
  let deflect: DeflectUnderTest;

  beforeAll(async () => {
    jira = await startFakeJira();
    github = await startFakeGitHub();
    jira.seedIssue({ key: 'STORM-1', id: '30001' });
    deflect = await startDeflect({ fakeJira: jira, env: githubEnv(github) });
  });
  afterAll(async () => {
    await deflect?.close(1000);
    await jira?.close();
    await github?.close();
  });

  it(`${COPIES} concurrent copies of one delivery → one delivery, one run, one comment`, async () => {
    const body = JSON.stringify(accessRequestEvent('STORM-1', '30001'));
    const headers = {
      'content-type': 'application/json',
      'x-hub-signature': signBody(body, TEST_SECRET),
      'x-atlassian-webhook-identifier': 'storm-delivery-1',
    };
    const answers = await Promise.all(
      Array.from({ length: COPIES }, async () => {
        const response = await fetch(`${deflect.url}/webhooks/jira`, { method: 'POST', headers, body });
        return { status: response.status, json: (await response.json()) as { status: string; deliveryId: number } };
      }),
    );
    const byStatus = (s: string) => answers.filter((a) => a.json.status === s).length;
    console.log(`duplicate storm: ${COPIES} concurrent copies → ${byStatus('accepted')} accepted, ${byStatus('duplicate')} duplicate`);

    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(byStatus('accepted')).toBe(1);
    expect(byStatus('duplicate')).toBe(COPIES - 1);
    expect(new Set(answers.map((a) => a.json.deliveryId)).size).toBe(1);

    const database = deflect.database;
    const run = await waitFor('the run to finish', () =>
      database.get("SELECT status FROM runs WHERE ticket_key = 'STORM-1' AND status NOT IN ('queued', 'running')"),
    );
    expect(run).toEqual({ status: 'succeeded' });
    expect(await database.get("SELECT count(*) AS n FROM deliveries WHERE webhook_identifier = 'storm-delivery-1'")).toEqual({ n: 1 });
    expect(await database.get("SELECT count(*) AS n FROM runs WHERE ticket_key = 'STORM-1'")).toEqual({ n: 1 });
    expect(jira.commentsFor('STORM-1')).toHaveLength(1);
    expect(jira.requestsTo('POST', '/rest/api/3/issue/STORM-1/transitions')).toHaveLength(1);
    expect(github.requestsTo('PUT', `/repos/acme/payments-api/collaborators/${accessRequestUser('STORM-1')}`)).toHaveLength(1);
    console.log('duplicate storm: runs 1, GitHub calls 1, comments 1, transitions 1');
  });
});
