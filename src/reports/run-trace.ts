/**
 * The trace of one run (`GET /api/runs/:id`, the `/audit` page's expanded run): from the delivery that caused it,
 * through the routing decision and the input the handler got, to every action in order, the approvals, the attempts
 * and the errors. Everything shown from stored JSON (action requests and responses, handler options, the ticket
 * snapshot) passes through {@link maskSecrets}: secrets never reach the answer.
 *
 * `verification` (decision 010): for a run that resolved its ticket, whether the resolution held — `pending` until
 * its window ends, `verified`, `reopened`, `refiled` or `overridden`, with the evidence; null when it resolved nothing.
 */
import type { ActionRow } from '../db/schema.js';
import type { Store } from '../db/store.js';
import { siteOf, toAuditApproval, type AuditApproval, type AuditVerification } from './audit.js';
import { maskSecrets, maskStoredJson, maskText } from './mask-secrets.js';
import { ticketUrl } from './tracker-filter.js';

/**
 * How a delivery got in:
 * - `webhook`: a tracker's POST that passed the receiver's check (HMAC signature or shared token: which of the two is
 *   logged at receipt, not stored on the row);
 * - `replay`: created by deflect's own replay path (`deflect replay --delivery`, `POST /api/deliveries/:id/replay`)
 *   from a stored delivery that was authenticated when it first arrived;
 * - `reconcile`: created by deflect itself from the tracker's REST API (missed-webhook reconciliation, authenticated
 *   as deflect's own API credentials).
 */
export type DeliveryAuthentication = 'webhook' | 'replay' | 'reconcile';

/** The state of one action as the audit names it (see {@link actionState}). */
export type ActionState = 'applied' | 'planned' | 'skipped on retry' | 'checked after a crash' | 'started, outcome unknown' | 'failed';

