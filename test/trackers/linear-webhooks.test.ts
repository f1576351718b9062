/**
 * `POST /webhooks/linear` through a real socket: conformance over every real Linear payload in
 * ../shared/fixtures/linear-webhooks (their `webhookTimestamp`s are years old, so each is rewritten to now before
 * signing, as ../shared/fixtures/PROVENANCE.md says), then the refusals: a stale `webhookTimestamp` (Linear's 60 s),
 * a wrong or missing signature, and a redelivery with the same `Linear-Delivery`.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signLinearBody } from '../../src/trackers/linear/linear-verify.js';
import { REPO_ROOT, startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';

const SECRET = 'linear-signing-secret-for-tests';
const FIXTURES = join(REPO_ROOT, '../shared/fixtures/linear-webhooks');
const present = existsSync(FIXTURES);
if (!present) console.warn(`skipping Linear fixture conformance: ${FIXTURES} is absent (it is provided beside the repository as ../shared)`);
const files = present ? readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort() : [];

/** POSTs `raw` to /webhooks/linear, signed with `secret` (null: unsigned), with a `Linear-Delivery` id. */
async function postLinear(url: string, raw: string, options: { secret?: string | null; delivery?: string; signature?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'linear-delivery': options.delivery ?? randomUUID(), 'linear-event': 'Issue' };
  const secret = options.secret === undefined ? SECRET : options.secret;
  if (options.signature !== undefined) headers['linear-signature'] = options.signature;
  else if (secret) headers['linear-signature'] = signLinearBody(raw, secret);
  const response = await fetch(`${url}/webhooks/linear`, { method: 'POST', headers, body: raw });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

/** A fixture with `webhookTimestamp` set to `at` (re-serialised: the signature is computed over these bytes). */
const fixture = (file: string, at = Date.now()) => JSON.stringify({ ...JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')), webhookTimestamp: at }, null, 4);
const count = (d: DeflectUnderTest, table: string) => (d.db.sqlite!.$client.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

/** A minimal Linear issue update (labels changed), independent of ../shared. */
function issueUpdate(at = Date.now(), id = randomUUID()) {
  return JSON.stringify({
    action: 'update', type: 'Issue', createdAt: new Date(at).toISOString(), organizationId: 'org-1', webhookId: 'wh-1', webhookTimestamp: at,
    url: 'https://linear.app/acme/issue/ENG-7/reset-token', actor: { id: 'user-1', name: 'Lee' },
    updatedFrom: { labelIds: [] },
    data: { id, identifier: 'ENG-7', number: 7, title: 'Reset token', team: { id: 't1', key: 'ENG' }, state: { name: 'Todo', type: 'unstarted' }, labelIds: ['l1'], labels: [{ id: 'l1', name: 'Bug' }] },
  });
}

describe('Linear webhooks through a real socket', () => {
  let deflect: DeflectUnderTest;
  beforeAll(async () => {
    deflect = await startDeflect({ env: { DEFLECT_LINEAR_WEBHOOK_SECRET: `old-secret,${SECRET}` } });
  });
  afterAll(async () => deflect?.close(1000));

  describe.skipIf(!present)('real payloads (../shared/fixtures/linear-webhooks)', () => {
    const answers = new Map<string, { status: number; json: Record<string, any> }>();
    beforeAll(async () => {
      for (const file of files) answers.set(file, await postLinear(deflect.url, fixture(file)));
    });

    it('accepts every payload (or refuses it with a documented 4xx), never a 5xx, and normalises its issue', async () => {
      expect(files.length).toBeGreaterThanOrEqual(5);
      const summary = { accepted: 0, refused: 0 };
      for (const [file, answer] of answers) {
        expect(answer.status, `${file}: ${JSON.stringify(answer.json)}`).toBeLessThan(500);
        if (answer.status === 200) summary.accepted++;
        else {
          expect([400, 413, 415, 422], file).toContain(answer.status);
          summary.refused++;
        }
      }
      await waitFor('every Linear delivery to be routed', () => count(deflect, "deliveries WHERE source = 'linear' AND status = 'pending'") === 0);
      const deliveries = deflect.db.sqlite!.$client.prepare("SELECT event, issue_key AS issueKey, status, reason FROM deliveries WHERE source = 'linear'").all() as Array<Record<string, string>>;
      const tickets = deflect.db.sqlite!.$client.prepare("SELECT id, tracker, key, project, status, summary FROM tickets WHERE tracker = 'linear'").all() as Array<Record<string, string>>;
      console.log(`Linear fixture conformance: ${files.length} payloads, ${summary.accepted} accepted, ${summary.refused} refused with 4xx, 0 5xx; ${tickets.length} tickets stored`);
      expect(summary.accepted).toBe(files.length);
      for (const d of deliveries) {
        expect(['routed', 'ignored']).toContain(d.status);
        expect(d.event).toMatch(/^[A-Za-z]+\.(create|update|remove)$/);
      }
      // Each payload carrying an issue on a workspace URL gives a ticket row keyed tracker:workspace:uuid, key TEAM-n.
      const expected = new Map<string, string>();
      for (const file of files) {
        const body = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8'));
        const issueId = body.type === 'Issue' ? body.data.id : body.type === 'Comment' ? (body.data.issue?.id ?? body.data.issueId) : null;
        if (issueId && body.url) expected.set(`linear:linear.app/${new URL(body.url).pathname.split('/')[1]}:${issueId}`, file);
      }
      expect(expected.size).toBeGreaterThan(0);
      expect(new Set(tickets.map((t) => t.id))).toEqual(new Set(expected.keys()));
      for (const t of tickets) {
        expect(t.tracker).toBe('linear');
        expect(t.key).toMatch(/^[A-Z][A-Z0-9_]*-\d+$/);
        expect(t.project).toBe(t.key.split('-')[0]);
      }
      const created = tickets.find((t) => t.summary === 'Very small font in tooltip');
      expect(created).toMatchObject({ key: 'WEB-43', status: 'Todo' });
    });
  });

  it('refuses a webhookTimestamp older than 60 s with 422 naming Linear\'s limit, and stores nothing', async () => {
    const before = count(deflect, 'deliveries');
    const answer = await postLinear(deflect.url, issueUpdate(Date.now() - 61_000));
    expect(answer.status).toBe(422);
    expect(answer.json.message).toMatch(/older than Linear's limit \(1m\)/);
    expect(count(deflect, 'deliveries')).toBe(before);
    // 50 s old is still inside the limit.
    expect((await postLinear(deflect.url, issueUpdate(Date.now() - 50_000))).status).toBe(200);
  });

  it('refuses a wrong, malformed or missing Linear-Signature with 401 and stores nothing', async () => {
    const before = count(deflect, 'deliveries');
    const body = issueUpdate();
    const wrong = await postLinear(deflect.url, body, { secret: 'not-the-secret' });
    expect(wrong.status).toBe(401);
    expect(wrong.json.message).toMatch(/signature does not match/);
    expect(JSON.stringify(wrong.json)).not.toContain(SECRET);
    const malformed = await postLinear(deflect.url, body, { signature: 'sha256=abc' });
    expect(malformed.status).toBe(401);
    expect(malformed.json.message).toMatch(/malformed Linear-Signature/);
    const missing = await postLinear(deflect.url, body, { secret: null });
    expect(missing.status).toBe(401);
    expect(missing.json.message).toMatch(/requires a Linear-Signature header/);
    expect(count(deflect, 'deliveries')).toBe(before);
  });

  it('refuses a body that is not a Linear event with 422 naming the field', async () => {
    const answer = await postLinear(deflect.url, JSON.stringify({ action: 'update', type: 'Issue', data: { id: 'x' } }));
    expect(answer.status).toBe(422);
    expect(answer.json.message).toMatch(/webhookTimestamp/);
  });

  it('answers a redelivery (same Linear-Delivery) as a duplicate and changes nothing', async () => {
    const id = randomUUID();
    const delivery = randomUUID();
    const first = await postLinear(deflect.url, issueUpdate(Date.now(), id), { delivery });
    expect(first).toMatchObject({ status: 200, json: { status: 'accepted' } });
    const snapshot = () => ({
      deliveries: count(deflect, 'deliveries'),
      runs: count(deflect, 'runs'),
      ticket: deflect.db.sqlite!.$client.prepare('SELECT * FROM tickets WHERE issue_id = ?').get(id),
    });
    await waitFor('the delivery to be routed', () => count(deflect, "deliveries WHERE status = 'pending'") === 0);
    const before = snapshot();
    // Linear signs each attempt afresh, so the retry may carry a new timestamp: the delivery id still identifies it.
    const again = await postLinear(deflect.url, issueUpdate(Date.now() + 5, id), { delivery });
    expect(again).toMatchObject({ status: 200, json: { status: 'duplicate', deliveryId: first.json.deliveryId } });
    expect(snapshot()).toEqual(before);
    const stored = deflect.db.sqlite!.$client.prepare('SELECT delivery_key AS k, headers FROM deliveries WHERE id = ?').get(first.json.deliveryId) as { k: string; headers: string };
    expect(stored.k).toBe(`linear:${delivery}`);
    expect(stored.headers).not.toMatch(/linear-signature/i);
  });
});
