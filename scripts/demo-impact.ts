/**
 * The demo's recent weeks (`npm run demo`, scripts/demo.ts), so the impact report has a before and an after around
 * the automation's start, each through deflect's real paths:
 *
 * - **before**: {@link writeRecentHistory} writes the eight weeks before today as a Jira export would have them (one
 *   issue JSON a line, the `deflect import jsonl` format, like `examples/history/`): access and new-repository
 *   requests people handled by hand, from three teams (Jira projects PLAT, PAY, DATA), resolved after hours to days.
 *   The dates are relative to today (UTC midnight), so the file is the same all day and the import is repeatable.
 * - **after**: {@link writeAdoptionPayloads} writes `jira:issue_created` webhooks for requests filed today by more
 *   people of the same teams, with the labels the example rules route (`access-request` → grant-repo-access,
 *   `new-repo` → create-repository). The demo replays them signed through the real server (`deflect replay`, which
 *   sets each event's `timestamp` to now: inside `DEFLECT_MAX_EVENT_AGE`), and the worker carries them out against the
 *   fake Jira and GitHub: those are the automated runs. A `maintain` request waits for an approver and one arrives
 *   without a label: the share resolved by deflect is not 100 % by construction.
 *
 * Nothing here writes to the database: the import and the server do.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SITE = 'https://acme-example.atlassian.net';

interface Person {
  name: string;
  accountId: string;
  project: 'PLAT' | 'PAY' | 'DATA';
  github: string;
}

const PEOPLE: Person[] = [
  { name: 'Jane Doe', accountId: '712020:demo-jane', project: 'PLAT', github: 'jdoe-acme' },
  { name: 'Omar Haddad', accountId: '712020:demo-omar', project: 'PAY', github: 'omar-h' },
  { name: 'Sam Okafor', accountId: '712020:demo-sam', project: 'PLAT', github: 'sokafor' },
  { name: 'Lena Fischer', accountId: '712020:demo-lena', project: 'DATA', github: 'lfischer' },
  { name: 'Ada Mensah', accountId: '712020:demo-ada', project: 'PAY', github: 'ada-m' },
  { name: 'Mark Ode', accountId: '712020:demo-mark', project: 'DATA', github: 'markode' },
  { name: 'Priya Nair', accountId: '712020:demo-priya', project: 'PLAT', github: 'pnair' },
  { name: 'Tomasz Nowak', accountId: '712020:demo-tomasz', project: 'PAY', github: 'tnowak' },
];
const REPOS = ['payments-api', 'api', 'web'];
const SERVICES = ['fraud-rules', 'loyalty', 'tax-engine', 'edge-cache', 'etl-jobs', 'pricing', 'search-indexer', 'feature-flags', 'ml-features'];

/** Jira's timestamp form (`2026-11-21T09:00:00.000+0000`). */
const jiraTime = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');

function issue(id: number, key: string, person: Person, summary: string, description: string, labels: string[], created: number, resolved: number | null) {
  const user = { self: `${SITE}/rest/api/2/user?accountId=${person.accountId}`, accountId: person.accountId, displayName: person.name, active: true };
  return {
    id: String(id),
    key,
    self: `${SITE}/rest/api/2/issue/${id}`,
    fields: {
      summary,
      description,
      labels,
      issuetype: { name: 'Task' },
      status: resolved === null ? { name: 'To Do' } : { name: 'Done' },
      project: { key: person.project, name: person.project },
      reporter: user,
      creator: user,
      created: jiraTime(created),
      updated: jiraTime(resolved ?? created),
      resolutiondate: resolved === null ? null : jiraTime(resolved),
    },
  };
}

const accessText = (person: Person, repo: string, permission: string) =>
  `I need ${permission} access for my next change.\n\n*Repository*: acme/${repo}\n*Permission*: ${permission}\n*GitHub user*: ${person.github}`;
const repoText = (service: string, team: string) => `We are starting the ${service} service.\n\nRepository name: ${service}\nTemplate: service\nOwning team: ${team}`;

