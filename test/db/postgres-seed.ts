/**
 * A SQLite database holding real data in every table, for the PostgreSQL copy tests: tickets imported by
 * `deflect import` (a slice of the Fluid Jira export, which has no labels, and the example history, which has), grouped;
 * runs, deliveries, actions, approvals, resolutions, handler states and modes, API tokens and a session, Slack requests
 * and events, the health probe, all through the repository functions routing and the worker use; old runs pruned by
 * `deflect prune` behind an audit checkpoint; and a delivery id SQLite handed out and then lost (so `sqlite_sequence`
 * is past max(id)).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beginAction, finishAction } from '../../src/db/actions.js';
import { createApiToken, revokeApiToken } from '../../src/db/api-tokens.js';
import { recordApprovalStep } from '../../src/db/approvals.js';
import { createAuthSession } from '../../src/db/auth-sessions.js';
import { openDatabase } from '../../src/db/client.js';
import { insertDeliveries } from '../../src/db/deliveries.js';
import { recordHandlerModeChange } from '../../src/db/handler-modes.js';
import { recordHandlerOutcome } from '../../src/db/handler-states.js';
import { recordHealthProbe } from '../../src/db/health-probe.js';
import { recordResolution } from '../../src/db/run-verifications.js';
import { claimSlackEvent, recordSlackRequest } from '../../src/db/slack-requests.js';
import { seedRun } from '../support/audit-runs.js';
import { REPO_ROOT } from '../support/deflect-under-test.js';
import { runCli } from '../support/run-cli.js';

const FLUID = join(REPO_ROOT, '../shared/fixtures/tickets/fluid-jira-issues.jsonl');
const HISTORY = join(REPO_ROOT, 'examples/history/platform-requests.jsonl');
const DAY = 86_400_000;

/** Tickets taken from the Fluid export. */
export const FLUID_TICKETS = 400;

/** Fills `<dir>/source.db` and resolves with its path. @throws when an import or prune fails. */
export async function seedSqlite(dir: string): Promise<string> {
  const path = join(dir, 'source.db');
  const slice = join(dir, 'fluid-slice.jsonl');
  writeFileSync(slice, `${readFileSync(FLUID, 'utf8').split('\n').slice(0, FLUID_TICKETS).join('\n')}\n`);
  for (const file of [slice, HISTORY]) {
    const out = await runCli(['import', 'jsonl', file], { DEFLECT_DB: path });
    if (out.code !== 0) throw new Error(`deflect import ${file} failed: ${out.stderr}`);
  }

  const db = openDatabase(path);
  const now = Date.now();
  const old = now - 500 * DAY;
  for (let i = 0; i < 3; i += 1) seedRun(db, { ticketKey: `PLAT-${900 + i}`, createdAt: old + i * 1000 });
  const statuses = ['succeeded', 'failed', 'planned', 'dead', 'succeeded', 'queued'] as const;
  const runIds: number[] = [];
  for (let i = 0; i < 12; i += 1) {
    runIds.push(
      seedRun(db, {
        ticketKey: `PLAT-${201 + i}`,
        status: statuses[i % statuses.length],
        shadow: i === 4,
        description: i === 0 ? 'Zugang für Jürgen 🚀 — «citations» \\ "quotes"\nsecond line' : null,
        error: statuses[i % statuses.length] === 'failed' ? 'Jira said 403: check JIRA_API_TOKEN' : null,
        createdAt: now - (12 - i) * 60_000,
      }),
    );
  }
  runIds.forEach((runId, i) => {
    const key = `run-${runId}`;
    const first = beginAction(db, { runId, seq: 1, kind: 'comment', ticketKey: `PLAT-${201 + i}`, idempotencyKey: `${key}:1:comment`, request: { body: `Grüße ${i} 👋` }, status: 'started' }, now);
    finishAction(db, first, i % 3 === 1 ? { status: 'failed', error: 'timeout after 10000 ms' } : { status: 'applied', response: { id: String(10_000 + i) } }, now + 10);
    if (i % 2 === 0) beginAction(db, { runId, seq: 2, kind: 'transition', ticketKey: `PLAT-${201 + i}`, idempotencyKey: `${key}:2:transition`, request: { status: 'Done' }, status: 'planned' }, now);
  });
  recordApprovalStep(db, { runId: runIds[5], decision: 'requested', reason: 'needs an owner', expiresAt: now + DAY }, now);
  recordApprovalStep(db, { runId: runIds[5], decision: 'approved', by: 'owner-1', commentId: '10500' }, now + 1000);
  recordResolution(db, { runId: runIds[0], handler: 'grant-repo-access', ticketKey: 'PLAT-201', ticketRowId: null, reporter: 'jane-1', resolvedStatus: 'Done', labelsAdded: ['deflected'], feedbackInvited: true }, 14 * DAY, now);
  recordHandlerOutcome(db, 'grant-repo-access', 'success', { pauseAfter: 5 }, now);
  recordHandlerOutcome(db, 'reset-token', 'failure', { pauseAfter: 1, error: 'boom' }, now);
  recordHandlerModeChange(db, { handler: 'reset-token', mode: 'shadow', by: 'deflect', reason: 'verified rate 40% below 80%' }, now);
  const tokenHash = () => createHash('sha256').update(randomBytes(32)).digest('hex');
  const admin = createApiToken(db, { name: 'alice', role: 'admin', tokenHash: tokenHash() }, now);
  createApiToken(db, { name: 'bob', role: 'auditor', tokenHash: tokenHash() }, now);
  revokeApiToken(db, 'bob', now + 5);
  createAuthSession(db, { idHash: tokenHash(), tokenId: admin, expiresAt: now + DAY }, now);
  recordSlackRequest(db, { viewId: 'V0123', teamId: 'T1', userId: 'U1', ruleName: 'repo-access', handler: 'grant-repo-access' }, now);
  claimSlackEvent(db, 'Ev0123', now);
  recordHealthProbe(db, now);
  const [lost] = insertDeliveries(db, [
    { source: 'jira', deliveryKey: 'lost', webhookIdentifier: null, event: 'jira:issue_updated', issueKey: 'PLAT-1', headers: {}, body: '{}', eventTimestamp: now, receivedAt: now },
  ]);
  db.$client.prepare('DELETE FROM deliveries WHERE id = ?').run(lost.id);
  db.$client.close();

  const pruned = await runCli(['prune', '--audit-older-than', '400d'], { DEFLECT_DB: path });
  if (pruned.code !== 0) throw new Error(`deflect prune failed: ${pruned.stderr}`);
  return path;
}
