/**
 * (backtest) `--compare FILE`: which tickets change behaviour between a saved backtest (before) and this one (after),
 * typically after changing a handler or its rule's options (`with:`). Pure.
 *
 * Tickets are paired by key. A ticket in only one of the two is newly matched / no longer matched. For a ticket in
 * both, actions are compared position by position (the order a run takes them, as `seq`): an action at a position only
 * the new run reaches is added, one only the old run had is removed, and the same position with another kind, target
 * or request is changed. Problems are compared as sets of `field message`; the run outcome (`planned` → `skipped`) too.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Backtest, BacktestAction, SavedBacktest } from './backtest-types.js';
import { savedBacktestSchema } from './backtest-types.js';

/** Largest saved backtest read, bytes (a backtest over 100k tickets stays well below). */
export const MAX_SAVED_BYTES = 256 * 1024 * 1024;

type ActionLike = SavedBacktest['tickets'][number]['actions'][number] | BacktestAction;
type TicketLike = SavedBacktest['tickets'][number];

/** An action as the diff shows it. */
export interface ActionRef {
  kind: string;
  target: string | null;
  summary: string | null;
}

/** How one ticket's behaviour changed. */
export interface TicketChange {
  key: string;
  change: 'newly-matched' | 'no-longer-matched' | 'changed';
  /** Run outcome before → after (null on one side for newly / no longer matched). */
  outcome: { before: string | null; after: string | null } | null;
  actionsAdded: ActionRef[];
  actionsRemoved: ActionRef[];
  actionsChanged: Array<{ position: number; before: ActionRef; after: ActionRef; what: string[] }>;
  problemsAdded: string[];
  problemsRemoved: string[];
}

/** The diff of two backtests. */
export interface BacktestComparison {
  handler: string;
  against: { file: string; handler: string; rule: string | null; rulesVersion: string | null; generatedAt: string | null };
  summary: {
    ticketsBefore: number;
    ticketsAfter: number;
    changed: number;
    newlyMatched: number;
    noLongerMatched: number;
    unchanged: number;
    /** Tickets whose actions changed, by kind of change. */
    actionsAdded: number;
    actionsRemoved: number;
    actionsChanged: number;
    /**
     * Tickets of this backtest with input problems: their runs stop at input, before the handler reads its options,
     * so a `with:` change cannot alter them.
     */
    stopAtInput: number;
  };
  /** Only the tickets that change, in the new backtest's order, then those no longer matched. */
  changes: TicketChange[];
}

/**
 * Reads a backtest saved with `--save` (or `--format json`).
 * @throws Error (one line) for a missing, oversized, non-JSON or wrongly shaped file, naming the first bad field.
 */
export function readSavedBacktest(file: string): SavedBacktest {
  const size = statSync(file, { throwIfNoEntry: false })?.size;
  if (size === undefined) throw new Error(`${file}: no such file (save a backtest first with --save ${file})`);
  if (size > MAX_SAVED_BYTES) throw new Error(`${file}: ${size} bytes, more than the ${MAX_SAVED_BYTES} a saved backtest may have`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: not JSON: ${(error as Error).message}`);
  }
  const parsed = savedBacktestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: not a saved backtest: ${issue.path.join('.') || '(top level)'}: ${issue.message} (write one with deflect backtest <handler> --save FILE)`);
  }
  return parsed.data;
}

const refOf = (a: ActionLike): ActionRef => ({ kind: a.kind, target: a.target ?? null, summary: a.summary ?? null });
const problemText = (p: { field: string; message: string }) => (p.field ? `${p.field} ${p.message}` : p.message);

/** What differs between two actions at one position (`kind`, `target`, `request`), empty when equal. */
function actionDifferences(before: ActionLike, after: ActionLike): string[] {
  const what: string[] = [];
  if (before.kind !== after.kind) what.push('kind');
  if ((before.target ?? null) !== (after.target ?? null)) what.push('target');
  // A trimmed saved file may lack the request: then only kind and target are compared.
  if (before.request !== undefined && after.request !== undefined && JSON.stringify(before.request) !== JSON.stringify(after.request)) what.push('request');
  return what;
}

function diffTicket(before: TicketLike | undefined, after: TicketLike | undefined): TicketChange | null {
  const key = (after ?? before)!.key;
  const empty = { actionsAdded: [], actionsRemoved: [], actionsChanged: [], problemsAdded: [], problemsRemoved: [] };
  if (!before) return { key, change: 'newly-matched', outcome: { before: null, after: after!.outcome ?? null }, ...empty, actionsAdded: after!.actions.map(refOf), problemsAdded: after!.problems.map(problemText) };
  if (!after) return { key, change: 'no-longer-matched', outcome: { before: before.outcome ?? null, after: null }, ...empty, actionsRemoved: before.actions.map(refOf), problemsRemoved: before.problems.map(problemText) };
  const change: TicketChange = { key, change: 'changed', outcome: null, ...empty };
  for (let i = 0; i < Math.max(before.actions.length, after.actions.length); i++) {
    const [b, a] = [before.actions[i], after.actions[i]];
    if (b && a) {
      const what = actionDifferences(b, a);
      if (what.length > 0) change.actionsChanged.push({ position: i + 1, before: refOf(b), after: refOf(a), what });
    } else if (a) change.actionsAdded.push(refOf(a));
    else change.actionsRemoved.push(refOf(b));
  }
  const [was, now] = [new Set(before.problems.map(problemText)), new Set(after.problems.map(problemText))];
  change.problemsAdded = [...now].filter((p) => !was.has(p));
  change.problemsRemoved = [...was].filter((p) => !now.has(p));
  if ((before.outcome ?? null) !== (after.outcome ?? null)) change.outcome = { before: before.outcome ?? null, after: after.outcome ?? null };
  const changed = change.outcome || change.actionsAdded.length || change.actionsRemoved.length || change.actionsChanged.length || change.problemsAdded.length || change.problemsRemoved.length;
  return changed ? change : null;
}

/** Diffs `after` (this backtest) against `before` (read from `file`). */
export function compareBacktests(before: SavedBacktest, after: Backtest | SavedBacktest, file: string): BacktestComparison {
  const old = new Map(before.tickets.map((t) => [t.key, t]));
  const fresh = new Set(after.tickets.map((t) => t.key));
  const changes: TicketChange[] = [];
  for (const ticket of after.tickets) {
    const change = diffTicket(old.get(ticket.key), ticket as TicketLike);
    if (change) changes.push(change);
  }
  for (const ticket of before.tickets) if (!fresh.has(ticket.key)) changes.push(diffTicket(ticket, undefined)!);
  const of = (kind: TicketChange['change']) => changes.filter((c) => c.change === kind).length;
  const withChanged = (pick: (c: TicketChange) => unknown[]) => changes.filter((c) => c.change === 'changed' && pick(c).length > 0).length;
  return {
    handler: after.handler,
    against: { file, handler: before.handler, rule: before.rule ?? null, rulesVersion: before.rulesVersion ?? null, generatedAt: before.generatedAt ?? null },
    summary: {
      ticketsBefore: before.tickets.length,
      ticketsAfter: after.tickets.length,
      changed: of('changed'),
      newlyMatched: of('newly-matched'),
      noLongerMatched: of('no-longer-matched'),
      unchanged: after.tickets.length - of('changed') - of('newly-matched'),
      actionsAdded: withChanged((c) => c.actionsAdded),
      actionsRemoved: withChanged((c) => c.actionsRemoved),
      actionsChanged: withChanged((c) => c.actionsChanged),
      stopAtInput: after.tickets.filter((t) => t.problems.length > 0).length,
    },
    changes,
  };
}
