/**
 * The audit trail: automated runs with the actions each took, newest first, filtered (reports/audit-filter.ts) and
 * keyset-paged (db/run-search.ts). Backs `deflect audit` (table and streamed exports), `GET /api/runs` and the
 * `/audit` page. Action requests and responses are shown with secrets masked (reports/mask-secrets.ts).
 */
import type { Store } from '../db/store.js';
import { MAX_PAGE_LIMIT, type RunCursor, type RunFilter, type SearchedRun } from '../db/run-search.js';
import type { ApprovalRow } from '../db/schema.js';
import { type RunVerificationState } from '../db/run-verifications.js';
import { listDemotedHandlers } from '../automation/demotion.js';
import type { TrackerName } from '../trackers/tracker.js';
import { encodeCursor } from './audit-filter.js';
import { maskStoredJson, maskText } from './mask-secrets.js';
import { ticketUrl } from './tracker-filter.js';

export interface AuditAction {
  seq: number;
  kind: string;
  /** `planned` | `started` | `applied` | `failed` */
  status: string;
  /** What was asked (stored JSON), secrets masked. */
  request: unknown;
  /** What came back (stored JSON), secrets masked. */
  response: unknown;
  error: string | null;
  at: string;
}

export interface AuditRun {
  id: number;
  deliveryId: number;
  /** The ticket's display key: `PLAT-12` (Jira), `acme/api#12` (GitHub), `ENG-12` (Linear). */
  ticketKey: string;
  /** The ticket's page on its tracker, or null when its site is unknown (reports/tracker-filter.ts `ticketUrl`). */
  ticketUrl: string | null;
  /** The tracker of the ticket, from the snapshot the run was queued with (`jira` when it names none). */
  tracker: TrackerName;
  handler: string;
  /** Why the run was created, e.g. `label access-request → grant-repo-access (rule repo-access #1)`. */
  reason: string;
  status: string;
  dryRun: boolean;
  /** Queued by a rule in `mode: shadow`: actions planned, nothing sent; status `shadow` once finished. */
  shadow: boolean;
  /** The rules file version that routed the run (12 hex of the file's SHA-256); null without a rules file or before it was recorded. */
  rulesVersion: string | null;
  /** The delivery this run's delivery replays (`deflect replay --delivery`), or null for an original delivery. */
  replayOf: number | null;
  /** How many times an operator re-queued the run (`deflect runs retry`). */
  manualRetries: number;
  attempts: number;
  durationMs: number | null;
  summary: string | null;
  /** False when the run succeeded but did not carry the request out (see HandlerResult.applied). */
  applied: boolean;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
  actions: AuditAction[];
  /** (approvals) The run's approval steps, oldest first: requested, approved / denied (by whom), expired. */
  approvals: AuditApproval[];
  /**
   * (verified resolution) For a run that resolved its ticket: `pending` (watched until `windowEndsAt`), `verified`,
   * `reopened`, `refiled` or `overridden`, with the evidence and the reporter's answer; null for a run that resolved nothing.
   */
  verification: AuditVerification | null;
}

/** (verified resolution) A resolution's verification, as the audit shows it (`db/run-verifications.ts`). */
export interface AuditVerification {
  state: string;
  decidedAt: string | null;
  evidence: string | null;
  windowEndsAt: string;
  /** `thanks` | `reopen` | null: the reporter's answer. */
  feedback: string | null;
}

/** (verified resolution) A handler's mode set outside the rules file: `shadow` (demoted by deflect) or `live` (put back by a person). */
export interface AuditModeChange {
  handler: string;
  mode: string;
  at: string;
  by: string;
  reason: string;
}

/** One step of a run's approval (table `approvals`). */
export interface AuditApproval {
  /** `requested` | `approved` | `denied` | `expired` */
  decision: string;
  /** The approver's tracker account id, login or email; null for `requested` and `expired`. */
  by: string | null;
  at: string;
  /** The tracker comment that carried the decision. */
  commentId: string | null;
  reason: string | null;
  /** `requested`: when it expires. */
  expiresAt: string | null;
}

/** A handler paused after repeated failures (or by hand), until `deflect handlers resume <name>`. */
export interface PausedHandler {
  handler: string;
  pausedAt: string;
  reason: string | null;
}

/** The page a listing is, as opaque cursors (`GET /api/runs?cursor=`): null when there is no such page. */
export interface AuditPageCursors {
  /** The next page, older runs. */
  older: string | null;
  /** The previous page, newer runs (null on the first page). */
  newer: string | null;
}

/** Options of {@link listAudit}: the filter, where the page starts, its size, and the Jira URL for ticket links. */
export interface ListAuditOptions extends RunFilter {
  cursor?: RunCursor | null;
  /** Runs per page; default 100, at most 1000. */
  limit?: number;
  /** The configured Jira base URL, for `ticketUrl` of Jira tickets whose site is that one or unknown. */
  jiraBaseUrl?: string | null;
}

/** The handlers paused now (their queued runs wait). */
export async function listPausedHandlers(db: Store): Promise<PausedHandler[]> {
  return (await db.listHandlerStates())
    .filter((s) => s.pausedAt !== null)
    .map((s) => ({ handler: s.handler, pausedAt: new Date(s.pausedAt!).toISOString(), reason: s.pausedReason }));
}

/**
 * One page of runs matching `options` (newest first, default 100) with their actions and approvals, the handlers
 * paused now, and the cursors of the neighbouring pages.
 */
