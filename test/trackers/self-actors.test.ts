/**
 * Events deflect's own accounts cause are never routed again (no loops): at start-up deflect looks up its GitHub login
 * (`GET /user`) and its Linear user (`viewer`), and a labelled issue whose event was caused by that account is recorded
 * as ignored with the reason, while the same event from a person runs the handler. Real server on a loopback socket,
 * on a fresh database of the pass's backend (test-backend.ts), fake GitHub and fake Linear, deliveries signed as each tracker signs (`deflect replay`'s sign-delivery).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryHeaders } from '../../src/webhooks/sign-delivery.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { startFakeLinear, type FakeLinear } from '../support/fake-linear.js';
import { startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';

const secrets = { webhookSecrets: [], webhookTokens: [], githubWebhookSecrets: ['gh'], linearWebhookSecrets: ['lin'] };

describe("deflect's own events on GitHub and Linear", () => {
  let github: FakeGitHub;
  let linear: FakeLinear;
  let deflect: DeflectUnderTest;
  const post = async (tracker: 'github' | 'linear', value: unknown) => {
    const body = Buffer.from(JSON.stringify(value));
    const response = await fetch(`${deflect.url}/webhooks/${tracker}`, { method: 'POST', headers: deliveryHeaders(tracker, body, secrets, { freshId: true }), body: new Uint8Array(body) });
    expect(response.status).toBe(200);
    return ((await response.json()) as { deliveryId: number }).deliveryId;
  };
  const routed = (id: number) => deflect.database.get<{ status: string; reason: string }>("SELECT status, reason FROM deliveries WHERE id = ? AND status != 'pending'", id);

  beforeAll(async () => {
    github = await startFakeGitHub();
    linear = await startFakeLinear();
    deflect = await startDeflect({
      env: { DEFLECT_GITHUB_WEBHOOK_SECRET: 'gh', DEFLECT_LINEAR_WEBHOOK_SECRET: 'lin', GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url, LINEAR_API_KEY: linear.apiKey, LINEAR_API_URL: linear.url },
    });
  });
  afterAll(async () => {
    await deflect?.close(1000);
    await github?.close();
    await linear?.close();
  });

  it('ignores a GitHub label added by its own login, and routes the same change made by a person', async () => {
    const issue = github.seedIssue('acme/web', { title: 'Access please', body: 'Repository: acme/payments-api\nPermission: read\nGitHub user: hubot', labels: ['access-request'] });
    const payload = (sender: string) => ({
      action: 'labeled',
      issue: { ...issue, id: issue.id, number: issue.number, title: issue.title, body: issue.body, state: 'open', labels: [{ name: 'access-request' }], user: { login: 'hubot' }, created_at: new Date().toISOString(), updated_at: new Date().toISOString(), html_url: `https://github.com/acme/web/issues/${issue.number}` },
      label: { name: 'access-request' },
      repository: { full_name: 'acme/web', html_url: 'https://github.com/acme/web' },
      sender: { login: sender, type: 'User' },
    });
    const own = await post('github', payload('deflect-bot'));
    expect(await waitFor('the own event to be routed', () => routed(own))).toEqual({ status: 'ignored', reason: "ignored: caused by deflect's own GitHub account (deflect-bot)" });
    const person = await post('github', payload('octocat'));
    expect((await waitFor('the person event to be routed', () => routed(person))).status).toBe('routed');
  });

  it("ignores a Linear label added by its own user (the API key's viewer)", async () => {
    const issue = linear.seedIssue({ title: 'Access please', labels: [] });
    const label = { id: 'label-access', name: 'access-request' };
    linear.team('ENG').labels.push(label);
    issue.labelIds.push(label.id);
    const payload = { ...linear.webhookPayload(issue, 'update', { labelIds: [] }), actor: { id: 'user-deflect-bot', name: 'deflect bot', type: 'user' } };
    const own = await post('linear', payload);
    expect(await waitFor('the own event to be routed', () => routed(own))).toEqual({ status: 'ignored', reason: "ignored: caused by deflect's own Linear account (user-deflect-bot)" });
  });
});
