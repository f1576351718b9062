/**
 * Runs for audit tests, recorded through the repository functions routing and the worker use: `insertDeliveries`
 * (the delivery), `enqueueRun` (the run with its ticket snapshot, at `createdAt`), `recordRunRuleSettings` (the rule
 * and its options), `finishRun` (the outcome). `seedRun` returns the run id.
 */
import { randomUUID } from 'node:crypto';
import { recordRunRuleSettings } from '../../src/db/approvals.js';
import type { Db } from '../../src/db/client.js';
import { insertDeliveries } from '../../src/db/deliveries.js';
import { enqueueRun, finishRun, type RunOutcome } from '../../src/db/runs.js';
import type { Ticket } from '../../src/ticket.js';
import type { TrackerName } from '../../src/trackers/tracker.js';
import { ticketWith } from './ticket-fixture.js';

export interface SeedRun {
  ticketKey: string;
  handler?: string;
  rule?: string;
  /** Default `succeeded`; `queued` leaves the run queued. */
  status?: RunOutcome | 'queued';
  tracker?: TrackerName;
  reporter?: string;
  reporterId?: string;
  /** The run's summary (what the handler said it did). */
  summary?: string | null;
  /** The ticket's summary. */
  ticketSummary?: string;
  description?: string | null;
  error?: string | null;
  /** ms; default now. */
  createdAt?: number;
  options?: Record<string, unknown>;
  siteUrl?: string | null;
  shadow?: boolean;
}

/** Records one run as routing and the worker would; returns its id. */
export function seedRun(db: Db, run: SeedRun): number {
  const createdAt = run.createdAt ?? Date.now();
  const handler = run.handler ?? 'grant-repo-access';
  const rule = run.rule ?? 'repo-access';
  const key = `seed:${randomUUID()}`;
  const ticket: Ticket = ticketWith(run.description ?? null, {
    key: run.ticketKey,
    summary: run.ticketSummary ?? `Request on ${run.ticketKey}`,
    reporter: run.reporter ?? 'Jane Doe',
    reporterId: run.reporterId ?? 'jane-1',
    siteUrl: run.siteUrl === undefined ? 'https://acme.atlassian.net' : run.siteUrl,
    ...(run.tracker && run.tracker !== 'jira' ? { tracker: run.tracker } : {}),
  });
  const [delivery] = insertDeliveries(db, [
    { source: run.tracker ?? 'jira', deliveryKey: key, webhookIdentifier: null, event: 'jira:issue_created', issueKey: run.ticketKey, headers: {}, body: '{}', eventTimestamp: createdAt, receivedAt: createdAt },
  ]);
  const id = enqueueRun(
    db,
    {
      deliveryId: delivery.id,
      ticketKey: run.ticketKey,
      handler,
      reason: `label access-request → ${handler} (rule ${rule} #1)`,
      dryRun: false,
      shadow: run.shadow,
      rulesVersion: 'abc123def456',
      idempotencyKey: `${run.ticketKey}:${handler}:${key}`,
      maxAttempts: 5,
      ticket,
    },
    createdAt,
  )!;
  recordRunRuleSettings(db, id, { ruleName: rule, options: run.options ?? {}, approval: null });
  const status = run.status ?? 'succeeded';
  if (status !== 'queued') finishRun(db, id, { status, summary: run.summary === undefined ? `done on ${run.ticketKey}` : run.summary, error: run.error ?? null, durationMs: 5 }, createdAt + 5);
  return id;
}
