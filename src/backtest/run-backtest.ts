/**
 * (backtest) Runs one handler in dry run over stored tickets that its rules match or would match
 * (src/backtest/match-ticket.ts), and collects per ticket the actions it would take and the input problems it would
 * report. Decision record: docs/decisions/016-backtest.md.
 *
 * How a ticket is run: through the worker's own executor (`executeRun`, src/worker/execute-run.ts) — the same input
 * parsing, rule options (`with:`), approval gate, handler context and dry-run recorded actions as production — against
 * a **scratch in-memory SQLite database** (migrated at start, dropped at the end). Per ticket it gets a synthetic
 * delivery, a dry-run run carrying the ticket snapshot and the rule's settings, is claimed and executed; the planned
 * action rows the run wrote are read back, then the scratch run tables are emptied. The stored database is only read (the CLI opens it read-only): no run,
 * action or delivery row is ever written to it.
 *
 * Nothing is sent: every run is a dry run, no tracker client is passed (`api: null`), and integrations are built
 * without credentials (src/backtest/stand-in-integrations.ts).
 */
import { pino, type Logger } from 'pino';
import type { AnyHandler } from '../automation/define-handler.js';
import { parseTicketInput } from '../automation/ticket-input.js';
import type { Config } from '../config.js';
import { openDatabase } from '../db/client.js';
import { sqliteStore } from '../db/sqlite-store.js';
import type { Store } from '../db/store.js';
import { recordRunRule } from '../pipeline/approval-decisions.js';
import type { Rule } from '../rules/rules-file.js';
import type { Ticket } from '../ticket.js';
import { executeRun } from '../worker/execute-run.js';
import type { Backtest, BacktestAction, BacktestSummary, BacktestTicket } from './backtest-types.js';
import { BacktestUsageError, createTicketMatcher, targetRulesOf, type TicketMatch } from './match-ticket.js';
import { backtestIntegrations, type BacktestIntegrations } from './stand-in-integrations.js';

/** The owner id stamped on scratch runs. */
const OWNER = 'backtest';
/** Longest one-line action summary, characters. */
const SUMMARY_CHARS = 160;
/** Reasons of unmatched tickets kept in the summary. */
const NOT_MATCHED_SHOWN = 10;

export interface BacktestOptions {
  /** The stored database (opened read-only by the CLI); only read. */
  db: Store;
  handler: AnyHandler;
  /** The rules file as loaded (with every handler's options schema, so `with:` has its defaults). */
  rules: readonly Rule[];
  rulesFile: string;
  rulesVersion: string;
  /** `--rule`, or null for every rule of the handler. */
  ruleName: string | null;
  /** Tickets created in `[from, to)`, epoch ms; `from` null = all. */
  window: { from: number | null; to: number };
  /** `--since` as given (kept in the result), or null. */
  since: string | null;
  /** `--type`: only members of this request type, each as if it carried the rule's first label. */
  typeId?: string | null;
  integrations?: BacktestIntegrations;
  config: Pick<Config, 'github' | 'handlerTimeoutMs'>;
  /** Called after each ticket with tickets done, total and matched so far (progress on stderr). */
  onProgress?: (done: number, total: number, matched: number) => void;
  /** Logger for the runs (default silent: the result is the output). */
  logger?: Logger;
  now?: number;
}

/**
 * Backtests `handler` (see the module comment).
 * @throws BacktestUsageError for an unknown `--rule` or `--type`, or a handler without rules; Error when the scratch database
 *   cannot be migrated.
 */
