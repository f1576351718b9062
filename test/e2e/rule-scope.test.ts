/**
 * Rule scope end to end on the real server and worker, on the pass's backend (test-backend.ts), with the fake Jira (issue 11, "done when": an out-of-scope
 * reporter gets no run). The fake Jira answers `GET /rest/api/3/user/groups` through its request hook (the shared
 * OpenAPI's shape `[{ name, groupId, self }]`). A member of the rule's group gets the handler's run; a reporter outside
 * the group gets no run, the delivery says why, and the fake Jira receives exactly one early-access comment for the
 * ticket however many deliveries follow.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { freshDir, postWebhook, REPO_ROOT, startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';

const MEMBER = 'acc-early-adopter';
const OUTSIDER = 'acc-outsider';

/** The example access request as ticket `key`, reported by `reporter`, stamped now. */
function accessRequest(key: string, id: string, reporter: string) {
  const body = JSON.parse(readFileSync(join(REPO_ROOT, 'examples/payloads/01-access-request-created.json'), 'utf8'));
  Object.assign(body, { timestamp: Date.now() });
  Object.assign(body.issue, { id, key, self: body.issue.self.replace('10101', id) });
  body.issue.fields.reporter = { ...body.issue.fields.reporter, accountId: reporter };
  return body;
}

describe('rule scope end to end', () => {
  let jira: FakeJira;
  let deflect: DeflectUnderTest;
  const deliveryOf = (key: string) =>
    deflect.database.all<{ status: string; reason: string | null }>('SELECT status, reason FROM deliveries WHERE issue_key = ? ORDER BY id', key);
  const runsOf = (key: string) => deflect.database.all<{ handler: string; status: string }>('SELECT handler, status FROM runs WHERE ticket_key = ? ORDER BY id', key);

  beforeAll(async () => {
    jira = await startFakeJira();
    for (const key of ['PLAT-301', 'PLAT-302']) jira.seedIssue({ key });
    jira.setFault((req) => {
      if (req.path !== '/rest/api/3/user/groups') return undefined;
      const groups = req.query.accountId === MEMBER ? ['jira-software-users', 'platform-early'] : ['jira-software-users'];
      return { status: 200, body: groups.map((name, i) => ({ name, groupId: `g${i}`, self: `${jira.url}/rest/api/3/group?groupId=g${i}` })) };
    });
    const rules = join(freshDir('deflect-scope-e2e-'), 'rules.yaml');
    writeFileSync(
      rules,
      `rules:
  - name: early-access
    labels: [access-request]
    handler: grant-repo-access
    groups: [platform-early]
    scopeMessage: "Ask in #platform-help to join."
`,
    );
    deflect = await startDeflect({ fakeJira: jira, env: { DEFLECT_RULES: rules } });
  });
  afterAll(async () => {
    await deflect?.close(1000);
    await jira?.close();
  });

  it('runs the handler for a member of the group', async () => {
    expect((await postWebhook(deflect.url, accessRequest('PLAT-301', '30301', MEMBER))).status).toBe(200);
    await waitFor('PLAT-301 routed', async () => (await deliveryOf('PLAT-301')).some((d) => d.status !== 'pending'));
    const [delivery] = await deliveryOf('PLAT-301');
    expect(delivery).toMatchObject({ status: 'routed', reason: expect.stringContaining('in scope: group platform-early') });
    await waitFor('the PLAT-301 run to finish', async () => (await runsOf('PLAT-301')).some((r) => !['queued', 'running'].includes(r.status)));
    expect((await runsOf('PLAT-301')).map((r) => r.handler)).toEqual(['grant-repo-access']);
  });

  it('gives an outsider no run and one early-access comment, however many deliveries follow', async () => {
    for (let i = 0; i < 2; i++) {
      const answer = await postWebhook(deflect.url, { ...accessRequest('PLAT-302', '30302', OUTSIDER), timestamp: Date.now() + i });
      expect(answer.status).toBe(200);
      await waitFor(`PLAT-302 delivery ${i + 1} routed`, async () => (await deliveryOf('PLAT-302')).filter((d) => d.status !== 'pending').length === i + 1);
    }
    const deliveries = await deliveryOf('PLAT-302');
    expect(deliveries.map((d) => d.status)).toEqual(['ignored', 'ignored']);
    expect(deliveries[0].reason).toContain('reporter acc-outsider is not in the scope of rule early-access #1 (groups)');
    await waitFor('the early-access comment', () => jira.commentsFor('PLAT-302').length === 1);
    await waitFor('the scope-message run to finish', async () => {
      const rows = await runsOf('PLAT-302');
      return rows.length > 0 && rows.every((r) => r.status === 'succeeded');
    });
    expect(await runsOf('PLAT-302')).toEqual([{ handler: 'scope-message', status: 'succeeded' }]);
    const text = JSON.stringify(jira.commentsFor('PLAT-302')[0].body);
    expect(text).toContain('early access');
    expect(text).toContain('Ask in #platform-help to join.');
    expect(jira.commentsFor('PLAT-302')).toHaveLength(1);
  });
});
