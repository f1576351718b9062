/**
 * Rule scope end to end on the pass's backend (a real SQLite file or PostgreSQL database: test-backend.ts), with group lookups against a fake membership server (real HTTP on
 * 127.0.0.1): a delivery whose rule has `groups` waits `pending` at receipt (no network inside the receipt
 * transaction), the worker routes it once the lookup answered; a member gets the handler's run, a non-member none and
 * one early-access comment (the built-in scope-message run, recorded as a planned action in dry run) per ticket and
 * rule, ever; a failing lookup routes the delivery out of scope with the reason, never a crash. Also the three
 * trackers' lookups themselves (Jira Cloud and Data Center groups, GitHub team membership, Linear teams).
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineHandler } from '../../src/automation/define-handler.js';
import type { NewDelivery } from '../../src/db/deliveries.js';
import type { Store } from '../../src/db/store.js';
import { jiraConfigOf } from '../../src/jira/jira-config.js';
import { RecordAndRoute } from '../../src/pipeline/record-and-route.js';
import type { RoutingOptions } from '../../src/pipeline/route-event.js';
import { parseRules } from '../../src/rules/rules-file.js';
import { githubTeamLookup, jiraGroupLookup, linearTeamLookup, type GroupDirectory } from '../../src/scope/group-directory.js';
import { MembershipCache } from '../../src/scope/membership-cache.js';
import { createScopeMessageHandler, SCOPE_MESSAGE_HANDLER } from '../../src/scope/scope-message-handler.js';
import { createGitHubIssuesClient } from '../../src/trackers/github/github-client.js';
import { jiraTracker } from '../../src/trackers/jira/jira-tracker.js';
import { createLinearApi } from '../../src/trackers/linear/linear-api.js';
import type { JiraConfig } from '../../src/jira/jira-config.js';
import { Worker } from '../../src/worker/worker.js';
import { startFakeMemberships, type FakeMemberships } from '../support/fake-memberships.js';
import { SITE, tokenResetEvent } from '../reliability/helpers.js';
import { freshDatabase } from '../support/test-backend.js';

const probe = defineHandler({ name: 'grant-repo-access', description: 'probe', input: z.object({}), run: async () => ({ summary: 'ran' }) });
const rules = parseRules(
  `rules:
  - name: early
    labels: [ci-token]
    handler: grant-repo-access
    groups: [platform-early]
    scopeMessage: "Ask #platform-help to join."
`,
  'rules.yaml',
  ['grant-repo-access'],
);

let fake: FakeMemberships;
let db: Store;
let membership: MembershipCache;
let worker: Worker;
let seq = 0;
const logger = pino({ level: 'silent' });
const jiraCloud = () => jiraConfigOf({ JIRA_BASE_URL: fake.url, JIRA_EMAIL: 'bot@acme.test', JIRA_API_TOKEN: 'token-not-logged' }) as JiraConfig;

/** A stored-able `jira:issue_created` delivery for `key` reported by `reporter`, labelled ci-token. */
function received(key: string, reporter: string): [NewDelivery, ReturnType<typeof jiraTracker.parseEvent>] {
  seq++;
  const body = tokenResetEvent(key, String(90_000 + seq));
  body.issue.fields.reporter = { accountId: reporter, displayName: reporter };
  const text = JSON.stringify(body);
  const now = Date.now();
  return [
    { deliveryKey: `scope-test:${seq}`, webhookIdentifier: null, event: body.webhookEvent, issueKey: key, headers: {}, body: text, eventTimestamp: body.timestamp, receivedAt: now, dedupeBodySince: now - 60_000 },
    jiraTracker.parseEvent(body),
  ];
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  fake = await startFakeMemberships({
    jira: { 'acc-member': ['jira-users', 'Platform-Early'], 'acc-out': ['jira-users'], 'dc.user@acme.test': ['platform-early'] },
    github: { 'acme/early': ['octocat', 'invited:pending'] },
    linear: { 'user-1': [{ key: 'ENG', name: 'Engineering' }] },
  });
  db = await (await freshDatabase('deflect-scope-')).open();
  const directory: GroupDirectory = { jira: jiraGroupLookup(jiraCloud(), 2000) };
  membership = new MembershipCache({ directory, ttlMs: 600_000, logger, onResolved: () => worker.wake() });
  worker = new Worker({
    db, rules, handlers: [probe, createScopeMessageHandler(() => rules)], api: null, logger, dryRun: true, maxAttempts: 2,
    handlerTimeoutMs: 2000, concurrency: 2, selfAccountId: null, siteUrl: SITE, pollMs: 50, membership,
  });
  await worker.start();
});
afterAll(async () => {
  await worker.stop(1000);
  await fake.close();
});

