/**
 * A platform team's last 10 weeks for the impact tests, written through deflect's own repository functions (the ones
 * import and the worker use: `upsertTickets`, `insertDeliveries`, `enqueueRun`, `finishRun`, `beginAction`,
 * `finishAction`), with answers computable by hand:
 *
 * - `access-request` (grant-repo-access): 6 tickets before the automation, people resolved them in 2, 4, 6, 8, 10, 12 h
 *   (p50 7 h, p90 11 h); the first automated run finishes 14 days − 1 h before `now` (the start: alice's ticket, filed
 *   an hour earlier, was waiting); after it 3 tickets deflect resolved 1 h after they were filed (alice and bob of
 *   PLAT, carol of OPS) and 1 resolved by people in 20 h (dave of OPS): after TTRs 1, 1, 20 h → share resolved by deflect 3/4, hours returned 3 × 7 = 21 (history), adoption 3 of 4 reporters and
 *   2 of 2 teams;
 * - `new-repo` (create-repository): 2 tickets, both automated, no history → hours returned 2 × 45 min = 1.5 (estimate);
 * - `vpn`: 3 tickets resolved by people in 5 h, with a shadow run, a dry run and a run that validated without applying:
 *   none is automation;
 * - one one-off ticket people resolved.
 * People resolved 6 + 1 + 3 + 1 = 11 tickets, 10 of them repeats.
 */
import { beginAction, finishAction } from '../../src/db/actions.js';
import type { Db } from '../../src/db/client.js';
import { insertDeliveries } from '../../src/db/deliveries.js';
import { enqueueRun, finishRun } from '../../src/db/runs.js';
import { upsertTickets } from '../../src/db/tickets.js';
import { regroupTickets } from '../../src/reports/regroup.js';
import { parseRulesConfig } from '../../src/rules/rules-file.js';
import type { ReportContext } from '../../src/reports/top-tickets-report.js';
import type { Ticket } from '../../src/ticket.js';
import { sqliteStore } from '../../src/db/sqlite-store.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

const { rules, estimates } = parseRulesConfig(
  `rules:
  - labels: [access-request]
    handler: grant-repo-access
  - labels: [new-repo]
    handler: create-repository
estimates:
  defaultMinutes: 15
  handlers: { grant-repo-access: 10, create-repository: 45 }
`,
  'rules.yaml',
  ['grant-repo-access', 'create-repository'],
);
export const IMPACT_CONTEXT: ReportContext = { rules, estimates, jiraBaseUrl: 'https://acme.atlassian.net' };

interface Seed {
  project: string;
  summary: string;
  labels: string[];
  reporter: string;
  created: number;
  /** Hours to the tracker's resolution, or null (open, or only deflect's transition so far). */
  resolvedAfter: number | null;
  /** A live automated run that applied a transition `runAfter` hours after creation. */
  automatedBy?: string;
  /** A run that is not automation. */
  notAutomation?: 'shadow' | 'dry-run' | 'not-applied';
}

export interface ImpactSeed {
  now: number;
  /** When the first automated run of access-request finished. */
  start: number;
}

