/**
 * `POST /webhooks/trello` (and Trello's `HEAD` check) through a real socket: conformance over every real Trello
 * payload in ../shared/fixtures/trello-webhooks (Zulip's fixtures; their `action.date`s are years old, so each is
 * rewritten to now before signing, as the age check would otherwise refuse them), then the verification cases: a
 * good, bad and missing signature, a signature made for another callback URL, secret rotation, and Trello's retry
 * of the same action (a duplicate).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { parseTrelloEvent } from '../../src/trackers/trello/trello-event.js';
import { deliveryHeaders, refreshedBody } from '../../src/webhooks/sign-delivery.js';
import { createTrelloVerifier, signTrelloBody } from '../../src/trackers/trello/trello-verify.js';
import { trelloId } from '../support/fake-trello.js';
import { REPO_ROOT, startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';
import { postTrello, TRELLO_CALLBACK_URL, TRELLO_PUBLIC_URL, TRELLO_TEST_SECRET } from './trello-webhook.js';

const FIXTURES = join(REPO_ROOT, '../shared/fixtures/trello-webhooks');
const present = existsSync(FIXTURES);
if (!present) console.warn(`skipping Trello fixture conformance: ${FIXTURES} is absent (it is provided beside the repository as ../shared)`);
const files = present ? readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort() : [];

/** A fixture with `action.date` set to now (re-serialised: the signature is computed over these bytes). */
const fixture = (file: string) => {
  const body = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8'));
  return JSON.stringify({ ...body, action: { ...body.action, date: new Date().toISOString() } }, null, 3);
};
const count = (d: DeflectUnderTest, sql: string) => (d.db.sqlite!.$client.prepare(sql).get() as { n: number }).n;

/** A minimal `addLabelToCard` body, independent of ../shared. */
function labelAdded(label = 'access-request', id = trelloId()) {
  const board = { id: '5f0c1e2d3a4b5c6d7e8f9a0b', name: 'Requests', shortLink: 'ReQuEsT1' };
  return {
    model: { id: board.id, name: board.name, url: 'https://trello.com/b/ReQuEsT1/requests' },
    action: {
      id, idMemberCreator: '5a1b2c3d4e5f60718293a4b5', type: 'addLabelToCard', date: new Date().toISOString(),
      data: { board, card: { id: '64b7f0c2a1b2c3d4e5f60718', name: 'Access please', idShort: 4, shortLink: 'CaRd0004' }, label: { id: 'l1', name: label, color: 'blue' } },
      memberCreator: { id: '5a1b2c3d4e5f60718293a4b5', fullName: 'Dana Developer', username: 'dana' },
    },
  };
}