export async function runBacktest(options: BacktestOptions): Promise<Backtest> {
  const { handler, rules } = options;
  const now = options.now ?? Date.now();
  const logger = options.logger ?? pino({ level: 'silent' });
  const targets = targetRulesOf(rules, handler.name, options.ruleName);
  const typeId = options.typeId ?? null;
  const requestType = typeId === null ? null : (await options.db.listRequestTypes()).find((t) => t.id === typeId);
  if (requestType === undefined) {
    throw new BacktestUsageError(`no request type "${typeId!.slice(0, 100)}" is stored: take an id from deflect report --format json (groups[].id, kind type), after deflect group`);
  }
  const assumedLabel = requestType ? targets[0].labels[0] : null;
  const matcher = createTicketMatcher(rules, handler.name, targets, assumedLabel);
  const integrationsKind = options.integrations ?? 'stand-in';
  const integrations = backtestIntegrations(options.config, integrationsKind, logger);
  const tickets = await options.db.listTicketsCreatedIn(options.window, typeId);
  const scratch = sqliteStore(openDatabase(':memory:'));
  const results: BacktestTicket[] = [];
  const notMatched = new Map<string, number>();
  const keysSeen = new Map<string, number>();
  try {
    for (const [i, ticket] of tickets.entries()) {
      const verdict = matcher(ticket);
      if (verdict.matched) {
        const seen = keysSeen.get(ticket.key) ?? 0;
        keysSeen.set(ticket.key, seen + 1);
        const runKey = `${ticket.key}:${handler.name}:backtest${seen ? `-${seen + 1}` : ''}`;
        results.push(await runOne(scratch, ticket, verdict.match, { handler, integrations, logger, runKey, rulesVersion: options.rulesVersion, now, timeoutMs: options.config.handlerTimeoutMs }));
      } else {
        const head = verdict.reason.split(' (')[0];
        notMatched.set(head, (notMatched.get(head) ?? 0) + 1);
      }
      options.onProgress?.(i + 1, tickets.length, results.length);
    }
  } finally {
    await scratch.close();
  }
  return {
    handler: handler.name,
    rule: options.ruleName,
    rules: targets.map((r) => ({ name: r.name, index: r.index, mode: r.mode ?? 'live', labels: r.labels, with: r.with ?? {} })),
    rulesFile: options.rulesFile,
    rulesVersion: options.rulesVersion,
    since: options.since,
    window: { from: options.window.from === null ? null : new Date(options.window.from).toISOString(), to: new Date(options.window.to).toISOString() },
    requestType: requestType && assumedLabel ? { id: requestType.id, name: requestType.name, assumedLabel } : null,
    integrations: integrationsKind,
    generatedAt: new Date(now).toISOString(),
    summary: summarise(tickets.length, results, notMatched),
    tickets: results,
  };
}

interface RunParts {
  handler: AnyHandler;
  integrations: ReturnType<typeof backtestIntegrations>;
  logger: Logger;
  runKey: string;
  rulesVersion: string;
  now: number;
  timeoutMs: number;
}

