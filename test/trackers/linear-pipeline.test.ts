/**
 * Linear end to end over real sockets: a signed Linear `Issue.update` adding a routed label → deflect (real server,
 * real SQLite) → grant-repo-access (fake GitHub) → comment and resolve on the fake Linear; redelivery changes nothing;
 * rate limits and 5xx on the comment retry without a double comment. Plus the ticket ops and error mapping directly
 * against the fake.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinearApi, LinearRequestError } from '../../src/trackers/linear/linear-api.js';
import { commentMarker, linearTicketOps } from '../../src/trackers/linear/linear-ticket-ops.js';
import { signLinearBody } from '../../src/trackers/linear/linear-verify.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { rateLimited, startFakeLinear, type FakeLinear, type FakeLinearIssue } from '../support/fake-linear.js';
import { startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';

const SECRET = 'linear-e2e-secret';
/** Numbers the GitHub users of the retry cases (each run invites a new one). */
let issue_n = 1;

async function postLinear(url: string, body: unknown, delivery = randomUUID()) {
  const raw = JSON.stringify(body);
  const response = await fetch(`${url}/webhooks/linear`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', 'linear-delivery': delivery, 'linear-event': 'Issue', 'linear-signature': signLinearBody(raw, SECRET) },
    body: raw,
  });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

const ACCESS_REQUEST = 'Hi platform team,\nI need to push a fix.\n\n**Repository**: acme/payments-api\n**Permission**: write\n**GitHub user**: jdoe-acme';

describe('Linear end to end', () => {
  let linear: FakeLinear;
  let github: FakeGitHub;
  let deflect: DeflectUnderTest;

  beforeAll(async () => {
    linear = await startFakeLinear();
    github = await startFakeGitHub();
    linear.team('ENG').labels.push({ id: randomUUID(), name: 'access-request' });
    deflect = await startDeflect({
      env: {
        DEFLECT_LINEAR_WEBHOOK_SECRET: SECRET,
        LINEAR_API_KEY: linear.apiKey,
        LINEAR_API_URL: linear.url,
        GITHUB_TOKEN: github.token,
        GITHUB_API_URL: github.url,
        DEFLECT_RETRY_BASE_MS: '50',
        // The wait before checking an ambiguous (5xx) outcome is JIRA_TIMEOUT_MS, whatever the tracker.
        JIRA_TIMEOUT_MS: '500',
      },
    });
  });
  afterAll(async () => {
    await deflect?.close(1000);
    await linear?.close();
    await github?.close();
  });

  /** Adds the `access-request` label to `issue` in the fake and returns the webhook Linear would send for it. */
  const labelled = (issue: FakeLinearIssue) => {
    const before = [...issue.labelIds];
    issue.labelIds.push(linear.team('ENG').labels.find((l) => l.name === 'access-request')!.id);
    return linear.webhookPayload(issue, 'update', { labelIds: before, updatedAt: issue.updatedAt });
  };
  const runsOf = (key: string) => deflect.db.sqlite!.$client.prepare('SELECT * FROM runs WHERE ticket_key = ? ORDER BY id').all(key) as Array<Record<string, any>>;
  const finished = (key: string) => {
    const rows = runsOf(key);
    return rows.length > 0 && rows.every((r) => !['queued', 'running'].includes(r.status)) ? rows : null;
  };
  const actionsOf = (runId: number) => deflect.db.sqlite!.$client.prepare('SELECT kind, status FROM actions WHERE run_id = ? ORDER BY seq').all(runId);

  it('a label added in Linear runs the handler, which comments and resolves the issue on Linear; a redelivery changes nothing', async () => {
    const issue = linear.seedIssue({ title: 'Access to payments-api', description: ACCESS_REQUEST, labels: ['Bug'] });
    const delivery = randomUUID();
    const answer = await postLinear(deflect.url, labelled(issue), delivery);
    expect(answer).toMatchObject({ status: 200, json: { status: 'accepted' } });

    const [run] = await waitFor(`the ${issue.identifier} run`, () => finished(issue.identifier));
    expect(run).toMatchObject({ status: 'succeeded', handler: 'grant-repo-access', attempts: 1 });
    expect(run.reason).toContain('access-request');
    expect(github.invitations('acme/payments-api')).toEqual([expect.objectContaining({ invitee: 'jdoe-acme', permission: 'push' })]);
    expect(issue.comments).toHaveLength(1);
    // Values in the comment are Markdown-escaped (literal text): compare unescaped.
    expect(issue.comments[0].body.replace(/\\(.)/g, '$1')).toContain('Invitation sent for **acme/payments-api**');
    expect(issue.comments[0].body.trimEnd().split('\n').at(-1)).toMatch(/^\*deflect ref [0-9a-f]{12}\*$/);
    expect(linear.stateName(issue)).toBe('Done');
    expect(actionsOf(run.id)).toEqual([
      { kind: 'github.add_collaborator', status: 'applied' },
      { kind: 'comment', status: 'applied' },
      { kind: 'transition', status: 'applied' },
    ]);
    const ticket = deflect.db.sqlite!.$client.prepare('SELECT id, tracker, key, project, labels FROM tickets WHERE issue_id = ?').get(issue.id) as Record<string, string>;
    expect(ticket).toMatchObject({ id: `linear:linear.app/acme:${issue.id}`, tracker: 'linear', key: issue.identifier, project: 'ENG' });
    expect(JSON.parse(ticket.labels)).toEqual(['Bug', 'access-request']);

    const requests = linear.requests.length;
    const again = await postLinear(deflect.url, linear.webhookPayload(issue, 'update', { labelIds: [issue.labelIds[0]] }), delivery);
    expect(again.json.status).toBe('duplicate');
    await new Promise((r) => setTimeout(r, 300));
    expect(runsOf(issue.identifier)).toHaveLength(1);
    expect(issue.comments).toHaveLength(1);
    expect(linear.requests.length).toBe(requests);
  });

  it('retries a rate-limited comment (HTTP 400 RATELIMITED) and one answered 500, posting the comment once', async () => {
    for (const fault of [rateLimited(100), { status: 500 }]) {
      const issue = linear.seedIssue({ title: 'Access again', description: ACCESS_REQUEST.replace('jdoe-acme', `user-${issue_n++}`) });
      let faulted = 0;
      linear.setFault((req) => ((req.body as { query?: string })?.query?.includes('DeflectCommentCreate') && faulted++ === 0 ? fault : undefined));
      await postLinear(deflect.url, labelled(issue));
      const [run] = await waitFor(`the ${issue.identifier} run`, () => finished(issue.identifier));
      linear.setFault(undefined);
      expect(run).toMatchObject({ status: 'succeeded', attempts: 2 });
      expect(issue.comments).toHaveLength(1);
      expect(linear.stateName(issue)).toBe('Done');
      // A failed comment's outcome is checked before it is sent again: the retry looked for it by its marker once.
      const lookups = linear.operations('DeflectIssueComments').filter((r) => (r.body as { variables: { id: string } }).variables.id === issue.id);
      expect(lookups).toHaveLength(1);
    }
  });
});