export async function listAudit(
  db: Store,
  options: ListAuditOptions = {},
): Promise<{
  runs: AuditRun[];
  pausedHandlers: PausedHandler[];
  demotedHandlers: Array<{ handler: string; demotedAt: string; reason: string }>;
  modeChanges: AuditModeChange[];
  page: AuditPageCursors;
}> {
  const { cursor = null, limit = 100, jiraBaseUrl = null, ...filter } = options;
  const page = await db.findRunPage(filter, cursor, limit);
  const modeChanges = (await db.listHandlerModeChanges({ handler: filter.handler, limit: 50 })).map((m) => ({ handler: m.handler, mode: m.mode, at: iso(m.at)!, by: m.by, reason: m.reason }));
  return {
    pausedHandlers: await listPausedHandlers(db),
    demotedHandlers: await listDemotedHandlers(db),
    modeChanges,
    runs: await toAuditRuns(db, page.runs, jiraBaseUrl),
    page: { older: page.older && encodeCursor(page.older), newer: page.newer && encodeCursor(page.newer) },
  };
}

/**
 * Every run matching `filter`, newest first, as {@link AuditRun}s, read a keyset page at a time (constant memory):
 * yields one array per page so the caller can wait for its output to drain between pages.
 */
export async function* iterateAudit(
  db: Store,
  filter: RunFilter,
  options: { limit?: number; jiraBaseUrl?: string | null; pageSize?: number; after?: RunCursor | null } = {},
): AsyncGenerator<AuditRun[]> {
  const pageSize = Math.max(1, Math.min(MAX_PAGE_LIMIT, options.pageSize ?? 500));
  let remaining = options.limit ?? Number.POSITIVE_INFINITY;
  let cursor: RunCursor | null = options.after ? { ...options.after, direction: 'older' } : null;
  while (remaining > 0) {
    const want = Math.min(pageSize, remaining);
    const rows = await db.selectRunStep(filter, cursor, want);
    if (rows.length) yield await toAuditRuns(db, rows, options.jiraBaseUrl ?? null);
    remaining -= rows.length;
    if (rows.length < want) return;
    const last = rows[rows.length - 1];
    cursor = { direction: 'older', createdAt: last.createdAt, id: last.id };
  }
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Runs as the audit shows them: with their actions (secrets masked), approvals, replay origin and ticket link. */
export async function toAuditRuns(db: Store, runs: readonly SearchedRun[], jiraBaseUrl: string | null): Promise<AuditRun[]> {
  const ids = runs.map((r) => r.id);
  const replays = await db.replayOrigins(runs.map((r) => r.deliveryId));
  const actions = byRun(await db.listActionsForRuns(ids));
  const approvals = byRun(await db.listApprovalSteps(ids));
  const verifications = await db.findRunVerificationStates(ids);
  return runs.map((run) => ({
    id: run.id,
    deliveryId: run.deliveryId,
    ticketKey: run.ticketKey,
    ticketUrl: ticketUrl({ tracker: run.tracker, site: siteOf(run.siteUrl), key: run.ticketKey }, jiraBaseUrl),
    tracker: run.tracker as TrackerName,
    handler: run.handler,
    reason: run.reason,
    status: run.status,
    dryRun: run.dryRun,
    shadow: run.shadow,
    rulesVersion: run.rulesVersion,
    replayOf: replays.get(run.deliveryId) ?? null,
    manualRetries: run.manualRetries,
    attempts: run.attempts,
    durationMs: run.durationMs,
    summary: run.summary === null ? null : maskText(run.summary),
    applied: run.applied,
    error: run.error === null ? null : maskText(run.error),
    createdAt: iso(run.createdAt)!,
    finishedAt: iso(run.finishedAt),
    actions: (actions.get(run.id) ?? []).map((a) => ({
      seq: a.seq,
      kind: a.kind,
      status: a.status,
      request: maskStoredJson(a.request),
      response: maskStoredJson(a.response),
      error: a.error === null ? null : maskText(a.error),
      at: iso(a.finishedAt ?? a.createdAt)!,
    })),
    approvals: (approvals.get(run.id) ?? []).map(toAuditApproval),
    verification: verificationOf(verifications.get(run.id)),
  }));
}

function verificationOf(v: RunVerificationState | undefined): AuditVerification | null {
  return v ? { state: v.state, decidedAt: iso(v.decidedAt), evidence: v.evidence, windowEndsAt: iso(v.windowEndsAt)!, feedback: v.feedback } : null;
}

/** An approval step as the audit shows it. */
export function toAuditApproval(a: ApprovalRow): AuditApproval {
  return { decision: a.decision, by: a.by, at: iso(a.at)!, commentId: a.commentId, reason: a.reason, expiresAt: iso(a.expiresAt) };
}

/** Rows grouped by `runId`, in their order (Map.groupBy needs Node 21). */
function byRun<T extends { runId: number }>(rows: readonly T[]): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const row of rows) {
    const group = groups.get(row.runId);
    if (group) group.push(row);
    else groups.set(row.runId, [row]);
  }
  return groups;
}

/** The `site` of a ticket row (`acme.atlassian.net`, `github.com`, `linear.app/acme`) from a snapshot's `siteUrl`. */
export function siteOf(siteUrl: string | null): string {
  return siteUrl ? siteUrl.replace(/^https?:\/\//i, '').replace(/\/+$/, '').toLowerCase() : '';
}
