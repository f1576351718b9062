/**
 * The audit trace of runs made by the real pipeline: a signed Jira webhook → deflect (real server, a real SQLite file or
 * PostgreSQL database: test-backend.ts) → the fake GitHub and fake Jira (real HTTP servers), then `GET /api/runs` and `GET /api/runs/:id` over the socket:
 * the delivery authenticated as a webhook, the rule and rules version, the input, the three actions applied in order
 * with their idempotency keys, and the GitHub token never in the answer. A replay of that delivery
 * (`POST /api/deliveries/:id/replay`) is traced as a replay of it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader } from '../support/api-token.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { postWebhook, REPO_ROOT, startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';

const payload = (name: string) => ({ ...JSON.parse(readFileSync(join(REPO_ROOT, 'examples/payloads', name), 'utf8')), timestamp: Date.now() });

describe('audit trace of a pipeline run', () => {
  let jira: FakeJira;
  let github: FakeGitHub;
  let deflect: DeflectUnderTest;
  let auditor: { authorization: string };
  const api = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${deflect.url}${path}`, { ...init, headers: { ...auditor, ...(init.headers ?? {}) } });
    return { status: response.status, text: await response.text() };
  };
  const finishedRuns = async (ticket: string, n: number) => {
    const body = JSON.parse((await api(`/api/runs?ticket=${ticket}`)).text) as { runs: Array<{ id: number; status: string }> };
    return body.runs.length >= n && body.runs.every((r) => !['queued', 'running'].includes(r.status)) ? body.runs : null;
  };

  beforeAll(async () => {
    jira = await startFakeJira();
    github = await startFakeGitHub();
    jira.seedIssue({ key: 'PLAT-101' });
    deflect = await startDeflect({ fakeJira: jira, env: { GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url, DEFLECT_RETRY_BASE_MS: '50' } });
    auditor = await authHeader(deflect.db, 'auditor');
  });
  afterAll(async () => {
    await deflect?.close(1000);
    await jira?.close();
    await github?.close();
  });

  it('traces the webhook delivery, the routing decision, the input and every action; the GitHub token never appears', { timeout: 60_000 }, async () => {
    expect((await postWebhook(deflect.url, payload('01-access-request-created.json'), { identifier: 'audit-trace-1' })).status).toBe(200);
    const [run] = await waitFor('the PLAT-101 run to finish', () => finishedRuns('PLAT-101', 1));
    expect(run.status).toBe('succeeded');
    const answer = await api(`/api/runs/${run.id}`);
    expect(answer.status).toBe(200);
    expect(answer.text).not.toContain(github.token);
    const trace = JSON.parse(answer.text);
    expect(trace.delivery).toMatchObject({ event: 'jira:issue_created', tracker: 'jira', authentication: 'webhook', replayOf: null });
    expect(trace.decision.rule).toBe('repo-access');
    expect(trace.decision.reason).toContain('label access-request → grant-repo-access');
    expect(trace.decision.rulesVersion).toMatch(/^[0-9a-f]{12}$/);
    expect(trace.input.ticket).toMatchObject({ key: 'PLAT-101', labels: ['access-request'] });
    expect(trace.input.options).toMatchObject({ allowedOrgs: ['acme'] });
    expect(trace.actions.map((a: { kind: string; state: string; target: string }) => [a.kind, a.target, a.state])).toEqual([
      ['github.add_collaborator', 'github', 'applied'],
      ['comment', 'PLAT-101', 'applied'],
      ['transition', 'PLAT-101', 'applied'],
    ]);
    expect(trace.actions.map((a: { idempotencyKey: string }) => a.idempotencyKey)).toEqual(trace.actions.map((a: { seq: number; kind: string }) => `${trace.run.idempotencyKey}:${a.seq}:${a.kind}`));
    expect(trace.run.ticketUrl).toBe('https://acme-example.atlassian.net/browse/PLAT-101');
    expect(trace.attempts).toMatchObject({ count: 1, manualRetries: 0 });
  });

  it('a replayed delivery is traced as a replay of the original', { timeout: 60_000 }, async () => {
    const [original] = (await finishedRuns('PLAT-101', 1))!;
    const deliveryId = JSON.parse((await api(`/api/runs/${original.id}`)).text).delivery.id as number;
    const replay = await api(`/api/deliveries/${deliveryId}/replay`, { method: 'POST', headers: await authHeader(deflect.db, 'operator') });
    expect(replay.status).toBe(202);
    const runs = await waitFor('the replayed run to finish', () => finishedRuns('PLAT-101', 2));
    const trace = JSON.parse((await api(`/api/runs/${runs[0].id}`)).text);
    expect(trace.delivery).toMatchObject({ authentication: 'replay', replayOf: deliveryId });
  });
});
