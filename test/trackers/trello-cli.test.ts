/**
 * `deflect import trello` and `deflect reconcile --tracker trello` as a user runs them (the CLI on the sources, a real
 * database of the pass's backend, test-backend.ts) against the fake Trello: the board's cards land as trello tickets, a missed action is listed by a dry
 * reconcile, and missing credentials or a bad board id say what to set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDeflectCli } from '../support/deflect-process.js';
import { startFakeTrello, type FakeTrello } from '../support/fake-trello.js';
import { freshDatabase, type TestDatabase } from '../support/test-backend.js';

describe('deflect import trello / reconcile --tracker trello', () => {
  let trello: FakeTrello;
  let env: Record<string, string>;
  let database: TestDatabase;
  beforeAll(async () => {
    trello = await startFakeTrello();
    database = await freshDatabase('trello-cli-');
    env = { ...database.env, TRELLO_API_KEY: trello.apiKey, TRELLO_TOKEN: trello.token, TRELLO_API_URL: trello.url, DEFLECT_TRELLO_LISTS: 'done:Done' };
  });
  afterAll(async () => trello?.close());

  it('imports the board by shortLink, pages and all, and says how many', async () => {
    for (let i = 0; i < 5; i++) trello.seedCard({ name: `Need access ${i}`, desc: 'please', labels: ['access-request'], list: i === 0 ? 'Done' : 'To Do' });
    const result = await runDeflectCli(env, 'import', 'trello', '--board', trello.board.shortLink, '--page-size', '2', '--no-group');
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`imported 5 tickets from Trello board ${trello.board.id} \\(3 pages, 0 retries`));
    const rows = await database.all("SELECT key, project, status, resolved FROM tickets WHERE tracker = 'trello'");
    expect(rows).toHaveLength(5);
    expect(rows.filter((r) => r.resolved !== null)).toHaveLength(1);
    expect(new Set(rows.map((r) => r.project))).toEqual(new Set([trello.board.id]));
  });

  it('lists a missed card action in a dry reconcile and stores nothing', async () => {
    const card = trello.board.cards[0];
    const missed = (trello.webhookPayload(card, 'addLabelToCard', { label: 'access-request' }).action as { id: string }).id;
    const result = await runDeflectCli(env, 'reconcile', '--tracker', 'trello', '--board', trello.board.id, '--since', '1h', '--settle', '0m', '--dry-run', '--format', 'json');
    expect(result.status).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.missed).toEqual([expect.objectContaining({ actionId: missed, event: 'addLabelToCard', key: card.shortLink, deliveryId: null })]);
  });

  it('says what is missing: credentials, a board id, --board for reconcile', async () => {
    const noCredentials = await runDeflectCli({ ...database.env }, 'import', 'trello', '--board', trello.board.id);
    expect(noCredentials.status).not.toBe(0);
    expect(noCredentials.stderr).toMatch(/deflect import trello needs TRELLO_API_KEY and TRELLO_TOKEN/);
    const badBoard = await runDeflectCli(env, 'import', 'trello', '--board', 'not a board');
    expect(badBoard.stderr).toMatch(/--board "not a board" is not a Trello board id/);
    const unknown = await runDeflectCli(env, 'import', 'trello', '--board', '0123456789abcdef01234567');
    expect(unknown.stderr).toMatch(/no Trello board "0123456789abcdef01234567" \(or TRELLO_TOKEN cannot see it\)/);
    const noBoard = await runDeflectCli(env, 'reconcile', '--tracker', 'trello');
    expect(noBoard.stderr).toMatch(/reconcile --tracker trello needs --board ID/);
    for (const run of [noCredentials, badBoard, unknown, noBoard]) expect(run.stderr).not.toContain(trello.token);
  });
});