describe('Linear ticket ops against the fake', () => {
  let linear: FakeLinear;
  beforeAll(async () => {
    linear = await startFakeLinear();
  });
  afterAll(async () => linear?.close());

  it('comments with a findable marker, transitions by name or state type, labels by name, assigns', async () => {
    const issue = linear.seedIssue({ teamKey: 'OPS', labels: ['Bug'] });
    const ops = linearTicketOps(createLinearApi({ apiKey: linear.apiKey, apiUrl: linear.url }), issue.id);
    const { id } = await ops.comment('plain *text*', { idempotencyKey: 'k-1', runId: 1 });
    expect(issue.comments[0].body).toBe(`plain \\*text\\*\n\n${commentMarker('k-1')}`);
    expect(await ops.findComment('k-1')).toEqual({ id });
    expect(await ops.findComment('k-2')).toBeNull();

    expect(await ops.transition('in progress')).toMatchObject({ name: 'In Progress' });
    expect(await ops.currentStatus()).toBe('In Progress');
    expect(await ops.transition('completed')).toMatchObject({ name: 'Done', type: 'completed' });
    expect(await ops.transition('Done')).toEqual({ alreadyIn: 'Done' });
    await expect(ops.transition('Shipped')).rejects.toThrow(/no workflow state "Shipped" on Linear team OPS \(states: Backlog \(backlog\), Todo \(unstarted\), In Progress \(started\), Done \(completed\), Canceled \(canceled\)\)/);

    await ops.editLabels(['feature', 'Platform'], ['bug', 'never-existed']);
    expect(linear.labelNames(issue).sort()).toEqual(['Feature', 'Platform']);
    await expect(ops.editLabels(['no-such-label'], [])).rejects.toThrow(/unknown Linear label\(s\) "no-such-label" for team OPS/);
    await ops.assign('user-42');
    expect(issue.assigneeId).toBe('user-42');
    await ops.assign(null);
    expect(issue.assigneeId).toBeNull();
  });

  it('maps failures: bad key → permanent 401; rate limit → transient with the reset; 5xx and no answer → transient and ambiguous', async () => {
    const issue = linear.seedIssue();
    const bad = linearTicketOps(createLinearApi({ apiKey: 'wrong', apiUrl: linear.url }), issue.id);
    const denied = await bad.currentStatus().catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(LinearRequestError);
    expect(denied).toMatchObject({ status: 401, transient: false });
    expect(bad.isAmbiguous(denied)).toBe(false);

    const ops = linearTicketOps(createLinearApi({ apiKey: linear.apiKey, apiUrl: linear.url }), issue.id);
    linear.setFault(() => rateLimited(5_000));
    const limited = (await ops.currentStatus().catch((e: unknown) => e)) as LinearRequestError;
    expect(limited).toMatchObject({ status: 400, transient: true, code: 'RATELIMITED' });
    expect(limited.retryAfterMs).toBeGreaterThan(3_000);
    expect(ops.isAmbiguous(limited)).toBe(false);
    linear.setFault(() => ({ status: 503 }));
    const unavailable = await ops.currentStatus().catch((e: unknown) => e);
    expect(unavailable).toMatchObject({ status: 503, transient: true });
    expect(ops.isAmbiguous(unavailable)).toBe(true);
    linear.setFault(() => ({ reset: true }));
    const reset = await ops.currentStatus().catch((e: unknown) => e);
    expect(reset).toMatchObject({ status: null, transient: true });
    expect(ops.isAmbiguous(reset)).toBe(true);
    const slow = linearTicketOps(createLinearApi({ apiKey: linear.apiKey, apiUrl: linear.url, timeoutMs: 200 }), issue.id);
    linear.setFault(() => ({ delayMs: 1_000 }));
    const timedOut = await slow.currentStatus().catch((e: unknown) => e);
    expect(timedOut).toMatchObject({ status: null, transient: true, message: expect.stringMatching(/no answer within the time limit/) });
    expect(slow.isAmbiguous(timedOut)).toBe(true);
    linear.setFault(undefined);
    await expect(linearTicketOps(createLinearApi({ apiKey: linear.apiKey, apiUrl: linear.url }), 'ENG-999').currentStatus()).rejects.toMatchObject({ transient: false });
  });
});
