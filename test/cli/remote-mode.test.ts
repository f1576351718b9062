/**
 * The CLI's remote mode: `--url` + `DEFLECT_TOKEN` reads report, audit and handlers, and retries runs, through a
 * running deflect's HTTP API (a real server on a loopback socket, on a database of the pass's backend), without the
 * database (DEFLECT_DB points nowhere, no DATABASE_URL).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importParsedRows } from '../../src/import/import-tickets.js';
import { parseJsonlLines } from '../../src/import/parse-jsonl.js';
import { createTestToken } from '../support/api-token.js';
import { EXAMPLE_RULES, freshDir, postWebhook, REPO_ROOT, startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';
import { runCli } from '../support/run-cli.js';

let deflect: DeflectUnderTest;
let auditorToken: string;
const nowhere = join(freshDir('deflect-remote-'), 'absent', 'deflect.db');

beforeAll(async () => {
  deflect = await startDeflect();
  auditorToken = await createTestToken(deflect.db, 'auditor');
  // The example history, through the import path `deflect import jsonl` uses (in process: that command loses its rows
  // on PostgreSQL, see the PostgreSQL bug noted in test/backtest/backtest-cli.test.ts).
  const lines = readFileSync(join(REPO_ROOT, 'examples/history/platform-requests.jsonl'), 'utf8').split('\n');
  const imported = await importParsedRows(deflect.db, parseJsonlLines(lines), { source: 'jsonl:platform-requests' });
  expect(imported.imported).toBeGreaterThan(0);
  expect(imported.skipped).toBe(0);
  const payloadDir = join(REPO_ROOT, 'examples/payloads');
  const payload = JSON.parse(readFileSync(join(payloadDir, readdirSync(payloadDir).filter((f) => f.endsWith('.json')).sort()[0]), 'utf8')) as { timestamp?: number };
  payload.timestamp = Date.now();
  expect((await postWebhook(deflect.url, payload)).status).toBe(200);
  await waitFor('a run to finish', async () => (await deflect.database.get<{ n: number }>("SELECT count(*) AS n FROM runs WHERE status NOT IN ('queued','running')"))!.n > 0);
});
afterAll(async () => deflect?.close(1000));

const remoteEnv = (token = auditorToken) => ({ DEFLECT_DB: nowhere, DEFLECT_TOKEN: token });

describe('remote mode (--url, DEFLECT_TOKEN)', () => {
  it('deflect report --url gives the same report as on the database itself', async () => {
    const local = await runCli(['report', '--since', 'all', '--format', 'json'], { ...deflect.database.env, DEFLECT_RULES: EXAMPLE_RULES });
    const remote = await runCli(['report', '--since', 'all', '--format', 'json', '--url', deflect.url], remoteEnv());
    expect(remote.code, remote.stderr).toBe(0);
    const [a, b] = [JSON.parse(local.stdout), JSON.parse(remote.stdout)] as Array<{ totalTickets: number; groups: Array<{ id: string; count: number }> }>;
    expect(b.totalTickets).toBeGreaterThan(0);
    expect(b.totalTickets).toBe(a.totalTickets);
    expect(b.groups.map((g) => [g.id, g.count])).toEqual(a.groups.map((g) => [g.id, g.count]));
  });

  it('deflect audit --url and deflect handlers --url read runs and handler health over HTTP', async () => {
    const audit = await runCli(['audit', '--format', 'json', '--url', deflect.url], remoteEnv());
    expect(audit.code, audit.stderr).toBe(0);
    const runs = (JSON.parse(audit.stdout) as { runs: Array<{ id: number; handler: string }> }).runs;
    expect(runs.length).toBeGreaterThan(0);
    const table = await runCli(['handlers', '--url', deflect.url], remoteEnv());
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain(runs[0].handler);
  });

  it('deflect runs retry --url asks the server, and its refusal is the API message (exit 1)', async () => {
    const operator = await createTestToken(deflect.db, 'operator');
    const missing = await runCli(['runs', 'retry', '987654', '--url', deflect.url], remoteEnv(operator));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/404/);
    const asAuditor = await runCli(['runs', 'retry', '1', '--url', deflect.url], remoteEnv());
    expect(asAuditor.code).toBe(1);
    expect(asAuditor.stderr).toMatch(/403/);
  });

  it('a wrong token is a one-line failure naming DEFLECT_TOKEN, and no token is bad usage', async () => {
    const wrong = await runCli(['report', '--url', deflect.url], remoteEnv('dfl_not-a-real-token'));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/401.*DEFLECT_TOKEN/);
    expect(wrong.stderr).not.toContain('dfl_not-a-real-token');
    const none = await runCli(['audit', '--url', deflect.url], { DEFLECT_DB: nowhere });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('DEFLECT_TOKEN');
    const unreachable = await runCli(['handlers', '--url', 'http://127.0.0.1:9'], remoteEnv());
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('cannot reach http://127.0.0.1:9');
  });
});
