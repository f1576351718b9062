/** (approvals) Each adapter's event parser gives a new comment's id, author and body, which approval decisions read. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGitHubEvent } from '../../src/trackers/github/github-event.js';
import { parseJiraEvent } from '../../src/trackers/jira/jira-event.js';
import { parseLinearEvent } from '../../src/trackers/linear/linear-event.js';
import { REPO_ROOT } from '../support/deflect-under-test.js';

const example = (path: string) => JSON.parse(readFileSync(join(REPO_ROOT, 'examples', path), 'utf8'));

describe('comment on tracker events', () => {
  it('Jira comment_created: the author accountId and the wiki body; an ADF body is flattened; an edit carries none', () => {
    const body = example('payloads/05-comment-created.json');
    expect(parseJiraEvent(body).comment).toEqual({
      id: '20001',
      authorId: '712020:4f1c2e0a-7b61-4d4e-9a2f-0c1d5e6f7a81',
      authorEmail: null,
      body: body.comment.body,
    });
    const adf = { ...body, comment: { ...body.comment, body: { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: '/approve' }] }] } } };
    expect(parseJiraEvent(adf).comment?.body.trim()).toBe('/approve');
    expect(parseJiraEvent({ ...body, webhookEvent: 'comment_updated' }).comment).toBeUndefined();
    const updated = { ...example('payloads/01-access-request-created.json'), webhookEvent: 'jira:issue_updated', comment: { id: '7', author: { accountId: 'lead-1', emailAddress: 'Lead@acme.example' }, body: '/deny' } };
    expect(parseJiraEvent(updated).comment).toEqual({ id: '7', authorId: 'lead-1', authorEmail: 'Lead@acme.example', body: '/deny' });
    expect(parseJiraEvent(example('payloads/01-access-request-created.json')).comment).toBeUndefined();
  });

  it('GitHub issue_comment.created: the commenter login and body, cut to 2,000 characters; issues events carry none', () => {
    const issues = example('payloads-github/01-access-request-labeled.json');
    expect(parseGitHubEvent(issues, { 'x-github-event': 'issues' }).comment).toBeUndefined();
    const comment = { ...issues, action: 'created', comment: { id: 991, body: `/approve\n${'x'.repeat(5000)}`, user: { login: 'lead-1' } } };
    const event = parseGitHubEvent(comment, { 'x-github-event': 'issue_comment' });
    expect(event.comment).toMatchObject({ id: '991', authorId: 'lead-1' });
    expect(event.comment!.body).toHaveLength(2000);
    expect(event.ticket?.key).toBe(parseGitHubEvent(issues, { 'x-github-event': 'issues' }).ticket?.key);
    expect(parseGitHubEvent({ ...comment, action: 'edited' }, { 'x-github-event': 'issue_comment' }).comment).toBeUndefined();
  });

  it('Linear Comment.create: the user id and body; Comment.update carries none', () => {
    const base = { type: 'Comment', webhookTimestamp: 1, url: 'https://linear.app/acme/issue/WEB-46#comment-1', data: { id: 'c1', body: '/approve', issueId: 'i-46', userId: 'u-2' } };
    expect(parseLinearEvent({ ...base, action: 'create' }).comment).toEqual({ id: 'c1', authorId: 'u-2', body: '/approve' });
    expect(parseLinearEvent({ ...base, action: 'update' }).comment).toBeUndefined();
  });
});