/** Queues, claims and executes one dry run on the scratch database; reads back its outcome and planned actions. */
async function runOne(scratch: Store, ticket: Ticket, match: TicketMatch, parts: RunParts): Promise<BacktestTicket> {
  const { handler, now } = parts;
  const [delivery] = await scratch.insertDeliveries([
    { source: ticket.tracker ?? 'jira', deliveryKey: parts.runKey, webhookIdentifier: null, event: `backtest:${match.matchedAs}`, issueKey: ticket.key, headers: {}, body: '', eventTimestamp: null, receivedAt: now },
  ]);
  const runId = (await scratch.enqueueRun(
    { deliveryId: delivery.id, ticketKey: ticket.key, handler: handler.name, reason: match.reason, dryRun: true, shadow: false, rulesVersion: parts.rulesVersion, idempotencyKey: parts.runKey, maxAttempts: 1, ticket },
    now,
  ))!;
  await recordRunRule(scratch, runId, match.rule);
  const [run] = await scratch.claimDueRuns(1, new Set(), { owner: OWNER, leaseMs: parts.timeoutMs + 60_000 }, now);
  await executeRun(run, {
    db: scratch,
    handlers: new Map([[handler.name, handler]]),
    api: null,
    trackerClients: {},
    integrations: parts.integrations,
    logger: parts.logger,
    handlerTimeoutMs: parts.timeoutMs,
    shutdownSignal: new AbortController().signal,
    owner: OWNER,
    maxActionsPerHour: 0,
    pauseAfterFailures: 0,
  });
  const finished = (await scratch.findRun(runId))!;
  const parsed = parseTicketInput(ticket, handler.input);
  const result: BacktestTicket = {
    key: ticket.key,
    tracker: ticket.tracker ?? 'jira',
    created: ticket.created === null ? null : new Date(ticket.created).toISOString(),
    summary: ticket.summary,
    rule: match.rule.name,
    ruleIndex: match.rule.index,
    ruleMode: match.rule.mode ?? 'live',
    matchedAs: match.matchedAs,
    reason: match.reason,
    outcome: finished.status,
    applied: finished.status === 'planned' && finished.applied,
    runSummary: finished.summary,
    error: finished.error,
    actions: (await scratch.listActionsForRuns([runId])).map((row) => actionOf(row.kind, ticket.key, JSON.parse(row.request) as Record<string, unknown>)),
    problems: parsed.ok ? [] : parsed.problems.map((p) => ({ field: p.field, message: p.message })),
  };
  await scratch.clearScratchRuns();
  return result;
}

const clip = (text: string) => (text.length > SUMMARY_CHARS ? `${text.slice(0, SUMMARY_CHARS - 1)}…` : text);

/** A planned action row as the backtest shows it. */
export function actionOf(kind: string, ticketKey: string, request: Record<string, unknown>): BacktestAction {
  const text = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
  switch (kind) {
    case 'comment': {
      const first = String(request.markdown ?? '').split('\n').map((l) => l.replace(/[*_`#>]/g, '').trim()).find((l) => l !== '') ?? '';
      return { kind, target: ticketKey, summary: clip(first), request };
    }
    case 'transition':
      return { kind, target: ticketKey, summary: `to ${text(request.status)}`, request };
    case 'add_labels':
    case 'remove_labels':
      return { kind, target: ticketKey, summary: clip((request.labels as unknown[] | undefined)?.map(text).join(', ') ?? ''), request };
    case 'assign':
      return { kind, target: ticketKey, summary: `to ${text(request.accountId ?? 'nobody')}`, request };
    default: {
      // Another system's call: its target is the first field naming a thing, else the system.
      const named = ['repository', 'team', 'name', 'user', 'target', 'id'].map((k) => request[k]).find((v) => typeof v === 'string');
      const target = typeof named === 'string' ? named : kind.split('.')[0];
      return { kind, target, summary: clip(Object.entries(request).map(([k, v]) => `${k}=${text(v)}`).join(' ')), request };
    }
  }
}

function summarise(considered: number, tickets: BacktestTicket[], notMatched: Map<string, number>): BacktestSummary {
  const count = (values: string[]) => values.reduce<Record<string, number>>((acc, v) => ((acc[v] = (acc[v] ?? 0) + 1), acc), {});
  return {
    ticketsConsidered: considered,
    ticketsMatched: tickets.length,
    wouldAct: tickets.filter((t) => t.outcome === 'planned' && t.actions.length > 0).length,
    wouldApply: tickets.filter((t) => t.applied).length,
    wouldReportProblems: tickets.filter((t) => t.problems.length > 0).length,
    failed: tickets.filter((t) => t.outcome === 'failed' || t.outcome === 'dead').length,
    actionsByKind: count(tickets.flatMap((t) => t.actions.map((a) => a.kind))),
    byOutcome: count(tickets.map((t) => t.outcome)),
    notMatched: [...notMatched].sort((a, b) => b[1] - a[1]).slice(0, NOT_MATCHED_SHOWN).map(([reason, n]) => ({ reason, tickets: n })),
  };
}
