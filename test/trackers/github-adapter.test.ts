/**
 * The GitHub Issues adapter piece by piece: signature verification (rotation, malformed headers), event parsing edge
 * cases (pull requests, missing header, bad shapes → InvalidEventError naming the field), delivery keys, the REST issue
 * mapping, and the ticket ops against the fake GitHub (a real HTTP server) including faults.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitHubRequestError } from '../../src/integrations/github.js';
import { createGitHubIssuesClient, type GitHubIssuesClient } from '../../src/trackers/github/github-client.js';
import { githubTicketOps } from '../../src/trackers/github/github-ticket-ops.js';
import { githubTracker } from '../../src/trackers/github/github-tracker.js';
import { signGitHubBody } from '../../src/trackers/github/verify-github-delivery.js';
import { trackerNamed } from '../../src/trackers/index.js';
import { InvalidEventError, InvalidIssueError } from '../../src/trackers/tracker.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';

const repository = { full_name: 'acme/web', html_url: 'https://github.com/acme/web' };
const issue = {
  id: 9001,
  number: 12,
  title: 'Reset DEPLOY_TOKEN',
  body: 'Token: DEPLOY_TOKEN',
  state: 'open',
  labels: [{ name: 'Token-Reset' }, { name: 'ci' }],
  user: { login: 'octocat' },
  html_url: 'https://github.com/acme/web/issues/12',
  repository_url: 'https://api.github.com/repos/acme/web',
  created_at: '2026-01-02T03:04:05Z',
  updated_at: '2026-01-03T00:00:00Z',
  closed_at: null,
};
const parse = (event: string | undefined, body: unknown) => githubTracker.parseEvent(body, event === undefined ? {} : { 'x-github-event': event });

describe('X-Hub-Signature-256 verification', () => {
  const body = Buffer.from(JSON.stringify({ action: 'opened' }));
  const verify = (headers: Record<string, string>, secrets: string[], chunks = [body]) => {
    const v = githubTracker.createVerifier(headers, secrets, []);
    if (v.early) return v.early;
    for (const c of chunks) v.update(c);
    return v.finish();
  };

  it('accepts the signature of any configured secret (rotation), computed over chunks as they stream in', () => {
    const sig = signGitHubBody(body, 'new-secret');
    expect(verify({ 'x-hub-signature-256': sig }, ['old-secret', 'new-secret'], [body.subarray(0, 5), body.subarray(5)])).toEqual({ ok: true, method: 'signature' });
    expect(verify({ 'x-hub-signature-256': sig.toUpperCase().replace('SHA256', 'sha256') }, ['new-secret'])).toEqual({ ok: true, method: 'signature' });
  });

  it('refuses a wrong signature, and refuses a missing or malformed header before the body is read', () => {
    expect(verify({ 'x-hub-signature-256': signGitHubBody(body, 'other') }, ['s'])).toMatchObject({ ok: false, message: expect.stringMatching(/does not match/) });
    const missing = githubTracker.createVerifier({}, ['s'], []);
    expect(missing.early).toMatchObject({ ok: false, message: expect.stringMatching(/requires an X-Hub-Signature-256 header/) });
    for (const bad of ['sha1=' + 'a'.repeat(40), 'sha256=zz', 'sha256=' + 'a'.repeat(63), signGitHubBody(body, 's').slice(7)]) {
      const v = githubTracker.createVerifier({ 'x-hub-signature-256': bad }, ['s'], []);
      expect(v.early, bad).toMatchObject({ ok: false, message: expect.stringMatching(/malformed X-Hub-Signature-256/) });
      expect(v.early!.ok === false && v.early!.message).not.toContain('s=');
    }
    // The Jira header is not GitHub's.
    expect(githubTracker.createVerifier({ 'x-hub-signature': signGitHubBody(body, 's') }, ['s'], []).early?.ok).toBe(false);
  });
});

describe('parsing GitHub deliveries', () => {
  it('normalises issues.labeled: kind updated, label lower-cased, ticket keyed owner/repo#n, no timestamp', () => {
    const event = parse('issues', { action: 'labeled', issue, repository, label: { name: 'Token-Reset' }, sender: { login: 'hubot' } });
    expect(event).toMatchObject({ event: 'issues.labeled', kind: 'updated', timestamp: null, actor: 'hubot', labelsAdded: ['token-reset'], labelsRemoved: [], siteHost: 'github.com' });
    expect(event.ticket).toEqual({
      tracker: 'github',
      id: '9001',
      key: 'acme/web#12',
      project: 'acme/web',
      issueType: 'issue',
      status: 'open',
      labels: ['Token-Reset', 'ci'],
      summary: 'Reset DEPLOY_TOKEN',
      description: 'Token: DEPLOY_TOKEN',
      reporter: 'octocat',
      reporterId: 'octocat',
      created: Date.parse('2026-01-02T03:04:05Z'),
      updated: Date.parse('2026-01-03T00:00:00Z'),
      resolved: null,
      siteUrl: 'https://github.com',
    });
    expect(parse('issues', { action: 'unlabeled', issue, repository, label: { name: 'CI' } })).toMatchObject({ labelsAdded: [], labelsRemoved: ['ci'] });
  });

  it('gives each action its kind: opened created; edits updated; deleted, transferred, comments, ping and other events other', () => {
    const kindOf = (event: string, action?: string) => parse(event, { ...(action ? { action } : {}), issue, repository }).kind;
    expect(kindOf('issues', 'opened')).toBe('created');
    for (const action of ['edited', 'reopened', 'closed', 'assigned', 'unassigned', 'milestoned']) expect(kindOf('issues', action), action).toBe('updated');
    for (const action of ['deleted', 'transferred']) expect(kindOf('issues', action), action).toBe('other');
    expect(kindOf('issue_comment', 'created')).toBe('other');
    expect(parse('ping', { zen: 'Keep it logically awesome.', hook_id: 1 })).toMatchObject({ event: 'ping', kind: 'other', ticket: null });
    expect(parse('push', { ref: 'refs/heads/main' })).toMatchObject({ event: 'push', kind: 'other', ticket: null });
    expect(parse('issues', { action: 'deflect_reconciled', issue, repository }).kind).toBe('other');
  });

  it('treats a pull request as no ticket', () => {
    const pr = { ...issue, pull_request: { url: 'https://api.github.com/repos/acme/web/pulls/12' } };
    expect(parse('issue_comment', { action: 'created', issue: pr, repository, comment: { body: 'hi' } })).toMatchObject({ kind: 'other', ticket: null, event: 'issue_comment.created' });
    expect(() => githubTracker.issueToTicket(pr)).toThrow(/pull request/);
  });

  it('refuses a missing X-GitHub-Event and bad shapes with InvalidEventError naming the field path', () => {
    expect(() => parse(undefined, { action: 'opened', issue, repository })).toThrow(InvalidEventError);
    expect(() => parse(undefined, { action: 'opened', issue, repository })).toThrow(/missing X-GitHub-Event/);
    expect(() => parse('issues<script>', {})).toThrow(/invalid X-GitHub-Event/);
    expect(() => parse('issues', [1])).toThrow(/must be a JSON object/);
    const cases: Array<[unknown, string]> = [
      [{ issue, repository }, 'action'],
      [{ action: 'opened', repository }, 'issue'],
      [{ action: 'opened', issue: { ...issue, number: -1 }, repository }, 'issue.number'],
      [{ action: 'opened', issue: { ...issue, labels: 'bug' }, repository }, 'issue.labels'],
      [{ action: 'opened', issue: { ...issue, labels: [{ id: 1 }] }, repository }, 'issue.labels.0'],
      [{ action: 'opened', issue, repository: { full_name: 'no-slash' } }, 'repository.full_name'],
      [{ action: 'opened', issue: { ...issue, title: 7 }, repository }, 'issue.title'],
    ];
    for (const [body, path] of cases) {
      expect(() => parse('issues', body), path).toThrow(new RegExp(`^invalid GitHub issues event: ${path.replace(/\./g, '\\.')}: `));
    }
  });

  it('keys a delivery by X-GitHub-Delivery, else by the body hash; keeps no signature header', () => {
    const event = parse('issues', { action: 'opened', issue, repository });
    expect(githubTracker.deliveryKey(event, { 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' }, 'ff')).toEqual({
      key: 'github:72d3162e-cc78-11e3-81ab-4c9367dc0958',
      identifier: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
    });
    expect(githubTracker.deliveryKey(event, {}, 'ff')).toEqual({ key: 'sha256:ff', identifier: null });
    expect(githubTracker.deliveryKey(event, { 'x-github-delivery': 'bad id with spaces' }, 'ff')).toEqual({ key: 'sha256:ff', identifier: null });
    expect(githubTracker.keptHeaders.some((h) => /signature/.test(h))).toBe(false);
    expect(trackerNamed('github')).toBe(githubTracker);
  });

  it('maps a REST issue (GHE host too) and refuses what is not one with InvalidIssueError', () => {
    const ghe = { ...issue, html_url: 'https://git.acme.corp/platform/requests/3', repository_url: 'https://git.acme.corp/api/v3/repos/platform/requests', number: 3 };
    expect(githubTracker.issueToTicket(ghe)).toMatchObject({ key: 'platform/requests#3', project: 'platform/requests', siteUrl: 'https://git.acme.corp' });
    expect(() => githubTracker.issueToTicket({ ...issue, repository_url: null, html_url: null })).toThrow(/repository_url/);
    expect(() => githubTracker.issueToTicket({ ...issue, id: null })).toThrow(InvalidIssueError);
    expect(() => githubTracker.issueToTicket('acme/web#12')).toThrow(InvalidIssueError);
  });
});

describe('GitHub ticket ops on the fake GitHub', () => {
  let github: FakeGitHub;
  let client: GitHubIssuesClient;
  beforeAll(async () => {
    github = await startFakeGitHub();
    client = createGitHubIssuesClient({ baseUrl: github.url, token: github.token, timeoutMs: 300 });
  });
  afterAll(async () => github?.close());

  it('comments with a hidden marker and finds the comment by it across pages', async () => {
    const seeded = github.seedIssue('acme/api', { labels: ['bug'] });
    const ops = githubTicketOps(client, `acme/api#${seeded.number}`);
    for (let i = 0; i < 105; i++) seeded.comments.push({ id: 50_000 + i, body: `filler ${i}`, user: 'someone', createdAt: new Date().toISOString() });
    const { id } = await ops.comment('Plain text with <b>html</b> and -->', { idempotencyKey: 'run-1:1:comment', runId: 1 });
    const body = github.issue('acme/api', seeded.number)!.comments.at(-1)!.body;
    expect(body).toContain('<!-- deflect:action run-1:1:comment -->');
    expect(body).not.toContain('<b>');
    expect(body.match(/-->/g)).toHaveLength(1);
    expect(await ops.findComment('run-1:1:comment')).toEqual({ id });
    expect(await ops.findComment('run-1:2:comment')).toBeNull();
    expect(github.requestsTo('GET', `/repos/acme/api/issues/${seeded.number}/comments`).length).toBeGreaterThanOrEqual(3);
  });

  it('closes and reopens by status name, answers alreadyIn, and lists what is possible otherwise', async () => {
    const seeded = github.seedIssue('acme/api');
    const ops = githubTicketOps(client, `acme/api#${seeded.number}`);
    expect(await ops.transition('Done')).toEqual({ state: 'closed', stateReason: 'completed' });
    expect(github.issue('acme/api', seeded.number)).toMatchObject({ state: 'closed', stateReason: 'completed' });
    expect(await ops.transition('resolved')).toEqual({ alreadyIn: 'closed' });
    expect(await ops.currentStatus()).toBe('closed');
    expect(await ops.transition('Reopened')).toEqual({ state: 'open' });
    await expect(ops.transition('In Progress')).rejects.toThrow(/GitHub issues are open or closed \(use one of: closed, close, done/);
  });

  it('assigns (null unassigns) and edits labels; removing an absent label is fine', async () => {
    const seeded = github.seedIssue('acme/api', { labels: ['token-reset'] });
    const ops = githubTicketOps(client, `acme/api#${seeded.number}`);
    await ops.assign('hubot');
    expect(github.issue('acme/api', seeded.number)!.assignees).toEqual(['hubot']);
    await ops.assign(null);
    expect(github.issue('acme/api', seeded.number)!.assignees).toEqual([]);
    await ops.editLabels(['automated'], ['token-reset', 'never-there']);
    expect(github.issue('acme/api', seeded.number)!.labels).toEqual(['automated']);
  });

  it('maps failures: 404 permanent, rate limit transient with retryAfterMs, 5xx and timeouts ambiguous', async () => {
    const ops = githubTicketOps(client, 'acme/api#999');
    const notFound = await ops.currentStatus().catch((e) => e);
    expect(notFound).toBeInstanceOf(GitHubRequestError);
    expect(notFound).toMatchObject({ status: 404, transient: false });
    expect(ops.isAmbiguous(notFound)).toBe(false);

    const seeded = github.seedIssue('acme/api');
    const live = githubTicketOps(client, `acme/api#${seeded.number}`);
    const reset = String(Math.floor(Date.now() / 1000) + 30);
    github.setFault(() => ({ status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }, body: { message: 'API rate limit exceeded' } }));
    const limited = await live.currentStatus().catch((e) => e);
    expect(limited).toMatchObject({ status: 403, transient: true });
    expect(limited.retryAfterMs).toBeGreaterThan(20_000);
    expect(live.isAmbiguous(limited)).toBe(false);

    github.setFault(() => ({ status: 502 }));
    const bad = await live.comment('x', { idempotencyKey: 'k', runId: 1 }).catch((e) => e);
    expect(bad).toMatchObject({ status: 502, transient: true });
    expect(live.isAmbiguous(bad)).toBe(true);

    github.setFault(() => ({ delayMs: 1_000 }));
    const slow = await live.comment('x', { idempotencyKey: 'k2', runId: 1 }).catch((e) => e);
    expect(slow).toMatchObject({ status: null, transient: true });
    expect(slow.message).toMatch(/timed out after 300 ms/);
    expect(live.isAmbiguous(slow)).toBe(true);
    github.setFault(undefined);

    await expect(githubTicketOps(client, 'not-a-key').currentStatus()).rejects.toThrow(/not a GitHub issue key/);
  });
});
