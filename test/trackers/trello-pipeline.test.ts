/**
 * Trello end to end over real sockets: a signed `addLabelToCard` adding a routed label (rule `trackers: [trello]`) →
 * deflect (real server, real SQLite) reads the whole card (description, labels, creator) → grant-repo-access (fake
 * GitHub) → comment and move to the done list on the fake Trello; Trello's retry of the same action changes nothing;
 * deflect's own member's actions are ignored; a 429 and a 500 on the comment retry without a double comment. Plus the
 * ticket ops and error mapping directly against the fake, and `importTrelloBoard` (paged, resumable).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { visibleCommentMarker } from '../../src/trackers/markdown-comment.js';
import { createTrelloClient, TrelloRequestError } from '../../src/trackers/trello/trello-client.js';
import { importTrelloBoard } from '../../src/trackers/trello/trello-import.js';
import { reconcileTrello } from '../../src/trackers/trello/trello-reconcile.js';
import { insertDeliveries } from '../../src/db/deliveries.js';
import { trelloTicketOps } from '../../src/trackers/trello/trello-ticket-ops.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { startFakeTrello, type FakeTrello, type FakeTrelloCard } from '../support/fake-trello.js';
import { freshDir, startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';
import { postTrello, TRELLO_PUBLIC_URL, TRELLO_TEST_SECRET } from './trello-webhook.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';

const ACCESS_REQUEST = (user: string) => `Hi platform team,\nI need to push a fix.\n\n**Repository**: acme/payments-api\n**Permission**: write\n**GitHub user**: ${user}`;
const RULES = `rules:
  - name: trello-access
    labels: [access-request]
    handler: grant-repo-access
    trackers: [trello]
    with:
      allowedOrgs: [acme]
      maxRoleWithoutApproval: write
`;
let user_n = 1;

describe('Trello end to end', () => {
  let trello: FakeTrello;
  let github: FakeGitHub;
  let deflect: DeflectUnderTest;

  beforeAll(async () => {
    trello = await startFakeTrello();
    github = await startFakeGitHub();
    const rules = join(freshDir('trello-rules-'), 'rules.yaml');
    writeFileSync(rules, RULES);
    deflect = await startDeflect({
      env: {
        DEFLECT_RULES: rules,
        TRELLO_WEBHOOK_SECRET: TRELLO_TEST_SECRET,
        DEFLECT_PUBLIC_URL: TRELLO_PUBLIC_URL,
        TRELLO_API_KEY: trello.apiKey,
        TRELLO_TOKEN: trello.token,
        TRELLO_API_URL: trello.url,
        DEFLECT_TRELLO_LISTS: 'open:To Do,done:Done',
        GITHUB_TOKEN: github.token,
        GITHUB_API_URL: github.url,
        DEFLECT_RETRY_BASE_MS: '50',
        JIRA_TIMEOUT_MS: '500',
      },
    });
  });
  afterAll(async () => {
    await deflect?.close(1000);
    await trello?.close();
    await github?.close();
  });

  /** Puts `access-request` on the card in the fake and returns the webhook Trello would send for it. */
  const labelled = (card: FakeTrelloCard, by?: FakeTrello['me']) => {
    const payload = trello.webhookPayload(card, 'addLabelToCard', { label: 'access-request', by });
    card.idLabels.push(((payload.action as any).data.label as { id: string }).id);
    return payload;
  };
  const runsOf = (key: string) => deflect.db.sqlite!.$client.prepare('SELECT * FROM runs WHERE ticket_key = ? ORDER BY id').all(key) as Array<Record<string, any>>;
  const finished = (key: string) => {
    const rows = runsOf(key);
    return rows.length > 0 && rows.every((r) => !['queued', 'running'].includes(r.status)) ? rows : null;
  };
  const actionsOf = (runId: number) => deflect.db.sqlite!.$client.prepare('SELECT kind, status FROM actions WHERE run_id = ? ORDER BY seq').all(runId);

  it('a label added on a card runs the handler, which comments and moves the card to the done list; a retry changes nothing', async () => {
    const card = trello.seedCard({ name: 'Access to payments-api', desc: ACCESS_REQUEST('jdoe-acme'), labels: ['bug'] });
    const payload = labelled(card);
    const answer = await postTrello(deflect.url, payload);
    expect(answer).toMatchObject({ status: 200, json: { status: 'accepted' } });

    const [run] = await waitFor(`the ${card.shortLink} run`, () => finished(card.shortLink));
    expect(run).toMatchObject({ status: 'succeeded', handler: 'grant-repo-access', attempts: 1 });
    expect(run.reason).toContain('label access-request → grant-repo-access (rule trello-access #1)');
    expect(github.invitations('acme/payments-api')).toEqual([expect.objectContaining({ invitee: 'jdoe-acme', permission: 'push' })]);
    expect(card.comments).toHaveLength(1);
    expect(card.comments[0].text.replace(/\\(.)/g, '$1')).toContain('Invitation sent for **acme/payments-api**');
    expect(card.comments[0].text.trimEnd().split('\n').at(-1)).toMatch(/^\*deflect ref [0-9a-f]{12}\*$/);
    expect(trello.listName(card)).toBe('Done');
    expect(actionsOf(run.id)).toEqual([
      { kind: 'github.add_collaborator', status: 'applied' },
      { kind: 'comment', status: 'applied' },
      { kind: 'transition', status: 'applied' },
    ]);
    // The card read before the handler ran is the ticket's snapshot: labels, description, creator, list.
    const ticket = deflect.db.sqlite!.$client.prepare('SELECT id, tracker, key, project, labels, reporter, description FROM tickets WHERE issue_id = ?').get(card.id) as Record<string, string>;
    expect(ticket).toMatchObject({ id: `trello:trello.com/b/${trello.board.id}:${card.id}`, tracker: 'trello', key: card.shortLink, project: trello.board.id, reporter: 'Dana Developer' });
    expect(JSON.parse(ticket.labels).sort()).toEqual(['access-request', 'bug']);
    expect(ticket.description).toContain('**GitHub user**: jdoe-acme');

    const requests = trello.requests.length;
    const again = await postTrello(deflect.url, payload);
    expect(again.json.status).toBe('duplicate');
    await new Promise((r) => setTimeout(r, 300));
    expect(runsOf(card.shortLink)).toHaveLength(1);
    expect(card.comments).toHaveLength(1);
    expect(trello.requests.length).toBe(requests);
  });

  it("ignores the label deflect's own Trello member adds (GET /1/members/me)", async () => {
    const card = trello.seedCard({ name: 'Self', desc: ACCESS_REQUEST(`user-${user_n++}`) });
    await postTrello(deflect.url, labelled(card, trello.me));
    const delivery = await waitFor('the delivery to be routed', () =>
      deflect.db.sqlite!.$client.prepare("SELECT status, reason FROM deliveries WHERE issue_key = ? AND status != 'pending'").get(card.shortLink) as Record<string, string> | undefined,
    );
    expect(delivery).toEqual({ status: 'ignored', reason: `ignored: caused by deflect's own Trello account (${trello.me.id})` });
    expect(runsOf(card.shortLink)).toHaveLength(0);
  });

  it('retries a rate-limited (429) and a failed (500) comment, posting the comment once', async () => {
    for (const fault of [{ status: 429, headers: { 'retry-after': '0' } }, { status: 500 }]) {
      const card = trello.seedCard({ name: 'Access again', desc: ACCESS_REQUEST(`user-${user_n++}`) });
      let faulted = 0;
      trello.setFault((req) => (req.method === 'POST' && req.path.endsWith('/actions/comments') && faulted++ === 0 ? fault : undefined));
      await postTrello(deflect.url, labelled(card));
      const [run] = await waitFor(`the ${card.shortLink} run`, () => finished(card.shortLink));
      trello.setFault(undefined);
      expect(run).toMatchObject({ status: 'succeeded', attempts: 2 });
      expect(card.comments).toHaveLength(1);
      expect(trello.listName(card)).toBe('Done');
      // A failed comment is looked up by its marker before it is sent again (once per retry).
      const lookups = trello.requests.filter((r) => r.method === 'GET' && r.path === `/1/cards/${card.id}/actions`);
      expect(lookups).toHaveLength(1);
    }
  });
});

