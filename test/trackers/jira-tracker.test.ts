/**
 * The Jira adapter behind the tracker seam: delivery keys, refusals as the tracker-neutral error classes the
 * receiver and import rely on, and recorded actions built through it (a dry run records `planned`), on a fresh
 * database of the pass's backend (test-backend.ts).
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/store.js';
import { jiraTracker } from '../../src/trackers/jira/jira-tracker.js';
import { signBody } from '../../src/trackers/jira/verify-delivery.js';
import { InvalidEventError, InvalidIssueError } from '../../src/trackers/tracker.js';
import { freshDatabase } from '../support/test-backend.js';

const SELF = 'https://acme.atlassian.net/rest/api/2/issue/10400';
const issue = { id: 10400, key: 'PLAT-7', self: SELF, fields: { summary: 'Reset token', labels: ['ci-token'], created: '2024-03-05T14:22:00.000+0000' } };

let store: Store;
beforeAll(async () => {
  store = await (await freshDatabase('deflect-tracker-')).open();
});
afterAll(() => store.close());

describe('the Jira tracker adapter', () => {
  it('keys a delivery by site and webhook identifier, else by the body hash', () => {
    const event = jiraTracker.parseEvent({ webhookEvent: 'jira:issue_created', timestamp: 1, issue });
    expect(jiraTracker.deliveryKey(event, { 'x-atlassian-webhook-identifier': 'abc-1' }, 'ff00')).toEqual({ key: 'acme.atlassian.net:abc-1', identifier: 'abc-1' });
    expect(jiraTracker.deliveryKey(event, {}, 'ff00')).toEqual({ key: 'sha256:ff00', identifier: null });
  });

  it('maps a REST issue to a ticket, and refuses what is not one with InvalidIssueError naming the field', () => {
    expect(jiraTracker.issueToTicket(issue)).toMatchObject({ id: '10400', key: 'PLAT-7', project: 'PLAT', labels: ['ci-token'], siteUrl: 'https://acme.atlassian.net', created: Date.parse('2024-03-05T14:22:00.000Z') });
    expect(() => jiraTracker.issueToTicket({ ...issue, fields: { labels: 'ci-token' } })).toThrow(InvalidIssueError);
    expect(() => jiraTracker.issueToTicket({ ...issue, fields: { labels: 'ci-token' } })).toThrow(/fields\.labels/);
    expect(() => jiraTracker.issueToTicket([issue])).toThrow(InvalidIssueError);
  });

  it('refuses a body that is not a Jira event with InvalidEventError', () => {
    expect(() => jiraTracker.parseEvent({ hello: 'world' })).toThrow(InvalidEventError);
    expect(() => jiraTracker.parseEvent({ webhookEvent: 'jira:issue_created', issue: { ...issue, fields: { labels: [1] } } })).toThrow(/issue\.fields\.labels\.0/);
  });

  it('verifies a signature over the raw bytes streamed in chunks', () => {
    const body = Buffer.from(JSON.stringify({ webhookEvent: 'jira:issue_created', issue }));
    const verifier = jiraTracker.createVerifier({ 'x-hub-signature': signBody(body, 's3cret') }, ['s3cret'], []);
    expect(verifier.early).toBeNull();
    verifier.update(body.subarray(0, 10));
    verifier.update(body.subarray(10));
    expect(verifier.finish()).toEqual({ ok: true, method: 'signature' });
    const tampered = jiraTracker.createVerifier({ 'x-hub-signature': signBody(body, 's3cret') }, ['s3cret'], []);
    tampered.update(Buffer.concat([body, Buffer.from(' ')]));
    expect(tampered.finish().ok).toBe(false);
  });

  it('builds recorded actions for a run: in a dry run a comment is recorded as planned and nothing is sent', async () => {
    const [delivery] = await store.insertDeliveries([{ deliveryKey: 'tracker:1', webhookIdentifier: null, event: 'jira:issue_created', issueKey: 'PLAT-7', headers: {}, body: '{}', eventTimestamp: null, receivedAt: Date.now() }]);
    const runId = (await store.enqueueRun({ deliveryId: delivery.id, ticketKey: 'PLAT-7', handler: 'reset-ci-token', reason: 'test', dryRun: true, idempotencyKey: 'PLAT-7:reset-ci-token:tracker:1', maxAttempts: 3 }))!;
    const actions = jiraTracker.createActions({ db: store, client: null, runId, runKey: 'PLAT-7:reset-ci-token:tracker:1', ticketKey: 'PLAT-7', dryRun: true, log: pino({ level: 'silent' }) });
    await actions.comment('Rotated.');
    expect(await store.findAction('PLAT-7:reset-ci-token:tracker:1:1:comment')).toMatchObject({ status: 'planned', kind: 'comment' });
  });
});