/** Writes the seed into `db` (tickets created relative to `now`) and groups the tickets by text. */
export async function seedImpact(db: Db, now = Date.now()): Promise<ImpactSeed> {
  const seeds: Seed[] = [];
  const repos = ['payments-api', 'ledger', 'web-shop', 'search', 'billing', 'infra-docs', 'mobile-app', 'risk-engine', 'notifier', 'status-page'];
  [60, 52, 44, 36, 28, 20].forEach((daysAgo, i) =>
    seeds.push({ project: 'PLAT', summary: `Access to ${repos[i]} repository`, labels: ['access-request'], reporter: `r${i % 3}`, created: now - daysAgo * DAY, resolvedAfter: 2 * (i + 1) }),
  );
  const start = now - 14 * DAY + HOUR;
  seeds.push({ project: 'PLAT', summary: `Access to ${repos[6]} repository`, labels: ['access-request'], reporter: 'alice', created: now - 14 * DAY, resolvedAfter: null, automatedBy: 'grant-repo-access' });
  // The tracker's resolution came back (a webhook) for bob's ticket: deflect resolved it all the same.
  seeds.push({ project: 'PLAT', summary: `Access to ${repos[7]} repository`, labels: ['access-request'], reporter: 'bob', created: now - 9 * DAY, resolvedAfter: 1, automatedBy: 'grant-repo-access' });
  seeds.push({ project: 'OPS', summary: `Access to ${repos[8]} repository`, labels: ['access-request'], reporter: 'carol', created: now - 3 * DAY, resolvedAfter: null, automatedBy: 'grant-repo-access' });
  seeds.push({ project: 'OPS', summary: `Access to ${repos[9]} repository`, labels: ['access-request'], reporter: 'dave', created: now - 6 * DAY, resolvedAfter: 20 });
  seeds.push({ project: 'PLAT', summary: 'Create repo fraud-rules from the service template', labels: ['new-repo'], reporter: 'erin', created: now - 5 * DAY, resolvedAfter: null, automatedBy: 'create-repository' });
  seeds.push({ project: 'PLAT', summary: 'Create repo pricing from the service template', labels: ['new-repo'], reporter: 'frank', created: now - 2 * DAY, resolvedAfter: null, automatedBy: 'create-repository' });
  (['shadow', 'dry-run', 'not-applied'] as const).forEach((kind, i) =>
    seeds.push({ project: 'PLAT', summary: `VPN drops in ${['Berlin', 'Lisbon', 'Oslo'][i]}`, labels: ['vpn'], reporter: 'gina', created: now - (10 + i * 7) * DAY, resolvedAfter: 5, notAutomation: kind }),
  );
  seeds.push({ project: 'PLAT', summary: 'The office coffee machine is broken', labels: [], reporter: 'hank', created: now - 8 * DAY, resolvedAfter: 3 });

  const tickets: Ticket[] = seeds.map((s, i) => ({
    id: String(5000 + i), key: `${s.project}-${100 + i}`, project: s.project, issueType: 'Task', status: s.resolvedAfter === null ? 'To Do' : 'Done',
    labels: s.labels, summary: s.summary, description: null, reporter: s.reporter.toUpperCase(), reporterId: s.reporter,
    created: s.created, updated: s.created, resolved: s.resolvedAfter === null ? null : s.created + s.resolvedAfter * HOUR, siteUrl: 'https://acme.atlassian.net',
  }));
  upsertTickets(db, tickets.map((ticket) => ({ ticket })), 'import', now);
  seeds.forEach((s, i) => {
    if (s.automatedBy) recordRun(db, tickets[i], s.automatedBy, 'live');
    if (s.notAutomation) recordRun(db, tickets[i], 'grant-repo-access', s.notAutomation);
  });
  await regroupTickets(sqliteStore(db), now);
  return { now, start };
}

/** A run of `handler` on `ticket` as the worker records it: its delivery, the run, and (live) a comment and a transition applied 1 h after creation. */
function recordRun(db: Db, ticket: Ticket, handler: string, kind: 'live' | 'shadow' | 'dry-run' | 'not-applied'): void {
  const queuedAt = ticket.created! + HOUR / 2;
  const doneAt = ticket.created! + HOUR;
  const [delivery] = insertDeliveries(db, [
    { deliveryKey: `seed:${ticket.key}:${kind}`, webhookIdentifier: null, event: 'jira:issue_created', issueKey: ticket.key, headers: {}, body: '{}', eventTimestamp: queuedAt, receivedAt: queuedAt },
  ]);
  const key = `${ticket.key}:${handler}:seed:${kind}`;
  const runId = enqueueRun(db, { deliveryId: delivery.id, ticketKey: ticket.key, handler, reason: `label → ${handler}`, dryRun: kind === 'dry-run', shadow: kind === 'shadow', idempotencyKey: key, maxAttempts: 3, ticket }, queuedAt)!;
  // Live: a comment and a transition applied; shadow and dry runs: both planned; a run that validated without applying: a comment only.
  const sent = kind === 'live' || kind === 'not-applied';
  const comment = beginAction(db, { runId, seq: 1, kind: 'comment', ticketKey: ticket.key, idempotencyKey: `${key}:1:comment`, request: { markdown: 'done' }, status: sent ? 'started' : 'planned' }, queuedAt);
  if (sent) finishAction(db, comment, { status: 'applied' }, doneAt);
  if (kind !== 'not-applied') {
    const transition = beginAction(db, { runId, seq: 2, kind: 'transition', ticketKey: ticket.key, idempotencyKey: `${key}:2:transition`, request: { status: 'Done' }, status: sent ? 'started' : 'planned' }, queuedAt);
    if (sent) finishAction(db, transition, { status: 'applied' }, doneAt);
  }
  const status = kind === 'live' || kind === 'not-applied' ? 'succeeded' : kind === 'shadow' ? 'shadow' : 'planned';
  finishRun(db, runId, { status, summary: 'seed', applied: kind !== 'not-applied', durationMs: 5 }, doneAt);
}
