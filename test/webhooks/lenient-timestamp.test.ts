/**
 * Lenient Jira timestamps (issue 13): a real payload (../shared/fixtures/jira-webhooks) whose numeric `timestamp` a
 * bridge rewrote as a string is accepted: a date string is read as the event time (`timestamp_source = parsed`, the
 * age check still applies), anything else is replaced by the receipt time (`receipt`). A number stays `event`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventTime } from '../../src/trackers/jira/jira-event.js';
import { postWebhook, REPO_ROOT, startDeflect, type DeflectUnderTest } from '../support/deflect-under-test.js';

const FIXTURE = join(REPO_ROOT, '../shared/fixtures/jira-webhooks/jira-trigger-plugin__webhook-issue_created.json');
const present = existsSync(FIXTURE);
if (!present) console.warn(`skipping lenient timestamps: ${FIXTURE} is absent (it is provided beside the repository as ../shared)`);

/** Jira's own date-time form: `2026-11-29T19:36:50.123+0000` (offset without a colon). */
const jiraDate = (ms: number, offsetHours = 0) => {
  const shifted = new Date(ms + offsetHours * 3_600_000).toISOString().slice(0, -1);
  const sign = offsetHours < 0 ? '-' : '+';
  return `${shifted}${sign}${String(Math.abs(offsetHours)).padStart(2, '0')}00`;
};

describe.skipIf(!present)('a Jira timestamp that is not a number', () => {
  let deflect: DeflectUnderTest;
  let n = 0;
  /** Posts the fixture with `timestamp` replaced (and a unique issue id, so no two posts are duplicates). */
  const postWith = (timestamp: unknown) => {
    const body = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { timestamp: unknown; issue: { id: string } };
    body.timestamp = timestamp;
    body.issue.id = `${body.issue.id}${++n}`;
    return postWebhook(deflect.url, JSON.stringify(body));
  };
  const row = async (id: number) =>
    (await deflect.database.get<{ eventTimestamp: number | null; source: string | null; receivedAt: number }>(
      'SELECT event_timestamp AS "eventTimestamp", timestamp_source AS source, received_at AS "receivedAt" FROM deliveries WHERE id = ?',
      id,
    ))!;

  beforeAll(async () => {
    deflect = await startDeflect();
  });
  afterAll(async () => deflect?.close(1000));

  it.each([
    ["Jira's own form, UTC", () => jiraDate(Date.now() - 60_000)],
    ["Jira's own form, +0500", () => jiraDate(Date.now() - 60_000, 5)],
    ['ISO 8601 with -03:00', () => jiraDate(Date.now() - 60_000, -3).replace(/(\d{2})(\d{2})$/, '$1:$2')],
    ['ISO 8601 with Z', () => new Date(Date.now() - 60_000).toISOString()],
    ['epoch ms as a string', () => String(Date.now() - 60_000)],
  ])('%s is parsed as the event time', async (_name, value) => {
    const sent = value();
    const answer = await postWith(sent);
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    const stored = await row(answer.json.deliveryId);
    expect(stored.source).toBe('parsed');
    expect(stored.eventTimestamp).toBe(eventTime(sent).timestamp);
    expect(Math.abs(stored.eventTimestamp! - (stored.receivedAt - 60_000))).toBeLessThan(5_000);
  });

  it.each([['a word', 'yesterday'], ['a boolean', true], ['an object', { at: 'noon' }], ['an impossible date', '2026-13-45T99:99:00Z']])(
    '%s is replaced by the receipt time',
    async (_name, value) => {
      const answer = await postWith(value);
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      const stored = await row(answer.json.deliveryId);
      expect(stored.source).toBe('receipt');
      expect(stored.eventTimestamp).toBe(stored.receivedAt);
    },
  );

  it('a number stays the event time (source event)', async () => {
    const at = Date.now() - 1_000;
    const answer = await postWith(at);
    expect(answer.status).toBe(200);
    expect(await row(answer.json.deliveryId)).toMatchObject({ source: 'event', eventTimestamp: at });
  });

  it('a parsed date older than DEFLECT_MAX_EVENT_AGE is still refused (422)', async () => {
    const answer = await postWith(jiraDate(Date.now() - 3 * 86_400_000));
    expect(answer.status).toBe(422);
    expect(answer.json.message).toMatch(/older than DEFLECT_MAX_EVENT_AGE/);
  });
});
