/**
 * `npm run demo`: the main job end to end on the embedded SQLite default (DEFLECT_DB, default ./data/deflect.db).
 *
 * 1. starts a fake Jira, a fake GitHub and a fake Linear (real HTTP servers on 127.0.0.1 that answer like Jira Cloud,
 *    the GitHub REST API and Linear's GraphQL API, and record what they get),
 * 2. starts deflect against them with the example rules, a webhook secret per tracker, a GitHub token and a Linear key,
 * 3. imports a year of ticket history (`deflect import jsonl examples/history/platform-requests.jsonl`), which also
 *    groups the tickets by text, and the eight weeks before today (scripts/demo-impact.ts: requests people handled
 *    before deflect went live),
 * 4. replays the example payloads the project ships, each signed the way its tracker signs:
 *    `deflect replay examples/payloads --fresh-id` (Jira), `--tracker github examples/payloads-github` (an issue
 *    labelled `access-request`) and `--tracker linear examples/payloads-linear` (an issue labelled `new-repo`),
 * 5. waits for the worker, then prints what Jira, GitHub and Linear received, `deflect report --since all` (request
 *    types counted across trackers) and `deflect audit` (display keys `PLAT-105`, `acme/web#1`, `ENG-1`),
 * 6. creates an auditor API token (`deflect tokens create`) and reads the audit trail over HTTP with it (and shows that
 *    the API refuses a request without one), then revokes it, and says where the report page is,
 * 7. replays today's requests from more people and teams (scripts/demo-impact.ts), which the worker carries out, and
 *    prints `deflect impact`: before vs after the automation's start per request type.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startServer } from '../src/server.js';
import { startFakeGitHub } from '../test/support/fake-github.js';
import { startFakeJira } from '../test/support/fake-jira.js';
import { startFakeLinear } from '../test/support/fake-linear.js';
import { writeAdoptionPayloads, writeRecentHistory } from './demo-impact.js';

const root = resolve(import.meta.dirname, '..');
const dbPath = process.env.DEFLECT_DB ?? './data/deflect.db';
const secret = 'demo-secret';
/** Bold step headings only on a terminal that takes colour (NO_COLOR, https://no-color.org, and pipes get plain text). */
const bold = process.stdout.isTTY && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb';
const step = (text: string) => console.log(bold ? `\n\x1b[1m== ${text}\x1b[0m` : `\n== ${text}`);

step('Starting a fake Jira on 127.0.0.1 (stands in for your-site.atlassian.net)');
const jira = await startFakeJira();
for (const n of [101, 102, 103, 104, 105]) jira.seedIssue({ key: `PLAT-${n}` });
console.log(`fake Jira at ${jira.url}, issues PLAT-101..105 seeded`);
step('Starting a fake GitHub on 127.0.0.1 (stands in for api.github.com)');
const github = await startFakeGitHub();
const githubIssue = github.seedIssue('acme/web', {
  title: 'Write access to payments-api for the checkout fix',
  body: 'I need to push the checkout fix this week.\n\nRepository: acme/payments-api\nPermission: write\nGitHub user: mia-checkout',
  labels: ['access-request'],
  user: 'mia-checkout',
});
console.log(`fake GitHub at ${github.url}, repository acme/payments-api, the acme/template-* templates and issue acme/web#${githubIssue.number} seeded`);
step('Starting a fake Linear on 127.0.0.1 (stands in for api.linear.app)');
const linear = await startFakeLinear({ urlKey: 'acme' });
// The issues the example GitHub and Linear payloads are about (examples/payloads-github, examples/payloads-linear).
const linearIssue = linear.seedIssue({
  id: '5c0ffee0-1b2c-4d3e-8f40-aa0000000001',
  teamKey: 'ENG',
  title: 'New repository for the ledger service',
  description: 'Repository Name: payments-ledger\nTemplate: service\nOwning Team: payments\nVisibility: private',
});
console.log(`fake Linear at ${linear.url}, issue ${linearIssue.identifier} seeded in team ENG`);

