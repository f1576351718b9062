/**
 * Conformance: every real GitHub webhook payload in ../shared/fixtures/github-webhooks (from octokit/webhooks) is posted
 * byte for byte through a real socket to `/webhooks/github`, signed with X-Hub-Signature-256, with a fresh
 * X-GitHub-Delivery and the X-GitHub-Event its file name gives (`…__issues.opened….json` → `issues`). Each must be
 * accepted and normalised (a ticket row keyed `owner/repo#n`, tracker github) or refused with a documented 4xx; never
 * a 5xx. GitHub bodies carry no event time (the adapter sets `timestamp: null`), so no age setting is needed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';
import { GITHUB_TEST_SECRET, postGitHubWebhook } from './github-webhook.js';

const FIXTURES = join(REPO_ROOT, '../shared/fixtures/github-webhooks');
const present = existsSync(FIXTURES);
if (!present) console.warn(`skipping GitHub fixture conformance: ${FIXTURES} is absent (it is provided beside the repository as ../shared)`);
const files = present ? readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort() : [];
/** `octokit-webhooks__issues.labeled.with-organization.payload.json` → `issues`. */
const eventOf = (file: string) => /(?:__)?([a-z_]+)\.[a-z_]+/.exec(file.replace(/^.*__/, ''))![1];
const payloadOf = (file: string) => JSON.parse(readFileSync(join(FIXTURES, file), 'utf8'));

describe.skipIf(!present)('real GitHub webhook payloads (../shared/fixtures/github-webhooks)', () => {
  let deflect: DeflectUnderTest;
  const answers = new Map<string, { status: number; json: any }>();

  beforeAll(async () => {
    deflect = await startDeflect({ env: { DEFLECT_GITHUB_WEBHOOK_SECRET: GITHUB_TEST_SECRET } });
    for (const file of files) answers.set(file, await postGitHubWebhook(deflect.url, readFileSync(join(FIXTURES, file)), { event: eventOf(file) }));
  });
  afterAll(async () => deflect?.close(1000));

  it('has the fixture set, each naming an issues or issue_comment event', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const file of files) expect(['issues', 'issue_comment'], file).toContain(eventOf(file));
  });

  it('answers every payload with 200 or a documented 4xx, and never a 5xx', () => {
    const summary = { accepted: 0, refused: 0, server: 0 };
    for (const [file, answer] of answers) {
      if (answer.status >= 500) summary.server++;
      expect(answer.status, `${file}: ${JSON.stringify(answer.json)}`).toBeLessThan(500);
      if (answer.status === 200) summary.accepted++;
      else {
        expect([400, 413, 415, 422], file).toContain(answer.status);
        summary.refused++;
      }
    }
    console.log(`GitHub fixture conformance: ${files.length} payloads, ${summary.accepted} accepted, ${summary.refused} refused with 4xx, ${summary.server} 5xx`);
    expect(summary.accepted).toBe(files.length);
  });

  it('normalises each payload: the delivery routed or ignored with a reason, the issue stored as owner/repo#n on tracker github', async () => {
    await waitFor('every delivery to be routed', async () => {
      const n = (await deflect.database.get<{ n: number }>("SELECT count(*) AS n FROM deliveries WHERE status = 'pending'"))!.n;
      return n === 0;
    });
    const rows = await deflect.database.all<Record<string, string>>('SELECT event, issue_key AS "issueKey", status, reason, source FROM deliveries');
    expect(rows).toHaveLength(files.length);
    for (const row of rows) {
      expect(row.source).toBe('github');
      expect(['routed', 'ignored']).toContain(row.status);
      expect(row.reason.length).toBeGreaterThan(10);
      expect(row.event).toMatch(/^(issues|issue_comment)\.[a-z_]+$/);
    }
    const expected = new Set(files.map((f) => payloadOf(f)).map((p) => `${p.repository.full_name}#${p.issue.number}`));
    const tickets = await deflect.database.all<Record<string, string>>('SELECT id, tracker, key, project, site FROM tickets');
    expect(new Set(tickets.map((t) => t.key))).toEqual(expected);
    for (const t of tickets) {
      expect(t.tracker).toBe('github');
      expect(t.key.startsWith(`${t.project}#`)).toBe(true);
      expect(t.id).toMatch(/^github:github\.com:\d+$/);
    }
    console.log(`GitHub fixture conformance: ${rows.length} deliveries stored, ${tickets.length} tickets (${[...expected].join(', ')})`);
  });

  it('records label changes: labeled/unlabeled payloads carry the label the event names', async () => {
    const labeled = files.filter((f) => f.includes('issues.labeled'));
    expect(labeled.length).toBeGreaterThan(0);
    const reasons = await deflect.database.all<{ reason: string }>("SELECT reason FROM deliveries WHERE event = 'issues.labeled'");
    expect(reasons).toHaveLength(labeled.length);
    // The fixtures' labels ("bug") route to no example rule: each says so, naming the label.
    for (const { reason } of reasons) expect(reason).toMatch(/no rule matches labels \[.*bug.*\]/);
  });

  it('treats a redelivery (same X-GitHub-Delivery) of a fixture as a duplicate', async () => {
    const file = files.find((f) => f.includes('issues.opened'))!;
    const first = await postGitHubWebhook(deflect.url, readFileSync(join(FIXTURES, file)), { event: 'issues', delivery: 'conformance-redelivery-1' });
    const again = await postGitHubWebhook(deflect.url, readFileSync(join(FIXTURES, file)), { event: 'issues', delivery: 'conformance-redelivery-1' });
    expect(first.json.status).toBe('duplicate'); // the same bytes were already received above under another id
    expect(again.json.status).toBe('duplicate');
  });
});
