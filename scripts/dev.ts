/**
 * `npm run dev`: the handler loop. Runs deflect from the TypeScript sources (no build step) under `tsx watch`, which
 * restarts this script whenever a file it imports changes (a handler, `handlers/index.ts`, anything in `src/`) or a
 * rules file changes (`--include` in package.json). Each start:
 *
 * 1. starts the demo's fake Jira (issues PLAT-1..PLAT-300 seeded), fake GitHub (with the issue of
 *    `examples/payloads-github`) and fake Linear (with the issue of `examples/payloads-linear`) (`test/support/`: real
 *    HTTP servers on 127.0.0.1 that answer like Jira Cloud, the GitHub REST API and Linear's GraphQL API and record
 *    what they get),
 * 2. starts deflect against them on 127.0.0.1:$PORT (default 3000) with the rules in `$DEFLECT_RULES`, else
 *    `./rules.yaml` when present, else `examples/rules.yaml`; database `$DEFLECT_DB`, default `./data/dev.db` (kept
 *    across restarts),
 * 3. prints an admin token (`dev-admin`, issued once and kept in `<database>.admin-token`, mode 0600, so a restart
 *    does not sign you out of the page) with the webhook secrets and the commands to replay a payload of each tracker
 *    and open the report page.
 *
 * Local use only: the secrets are fixed (`dev-secret` for every tracker, so replay commands keep working across restarts) and every
 * outside call goes to the fakes. When it cannot start (say a rule names a handler not listed in `handlers/index.ts`)
 * it prints why and waits for the next save. A rules file given by `DEFLECT_RULES` outside `./rules.yaml` and
 * `examples/rules.yaml` is not watched: save a source file to reload it. Stop with Ctrl-C.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { issueApiToken } from '../src/auth/issue-token.js';
import { hashSecret } from '../src/auth/secrets.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startServer } from '../src/server.js';
import { startFakeGitHub } from '../test/support/fake-github.js';
import { startFakeJira } from '../test/support/fake-jira.js';
import { startFakeLinear } from '../test/support/fake-linear.js';

const root = resolve(import.meta.dirname, '..');
const secret = 'dev-secret';
const port = process.env.PORT ?? '3000';
const dbPath = process.env.DEFLECT_DB ?? join(root, 'data/dev.db');
const rulesPath = process.env.DEFLECT_RULES ?? (existsSync(join(root, 'rules.yaml')) ? join(root, 'rules.yaml') : join(root, 'examples/rules.yaml'));
mkdirSync(dirname(dbPath), { recursive: true });

const jira = await startFakeJira();
for (let n = 1; n <= 300; n++) jira.seedIssue({ key: `PLAT-${n}` });
const github = await startFakeGitHub();
// The issues the example payloads of GitHub and Linear are about.
const githubExample = JSON.parse(readFileSync(join(root, 'examples/payloads-github/01-access-request-labeled.json'), 'utf8')) as { issue: { title: string; body: string } };
github.seedIssue('acme/web', { title: githubExample.issue.title, body: githubExample.issue.body, labels: ['access-request'] });
const linear = await startFakeLinear({ urlKey: 'acme' });
const linearExample = JSON.parse(readFileSync(join(root, 'examples/payloads-linear/01-new-repo-label-added.json'), 'utf8')) as { data: { id: string; title: string; description: string } };
linear.seedIssue({ id: linearExample.data.id, teamKey: 'ENG', title: linearExample.data.title, description: linearExample.data.description });

const config = loadConfig(
  {
    HOST: '127.0.0.1',
    PORT: port,
    DEFLECT_DB: dbPath,
    DEFLECT_RULES: rulesPath,
    DEFLECT_WEBHOOK_SECRET: secret,
    DEFLECT_GITHUB_WEBHOOK_SECRET: secret,
    DEFLECT_LINEAR_WEBHOOK_SECRET: secret,
    LINEAR_API_KEY: linear.apiKey,
    LINEAR_API_URL: linear.url,
    DEFLECT_LOG_LEVEL: process.env.DEFLECT_LOG_LEVEL ?? 'info',
    JIRA_BASE_URL: jira.url,
    // The example payloads come from this (made-up) site; deflect acts only on events from its configured site.
    JIRA_SITE_URL: 'https://acme-example.atlassian.net',
    JIRA_EMAIL: 'deflect-bot@example.com',
    JIRA_API_TOKEN: 'dev-token',
    JIRA_ACCOUNT_ID: 'deflect-bot',
    GITHUB_TOKEN: github.token,
    GITHUB_API_URL: github.url,
  },
  () => false,
);
const server = await startServer(config, createLogger(config.logLevel)).catch(async (error: unknown) => {
  // A rule naming a handler that is not listed yet, a typo in the rules file...: say what, and wait for the next save.
  console.error(`\ndeflect dev: could not start: ${error instanceof Error ? error.message : String(error)}\nFix it and save: the service restarts by itself.\n`);
  await jira.close();
  await github.close();
  await linear.close();
  process.exit(1);
});
// The admin token survives restarts (a reload must not sign you out of the page): kept next to the dev database,
// readable by you only, and re-issued when it is missing or no longer active there.
const tokenFile = `${dbPath}.admin-token`;
const kept = existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : '';
let adminToken = kept;
if (!kept || (await server.db.findActiveApiToken(hashSecret(kept)))?.name !== 'dev-admin') {
  await server.db.revokeApiToken('dev-admin');
  adminToken = (await issueApiToken(server.db, 'dev-admin', 'admin')).token;
  writeFileSync(tokenFile, `${adminToken}\n`, { mode: 0o600 });
}

const rel = (path: string) => relative(process.cwd(), path) || '.';
console.log(
  [
    '',
    `deflect dev: ${server.url}  (sources, reloads on save; fake Jira ${jira.url}, fake GitHub ${github.url}, fake Linear ${linear.url})`,
    `  rules:          ${rel(rulesPath)}   database: ${rel(dbPath)}`,
    `  webhook secret: ${secret}  (Jira, GitHub and Linear)`,
    `  admin token:    ${adminToken}   (kept in ${rel(tokenFile)})`,
    `  replay Jira:    DEFLECT_WEBHOOK_SECRET=${secret} npx tsx src/cli/main.ts replay examples/payloads/01-access-request-created.json --url ${server.url} --fresh-id`,
    `  replay GitHub:  DEFLECT_GITHUB_WEBHOOK_SECRET=${secret} npx tsx src/cli/main.ts replay --tracker github examples/payloads-github --url ${server.url} --fresh-id`,
    `  replay Linear:  DEFLECT_LINEAR_WEBHOOK_SECRET=${secret} npx tsx src/cli/main.ts replay --tracker linear examples/payloads-linear --url ${server.url} --fresh-id`,
    `  report page:    ${server.url}/reports/top-tickets  (sign in with the admin token)`,
    `  what the trackers got: printed below as each run finishes`,
    '',
  ].join('\n'),
);

// Show what the fakes received, so the effect of a replay is visible without opening anything.
let seenJira = 0;
let seenGitHub = 0;
let seenLinear = 0;
const showCalls = setInterval(() => {
  for (const r of jira.requests.slice(seenJira)) if (r.method !== 'GET') console.log(`  Jira   ← ${r.method} ${r.path}`);
  for (const r of github.requests.slice(seenGitHub)) console.log(`  GitHub ← ${r.method} ${r.path}`);
  for (const r of linear.requests.slice(seenLinear)) {
    const query = (r.body as { query?: unknown } | null)?.query;
    console.log(`  Linear ← ${typeof query === 'string' ? (/^\s*(?:query|mutation)\s+(\w+)/.exec(query)?.[1] ?? 'GraphQL') : r.path}`);
  }
  seenJira = jira.requests.length;
  seenGitHub = github.requests.length;
  seenLinear = linear.requests.length;
}, 500);

let closing = false;
async function stop(): Promise<void> {
  if (closing) return;
  closing = true;
  clearInterval(showCalls);
  await server.close(2000);
  await jira.close();
  await github.close();
  await linear.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
