/**
 * The Slack front door end to end over real sockets: deflect (startServer) with a fake Slack Web API, a fake Jira and
 * a fake GitHub. `/deflect` → chooser modal → form generated from the handler's schema → a form error shown in the
 * modal → submission → a Jira ticket with the rule's label whose description the handler parses without a missing
 * field → the handler runs once (Jira's own webhook for the ticket is ignored) → the outcome in the requester's DM;
 * an approval given with the Approve button; a retried event runs once; bad signatures and stale timestamps get 401.
 * On a database of the pass's backend (test-backend.ts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findHandler } from '../../handlers/index.js';
import { parseTicketInput, readDescriptionForm } from '../../src/automation/ticket-input.js';
import { adfToText } from '../../src/jira/adf-to-text.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { interactivity, postSlack, startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { freshDir, postWebhook, startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';

const SECRET = 'slack-signing-secret-for-tests';
const RULES = `rules:
  - name: repo-access
    labels: [access-request]
    handler: grant-repo-access
    slack: { project: PLAT, issueType: Task }
    with: { maxRoleWithoutApproval: write }
    approval: { approvers: [lead@acme.example], when: { field: permission, in: [maintain] } }
  - name: new-repository
    labels: [new-repo]
    handler: create-repository
    slack: { project: PLAT, issueType: Task }
  - name: ci-token-reset
    labels: [token-reset]
    handler: reset-ci-token
    slack: { project: OPS, issueType: Task }
    reporters: [jane@acme.example]
  - name: jira-only
    labels: [other]
    handler: reset-ci-token
  - name: in-shadow
    labels: [shadowed]
    handler: reset-ci-token
    mode: shadow
    slack: { project: OPS, issueType: Task }
`;

describe('Slack front door', () => {
  let slack: FakeSlack;
  let jira: FakeJira;
  let github: FakeGitHub;
  let deflect: DeflectUnderTest;
  const form = (fields: Record<string, string>) => postSlack(deflect.url, new URLSearchParams(fields), { secret: SECRET });
  const interact = (payload: Record<string, unknown>) => postSlack(deflect.url, interactivity(payload), { secret: SECRET });
  const createCalls = () => jira.requests.filter((r) => r.method === 'POST' && r.path === '/rest/api/3/issue');
  const dmsTo = (user: string) => slack.callsTo('chat.postMessage').filter((c) => c.args.channel === user).map((c) => String(c.args.text));

  beforeAll(async () => {
    slack = await startFakeSlack({
      token: 'xoxb-test',
      users: [
        { id: 'U0JANE', name: 'Jane Doe', email: 'jane@acme.example' },
        { id: 'U0BOB', name: 'Bob Roe', email: 'bob@acme.example' },
        { id: 'U0LEAD', name: 'Lee Lead', email: 'lead@acme.example' },
      ],
    });
    jira = await startFakeJira();
    github = await startFakeGitHub();
    const rulesPath = join(freshDir(), 'rules.yaml');
    writeFileSync(rulesPath, RULES);
    deflect = await startDeflect({
      fakeJira: jira,
      env: { DEFLECT_RULES: rulesPath, SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: 'xoxb-test', SLACK_API_URL: slack.url, GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url },
    });
  });
  afterAll(async () => {
    await deflect?.close(1000);
    await Promise.all([slack?.close(), jira?.close(), github?.close()]);
  });

  /** Runs the command as `user`, picks `rule` in the chooser, and returns the form view Slack was asked to show. */
  async function openForm(user: string, rule: string) {
    const opened = slack.callsTo('views.open').length;
    expect((await form({ command: '/deflect', user_id: user, trigger_id: `trigger-${user}-${rule}`, team_id: 'T0001' })).status).toBe(200);
    const open = await waitFor('views.open', () => slack.callsTo('views.open')[opened]);
    const updated = slack.callsTo('views.update').length;
    await interact({ type: 'block_actions', user: { id: user }, team: { id: 'T0001' }, view: { id: 'V-' + user, hash: 'h1' }, actions: [{ action_id: 'deflect_request_type', selected_option: { value: rule } }] });
    const update = await waitFor('views.update', () => slack.callsTo('views.update')[updated]);
    return { chooser: open.args.view, form: update.args.view, viewId: 'V-' + user };
  }

  const submission = (user: string, view: Record<string, any>, values: Record<string, Record<string, unknown>>, viewId: string) => ({
    type: 'view_submission',
    user: { id: user },
    team: { id: 'T0001' },
    view: { ...view, id: viewId, state: { values: Object.fromEntries(Object.entries(values).map(([block, element]) => [block, { value: element }])) } },
  });

  it('lists only the live rules with slack: that the requester is in scope of', async () => {
    const { chooser } = await openForm('U0BOB', 'repo-access');
    const options = chooser.blocks.find((b: any) => b.type === 'actions').elements[0].options.map((o: any) => o.value);
    expect(options).toEqual(['repo-access', 'new-repository']); // ci-token-reset is scoped to jane; jira-only has no slack:; in-shadow is shadow
    const { chooser: janes } = await openForm('U0JANE', 'ci-token-reset');
    expect(janes.blocks.find((b: any) => b.type === 'actions').elements[0].options.map((o: any) => o.value)).toEqual(['repo-access', 'new-repository', 'ci-token-reset']);
    // The global shortcut opens the same chooser with its own trigger.
    const opened = slack.callsTo('views.open').length;
    expect((await interact({ type: 'shortcut', callback_id: 'deflect_file_request', trigger_id: 'trigger-shortcut', user: { id: 'U0BOB' } })).status).toBe(200);
    const byShortcut = await waitFor('views.open from the shortcut', () => slack.callsTo('views.open')[opened]);
    expect(byShortcut.args.trigger_id).toBe('trigger-shortcut');
    expect(byShortcut.args.view.callback_id).toBe('deflect_choose');
  });

  it('generates each shipped handler\'s modal from its input schema', async () => {
    const grant = (await openForm('U0JANE', 'repo-access')).form;
    expect(grant.callback_id).toBe('deflect_request');
    expect(grant.blocks.map((b: any) => [b.block_id ?? b.type, b.element?.type ?? null, b.optional ?? null])).toEqual([
      ['context', null, null],
      ['deflect_summary', 'plain_text_input', true],
      ['repository', 'plain_text_input', false],
      ['permission', 'static_select', true],
      ['githubUser', 'plain_text_input', true],
    ]);
    const permission = grant.blocks[3];
    expect(permission.element.options.map((o: any) => o.value)).toEqual(['read', 'triage', 'write', 'maintain']);
    expect(permission.element.initial_option.value).toBe('read');
    expect(grant.blocks[2].hint.text).toBe('The GitHub repository you need access to, as `org/name` (for example `acme/api`).');
    expect(grant.blocks[4].label.text).toBe('GitHub User');

    const create = (await openForm('U0JANE', 'new-repository')).form;
    expect(create.blocks.slice(2).map((b: any) => [b.block_id, b.element.type, b.optional, b.element.options?.map((o: any) => o.value) ?? null])).toEqual([
      ['repositoryName', 'plain_text_input', false, null],
      ['template', 'static_select', true, ['service', 'library', 'terraform-module']],
      ['owningTeam', 'plain_text_input', false, null],
      ['visibility', 'static_select', true, ['private', 'internal']],
      ['organization', 'plain_text_input', true, null],
    ]);
    const reset = (await openForm('U0JANE', 'ci-token-reset')).form;
    const resetFields = reset.blocks.slice(2).map((b: any) => [b.block_id, b.element.type, b.optional]);
    const resetKeys = Object.keys((findHandler('reset-ci-token')!.input as any).shape);
    expect(resetFields.map((f: any[]) => f[0])).toEqual(resetKeys.filter((k) => !['summary', 'reporter', 'labels', 'project', 'issueType', 'reporterId', 'key'].includes(k)));
    for (const block of reset.blocks.slice(2)) expect(block.hint?.text, block.block_id).toBeTruthy();
  });

  it('shows the schema\'s messages in the modal for a bad form, and files a good one as a Jira ticket that the handler parses and runs once', async () => {
    const { form: view, viewId } = await openForm('U0JANE', 'repo-access');
    const bad = await interact(submission('U0JANE', view, { repository: { type: 'plain_text_input', value: 'not a repo' }, permission: { type: 'static_select', selected_option: { value: 'read' } } }, viewId));
    expect(bad.status).toBe(200);
    expect(bad.json).toEqual({ response_action: 'errors', errors: { repository: expect.stringContaining('must look like org/name') } });
    expect(createCalls()).toHaveLength(0);

    const good = await interact(
      submission('U0JANE', view, {
        repository: { type: 'plain_text_input', value: 'acme/payments-api' },
        permission: { type: 'static_select', selected_option: { value: 'write' } },
        githubUser: { type: 'plain_text_input', value: 'octocat' },
        deflect_summary: { type: 'plain_text_input', value: 'Write access to payments-api' },
      }, viewId),
    );
    expect(good.status).toBe(200);
    expect(good.text).toBe('');
    const issue = await waitFor('the Jira issue', () => jira.issue('PLAT-1'));
    expect(issue.fields.labels).toEqual(['access-request']);
    expect(issue.fields.summary).toBe('Write access to payments-api');
    expect((issue.fields.issuetype as any).name).toBe('Task');
    const description = adfToText(issue.fields.description);
    expect(readDescriptionForm(description)).toEqual({ repository: 'acme/payments-api', permission: 'write', githubUser: 'octocat' });
    const parsed = parseTicketInput(
      { tracker: 'jira', id: issue.id, key: issue.key, project: 'PLAT', issueType: 'Task', status: null, labels: ['access-request'], summary: 'x', description, reporter: null, reporterId: null, created: null, updated: null, resolved: null, siteUrl: null },
      findHandler('grant-repo-access')!.input,
    );
    expect(parsed).toEqual({ ok: true, input: { repository: 'acme/payments-api', permission: 'write', githubUser: 'octocat' } });

    const runOf = () => deflect.database.all("SELECT * FROM runs WHERE ticket_key = 'PLAT-1'");
    await waitFor('the run to succeed', async () => ((await runOf())[0]?.status === 'succeeded' ? true : null));
    expect(github.invitations('acme/payments-api')).toEqual([expect.objectContaining({ invitee: 'octocat', permission: 'push' })]);
    const dms = await waitFor('the outcome DM', () => (dmsTo('U0JANE').some((t) => t.startsWith('Done:')) ? dmsTo('U0JANE') : null));
    expect(dms.some((t) => t.startsWith('Filed PLAT-1'))).toBe(true);
    expect(dms.find((t) => t.startsWith('Done:'))).toContain('PLAT-1 (grant-repo-access)');
    expect(await deflect.database.get("SELECT user_id, status, ticket_key FROM slack_requests WHERE ticket_key = 'PLAT-1'")).toEqual({ user_id: 'U0JANE', status: 'filed', ticket_key: 'PLAT-1' });

    // Jira's own webhook for the created issue names deflect's account: recorded, ignored, no second run.
    const webhook = await postWebhook(deflect.url, {
      webhookEvent: 'jira:issue_created', timestamp: Date.now(), user: { accountId: 'deflect-bot' },
      issue: { id: issue.id, key: 'PLAT-1', self: `${jira.url}/rest/api/3/issue/${issue.id}`, fields: { summary: 'Write access to payments-api', labels: ['access-request'], description, project: { key: 'PLAT' } } },
    });
    expect(webhook.status).toBe(200);
    expect(await runOf()).toHaveLength(1);
    // The report counts the ticket once.
    expect(await deflect.database.get("SELECT count(*) AS n FROM tickets WHERE key = 'PLAT-1'")).toEqual({ n: 1 });
    // A resubmission of the same view files nothing more.
    await interact(submission('U0JANE', view, { repository: { type: 'plain_text_input', value: 'acme/payments-api' }, githubUser: { type: 'plain_text_input', value: 'octocat' } }, viewId));
    expect(createCalls()).toHaveLength(1);
  });

  it('sends Approve / Deny buttons to the approvers and records a click like an /approve comment', async () => {
    const { form: view, viewId } = await openForm('U0BOB', 'repo-access');
    await interact(submission('U0BOB', view, {
      repository: { type: 'plain_text_input', value: 'acme/payments-api' },
      permission: { type: 'static_select', selected_option: { value: 'maintain' } },
      githubUser: { type: 'plain_text_input', value: 'hubot' },
    }, viewId));
    const key = await waitFor('the second ticket', () => (jira.issue('PLAT-2') ? 'PLAT-2' : null));
    const runOf = () => deflect.database.get('SELECT * FROM runs WHERE ticket_key = ?', key);
    const run = await waitFor('the run to await approval', async () => {
      const row = await runOf();
      return row?.status === 'awaiting-approval' ? row : null;
    });
    await waitFor('needs-approval DM', () => dmsTo('U0BOB').find((t) => t.startsWith('Needs approval:')));
    const buttons = await waitFor('the approval buttons', () => slack.callsTo('chat.postMessage').find((c) => c.args.channel === 'U0LEAD'));
    const actions = buttons.args.blocks.find((b: any) => b.type === 'actions').elements;
    expect(actions.map((a: any) => [a.action_id, a.value])).toEqual([['deflect_approve', String(run.id)], ['deflect_deny', String(run.id)]]);

    // The requester cannot approve their own request; the approver can.
    const click = (user: string, ts: string) => interact({ type: 'block_actions', user: { id: user }, channel: { id: `D${user}` }, message: { ts: '1700000000.000009' }, actions: [{ action_id: 'deflect_approve', value: String(run.id), action_ts: ts }] });
    await click('U0BOB', '1.1');
    const refused = await waitFor('the refused click', () => slack.callsTo('chat.update').find((c) => c.args.channel === 'DU0BOB'));
    expect(refused.args.text).toContain('the reporter cannot approve or deny their own request');
    expect((await runOf())!.status).toBe('awaiting-approval');
    await click('U0LEAD', '1.2');
    await waitFor('the approved run to succeed', async () => ((await runOf())?.status === 'succeeded' ? true : null));
    const step = await deflect.database.get(`SELECT decision, "by" FROM approvals WHERE run_id = ? AND decision = 'approved'`, run.id);
    expect(step).toEqual({ decision: 'approved', by: 'U0LEAD' });
    const updated = await waitFor('the buttons message update', () => slack.callsTo('chat.update').find((c) => c.args.channel === 'DU0LEAD'));
    expect(updated.args.text).toContain('approved by Lee Lead');
    await waitFor('the done DM', () => dmsTo('U0BOB').find((t) => t.startsWith('Done:')));
  });

  it('refuses bad signatures and stale timestamps with 401, answers the URL check, and runs a retried event once', async () => {
    const body = { type: 'url_verification', challenge: 'abc123' };
    expect((await postSlack(deflect.url, body, { secret: SECRET })).json).toEqual({ challenge: 'abc123' });
    const badSignature = await postSlack(deflect.url, body, { secret: SECRET, signature: 'v0=' + '0'.repeat(64) });
    expect(badSignature.status).toBe(401);
    expect(badSignature.json.message).toContain('X-Slack-Signature does not match');
    const stale = await postSlack(deflect.url, body, { secret: SECRET, timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(stale.status).toBe(401);
    expect(stale.json.message).toContain('more than 5 minutes old');
    expect((await postSlack(deflect.url, body, { secret: 'another-secret' })).status).toBe(401);

    const mention = { type: 'event_callback', event_id: 'Ev0001', team_id: 'T0001', event: { type: 'app_mention', channel: 'C0HELP', user: 'U0JANE', text: '<@UDEFLECTBOT> help' } };
    expect((await postSlack(deflect.url, mention, { secret: SECRET })).status).toBe(200);
    expect((await postSlack(deflect.url, mention, { secret: SECRET, headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } })).status).toBe(200);
    await waitFor('the hint in the channel', () => slack.callsTo('chat.postMessage').find((c) => c.args.channel === 'C0HELP'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0HELP')).toHaveLength(1);
  });
});