describe('Trello ticket ops, client and import against the fake', () => {
  let trello: FakeTrello;
  beforeAll(async () => {
    trello = await startFakeTrello();
  });
  afterAll(async () => trello?.close());

  it('comments with a findable marker, moves by status mapping or list name, labels by name (creating them), assigns', async () => {
    const card = trello.seedCard({ labels: ['bug'] });
    const client = createTrelloClient({ apiKey: trello.apiKey, token: trello.token, apiUrl: trello.url, lists: { done: 'Done', 'in progress': 'Doing' } });
    const ops = trelloTicketOps(client, card.id);
    const { id } = await ops.comment('plain *text* @dana', { idempotencyKey: 'k-1', runId: 1 });
    expect(card.comments[0].text).toBe(`plain \\*text\\* @\u2060dana\n\n${visibleCommentMarker('k-1')}`);
    expect(await ops.findComment('k-1')).toEqual({ id });
    expect(await ops.findComment('k-2')).toBeNull();

    expect(await ops.transition('in progress')).toMatchObject({ list: 'Doing' });
    expect(await ops.currentStatus()).toBe('Doing');
    expect(await ops.transition('Done')).toMatchObject({ list: 'Done' });
    expect(await ops.transition('done')).toEqual({ alreadyIn: 'Done' });
    expect(await ops.transition('to do')).toMatchObject({ list: 'To Do' });
    await expect(ops.transition('Shipped')).rejects.toThrow(/no list for status "Shipped" on Trello board [0-9a-f]{24} \(lists: To Do, Doing, Done\); map it with DEFLECT_TRELLO_LISTS=shipped:/);

    await ops.editLabels(['automated', 'Bug'], ['bug', 'never-existed']);
    expect(trello.labelNames(card)).toEqual(['automated']);
    expect(trello.board.labels.filter((l) => l.name === 'automated')).toHaveLength(1);
    await ops.editLabels(['automated'], []); // already there: nothing sent twice
    expect(trello.labelNames(card)).toEqual(['automated']);
    await ops.assign(trello.me.id);
    expect(card.idMembers).toEqual([trello.me.id]);
    await ops.assign(null);
    expect(card.idMembers).toEqual([]);
  });

  it('maps failures: 401 permanent with a hint and no key or token in the message, 429 and 5xx transient, no answer transient', async () => {
    const bad = createTrelloClient({ apiKey: trello.apiKey, token: 'wrong-token-value', apiUrl: trello.url });
    const unauthorised = await bad.request('GET', '/1/members/me').catch((e: unknown) => e as TrelloRequestError);
    expect(unauthorised).toBeInstanceOf(TrelloRequestError);
    expect(unauthorised).toMatchObject({ status: 401, transient: false });
    expect((unauthorised as Error).message).toBe('Trello answered 401 to GET /1/members/me (check TRELLO_API_KEY and TRELLO_TOKEN): invalid token');
    const client = createTrelloClient({ apiKey: trello.apiKey, token: trello.token, apiUrl: trello.url, timeoutMs: 200 });
    trello.setFault(() => ({ status: 429, headers: { 'retry-after': '2' } }));
    await expect(client.request('GET', '/1/members/me')).rejects.toMatchObject({ status: 429, transient: true, retryAfterMs: 2000 });
    trello.setFault(() => ({ status: 503 }));
    await expect(client.request('GET', '/1/members/me')).rejects.toMatchObject({ status: 503, transient: true });
    trello.setFault(() => ({ delayMs: 1000 }));
    const timedOut = await client.request('GET', '/1/members/me').catch((e: unknown) => e as TrelloRequestError);
    expect(timedOut).toMatchObject({ status: null, transient: true });
    expect((timedOut as Error).message).toMatch(/no answer within 200 ms/);
    trello.setFault(undefined);
    for (const error of [unauthorised, timedOut]) {
      expect((error as Error).message).not.toContain(trello.token);
      expect((error as Error).message).not.toContain(trello.apiKey);
    }
    await expect(client.request('GET', '/1/cards/000000000000000000000000')).rejects.toMatchObject({ status: 404, transient: false });
  });

  it('imports a board page by page (newest first, before=<card id>), resumable; labels, list as status, resolved in the done list', async () => {
    const day = 86_400_000;
    const start = Date.UTC(2026, 5, 1);
    const seeded = Array.from({ length: 7 }, (_, i) =>
      trello.seedCard({ name: `Request ${i}`, desc: `desc ${i}`, createdAt: start + i * day, labels: i % 2 === 0 ? ['access-request'] : [], list: i < 2 ? 'Done' : 'To Do', closed: i === 6 }),
    );
    const db = openDatabase(join(freshDir('trello-import-'), 'deflect.db'));
    try {
      const client = createTrelloClient({ apiKey: trello.apiKey, token: trello.token, apiUrl: trello.url, lists: { done: 'Done' } });
      let failed = 0;
      trello.setFault((req) => (req.path.endsWith('/cards') && req.query.before && failed++ === 0 ? { status: 500 } : undefined));
      const total = trello.board.cards.length;
      const result = await importTrelloBoard(sqliteStore(db), client, { board: trello.board.shortLink, pageSize: 3, sleep: async () => {} });
      trello.setFault(undefined);
      expect(result).toMatchObject({ boardId: trello.board.id, imported: total, skipped: 0, retries: 1, resumedBefore: null });
      expect(result.pages).toBe(Math.ceil(total / 3) + (total % 3 === 0 ? 1 : 0));
      const rows = db.$client.prepare("SELECT key, status, labels, created, resolved, description FROM tickets WHERE tracker = 'trello'").all() as Array<Record<string, any>>;
      expect(rows).toHaveLength(total);
      const row = (card: FakeTrelloCard) => rows.find((r) => r.key === card.shortLink)!;
      expect(row(seeded[0])).toMatchObject({ status: 'Done', created: Math.floor(start / 1000) * 1000, description: 'desc 0' });
      expect(row(seeded[0]).resolved).not.toBeNull();
      expect(row(seeded[3])).toMatchObject({ status: 'To Do', resolved: null });
      expect(row(seeded[6]).resolved).not.toBeNull(); // archived
      expect(JSON.parse(row(seeded[2]).labels)).toEqual(['access-request']);
      const checkpoint = db.$client.prepare("SELECT status, imported FROM import_checkpoints WHERE source = ?").get(`trello:${trello.board.id}`);
      expect(checkpoint).toEqual({ status: 'done', imported: total });

      // An interrupted import resumes after its last written page.
      db.$client.prepare("UPDATE import_checkpoints SET status = 'running', cursor = ? WHERE source = ?").run(seeded[3].id, `trello:${trello.board.id}`);
      const resumed = await importTrelloBoard(sqliteStore(db), client, { board: trello.board.id, pageSize: 3, sleep: async () => {} });
      expect(resumed.resumedBefore).toBe(seeded[3].id);
      expect(resumed.imported).toBe(trello.board.cards.filter((c) => c.id < seeded[3].id).length);
      const pagesAsked = trello.requests.filter((r) => r.path.endsWith('/cards') && r.query.before === seeded[3].id);
      expect(pagesAsked.length).toBeGreaterThan(0);
    } finally {
      db.$client.close();
    }
  });

  it('reconcile stores the card actions whose webhook never arrived, keyed as the webhook would be; a second run stores nothing', async () => {
    const db = openDatabase(join(freshDir('trello-reconcile-'), 'deflect.db'));
    try {
      const client = createTrelloClient({ apiKey: trello.apiKey, token: trello.token, apiUrl: trello.url });
      const card = trello.seedCard({ name: 'Missed', desc: 'x' });
      const delivered = trello.webhookPayload(card, 'createCard');
      const missed = trello.webhookPayload(card, 'addLabelToCard', { label: 'access-request' });
      trello.webhookPayload(card, 'addChecklistToCard'); // not a card action reconcile asks for
      const deliveredId = (delivered.action as { id: string }).id;
      insertDeliveries(db, [{ source: 'trello', deliveryKey: `trello:${deliveredId}`, webhookIdentifier: deliveredId, event: 'createCard', issueKey: card.shortLink, headers: {}, body: JSON.stringify(delivered), eventTimestamp: Date.now(), receivedAt: Date.now() }]);
      const now = Date.now() + 120_000; // both actions are past the settle time
      const first = await reconcileTrello({ db: sqliteStore(db), client, boards: [trello.board.shortLink], since: Date.now() - 3_600_000, now });
      const missedId = (missed.action as { id: string }).id;
      expect(first.missed).toEqual([expect.objectContaining({ key: card.shortLink, event: 'addLabelToCard', actionId: missedId, duplicate: false })]);
      expect(first.upToDate).toBeGreaterThanOrEqual(1);
      const row = db.$client.prepare('SELECT source, event, issue_key AS issueKey, status, body FROM deliveries WHERE delivery_key = ?').get(`trello:${missedId}`) as Record<string, string>;
      expect(row).toMatchObject({ source: 'trello', event: 'addLabelToCard', issueKey: card.shortLink, status: 'pending' });
      expect(JSON.parse(row.body).action.data.label.name).toBe('access-request');
      const again = await reconcileTrello({ db: sqliteStore(db), client, boards: [trello.board.id], since: Date.now() - 3_600_000, now });
      expect(again.missed).toEqual([]);
      // Within the settle time an action is left for its webhook; past it, a dry run lists it and stores nothing.
      const fresh = (trello.webhookPayload(card, 'commentCard', { text: 'hello' }).action as { id: string }).id;
      const settling = await reconcileTrello({ db: sqliteStore(db), client, boards: [trello.board.id], since: Date.now() - 3_600_000, dryRun: true });
      expect(settling.missed).toEqual([]);
      expect(settling.skipped).toBeGreaterThanOrEqual(1);
      const listed = await reconcileTrello({ db: sqliteStore(db), client, boards: [trello.board.id], since: Date.now() - 3_600_000, dryRun: true, now });
      expect(listed.missed).toEqual([expect.objectContaining({ actionId: fresh, event: 'commentCard', deliveryId: null })]);
      expect(db.$client.prepare('SELECT count(*) AS n FROM deliveries WHERE delivery_key = ?').get(`trello:${fresh}`)).toEqual({ n: 0 });
    } finally {
      db.$client.close();
    }
  });
});