describe('rule scope in routing', () => {
  const routing = (): RoutingOptions => ({ rules, dryRun: true, maxAttempts: 2, selfAccountId: null, logger, siteUrl: SITE, membership });

  it('leaves a delivery pending at receipt until the group lookup answered, then the worker routes a member to the handler', async () => {
    const intake = new RecordAndRoute(db, { routing: routing() });
    const recorded = await intake.record(...received('SC-1', 'acc-member'));
    // Committed without any lookup inside the transaction: still pending right after the 2xx would be sent.
    expect((await db.findDelivery(recorded.id))!.status).toBe('pending');
    const delivery = await until(async () => (await db.findDelivery(recorded.id))!, (d) => d.status !== 'pending', 'routing after the lookup');
    expect(delivery).toMatchObject({ status: 'routed', reason: expect.stringContaining('in scope: group platform-early') });
    const runs = await until(() => db.listRuns({ ticketKey: 'SC-1' }), (r) => r.length === 1 && r[0].status === 'planned', 'the run');
    expect(runs[0].handler).toBe('grant-repo-access');
    expect(fake.requests.filter((r) => r.path === '/rest/api/3/user/groups' && r.query.accountId === 'acc-member')).toHaveLength(1);
    // A second delivery of the same reporter is routed at receipt from the cache: no new lookup.
    const again = await intake.record(...received('SC-2', 'acc-member'));
    expect((await db.findDelivery(again.id))!.status).toBe('routed');
    expect(fake.requests.filter((r) => r.query.accountId === 'acc-member')).toHaveLength(1);
  });

  it('routes a non-member out of scope with the reason and comments the scopeMessage once per ticket and rule', async () => {
    const intake = new RecordAndRoute(db, { routing: routing() });
    const first = await intake.record(...received('SC-3', 'acc-out'));
    const delivery = await until(async () => (await db.findDelivery(first.id))!, (d) => d.status !== 'pending', 'routing');
    expect(delivery.status).toBe('ignored');
    expect(delivery.reason).toContain('reporter acc-out is not in the scope of rule early #1 (groups)');
    expect(delivery.reason).toContain('early-access comment queued');
    const second = await intake.record(...received('SC-3', 'acc-out'));
    await until(async () => (await db.findDelivery(second.id))!, (d) => d.status !== 'pending', 'routing of the second delivery');
    expect((await db.findDelivery(second.id))!.reason).not.toContain('early-access comment queued');
    const runs = await until(() => db.listRuns({ ticketKey: 'SC-3' }), (r) => r.length === 1 && r[0].status === 'planned', 'the scope-message run');
    expect(runs.map((r) => r.handler)).toEqual([SCOPE_MESSAGE_HANDLER]);
    const actions = await db.listActionsForRuns(runs.map((r) => r.id));
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({ kind: 'comment', status: 'planned' });
    expect(JSON.stringify(actions[0].request)).toContain('Ask #platform-help to join.');
  });

  it('treats a failing lookup as out of scope with the reason (no crash, no 5xx path)', async () => {
    fake.setFault((req) => (req.query.accountId === 'acc-broken' ? { status: 503 } : undefined));
    try {
      const intake = new RecordAndRoute(db, { routing: routing() });
      const recorded = await intake.record(...received('SC-4', 'acc-broken'));
      const delivery = await until(async () => (await db.findDelivery(recorded.id))!, (d) => d.status !== 'pending', 'routing');
      expect(delivery.status).toBe('ignored');
      expect(delivery.reason).toContain('group platform-early lookup failed: Jira GET /rest/api/3/user/groups → HTTP 503');
      expect(delivery.reason).not.toContain('token-not-logged');
    } finally {
      fake.setFault(null);
    }
  });
});

describe('group lookups of each tracker', () => {
  it('Jira Cloud and Data Center: group names case-insensitively; an unknown user is an error naming the 404', async () => {
    const cloud = jiraGroupLookup(jiraCloud(), 2000);
    expect(await cloud('acc-member', ['platform-early', 'admins'])).toEqual(new Map([['platform-early', { member: true }], ['admins', { member: false }]]));
    expect((await cloud('nobody', ['platform-early'])).get('platform-early')).toEqual({ error: expect.stringContaining('404') });
    const dc = jiraGroupLookup(jiraConfigOf({ JIRA_BASE_URL: fake.url, JIRA_PAT: 'pat-secret' }) as JiraConfig, 2000);
    expect((await dc('dc.user@acme.test', ['platform-early'])).get('platform-early')).toEqual({ member: true });
    const dcRequest = fake.requests.filter((r) => r.path === '/rest/api/2/user').at(-1)!;
    expect(dcRequest.query).toMatchObject({ username: 'dc.user@acme.test', expand: 'groups' });
    expect(dcRequest.headers.authorization).toBe('Bearer pat-secret');
  });

  it('GitHub: an active team membership counts, a pending invitation or a 404 does not, a malformed group is an error', async () => {
    const github = githubTeamLookup(createGitHubIssuesClient({ baseUrl: fake.url, token: 'gh-token', timeoutMs: 2000 }));
    const answers = await github('octocat', ['acme/early', 'acme/other', 'not-a-team']);
    expect(answers.get('acme/early')).toEqual({ member: true });
    expect(answers.get('acme/other')).toEqual({ member: false });
    expect(answers.get('not-a-team')).toEqual({ error: expect.stringContaining('org/team-slug') });
    expect((await github('invited', ['acme/early'])).get('acme/early')).toEqual({ member: false });
  });

  it('Linear: a team key or name matches; an unknown user is an error', async () => {
    const linear = linearTeamLookup(createLinearApi({ apiKey: 'lin-key', apiUrl: `${fake.url}/graphql`, timeoutMs: 2000 }));
    expect(await linear('user-1', ['eng', 'Engineering', 'Design'])).toEqual(new Map([['eng', { member: true }], ['Engineering', { member: true }], ['Design', { member: false }]]));
    expect((await linear('ghost', ['eng'])).get('eng')).toEqual({ error: expect.stringContaining('Linear') });
  });
});
