/**
 * The GitHub client (src/integrations/github.ts, over @octokit/core) against the fake GitHub over a real socket: the
 * requests it sends, GitHub's answers mapped to results, and failures mapped to GitHubRequestError (transient or not,
 * retry-after, hint), as the run executor classifies them.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGitHubApi, GitHubRequestError, toGitHubRequestError, type GitHubApi } from '../../src/integrations/github.js';
import { isTransient, retryAfterOf } from '../../src/worker/execute-run.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';

let fake: FakeGitHub;
let github: GitHubApi;

const failure = (promise: Promise<unknown>) => promise.then(() => expect.unreachable('expected a failure'), (error: unknown) => error as GitHubRequestError);

beforeAll(async () => {
  fake = await startFakeGitHub({ orgMembers: ['member-1'] });
  github = createGitHubApi({ baseUrl: fake.url, token: fake.token, timeoutMs: 300 });
});
afterAll(async () => fake.close());
beforeEach(() => fake.setFault(undefined));

describe('GitHub client', () => {
  it('adds a collaborator: 201 invitation for an outsider (the same one when repeated), 204 for an org member', async () => {
    const first = await github.addCollaborator('acme/api', 'octocat', 'write');
    expect(first).toMatchObject({ status: 201, outcome: 'invited', permission: 'push', invitationUrl: 'https://github.com/acme/api/invitations' });
    const [request] = fake.requestsTo('PUT', '/repos/acme/api/collaborators/octocat');
    expect(request.body).toEqual({ permission: 'push' });
    expect(request.headers.authorization).toBe(`token ${fake.token}`);
    expect(request.headers['user-agent']).toMatch(/^deflect/);

    const again = await github.addCollaborator('acme/api', 'octocat', 'maintain');
    expect(again).toMatchObject({ status: 201, invitationId: first.invitationId, permission: 'maintain' });
    expect(fake.invitations('acme/api')).toEqual([expect.objectContaining({ invitee: 'octocat', permission: 'maintain' })]);

    expect(await github.addCollaborator('acme/api', 'member-1', 'read')).toEqual({ status: 204, outcome: 'granted', invitationId: null, invitationUrl: null, permission: 'pull' });
    expect(fake.repository('acme/api')!.collaborators.get('member-1')).toBe('pull');
  });

  it('creates a repository from a template, and recognises its own repository when a retry hits "name already exists"', async () => {
    const request = { template: 'acme/template-service', owner: 'acme', name: 'ledger', private: true, description: 'Requested in PLAT-1', marker: 'deflect K:1' };
    const created = await github.createFromTemplate(request);
    expect(created).toEqual({
      created: true, fullName: 'acme/ledger', htmlUrl: 'https://github.com/acme/ledger', sshUrl: 'git@github.com:acme/ledger.git',
      private: true, defaultBranch: 'main', template: 'acme/template-service',
    });
    expect(fake.requestsTo('POST', '/repos/acme/template-service/generate')[0].body).toEqual({
      owner: 'acme', name: 'ledger', private: true, description: 'Requested in PLAT-1 (deflect K:1)',
    });
    // The same request again (an unknown outcome retried): GitHub says 422, the repository carries our marker → ours.
    expect(await github.createFromTemplate(request)).toMatchObject({ created: false, fullName: 'acme/ledger' });

    // Someone else's repository with that name: the 422 stands, with GitHub's validation message.
    const clash = await failure(github.createFromTemplate({ ...request, marker: 'deflect OTHER:1' }));
    expect(clash).toMatchObject({ name: 'GitHubRequestError', status: 422, transient: false, hint: 'Repository creation failed. (name already exists on this account)' });
    expect(clash.message).toBe('GitHub POST /repos/acme/template-service/generate → 422: Repository creation failed. (name already exists on this account)');
  });

  it('gives a team a role on a repository', async () => {
    expect(await github.addTeamToRepository('acme', 'payments', 'acme/web', 'admin')).toEqual({ team: 'acme/payments', permission: 'admin' });
    expect(fake.repository('acme/web')!.teams.get('acme/payments')).toBe('admin');
  });

  it('maps 4xx to permanent errors with a hint, and 5xx, rate limits, timeouts and resets to transient ones', async () => {
    const unknownTemplate = await failure(github.createFromTemplate({ template: 'acme/template-nope', owner: 'acme', name: 'x', private: true }));
    expect(unknownTemplate).toMatchObject({ status: 404, transient: false });
    expect(unknownTemplate.message).toMatch(/→ 404: Not Found — hint: template repository not found or not visible to the token/);
    expect(isTransient(unknownTemplate)).toBe(false);

    const badToken = await failure(createGitHubApi({ baseUrl: fake.url, token: 'wrong' }).addCollaborator('acme/api', 'octocat', 'read'));
    expect(badToken).toMatchObject({ status: 401, transient: false, hint: 'check GITHUB_TOKEN (missing, expired or revoked)' });
    expect(badToken.message).not.toContain('wrong');

    fake.setFault(() => ({ status: 403, body: { message: 'Resource not accessible by personal access token', documentation_url: 'https://docs.github.com/rest' } }));
    expect(await failure(github.addCollaborator('acme/api', 'octocat', 'read'))).toMatchObject({ status: 403, transient: false, hint: expect.stringMatching(/lacks a scope/) });

    fake.setFault(() => ({ status: 503, body: { message: 'Service Unavailable' } }));
    const unavailable = await failure(github.addCollaborator('acme/api', 'octocat', 'read'));
    expect(unavailable).toMatchObject({ status: 503, transient: true, retryAfterMs: null });
    expect(isTransient(unavailable)).toBe(true);

    fake.setFault(() => ({ status: 429, headers: { 'retry-after': '3' }, body: { message: 'You have exceeded a secondary rate limit.' } }));
    const limited = await failure(github.addCollaborator('acme/api', 'octocat', 'read'));
    expect(limited).toMatchObject({ status: 429, transient: true, retryAfterMs: 3000 });
    expect(retryAfterOf(new Error('handler wrapped it', { cause: limited }))).toBe(3000);

    fake.setFault(() => ({ delayMs: 600 }));
    const slow = await failure(github.addCollaborator('acme/api', 'octocat', 'read'));
    expect(slow).toMatchObject({ status: null, transient: true });
    expect(slow.message).toMatch(/timed out after 300 ms/);

    fake.setFault(() => ({ reset: true }));
    expect(await failure(github.addCollaborator('acme/api', 'octocat', 'read'))).toMatchObject({ status: null, transient: true });
  });

  it('reads the primary rate limit from x-ratelimit-reset (403 with x-ratelimit-remaining: 0)', () => {
    const now = 1_700_000_000_000;
    const error = toGitHubRequestError(
      { name: 'HttpError', status: 403, message: 'API rate limit exceeded', response: { status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 42) }, data: { message: 'API rate limit exceeded for user ID 1.' } } },
      { method: 'PUT', path: '/repos/acme/api/collaborators/octocat' },
      now,
    );
    expect(error).toMatchObject({ status: 403, transient: true, retryAfterMs: 42_000, hint: null });
  });
});
