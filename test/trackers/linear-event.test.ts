/**
 * Parsing Linear webhook envelopes and GraphQL issues into events and tickets (pure functions): kinds, label changes
 * from `updatedFrom.labelIds`, key fallbacks, the workspace site URL, and the 422 messages naming the bad field.
 */
import { describe, expect, it } from 'vitest';
import { parseLinearEvent } from '../../src/trackers/linear/linear-event.js';
import { restLinearIssueToTicket } from '../../src/trackers/linear/linear-issue.js';
import { linearTracker } from '../../src/trackers/linear/linear-tracker.js';
import { InvalidEventError, InvalidIssueError } from '../../src/trackers/tracker.js';

const labels = [{ id: 'l-bug', name: 'Bug' }, { id: 'l-acc', name: 'Access-Request' }, { id: 'l-old', name: 'Stale' }];
const envelope = (over: Record<string, unknown> = {}, data: Record<string, unknown> = {}) => ({
  action: 'update', type: 'Issue', webhookTimestamp: 1_700_000_000_000, url: 'https://linear.app/Acme/issue/ENG-12/title', actor: { id: 'u-actor' },
  data: { id: 'uuid-12', number: 12, title: 'Need access', team: { key: 'ENG' }, state: { name: 'Todo' }, labelIds: ['l-bug', 'l-acc'], labels: labels.slice(0, 2), createdAt: '2026-01-02T03:04:05.000Z', creatorId: 'u-creator', ...data },
  ...over,
});

describe('parseLinearEvent', () => {
  it('reads an Issue update: kind, label changes named and lower-cased, ticket from team key + number', () => {
    const event = parseLinearEvent(envelope({ updatedFrom: { labelIds: ['l-bug', 'l-old'] } }, { labels }));
    expect(event).toMatchObject({ event: 'Issue.update', kind: 'updated', timestamp: 1_700_000_000_000, actor: 'u-actor', labelsAdded: ['access-request'], labelsRemoved: ['stale'], siteHost: 'linear.app' });
    expect(event.ticket).toMatchObject({ tracker: 'linear', id: 'uuid-12', key: 'ENG-12', project: 'ENG', status: 'Todo', labels: ['Bug', 'Access-Request', 'Stale'], summary: 'Need access', reporterId: 'u-creator', created: Date.parse('2026-01-02T03:04:05.000Z'), siteUrl: 'https://linear.app/Acme' });
  });

  it('has no label changes when updatedFrom does not name labelIds; Issue.create is created, its actor the creator without actor', () => {
    expect(parseLinearEvent(envelope({ updatedFrom: { title: 'old' } }))).toMatchObject({ labelsAdded: [], labelsRemoved: [] });
    expect(parseLinearEvent(envelope({ action: 'create', actor: undefined }))).toMatchObject({ kind: 'created', actor: 'u-creator' });
  });

  it('prefers identifier; a remove (no url) and an IssueLabel event carry no ticket and are "other"', () => {
    expect(parseLinearEvent(envelope({}, { identifier: 'OPS-3' })).ticket?.key).toBe('OPS-3');
    expect(parseLinearEvent(envelope({ action: 'remove', url: undefined }))).toMatchObject({ kind: 'other', ticket: null });
    expect(parseLinearEvent({ action: 'create', type: 'IssueLabel', webhookTimestamp: 1, data: { id: 'l', name: 'Bug' } })).toMatchObject({ event: 'IssueLabel.create', kind: 'other', ticket: null });
  });

  it('gives a Comment event the commented issue (key from the URL, labels unknown) and the commenter as actor', () => {
    const event = parseLinearEvent({ action: 'create', type: 'Comment', webhookTimestamp: 1, url: 'https://linear.app/acme/issue/WEB-46#comment-1', data: { id: 'c1', body: 'hi', issueId: 'i-46', userId: 'u-2', issue: { id: 'i-46', title: 'T' } } });
    expect(event).toMatchObject({ kind: 'other', actor: 'u-2', ticket: { id: 'i-46', key: 'WEB-46', project: 'WEB', labels: null, summary: 'T' } });
  });

  it('refuses what is not a Linear event with the first bad field path', () => {
    expect(() => parseLinearEvent([])).toThrow(InvalidEventError);
    expect(() => parseLinearEvent({ ...envelope(), webhookTimestamp: 'now' })).toThrow(/invalid Linear event: webhookTimestamp: /);
    expect(() => parseLinearEvent(envelope({}, { labels: [{ id: 'x', name: 7 }] }))).toThrow(/invalid Linear event: data\.labels/);
    expect(() => parseLinearEvent(envelope({ url: 'https://linear.app/acme/projects' }, { number: null, team: null }))).toThrow(/data\.identifier: missing/);
  });
});

describe('Linear issue (GraphQL) → ticket and delivery keys', () => {
  it('maps the import selection, with labels as a connection and completedAt as resolved', () => {
    const ticket = restLinearIssueToTicket({ id: 'u1', identifier: 'ENG-5', title: 'T', description: 'D', url: 'https://linear.app/acme/issue/ENG-5/t', team: { key: 'ENG' }, state: { name: 'Done', type: 'completed' }, labels: { nodes: [{ id: 'a', name: 'token-reset' }] }, creator: { id: 'c', name: 'Cy' }, completedAt: '2026-02-01T00:00:00Z', updatedAt: '2026-02-01T00:00:00Z' });
    expect(ticket).toMatchObject({ tracker: 'linear', key: 'ENG-5', labels: ['token-reset'], reporter: 'Cy', resolved: Date.parse('2026-02-01T00:00:00Z'), siteUrl: 'https://linear.app/acme' });
    expect(() => restLinearIssueToTicket({ identifier: 'ENG-1' })).toThrow(InvalidIssueError);
    expect(() => restLinearIssueToTicket({ id: 'x', identifier: 'ENG-1', labels: { nodes: 'no' } })).toThrow(/invalid Linear issue: labels/);
  });

  it('keys a delivery by Linear-Delivery, else by the body hash', () => {
    const event = parseLinearEvent(envelope());
    expect(linearTracker.deliveryKey(event, { 'linear-delivery': 'd-1' }, 'abc')).toEqual({ key: 'linear:d-1', identifier: 'd-1' });
    expect(linearTracker.deliveryKey(event, {}, 'abc')).toEqual({ key: 'sha256:abc', identifier: null });
  });
});
