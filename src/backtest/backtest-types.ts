/**
 * The backtest's result: what a handler would do to stored tickets (`deflect backtest`, src/backtest/run-backtest.ts),
 * as written by `--format json` and `--save FILE` and read back by `--compare FILE`.
 *
 * Interface other tools depend on (issue 12): `{ "handler", "tickets": [ { "key", "actions": [ { "kind", ... } ],
 * "problems": [...] } ] }`; every other field is added information and may grow.
 */
import { z } from 'zod';

/** One action the run would take, as the dry-run recorded-actions path records it (a `planned` action row). */
export interface BacktestAction {
  /** `comment`, `transition`, `assign`, `add_labels`, `remove_labels`, or another system's `<system>.<operation>`. */
  kind: string;
  /** What it acts on: the ticket key for tracker actions; for another system the repository, team, … it names. */
  target: string;
  /** One line for people: a comment's first line, `to Done`, the labels, or the call's request fields. ≤ 160 characters. */
  summary: string;
  /** The request as recorded on the action row (a comment's full Markdown, the call's fields): compared by `--compare`. */
  request: Record<string, unknown>;
}

/** One thing wrong with the ticket's input, from the handler's input parser (src/automation/ticket-input.ts). */
export interface BacktestProblem {
  /** The input field (schema key), `''` for a form-wide problem. */
  field: string;
  /** `is missing`, ``"`admin` is not valid: …"``. */
  message: string;
}

/** One matched ticket and what the handler would do to it. */
export interface BacktestTicket {
  key: string;
  tracker: string;
  /** ISO 8601, or null when the snapshot has no created time. */
  created: string | null;
  summary: string | null;
  /** The rule that would route it (name), its position and its mode in the rules file (`off`/`shadow` still count). */
  rule: string;
  ruleIndex: number;
  ruleMode: string;
  /** How the ticket was presented to the classifier: as just created, or as having just had its labels added. */
  matchedAs: 'created' | 'label-added';
  /** The classifier's reason (`label access-request → grant-repo-access (rule repo-access #1)`), plus any assumption. */
  reason: string;
  /** The run's outcome in dry run: `planned` (handler ran), `skipped` (input incomplete), `failed` or `dead` (handler threw). */
  outcome: string;
  /**
   * True when the handler ran and would carry the request out (run outcome `planned`, not `applied: false`); false when
   * it would refuse it, leave it to a person (`ctx.notApplied`), ask for input, or failed.
   */
  applied: boolean;
  /** What the handler said it would do (its result's summary), or the run's summary for a skipped run. */
  runSummary: string | null;
  /** The error of a failed run, else null. */
  error: string | null;
  actions: BacktestAction[];
  problems: BacktestProblem[];
}

/** Totals over the matched tickets. */
export interface BacktestSummary {
  /** Stored tickets in the window (and request type) that were classified. */
  ticketsConsidered: number;
  ticketsMatched: number;
  /** Matched tickets whose input was complete and whose handler ran to a planned outcome with at least one action. */
  wouldAct: number;
  /** Matched tickets with at least one input problem (the handler would ask the reporter). */
  /** Matched tickets the handler would carry out (see {@link BacktestTicket.applied}). */
  wouldApply: number;
  wouldReportProblems: number;
  /** Matched tickets whose handler threw (outcome `failed` or `dead`). */
  failed: number;
  /** Planned actions by kind, over all matched tickets. */
  actionsByKind: Record<string, number>;
  /** Matched tickets by run outcome. */
  byOutcome: Record<string, number>;
  /** Considered tickets no target rule matched, by the first clause of the classifier's reason (top 10). */
  notMatched: Array<{ reason: string; tickets: number }>;
}

/** The whole backtest. */
export interface Backtest {
  handler: string;
  /** `--rule`, or null when every rule of the handler was used. */
  rule: string | null;
  /** The rules that route to the handler in this backtest, as loaded (options with defaults applied). */
  rules: Array<{ name: string; index: number; mode: string; labels: string[]; with: Record<string, unknown> }>;
  rulesFile: string;
  /** 12 hex of the SHA-256 of the rules file text (as `runs.rules_version`). */
  rulesVersion: string;
  /** `--since` as given (`90d`, `all`), or null when `--from/--to` were used. */
  since: string | null;
  window: { from: string | null; to: string };
  /** `--type`: the request type whose tickets were tested as if they carried `assumedLabel`. */
  requestType: { id: string; name: string; assumedLabel: string } | null;
  /** `stand-in`: integrations present, every call planned (never made); `unconfigured`: as without credentials. */
  integrations: 'stand-in' | 'unconfigured';
  generatedAt: string;
  summary: BacktestSummary;
  tickets: BacktestTicket[];
}

/**
 * What `--compare` needs of a saved backtest: the interface fields, checked; everything else is optional and passed
 * through. Older or hand-trimmed files with just `{ handler, tickets: [{ key, actions: [{ kind }], problems }] }` work.
 */
export const savedBacktestSchema = z.object({
  handler: z.string().min(1),
  rule: z.string().nullable().optional(),
  rulesVersion: z.string().optional(),
  generatedAt: z.string().optional(),
  tickets: z.array(
    z
      .object({
        key: z.string().min(1),
        outcome: z.string().optional(),
        actions: z.array(z.object({ kind: z.string().min(1), target: z.string().optional(), summary: z.string().optional(), request: z.record(z.string(), z.unknown()).optional() }).passthrough()),
        problems: z.array(z.object({ field: z.string(), message: z.string() }).passthrough()),
      })
      .passthrough(),
  ),
});
export type SavedBacktest = z.infer<typeof savedBacktestSchema>;