export interface TraceAction {
  seq: number;
  kind: string;
  /** What it acted on: the ticket key for tracker actions, the system (`github`) for `<system>.<operation>` kinds. */
  target: string;
  /** The stored row's status: `planned` | `started` | `applied` | `failed`. */
  status: string;
  /** What the audit makes of it (see {@link actionState}). */
  state: ActionState;
  idempotencyKey: string;
  /** What was asked, secrets masked. */
  request: unknown;
  /** What came back, secrets masked (`verifiedInTracker: true` when found in the tracker after a crash). */
  response: unknown;
  /** The HTTP status the answer or the error names, when it names one. */
  httpStatus: number | null;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface RunTrace {
  run: {
    id: number;
    status: string;
    handler: string;
    ticketKey: string;
    tracker: string;
    ticketUrl: string | null;
    dryRun: boolean;
    shadow: boolean;
    applied: boolean;
    summary: string | null;
    idempotencyKey: string;
    createdAt: string;
    startedAt: string | null;
    finishedAt: string | null;
    durationMs: number | null;
  };
  /** Null when the delivery row is gone (it never is today: retention prunes bodies, not rows). */
  delivery: {
    id: number;
    event: string;
    tracker: string;
    receivedAt: string;
    routedAt: string | null;
    authentication: DeliveryAuthentication;
    /** The delivery this one replays, or null for an original. */
    replayOf: number | null;
    webhookIdentifier: string | null;
    /** When retention emptied the body (the delivery can no longer be replayed), or null. */
    bodyPrunedAt: string | null;
  } | null;
  decision: {
    /** Why the run was created, e.g. `label access-request → grant-repo-access (rule repo-access #1)`. */
    reason: string;
    /** The rule's name, when the run was routed by one (null for runs queued before rule settings were stored, or by a tool). */
    rule: string | null;
    /** The rules file version (12 hex of its SHA-256), or null. */
    rulesVersion: string | null;
  };
  /** What the handler was given: the ticket snapshot and the rule's `with:` options, secrets masked. */
  input: { ticket: unknown; options: unknown };
  actions: TraceAction[];
  approvals: AuditApproval[];
  attempts: { count: number; max: number; manualRetries: number };
  /** Every error recorded: the run's last error, then each failed action's. */
  errors: Array<{ source: string; at: string | null; message: string }>;
  /** Whether the resolution held (decision 010); null when the run resolved nothing. */
  verification: AuditVerification | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** How a delivery was authenticated, from what the row records (its key's prefix and `replay_of`). */
export function deliveryAuthentication(delivery: { deliveryKey: string; replayOf: number | null }): DeliveryAuthentication {
  if (delivery.replayOf !== null || delivery.deliveryKey.startsWith('replay:')) return 'replay';
  if (delivery.deliveryKey.startsWith('reconcile:')) return 'reconcile';
  return 'webhook';
}

/**
 * The audit's name for an action's state:
 * - `planned`: dry run or shadow mode, nothing sent;
 * - `checked after a crash`: an earlier attempt's outcome was unknown (crash or timeout mid-call), and the tracker
 *   showed the write had landed (`response.verifiedInTracker`), so it was recorded, not sent again (decision 002);
 * - `skipped on retry`: applied by an earlier attempt (it finished before the run's last attempt started), so the
 *   later attempt skipped it;
 * - `applied`, `failed`; `started, outcome unknown`: written before the call, never finished (in flight, or the
 *   process died during the call and no retry has checked it yet).
 */
export function actionState(action: Pick<ActionRow, 'status' | 'response' | 'finishedAt' | 'createdAt'>, lastAttemptStartedAt: number | null): ActionState {
  if (action.status === 'planned') return 'planned';
  if (action.status === 'failed') return 'failed';
  if (action.status === 'started') return 'started, outcome unknown';
  if (action.response?.includes('"verifiedInTracker":true')) return 'checked after a crash';
  if (lastAttemptStartedAt !== null && (action.finishedAt ?? action.createdAt) < lastAttemptStartedAt) return 'skipped on retry';
  return 'applied';
}

/** The HTTP status named by a response (`status`/`statusCode` field) or an error text (`… 503 …` after HTTP/status/answered). */
function httpStatusOf(response: unknown, error: string | null): number | null {
  if (response && typeof response === 'object') {
    const value = (response as Record<string, unknown>).status ?? (response as Record<string, unknown>).statusCode;
    if (typeof value === 'number' && value >= 100 && value < 600) return value;
  }
  const match = error ? /\b(?:HTTP|status|answered|returned|responded)\D{0,12}([1-5]\d{2})\b/i.exec(error) : null;
  return match ? Number(match[1]) : null;
}

/** The trace of run `id`, or null when there is no such run. */
export async function buildRunTrace(db: Store, id: number, options: { jiraBaseUrl?: string | null } = {}): Promise<RunTrace | null> {
  const run = await db.findRun(id);
  if (!run) return null;
  const extras = await db.findRunTraceExtras(id);
  const delivery = await db.findDelivery(run.deliveryId);
  let snapshot: Record<string, unknown> | null = null;
  try {
    snapshot = extras?.ticketSnapshot ? (JSON.parse(extras.ticketSnapshot) as Record<string, unknown>) : null;
  } catch {
    snapshot = null;
  }
  // The same rule as db/runs.ts runTrackerSql: a snapshot naming no tracker is Jira's.
  const tracker = typeof snapshot?.tracker === 'string' ? snapshot.tracker : 'jira';
  const siteUrl = typeof snapshot?.siteUrl === 'string' ? snapshot.siteUrl : null;
  const actions = (await db.listActionsForRuns([id])).map((a): TraceAction => {
    const response = maskStoredJson(a.response);
    return {
      seq: a.seq,
      kind: a.kind,
      target: a.kind.includes('.') ? a.kind.split('.')[0] : a.ticketKey,
      status: a.status,
      state: actionState(a, run.startedAt),
      idempotencyKey: a.idempotencyKey,
      request: maskStoredJson(a.request),
      response,
      httpStatus: httpStatusOf(response, a.error),
      error: a.error === null ? null : maskText(a.error),
      startedAt: iso(a.createdAt)!,
      finishedAt: iso(a.finishedAt),
    };
  });
  const errors = [
    ...(run.error ? [{ source: 'run', at: iso(run.finishedAt), message: maskText(run.error) }] : []),
    ...actions.filter((a) => a.error).map((a) => ({ source: `action ${a.seq} (${a.kind})`, at: a.finishedAt, message: a.error! })),
  ];
  const verification = (await db.findRunVerificationStates([id])).get(id);
  return {
    run: {
      id: run.id,
      status: run.status,
      handler: run.handler,
      ticketKey: run.ticketKey,
      tracker,
      ticketUrl: ticketUrl({ tracker, site: siteOf(siteUrl), key: run.ticketKey }, options.jiraBaseUrl ?? null),
      dryRun: run.dryRun,
      shadow: run.shadow,
      applied: run.applied,
      summary: run.summary === null ? null : maskText(run.summary),
      idempotencyKey: run.idempotencyKey,
      createdAt: iso(run.createdAt)!,
      startedAt: iso(run.startedAt),
      finishedAt: iso(run.finishedAt),
      durationMs: run.durationMs,
    },
    delivery: delivery
      ? {
          id: delivery.id,
          event: delivery.event,
          tracker: delivery.source,
          receivedAt: iso(delivery.receivedAt)!,
          routedAt: iso(delivery.routedAt),
          authentication: deliveryAuthentication(delivery),
          replayOf: delivery.replayOf,
          webhookIdentifier: delivery.webhookIdentifier,
          bodyPrunedAt: iso(delivery.bodyPrunedAt),
        }
      : null,
    decision: { reason: run.reason, rule: extras?.ruleName ?? /\(rule (\S+) #\d+/.exec(run.reason)?.[1] ?? null, rulesVersion: run.rulesVersion },
    input: { ticket: snapshot && maskSecrets(snapshot), options: extras?.ruleOptions ? maskStoredJson(extras.ruleOptions) : null },
    actions,
    approvals: (await db.listApprovalSteps([id])).map(toAuditApproval),
    attempts: { count: run.attempts, max: run.maxAttempts, manualRetries: run.manualRetries },
    errors,
    verification: verification
      ? { state: verification.state, decidedAt: iso(verification.decidedAt), evidence: verification.evidence, windowEndsAt: iso(verification.windowEndsAt)!, feedback: verification.feedback }
      : null,
  };
}