step(`Starting deflect (database ${dbPath}, rules examples/rules.yaml)`);
const env = {
  DEFLECT_DB: dbPath,
  DEFLECT_RULES: join(root, 'examples/rules.yaml'),
  DEFLECT_WEBHOOK_SECRET: secret,
  DEFLECT_GITHUB_WEBHOOK_SECRET: 'demo-github-secret',
  DEFLECT_LINEAR_WEBHOOK_SECRET: 'demo-linear-secret',
  LINEAR_API_KEY: linear.apiKey,
  LINEAR_API_URL: linear.url,
  JIRA_BASE_URL: jira.url,
  // The example payloads come from this (made-up) site; deflect acts only on events from its configured site.
  JIRA_SITE_URL: 'https://acme-example.atlassian.net',
  JIRA_EMAIL: 'deflect-bot@example.com',
  JIRA_API_TOKEN: 'demo-token',
  JIRA_ACCOUNT_ID: 'deflect-bot',
  GITHUB_TOKEN: github.token,
  GITHUB_API_URL: github.url,
};
const config = loadConfig({ ...env, HOST: '127.0.0.1', PORT: '0', DEFLECT_LOG_LEVEL: 'warn' }, () => false);
const server = await startServer(config, createLogger(config.logLevel));
console.log(`deflect listening at ${server.url}`);

// The CLI runs as a child process; asynchronously, because the server lives in this process's event loop.
const run = promisify(execFile);
const deflect = async (...args: string[]) =>
  (await run(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], { cwd: root, env: { ...process.env, COLUMNS: String(process.stdout.columns ?? 120), ...env } })).stdout;

/** The GraphQL operation name of a recorded Linear request body. */
function operationOf(body: unknown): string {
  const query = (body as { query?: unknown } | null)?.query;
  return typeof query === 'string' ? (/^\s*(?:query|mutation)\s+(\w+)/.exec(query)?.[1] ?? 'anonymous operation') : '';
}