describe('Trello webhooks through a real socket', () => {
  let deflect: DeflectUnderTest;
  beforeAll(async () => {
    deflect = await startDeflect({ env: { TRELLO_WEBHOOK_SECRET: `old-trello-secret,${TRELLO_TEST_SECRET}`, DEFLECT_PUBLIC_URL: `${TRELLO_PUBLIC_URL}/` } });
  });
  afterAll(async () => deflect?.close(1000));

  it("answers Trello's HEAD check of the callback URL with 200 and no credentials", async () => {
    const response = await fetch(`${deflect.url}/webhooks/trello`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(count(deflect, 'SELECT count(*) AS n FROM deliveries')).toBe(0);
    const ready = (await (await fetch(`${deflect.url}/readyz`)).json()) as { webhooks: Record<string, string> };
    expect(ready.webhooks.trello).toBe('verified');
  });

  describe.skipIf(!present)('real payloads (../shared/fixtures/trello-webhooks)', () => {
    const answers = new Map<string, { status: number; json: Record<string, any> }>();
    beforeAll(async () => {
      for (const file of files) answers.set(file, await postTrello(deflect.url, fixture(file)));
    });

    it('accepts every payload, never a 5xx, and stores each card as a trello ticket keyed by its shortLink', async () => {
      expect(files.length).toBeGreaterThanOrEqual(6);
      const summary = { accepted: 0, refused: 0, server: 0 };
      for (const [file, answer] of answers) {
        if (answer.status >= 500) summary.server++;
        expect(answer.status, `${file}: ${JSON.stringify(answer.json)}`).toBe(200);
        expect(answer.json.status, file).toBe('accepted');
        summary.accepted++;
      }
      await waitFor('every delivery to be routed', () => count(deflect, "SELECT count(*) AS n FROM deliveries WHERE status = 'pending'") === 0);
      const rows = deflect.db.sqlite!.$client.prepare("SELECT event, status, reason, delivery_key AS deliveryKey FROM deliveries WHERE source = 'trello'").all() as Array<Record<string, string>>;
      const byStatus = { routed: rows.filter((r) => r.status === 'routed').length, ignored: rows.filter((r) => r.status === 'ignored').length };
      console.log(`Trello fixture conformance: ${files.length} payloads, ${summary.accepted} accepted, ${summary.refused} refused, ${summary.server} 5xx; deliveries ${byStatus.routed} routed, ${byStatus.ignored} ignored`);
      expect(summary.server).toBe(0);
      expect(rows).toHaveLength(files.length);
      // No fixture carries a label a rule routes (the one label added is an unnamed green one): all are ignored, with reasons.
      expect(byStatus.ignored).toBe(files.length);
      for (const row of rows) {
        expect(row.deliveryKey).toMatch(/^trello:[0-9a-f]{24}$/);
        expect(row.reason.length).toBeGreaterThan(10);
      }
      const expected = new Set(files.map((f) => JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')).action.data.card.shortLink as string));
      const tickets = deflect.db.sqlite!.$client.prepare("SELECT id, tracker, key, project, summary, description FROM tickets WHERE tracker = 'trello'").all() as Array<Record<string, string>>;
      expect(new Set(tickets.map((t) => t.key))).toEqual(expected);
      for (const t of tickets) expect(t.id).toMatch(new RegExp(`^trello:trello\\.com/b/${t.project}:[0-9a-f]{24}$`));
      // The description update carried the new description: stored as the ticket's description.
      expect(tickets.find((t) => t.key === 'P2r0z66z')?.description).toBe('New Description');
      console.log(`Trello fixture conformance: ${tickets.length} tickets stored (${[...expected].join(', ')})`);
    });

    it('names every action as its event with the documented kind (comment, description, label, archive, others)', () => {
      const kinds = Object.fromEntries(files.map((f) => [f, parseTrelloEvent(JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')))]));
      expect(kinds['zulip__adding_comment_to_card.json']).toMatchObject({ event: 'commentCard', kind: 'other', comment: { body: 'New comment' } });
      expect(kinds['zulip__adding_description_to_card.json']).toMatchObject({ event: 'updateCard', kind: 'updated', ticket: { description: 'New Description', status: 'List', labels: null } });
      // An unnamed (colour-only) label names no request type.
      expect(kinds['zulip__adding_label_to_card.json']).toMatchObject({ event: 'addLabelToCard', kind: 'updated', labelsAdded: [] });
      expect(kinds['zulip__archiving_card.json']).toMatchObject({ event: 'updateCard', kind: 'updated' });
      expect(kinds['zulip__adding_attachment_to_card.json']).toMatchObject({ event: 'addAttachmentToCard', kind: 'other' });
      expect(kinds['zulip__adding_checklist_to_card.json']).toMatchObject({ event: 'addChecklistToCard', kind: 'other' });
    });

    it('deflect replay --tracker trello signs like Trello and refreshes action.date and action.id, so each replay is a new action', async () => {
      const secrets = { webhookSecrets: [], webhookTokens: [], githubWebhookSecrets: [], linearWebhookSecrets: [], trelloWebhookSecrets: [TRELLO_TEST_SECRET], trello: { callbackUrl: TRELLO_CALLBACK_URL } };
      const file = readFileSync(join(FIXTURES, 'zulip__adding_comment_to_card.json'));
      for (let i = 0; i < 2; i++) {
        const body = refreshedBody('trello', file, true);
        const action = JSON.parse(body.toString('utf8')).action;
        expect(Math.abs(Date.parse(action.date) - Date.now())).toBeLessThan(5_000);
        expect(action.id).toMatch(/^[0-9a-f]{24}$/);
        const headers = deliveryHeaders('trello', body, secrets);
        expect(headers['x-trello-webhook']).toBe(signTrelloBody(body, TRELLO_TEST_SECRET, TRELLO_CALLBACK_URL));
        const response = await fetch(`${deflect.url}/webhooks/trello`, { method: 'POST', headers, body: new Uint8Array(body) });
        expect(await response.json()).toMatchObject({ status: 'accepted' });
      }
    });

    it("treats Trello's retry of an action (same action.id, same bytes or not) as a duplicate", async () => {
      const body = fixture(files[0]);
      const again = await postTrello(deflect.url, body);
      expect(again).toMatchObject({ status: 200, json: { status: 'duplicate' } });
    });
  });

  it('verifies X-Trello-Webhook: good, with the older rotated secret, bad, missing, malformed, for another callback URL', async () => {
    const ok = await postTrello(deflect.url, labelAdded('bug'));
    expect(ok).toMatchObject({ status: 200, json: { status: 'accepted' } });
    const rotated = await postTrello(deflect.url, labelAdded('bug'), { secret: 'old-trello-secret' });
    expect(rotated).toMatchObject({ status: 200, json: { status: 'accepted' } });
    const bad = await postTrello(deflect.url, labelAdded('bug'), { secret: 'not-the-secret' });
    expect(bad.status).toBe(401);
    expect(bad.json.message).toMatch(/signature does not match: check that TRELLO_WEBHOOK_SECRET .* exactly https:\/\/deflect\.example\.test\/webhooks\/trello/);
    expect(bad.json.message).not.toContain(TRELLO_TEST_SECRET);
    const missing = await postTrello(deflect.url, labelAdded('bug'), { secret: null });
    expect(missing.status).toBe(401);
    expect(missing.json.message).toMatch(/requires an X-Trello-Webhook header/);
    const malformed = await postTrello(deflect.url, labelAdded('bug'), { signature: 'sha256=abc' });
    expect(malformed.status).toBe(401);
    expect(malformed.json.message).toMatch(/malformed X-Trello-Webhook/);
    const otherUrl = await postTrello(deflect.url, labelAdded('bug'), { callbackUrl: 'https://deflect.example.test/webhooks/trello?x=1' });
    expect(otherUrl.status).toBe(401);
    // A tampered body with the original signature.
    const raw = JSON.stringify(labelAdded('bug'));
    const tampered = await postTrello(deflect.url, raw.replace('"bug"', '"admin"'), { signature: signTrelloBody(raw, TRELLO_TEST_SECRET, TRELLO_CALLBACK_URL) });
    expect(tampered.status).toBe(401);
    expect(count(deflect, "SELECT count(*) AS n FROM deliveries WHERE source = 'trello' AND event = 'addLabelToCard' AND body LIKE '%\"admin\"%'")).toBe(0);
  });

  it('refuses a body that is not a Trello action (422 naming the field) and one older than DEFLECT_MAX_EVENT_AGE', async () => {
    const notAction = await postTrello(deflect.url, { action: { id: 'nope', type: 'createCard', date: 'x', data: {} } });
    expect(notAction.status).toBe(422);
    expect(notAction.json.message).toMatch(/invalid Trello event: action\.id: expected a Trello action id/);
    const old = labelAdded('bug');
    old.action.date = '2016-05-04T17:53:55.770Z';
    const stale = await postTrello(deflect.url, old);
    expect(stale.status).toBe(422);
    expect(stale.json.message).toMatch(/older than DEFLECT_MAX_EVENT_AGE/);
  });
});

describe('Trello verifier and configuration', () => {
  it('refuses every delivery from the headers alone when no callback URL is known', () => {
    const verifier = createTrelloVerifier({ 'x-trello-webhook': 'A'.repeat(27) + '=' }, ['s'], [], { callbackUrl: null });
    expect(verifier.early).toEqual({ ok: false, message: expect.stringContaining('DEFLECT_PUBLIC_URL is not set') });
  });

  it('a deflect with no TRELLO_WEBHOOK_SECRET refuses Trello deliveries with 401 naming the variable, and /readyz says so', async () => {
    const d = await startDeflect();
    try {
      const answer = await postTrello(d.url, labelAdded('bug'));
      expect(answer.status).toBe(401);
      expect(answer.json.message).toBe('Trello deliveries are refused: no webhook secret is configured (TRELLO_WEBHOOK_SECRET)');
      const ready = (await (await fetch(`${d.url}/readyz`)).json()) as Record<string, any>;
      expect(JSON.stringify(ready)).toMatch(/"trello":"refused"/);
    } finally {
      await d.close(1000);
    }
  });

  it('reads the Trello settings: callback URL from DEFLECT_PUBLIC_URL, the list mapping, key and token together', () => {
    const config = loadConfig({ TRELLO_API_KEY: 'k', TRELLO_TOKEN: 't', DEFLECT_PUBLIC_URL: 'https://d.example/', DEFLECT_TRELLO_LISTS: 'Open:To Do, done:5f0c1e2d3a4b5c6d7e8f9a0b' });
    expect(config.trello).toEqual({ api: { apiKey: 'k', token: 't', apiUrl: 'https://api.trello.com' }, callbackUrl: 'https://d.example/webhooks/trello', lists: { open: 'To Do', done: '5f0c1e2d3a4b5c6d7e8f9a0b' } });
    expect(config.dryRun).toBe(false);
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (error) {
        return (error as ConfigError).problems ?? [(error as Error).message];
      }
    };
    expect(problems({ TRELLO_API_KEY: 'k' }).join('\n')).toMatch(/TRELLO_API_KEY and TRELLO_TOKEN: set both/);
    expect(problems({ DEFLECT_TRELLO_LISTS: 'done' }).join('\n')).toMatch(/DEFLECT_TRELLO_LISTS: "done": use status:list/);
    expect(problems({ DEFLECT_PUBLIC_URL: 'ftp://x' }).join('\n')).toMatch(/DEFLECT_PUBLIC_URL: must be an http\(s\) URL/);
  });

  it('a TRELLO_WEBHOOK_SECRET without DEFLECT_PUBLIC_URL stops start-up naming it', async () => {
    await expect(startDeflect({ env: { TRELLO_WEBHOOK_SECRET: 's' } })).rejects.toThrow(/DEFLECT_PUBLIC_URL: required with TRELLO_WEBHOOK_SECRET/);
  });
});