/**
 * Writes `<dir>/recent-history.jsonl`: 8 weeks (days −56 … −3 before today's UTC midnight) of requests people
 * resolved: 14 access requests (resolved after 4–46 h) and 5 new repositories (after 26–74 h). Returns the path.
 */
export function writeRecentHistory(dir: string, now = Date.now()): string {
  const today = Math.floor(now / DAY) * DAY;
  const lines: string[] = [];
  let n = 0;
  const add = (key: string, person: Person, summary: string, description: string, labels: string[], daysAgo: number, hours: number) => {
    const created = today - daysAgo * DAY + 9 * HOUR + (n % 5) * 37 * 60_000;
    lines.push(JSON.stringify(issue(40_000 + n, key, person, summary, description, labels, created, created + hours * HOUR)));
    n++;
  };
  [55, 52, 48, 45, 41, 38, 34, 31, 27, 24, 20, 17, 13, 10].forEach((daysAgo, i) => {
    const person = PEOPLE[i % PEOPLE.length];
    const permission = i % 3 === 0 ? 'read' : 'write';
    const repo = REPOS[i % REPOS.length];
    add(`${person.project}-${300 + i}`, person, `Need ${permission} access to ${repo}`, accessText(person, repo, permission), ['access-request'], daysAgo, 4 + ((i * 7) % 43));
  });
  [50, 36, 29, 15, 6].forEach((daysAgo, i) => {
    const person = PEOPLE[(i * 3 + 1) % PEOPLE.length];
    add(`${person.project}-${330 + i}`, person, `New repository for the ${SERVICES[i]} service`, repoText(SERVICES[i], person.project.toLowerCase()), ['new-repo'], daysAgo, 26 + i * 12);
  });
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'recent-history.jsonl');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/**
 * Writes `<dir>/adoption/*.json`: webhooks for requests filed just now (one a second, ending at `now`: after the
 * automation's first run) — 6 access requests and 2 new repositories labelled for the example rules, from 7 people of 3
 * teams; one `maintain` access request, which waits for an approver (the example rule's `maxRoleWithoutApproval: write`),
 * and one unlabelled request, left to people. Returns the folder and the issue keys (the fake Jira must know them to
 * take comments and transitions).
 */
export function writeAdoptionPayloads(dir: string, now = Date.now()): { dir: string; keys: string[] } {
  const folder = join(dir, 'adoption');
  mkdirSync(folder, { recursive: true });
  const requests: Array<{ person: Person; summary: string; description: string; labels: string[] }> = [];
  [0, 1, 3, 4, 5, 6].forEach((p, i) => {
    const repo = REPOS[i % REPOS.length];
    requests.push({ person: PEOPLE[p], summary: `Need write access to ${repo}`, description: accessText(PEOPLE[p], repo, 'write'), labels: ['access-request'] });
  });
  [7, 2].forEach((p, i) => {
    const service = SERVICES[5 + i];
    requests.push({ person: PEOPLE[p], summary: `New repository for the ${service} service`, description: repoText(service, PEOPLE[p].project.toLowerCase()), labels: ['new-repo'] });
  });
  requests.push({ person: PEOPLE[2], summary: 'Need maintain access to api', description: accessText(PEOPLE[2], 'api', 'maintain'), labels: ['access-request'] });
  requests.push({ person: PEOPLE[7], summary: 'Need read access to web', description: accessText(PEOPLE[7], 'web', 'read'), labels: [] });
  const keys = requests.map((r, i) => {
    const key = `${r.person.project}-${400 + i}`;
    const created = now - (requests.length - 1 - i) * 1000;
    const body = {
      timestamp: created,
      webhookEvent: 'jira:issue_created',
      issue_event_type_name: 'issue_created',
      user: { accountId: r.person.accountId, displayName: r.person.name },
      issue: issue(41_000 + i, key, r.person, r.summary, r.description, r.labels, created, null),
    };
    writeFileSync(join(folder, `${String(i).padStart(2, '0')}-${key}.json`), `${JSON.stringify(body, null, 2)}\n`);
    return key;
  });
  return { dir: folder, keys };
}
