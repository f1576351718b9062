/**
 * `POST /slack/events` through `app.inject` on a real database of the pass's backend (test-backend.ts): refusals (no secret configured, unsigned, bad
 * content type, too large, too deep), the dry run (no Jira: nothing filed, the requester is told what would be), and
 * the configuration the front door depends on (rule `slack:` validation, start-up check, tracker routes refusing).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlers } from '../../handlers/index.js';
import { buildApp, webhookAuthByTracker } from '../../src/app.js';
import type { Store } from '../../src/db/store.js';
import { createLogger } from '../../src/logger.js';
import { parseRules } from '../../src/rules/rules-file.js';
import { checkWebhookAuth } from '../../src/server.js';
import { SlackApi } from '../../src/slack/slack-api.js';
import { waitFor } from '../support/deflect-under-test.js';
import { interactivity, signSlackRequest, startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { freshDatabase, type TestDatabase } from '../support/test-backend.js';

const SECRET = 'route-test-secret';
const logger = createLogger('silent');
const RULES = 'rules:\n  - name: token\n    labels: [token-reset]\n    handler: reset-ci-token\n    slack: { project: OPS, issueType: Task }\n';

function signed(body: string, type: string, secret = SECRET, timestamp = Math.floor(Date.now() / 1000)) {
  return { 'content-type': type, 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signSlackRequest(body, secret, timestamp) };
}

describe('POST /slack/events', () => {
  let database: TestDatabase;
  let db: Store;
  let slack: FakeSlack;
  let unconfigured: FastifyInstance;
  let app: FastifyInstance;
  beforeAll(async () => {
    database = await freshDatabase();
    db = await database.open();
    slack = await startFakeSlack({ users: [{ id: 'U0JANE', name: 'Jane Doe', email: 'jane@acme.example' }] });
    const config = { webhookSecrets: ['s'], webhookTokens: [], bodyLimitBytes: 64 * 1024 };
    unconfigured = await buildApp({ config, db: db, logger });
    const rules = parseRules(RULES, 'rules.yaml', handlers);
    app = await buildApp({
      config: { ...config, slack: { signingSecret: SECRET, botToken: 'xoxb-t', apiUrl: slack.url, command: '/deflect' } },
      db: db,
      logger,
      slack: { slack: new SlackApi({ botToken: 'xoxb-t', apiUrl: slack.url, logger }), rules: () => rules, handlers, jira: null, jiraBaseUrl: null, selfAccountId: null },
    });
  });
  afterAll(async () => {
    await Promise.all([unconfigured?.close(), app?.close(), slack?.close()]);
  });

  it('refuses every request with 401 naming SLACK_SIGNING_SECRET when it is not set', async () => {
    const body = 'command=%2Fdeflect&user_id=U0JANE&trigger_id=t';
    const answer = await unconfigured.inject({ method: 'POST', url: '/slack/events', headers: signed(body, 'application/x-www-form-urlencoded'), payload: body });
    expect(answer.statusCode).toBe(401);
    expect(answer.json().message).toContain('SLACK_SIGNING_SECRET is not set');
  });

  it('refuses unsigned, unsupported, too large and too deep bodies with a 4xx that says why', async () => {
    const unsigned = await app.inject({ method: 'POST', url: '/slack/events', headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(unsigned.statusCode).toBe(401);
    expect(unsigned.json().message).toContain('missing X-Slack-Signature');
    const text = await app.inject({ method: 'POST', url: '/slack/events', headers: signed('hi', 'text/plain'), payload: 'hi' });
    expect(text.statusCode).toBe(415);
    const big = 'x'.repeat(70 * 1024);
    expect((await app.inject({ method: 'POST', url: '/slack/events', headers: signed(big, 'application/json'), payload: big })).statusCode).toBe(413);
    const deep = '['.repeat(100) + ']'.repeat(100);
    const tooDeep = await app.inject({ method: 'POST', url: '/slack/events', headers: signed(deep, 'application/json'), payload: deep });
    expect(tooDeep.statusCode).toBe(400);
    expect(tooDeep.json().message).toContain('nested more than 64 levels');
    const neither = 'foo=bar';
    const unknown = await app.inject({ method: 'POST', url: '/slack/events', headers: signed(neither, 'application/x-www-form-urlencoded'), payload: neither });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().message).toContain('expected a slash command');
  });

  it('in a dry run (no Jira) files nothing and tells the requester what would be filed', async () => {
    const view = { id: 'V-DRY', callback_id: 'deflect_request', private_metadata: JSON.stringify({ rule: 'token' }), state: { values: {
      token: { value: { type: 'plain_text_input', value: 'DEPLOY_TOKEN' } },
      system: { value: { type: 'static_select', selected_option: { value: 'github-actions' } } },
      reason: { value: { type: 'plain_text_input', value: 'expired' } },
    } } };
    const body = interactivity({ type: 'view_submission', user: { id: 'U0JANE' }, view }).toString();
    const answer = await app.inject({ method: 'POST', url: '/slack/events', headers: signed(body, 'application/x-www-form-urlencoded'), payload: body });
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toBe('');
    const dm = await waitFor('the dry-run DM', () => slack.callsTo('chat.postMessage').find((c) => c.args.channel === 'U0JANE'));
    expect(dm.args.text).toContain('Dry run: deflect has no Jira credentials, so nothing was filed. It would file a OPS Task labelled token-reset');
    expect(dm.args.text).toContain('Token: DEPLOY_TOKEN\nSystem: github-actions\nReason: expired');
    expect(await database.get("SELECT status FROM slack_requests WHERE view_id = 'V-DRY'")).toEqual({ status: 'dry-run' });
  });

  it('validates a rule\'s slack: with path:line:col, and counts SLACK_SIGNING_SECRET as webhook authentication', () => {
    expect(() => parseRules('rules:\n  - labels: [a]\n    handler: reset-ci-token\n    slack: { project: "no spaces", issueType: Task }\n', 'rules.yaml', handlers)).toThrow(
      /^rules\.yaml:4:23: rules\.0\.slack\.project: must be a Jira project key such as PLAT/,
    );
    expect(() => parseRules('rules:\n  - labels: [a]\n    handler: reset-ci-token\n    slack: { project: PLAT }\n', 'rules.yaml', handlers)).toThrow(/rules\.0\.slack\.issueType/);
    expect(() => parseRules('rules:\n  - labels: [a]\n    handler: reset-ci-token\n    trackers: [github]\n    slack: { project: PLAT, issueType: Task }\n', 'rules.yaml', handlers)).toThrow(
      /^rules\.yaml:5:12: rules\.0\.slack: Slack requests are filed in Jira, so trackers must include jira/,
    );
    const onlySlack = { webhookSecrets: [], webhookTokens: [], insecureNoAuth: false, slack: { signingSecret: 's', botToken: null, apiUrl: 'https://slack.com/api/', command: '/deflect' } };
    expect(() => checkWebhookAuth(onlySlack, logger)).not.toThrow();
    expect(() => checkWebhookAuth({ ...onlySlack, slack: { ...onlySlack.slack, signingSecret: null } }, logger)).toThrow(/SLACK_SIGNING_SECRET/);
    // With only Slack configured, the tracker routes refuse deliveries instead of accepting them unauthenticated.
    expect(webhookAuthByTracker(onlySlack)).toEqual({ jira: null, github: null, linear: null, trello: null });
  });
});
