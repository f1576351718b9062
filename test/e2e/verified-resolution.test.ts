/**
 * Verified resolution end to end over real sockets: signed Jira webhooks → deflect (real server, a real SQLite file or
 * PostgreSQL database: test-backend.ts) → the fake Jira. `answer-with-runbook` resolves a ticket; a person moving it back to an open status (a signed
 * `jira:issue_updated` with a status changelog) marks it reopened, so the verified rate falls under the raw rate; at
 * the configured threshold the handler is demoted to shadow (audit, /readyz), the next matching ticket runs in shadow,
 * an operator puts it back live, and a re-file by the same reporter counts against it again.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader } from '../support/api-token.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { freshDir, postWebhook, REPO_ROOT, startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';
import { listHandlerVerification } from '../../src/automation/handler-verification.js';

const example = (name: string) => JSON.parse(readFileSync(join(REPO_ROOT, 'examples/payloads', name), 'utf8'));
const SITE = 'https://acme-example.atlassian.net';
const person = (accountId: string) => ({ self: `${SITE}/rest/api/2/user?accountId=${accountId}`, accountId, displayName: accountId });

/** A `jira:issue_created` how-to question `key` by `reporter`. */
function question(key: string, id: string, reporter: string) {
  const body = { ...example('01-access-request-created.json'), timestamp: Date.now(), user: person(reporter) };
  body.issue = structuredClone(body.issue);
  Object.assign(body.issue, { id, key, self: `${SITE}/rest/api/2/issue/${id}` });
  Object.assign(body.issue.fields, { labels: ['how-to-vpn'], summary: 'How do I connect to the VPN?', description: 'How do I get on the VPN from home?', reporter: person(reporter) });
  return body;
}

/** A person's status change on `key` (a `jira:issue_updated` with a status changelog item). */
function statusChange(key: string, id: string, reporter: string, by: string, from: string, to: string) {
  const body = question(key, id, reporter);
  Object.assign(body, { webhookEvent: 'jira:issue_updated', issue_event_type_name: 'issue_generic', user: person(by), timestamp: Date.now() });
  body.issue.fields.status = { name: to, id: '1', statusCategory: { key: to === 'Done' ? 'done' : 'new', name: to } };
  body.changelog = { id: '1', items: [{ field: 'status', fieldtype: 'jira', fromString: from, toString: to }] };
  return body;
}

/** A `comment_created` on `key` by `accountId`. */
function comment(key: string, id: string, accountId: string, text: string, commentId: string) {
  const body = { ...example('05-comment-created.json'), timestamp: Date.now() };
  body.comment = { ...body.comment, id: commentId, self: `${SITE}/rest/api/2/issue/${id}/comment/${commentId}`, author: person(accountId), updateAuthor: person(accountId), body: text };
  body.issue = { ...structuredClone(body.issue), id, key, self: `${SITE}/rest/api/2/issue/${id}` };
  return body;
}

