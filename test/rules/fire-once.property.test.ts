/**
 * Property: over random sequences of create / label-added / label-removed / update / comment events for one Jira
 * ticket, each rule fires exactly once per matching change — no double fire on create-then-update, no missed fire on
 * update — counted as runs queued by the real receipt path (record-and-route → routeEvent) on the pass's backend (a real SQLite file or a
 * PostgreSQL database: test-backend.ts).
 *
 * The model (what a "matching change" is, from the triggers in rules-file.ts):
 * - `access` / `repo` (default triggers created + label-added): once when the ticket is created carrying the label,
 *   once per event that adds it; never on an update, removal or comment;
 * - `audit` (`on: [updated]`): once per update event (label change, field edit, comment's `issue_updated`) of a ticket
 *   that carries `audit-me` after the change; never on creation nor on `comment_created` itself.
 * A comment arrives as Jira sends it: `comment_created` plus `jira:issue_updated` (`issue_commented`, no changelog).
 */
import fc from 'fast-check';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/store.js';
import { RecordAndRoute } from '../../src/pipeline/record-and-route.js';
import { parseRules } from '../../src/rules/rules-file.js';
import { jiraTracker } from '../../src/trackers/jira/jira-tracker.js';
import { EXAMPLE_SITE as SITE } from '../support/deflect-under-test.js';
import { freshDatabase } from '../support/test-backend.js';

const LABELS = ['access-request', 'new-repo', 'audit-me', 'other'] as const;
const rules = parseRules(
  `rules:
  - name: access
    labels: [access-request]
    handler: grant-repo-access
    continue: true
  - name: repo
    labels: [new-repo]
    handler: create-repository
    continue: true
  - name: audit
    labels: [audit-me]
    handler: reset-ci-token
    on: [updated]
`,
  'rules.yaml',
  ['grant-repo-access', 'create-repository', 'reset-ci-token'],
);

type Step = { op: 'add' | 'remove'; label: (typeof LABELS)[number] } | { op: 'update' } | { op: 'comment' };

let store: Store;
let intake: RecordAndRoute;
let seq = 0;

beforeAll(async () => {
  store = await (await freshDatabase('deflect-fire-once-')).open();
  intake = new RecordAndRoute(store, { routing: { rules, dryRun: true, maxAttempts: 1, selfAccountId: null, logger: pino({ level: 'silent' }), siteUrl: SITE } });
});

/** A Jira admin-webhook body for `key` with `labels`, as Jira sends it. */
function body(webhookEvent: string, key: string, labels: string[], extra: Record<string, unknown> = {}) {
  const id = key.split('-')[1];
  return {
    timestamp: Date.now(),
    webhookEvent,
    user: { accountId: 'dev-1', self: `${SITE}/rest/api/2/user?accountId=dev-1` },
    issue: {
      id,
      key,
      self: `${SITE}/rest/api/2/issue/${id}`,
      fields: { summary: `s${seq}`, labels, project: { key: 'PROP' }, issuetype: { name: 'Task' }, status: { name: 'To Do' }, reporter: { accountId: 'dev-1' } },
    },
    ...extra,
  };
}

async function deliver(payload: Record<string, unknown>): Promise<void> {
  seq++;
  const text = JSON.stringify(payload);
  const now = Date.now();
  const event = jiraTracker.parseEvent(payload);
  await intake.record(
    { deliveryKey: `prop:${seq}`, webhookIdentifier: null, event: String(payload.webhookEvent), issueKey: event.ticket?.key ?? null, headers: {}, body: text, eventTimestamp: now, receivedAt: now, dedupeBodySince: now - 1 },
    event,
  );
}

const labelSet = fc.uniqueArray(fc.constantFrom(...LABELS), { maxLength: 4 });
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('add' as const), label: fc.constantFrom(...LABELS) }),
  fc.record({ op: fc.constant('remove' as const), label: fc.constantFrom(...LABELS) }),
  fc.constant({ op: 'update' as const }),
  fc.constant({ op: 'comment' as const }),
);

describe('each rule fires exactly once per matching change', () => {
  it('holds for random event sequences routed through record-and-route', async () => {
    let ticketNo = 0;
    await fc.assert(
      fc.asyncProperty(labelSet, fc.array(step, { maxLength: 8 }), async (initial, steps) => {
        const key = `PROP-${++ticketNo}`;
        const expected = { 'grant-repo-access': 0, 'create-repository': 0, 'reset-ci-token': 0 };
        let labels = [...initial];
        await deliver(body('jira:issue_created', key, labels));
        if (labels.includes('access-request')) expected['grant-repo-access']++;
        if (labels.includes('new-repo')) expected['create-repository']++;
        for (const s of steps) {
          if (s.op === 'add' || s.op === 'remove') {
            const before = labels;
            const after = s.op === 'add' ? (before.includes(s.label) ? before : [...before, s.label]) : before.filter((l) => l !== s.label);
            if (after === before || after.length === before.length) continue; // no change: Jira sends no event
            labels = after;
            const changelog = { id: String(seq), items: [{ field: 'labels', fieldtype: 'jira', fieldId: 'labels', fromString: before.join(' '), toString: after.join(' ') }] };
            await deliver(body('jira:issue_updated', key, labels, { issue_event_type_name: 'issue_updated', changelog }));
            if (s.op === 'add' && s.label === 'access-request') expected['grant-repo-access']++;
            if (s.op === 'add' && s.label === 'new-repo') expected['create-repository']++;
          } else if (s.op === 'update') {
            const changelog = { id: String(seq), items: [{ field: 'summary', fieldtype: 'jira', fieldId: 'summary', fromString: 'a', toString: 'b' }] };
            await deliver(body('jira:issue_updated', key, labels, { issue_event_type_name: 'issue_updated', changelog }));
          } else {
            await deliver(body('comment_created', key, labels, { comment: { id: String(seq), body: 'hi', author: { accountId: 'dev-2' } } }));
            await deliver(body('jira:issue_updated', key, labels, { issue_event_type_name: 'issue_commented' }));
          }
          if (labels.includes('audit-me')) expected['reset-ci-token']++; // every update event of a ticket carrying it
        }
        const fired = { 'grant-repo-access': 0, 'create-repository': 0, 'reset-ci-token': 0 };
        for (const run of await store.listRuns({ ticketKey: key })) fired[run.handler as keyof typeof fired]++;
        expect(fired).toEqual(expected);
      }),
      { numRuns: 100, seed: 1101, endOnFailure: true },
    );
  }, 120_000);
});
