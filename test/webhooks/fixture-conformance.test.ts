/**
 * Conformance: every real Jira webhook payload in ../shared/fixtures/jira-webhooks (collected from other open-source
 * projects, Cloud and Server/DC) is replayed through a real socket, signed. Each must be accepted (200) and normalised,
 * or refused with a documented 4xx; never a 5xx.
 *
 * The payloads are sent byte for byte as collected, so their `timestamp`s are years old: this deflect is started with
 * DEFLECT_MAX_EVENT_AGE=36500d (the operator's knob for accepting old events) rather than rewriting the payloads.
 * `test/security/replay-protection.test.ts` covers the default limit.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook, REPO_ROOT, startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';

const FIXTURES = join(REPO_ROOT, '../shared/fixtures/jira-webhooks');
const present = existsSync(FIXTURES);
if (!present) console.warn(`skipping fixture conformance: ${FIXTURES} is absent (it is provided beside the repository as ../shared)`);
const files = present ? readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort() : [];

describe.skipIf(!present)('real Jira webhook payloads (../shared/fixtures/jira-webhooks)', () => {
  let deflect: DeflectUnderTest;
  const answers = new Map<string, { status: number; json: any }>();

  beforeAll(async () => {
    deflect = await startDeflect({ env: { DEFLECT_MAX_EVENT_AGE: '36500d' } });
    for (const file of files) answers.set(file, await postWebhook(deflect.url, readFileSync(join(FIXTURES, file))));
  });
  afterAll(async () => deflect?.close(1000));

  it('has the fixture set', () => expect(files.length).toBeGreaterThanOrEqual(60));

  it('answers every payload with 200 or a documented 4xx, and never a 5xx', () => {
    const summary = { accepted: 0, refused: 0 };
    for (const [file, answer] of answers) {
      expect(answer.status, `${file}: ${JSON.stringify(answer.json)}`).toBeLessThan(500);
      if (answer.status === 200) summary.accepted++;
      else {
        expect([400, 413, 415, 422], file).toContain(answer.status);
        summary.refused++;
      }
    }
    console.log(`fixture conformance: ${files.length} payloads, ${summary.accepted} accepted, ${summary.refused} refused with 4xx, 0 5xx`);
    expect(summary.accepted).toBe(files.length);
  });

  it('normalises each accepted payload: routed or ignored with a reason, and the issue snapshot stored', async () => {
    await waitFor('every delivery to be routed', async () => {
      const n = (await deflect.database.get<{ n: number }>("SELECT count(*) AS n FROM deliveries WHERE status = 'pending'"))!.n;
      return n === 0;
    });
    const rows = await deflect.database.all<{ event: string; issueKey: string | null; status: string; reason: string }>(
      'SELECT event, issue_key AS "issueKey", status, reason FROM deliveries',
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(['routed', 'ignored']).toContain(row.status);
      expect(row.reason.length).toBeGreaterThan(10);
    }
    // Every payload that carries an issue produced a snapshot of it, keyed by site and issue id: some fixtures from
    // different sites share issue ids, and each keeps its own row.
    const ids = new Set(
      files
        .map((f) => JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')).issue)
        .filter((issue) => issue?.id !== undefined)
        .map((issue) => (issue.self ? `${new URL(issue.self).host.toLowerCase()}:${issue.id}` : String(issue.id))),
    );
    const tickets = await deflect.database.all<{ id: string; key: string; project: string }>('SELECT id, key, project FROM tickets');
    expect(new Set(tickets.map((t) => t.id))).toEqual(ids);
    const issueIds = files.map((f) => JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')).issue?.id).filter(Boolean);
    console.log(`fixture conformance: ${tickets.length} tickets from ${new Set(issueIds).size} distinct issue ids (same id on several sites kept apart)`);
    for (const t of tickets) expect(t.project).toMatch(/^[A-Z][A-Z0-9_]+$/);
  });

  it('reads labels where they exist and takes added labels from the changelog', async () => {
    const labelled = await deflect.database.all<{ key: string; labels: string }>("SELECT key, labels FROM tickets WHERE labels != '[]'");
    expect(labelled.length).toBeGreaterThan(0);
    const reasons = await deflect.database.all<{ reason: string }>("SELECT reason FROM deliveries WHERE reason LIKE 'no rule matches labels%'");
    expect(reasons.length).toBeGreaterThan(0);
  });
});