describe('verified resolution end to end', () => {
  let jira: FakeJira;
  let deflect: DeflectUnderTest;
  let rulesPath: string;
  const runOf = (key: string) => deflect.database.get('SELECT * FROM runs WHERE ticket_key = ? ORDER BY id DESC', key);
  const finished = async (key: string, status: string) => {
    const run = await runOf(key);
    return run?.status === status ? run : null;
  };
  const api = async (path: string, role: 'auditor' | 'operator' = 'auditor', method = 'GET') =>
    (await fetch(`${deflect.url}${path}`, { method, headers: await authHeader(deflect.db, role) })).json() as Promise<any>;
  const handlerRow = async () => (await api('/api/handlers')).handlers.find((h: { name: string }) => h.name === 'answer-with-runbook');
  const stateOf = (runId: number) => deflect.database.get('SELECT state, evidence, feedback FROM run_verifications WHERE run_id = ?', runId);

  beforeAll(async () => {
    jira = await startFakeJira();
    for (const key of ['PLAT-301', 'PLAT-302', 'PLAT-303', 'PLAT-304', 'PLAT-305']) jira.seedIssue({ key });
    const dir = freshDir();
    rulesPath = join(dir, 'rules.yaml');
    mkdirSync(join(dir, 'runbooks'));
    writeFileSync(join(dir, 'runbooks', 'vpn.md'), '# Connecting to the VPN\n\n1. Install WireGuard.\n2. Import `acme.conf`.\n');
    writeFileSync(rulesPath, 'rules:\n  - name: vpn-how-to\n    labels: [how-to-vpn]\n    handler: answer-with-runbook\n    with: { runbook: runbooks/vpn.md }\n    feedback: true\n');
    deflect = await startDeflect({
      fakeJira: jira,
      env: { DEFLECT_RULES: rulesPath, DEFLECT_VERIFY_MIN_RESOLUTIONS: '2', DEFLECT_VERIFY_DEMOTE_BELOW: '0.8', DEFLECT_RETRY_BASE_MS: '50' },
    });
  });
  afterAll(async () => {
    await deflect?.close(1000);
    await jira?.close();
  });

  it('resolves with the runbook, invites feedback, and is watched (pending)', async () => {
    expect((await postWebhook(deflect.url, question('PLAT-301', '30301', 'dev-a'))).status).toBe(200);
    const run = await waitFor('PLAT-301 to succeed', () => finished('PLAT-301', 'succeeded'));
    expect(jira.issue('PLAT-301')!.fields.status).toMatchObject({ name: 'Done' });
    const comments = jira.commentsFor('PLAT-301').map((c) => JSON.stringify(c.body));
    expect(comments).toHaveLength(2);
    expect(comments[0]).toContain('Connecting to the VPN');
    expect(comments[1]).toContain('/thanks');
    expect(await stateOf(run.id)).toMatchObject({ state: 'pending' });
    const audit = await api('/api/runs?ticket=PLAT-301');
    expect(audit.runs[0].verification).toMatchObject({ state: 'pending', windowEndsAt: expect.any(String) });
  });

  it("counts the reporter's /thanks, ignores someone else's", async () => {
    await postWebhook(deflect.url, question('PLAT-302', '30302', 'dev-b'));
    const run = await waitFor('PLAT-302 to succeed', () => finished('PLAT-302', 'succeeded'));
    await postWebhook(deflect.url, comment('PLAT-302', '30302', 'someone-else', '/thanks', 'c-1'), { identifier: 'thanks-stranger' });
    await postWebhook(deflect.url, comment('PLAT-302', '30302', 'dev-b', '/thanks, that worked', 'c-2'), { identifier: 'thanks-reporter' });
    const reason = async (id: string) => (await deflect.database.get<{ reason: string }>('SELECT reason FROM deliveries WHERE webhook_identifier = ?', id))!.reason;
    expect(await reason('thanks-stranger')).toContain("only the reporter's answer counts");
    expect(await reason('thanks-reporter')).toContain('the reporter said /thanks');
    expect(await stateOf(run.id)).toMatchObject({ state: 'pending', feedback: 'thanks' });
  });

  it('a person moving the ticket back to To Do marks it reopened; the verified rate falls under the raw rate; the handler is demoted', async () => {
    const run = (await runOf('PLAT-301'))!;
    // deflect's own status change is never a signal.
    await postWebhook(deflect.url, statusChange('PLAT-301', '30301', 'dev-a', 'deflect-bot', 'Done', 'To Do'));
    expect(await stateOf(run.id)).toMatchObject({ state: 'pending' });
    expect((await postWebhook(deflect.url, statusChange('PLAT-301', '30301', 'dev-a', 'lead-1', 'Done', 'To Do'), { identifier: 'reopen-1' })).status).toBe(200);
    await waitFor('PLAT-301 to be reopened', async () => (await stateOf(run.id))?.state === 'reopened');
    expect((await stateOf(run.id))!.evidence).toBe('status Done → To Do by lead-1');

    const row = await handlerRow();
    expect(row).toMatchObject({ runs: 2, resolved: 2, verifiedResolved: 0, pending: 1, reopened: 1, refiled: 0, overridden: 0, resolvedRate: 1, verifiedRate: 0, mode: 'shadow' });
    expect(row.verifiedRate).toBeLessThan(row.resolvedRate);
    expect(row.feedback).toEqual({ invited: 2, thanks: 1, reopen: 0, satisfaction: 1 });
    expect(row.demoted.reason).toMatch(/^verified rate over its last 2 resolutions is at most 0\.50 \(1 reopened, 0 re-filed, 0 overridden\), below DEFLECT_VERIFY_DEMOTE_BELOW=0\.8/);
    // The same figures from the function `deflect handlers` prints.
    expect((await listHandlerVerification(deflect.db, [])).find((h) => h.name === 'answer-with-runbook')).toMatchObject({ verifiedRate: 0, resolvedRate: 1 });

    const audit = await api('/api/runs');
    expect(audit.demotedHandlers).toEqual([expect.objectContaining({ handler: 'answer-with-runbook' })]);
    expect(audit.modeChanges).toEqual([expect.objectContaining({ handler: 'answer-with-runbook', mode: 'shadow', by: 'deflect' })]);
    expect(audit.runs.find((r: any) => r.ticketKey === 'PLAT-301').verification).toMatchObject({ state: 'reopened', evidence: 'status Done → To Do by lead-1' });
    const ready = await fetch(`${deflect.url}/readyz`);
    expect(ready.status).toBe(200);
    expect((await ready.json()).demotedHandlers).toEqual([expect.objectContaining({ handler: 'answer-with-runbook', reason: expect.stringContaining('deflect handlers live answer-with-runbook') })]);
  });

  it('the next matching ticket runs in shadow: nothing is sent', async () => {
    await postWebhook(deflect.url, question('PLAT-303', '30303', 'dev-c'));
    const run = await waitFor('PLAT-303 to end in shadow', () => finished('PLAT-303', 'shadow'));
    expect(run.reason).toContain('(handler demoted) in shadow mode');
    expect(jira.commentsFor('PLAT-303')).toHaveLength(0);
    expect(jira.issue('PLAT-303')!.fields.status).toMatchObject({ name: 'To Do' });
  });

  it('an operator puts it back live; a re-file by the same reporter counts against it and demotes it again', async () => {
    const restored = await api('/api/handlers/answer-with-runbook/live', 'operator', 'POST');
    expect(restored).toEqual({ handler: 'answer-with-runbook', mode: 'live', changed: true });
    expect((await handlerRow()).mode).toBe('live');
    await postWebhook(deflect.url, question('PLAT-304', '30304', 'dev-d'));
    const first = await waitFor('PLAT-304 to succeed live', () => finished('PLAT-304', 'succeeded'));
    await postWebhook(deflect.url, question('PLAT-305', '30305', 'dev-d'));
    await waitFor('PLAT-305 to succeed', async () => (await finished('PLAT-305', 'succeeded')) ?? (await finished('PLAT-305', 'shadow')));
    expect(await stateOf(first.id)).toMatchObject({ state: 'refiled', evidence: 're-filed as PLAT-305 by the same reporter (routed to answer-with-runbook again)' });
    const changes = (await api('/api/runs')).modeChanges.map((m: { mode: string }) => m.mode);
    expect(changes).toEqual(['shadow', 'live', 'shadow']);
  });

  it('deflect handlers --format json prints the interface', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'handlers', '--format', 'json'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...deflect.database.env, DEFLECT_RULES: rulesPath, DEFLECT_LOG_LEVEL: 'silent' },
    });
    const rows = JSON.parse(stdout) as Array<Record<string, unknown>>;
    expect(Array.isArray(rows)).toBe(true);
    const row = rows.find((r) => r.name === 'answer-with-runbook')!;
    for (const field of ['name', 'runs', 'resolved', 'verifiedResolved', 'reopened', 'refiled', 'overridden', 'verifiedRate', 'mode']) expect(row).toHaveProperty(field);
    expect(row).toMatchObject({ runs: 4, resolved: 4, reopened: 1, refiled: 1, mode: 'shadow' });
    expect(row.verifiedRate as number).toBeLessThan(row.resolvedRate as number);
  }, 30_000);
});