/** Waits until no delivery is pending and no run is queued or running. @throws after 30 s. */
async function waitForWorker(): Promise<void> {
  const started = Date.now();
  for (;;) {
    const pending = { n: (await server.db.countPendingDeliveries()) + ((await server.db.countRuns()).byStatus.queued ?? 0) + ((await server.db.countRuns()).byStatus.running ?? 0) };
    if (pending.n === 0 && server.worker.busy === 0) break;
    if (Date.now() - started > 30_000) throw new Error(`the worker did not finish within 30 s (${pending.n} left)`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

try {
  step('$ deflect import jsonl examples/history/platform-requests.jsonl   (ticket history nobody labelled consistently)');
  process.stdout.write(await deflect('import', 'jsonl', join(root, 'examples/history/platform-requests.jsonl')));
  const demoDir = join(dirname(resolve(dbPath)), 'demo');
  const recent = writeRecentHistory(demoDir);
  step(`$ deflect import jsonl ${recent}   (the 8 weeks before today: requests people handled before deflect went live)`);
  process.stdout.write(await deflect('import', 'jsonl', recent));

  const payloads = readdirSync(join(root, 'examples/payloads')).filter((f) => f.endsWith('.json'));
  step(`$ deflect replay examples/payloads --fresh-id   (${payloads.length} payloads, signed with DEFLECT_WEBHOOK_SECRET)`);
  process.stdout.write(await deflect('replay', join(root, 'examples/payloads'), '--url', server.url, '--fresh-id'));

  step('$ deflect replay --tracker github examples/payloads-github --fresh-id   (acme/web#1 labelled access-request, X-Hub-Signature-256)');
  process.stdout.write(await deflect('replay', '--tracker', 'github', join(root, 'examples/payloads-github'), '--url', server.url, '--fresh-id'));
  step('$ deflect replay --tracker linear examples/payloads-linear --fresh-id   (ENG-1 labelled new-repo, Linear-Signature)');
  process.stdout.write(await deflect('replay', '--tracker', 'linear', join(root, 'examples/payloads-linear'), '--url', server.url, '--fresh-id'));

  await waitForWorker();

  step('What Jira received');
  for (const r of jira.requests.filter((r) => r.method !== 'GET')) console.log(`${r.method} ${r.path}`);
  step('What GitHub received');
  for (const r of github.requests) console.log(`${r.method} ${r.path}${r.body ? ` ${JSON.stringify(r.body)}` : ''}`);
  const ghIssue = github.issue('acme/web', githubIssue.number)!;
  console.log(`→ acme/web#${githubIssue.number} is ${ghIssue.state}; its comment:\n${ghIssue.comments.map((c) => c.body).join('\n---\n')}`);
  step('What Linear received');
  for (const r of linear.requests) console.log(`${r.method} ${r.path} ${operationOf(r.body)}`);
  const lin = linear.issue(linearIssue.identifier)!;
  console.log(`→ ${linearIssue.identifier} is in state ${linear.stateName(lin)}; its comment:\n${lin.comments.map((c) => c.body).join('\n---\n')}`);

  step('$ deflect group   (regroup by text now that the webhooks brought new tickets)');
  process.stdout.write(await deflect('group'));
  step('$ deflect report --since all --top 8');
  process.stdout.write(await deflect('report', '--since', 'all', '--top', '8'));
  step('$ deflect audit --limit 10');
  process.stdout.write(await deflect('audit', '--limit', '10'));

  step('$ deflect tokens create --name demo-lead --role auditor --format json   (the HTTP API and the pages need a token)');
  await server.db.revokeApiToken('demo-lead'); // left over from an interrupted run
  const issued = JSON.parse(await deflect('tokens', 'create', '--name', 'demo-lead', '--role', 'auditor', '--format', 'json')) as { token: string };
  console.log(`token created for demo-lead (auditor), shown once: ${issued.token.slice(0, 8)}…`);
  const anonymous = await fetch(`${server.url}/api/runs?limit=3`);
  console.log(`GET /api/runs without a token → ${anonymous.status} ${((await anonymous.json()) as { message: string }).message}`);
  const audit = await fetch(`${server.url}/api/runs?limit=3`, { headers: { authorization: `Bearer ${issued.token}` } });
  const runs = ((await audit.json()) as { runs: Array<{ id: number; ticketKey: string; handler: string; status: string; summary: string | null }> }).runs;
  console.log(`GET /api/runs?limit=3 with "Authorization: Bearer <token>" → ${audit.status}`);
  for (const r of runs) console.log(`  #${r.id} ${r.ticketKey} ${r.handler} ${r.status}${r.summary ? `: ${r.summary}` : ''}`);
  const operate = await fetch(`${server.url}/api/handlers/grant-repo-access/pause`, { method: 'POST', headers: { authorization: `Bearer ${issued.token}` } });
  console.log(`POST /api/handlers/grant-repo-access/pause as an auditor → ${operate.status} ${((await operate.json()) as { message: string }).message}`);
  await deflect('tokens', 'revoke', 'demo-lead');
  console.log('$ deflect tokens revoke demo-lead   (done)');

  const adoption = writeAdoptionPayloads(demoDir);
  for (const key of adoption.keys) jira.seedIssue({ key });
  step(`$ deflect replay ${adoption.dir} --fresh-id   (${adoption.keys.length} requests filed just now by 8 people of 3 teams; one waits for approval, one has no label)`);
  process.stdout.write(await deflect('replay', adoption.dir, '--url', server.url, '--fresh-id'));
  await waitForWorker();
  process.stdout.write(await deflect('group'));
  step('$ deflect impact   (before vs after the first automated run, per request type; the page: /reports/impact)');
  process.stdout.write(await deflect('impact'));
} finally {
  await server.close(2000);
  await jira.close();
  await github.close();
  await linear.close();
}
console.log(
  `\nDone. The database is ${dbPath}. Run \`npx deflect report\`, \`npx deflect audit\` or \`npx deflect explain PLAT-201\` any time;` +
    ' `DEFLECT_WEBHOOK_SECRET=<secret> npm start` serves the report page at http://localhost:3000/reports/top-tickets' +
    ' and the impact page at http://localhost:3000/reports/impact;' +
    ' sign in there with a token from `npx deflect tokens create --name you --role auditor`.',
);
