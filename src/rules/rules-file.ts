/**
 * The rules file: YAML that maps labels (plus optional project / issue type / trigger filters) to handlers.
 * Validated with zod at start-up; a mistake stops start-up with the file path and line of the mistake.
 *
 * @example
 * ```yaml
 * rules:
 *   - name: repo-access              # optional; defaults to the handler name
 *     labels: [access-request, repo-access]   # required; matched case-insensitively
 *     handler: grant-repo-access     # a file in handlers/
 *     trackers: [jira, github]       # optional: only tickets from these trackers (jira, github, linear, trello)
 *     projects: [PLAT]               # optional: only these project keys (GitHub: owner/name; Linear: team key)
 *     issueTypes: [Task]             # optional: only these issue types (case-insensitive)
 *     on: [created, label-added]     # optional triggers, this is the default (plus automation)
 *     continue: false                # optional: keep evaluating later rules after this one matches
 *     mode: live                     # optional: off | shadow | live (default live); see RULE_MODES
 *     reporters: [5b10ac8d82e05b22cc7d4ef5, jane@acme.com]  # optional scope: these reporters...
 *     groups: [platform-early-adopters, acme/payments]      # ...or members of these groups/teams (looked up, cached)
 *     scopeMessage: "Ask in #platform-help to join."       # optional: one comment to reporters outside the scope
 *     feedback: true                 # optional: a resolving run invites the reporter to answer /thanks or /reopen
 *     slack: { project: PLAT, issueType: Task }            # optional: offered in Slack (/deflect), filed there
 * ```
 *
 * Precedence: rules are evaluated top to bottom and the **first** matching rule wins; a rule with
 * `continue: true` lets later rules match too, so one ticket can run several handlers (each handler at most once).
 */
import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { TRACKER_NAMES, type TrackerName } from '../trackers/tracker.js';
import { approvalSchema, toApprovalSettings, type ApprovalSettings } from '../automation/approval-rule.js';

/**
 * When a rule fires (the tracker adapter says which kind of change an event is):
 * - `created`: a new ticket carrying a matching label (`jira:issue_created`, GitHub `issues.opened`, Linear `Issue` create);
 * - `label-added`: a change that adds a matching label, the usual way a developer asks (Jira's `labels` changelog,
 *   GitHub `issues.labeled`, Linear's `updatedFrom.labelIds`);
 * - `updated`: any change to a ticket carrying a matching label;
 * - `automation`: a Jira Automation "Send web request" delivery (no `webhookEvent` envelope).
 */
export const TRIGGERS = ['created', 'label-added', 'updated', 'automation'] as const;
export type Trigger = (typeof TRIGGERS)[number];
export const DEFAULT_TRIGGERS: readonly Trigger[] = ['created', 'label-added', 'automation'];

/**
 * How a rule acts (issue 11, "Rolling out"): `off` never matches (kept in the file, reason `rule X #n is off`);
 * `shadow` queues its runs as shadow runs (every action recorded `planned`, nothing sent to any tracker or
 * integration, not even a comment; outcome `shadow`); `live` acts. Default `live`.
 */
export const RULE_MODES = ['off', 'shadow', 'live'] as const;
export type RuleMode = (typeof RULE_MODES)[number];

const nonEmptyStrings = z.array(z.string().trim().min(1)).min(1);

const ruleSchema = z
  .object({
    name: z.string().trim().min(1).optional(),
    labels: z.union([z.string().trim().min(1).transform((s) => [s]), nonEmptyStrings]),
    handler: z.string().trim().min(1),
    trackers: z.array(z.enum(TRACKER_NAMES)).min(1).optional(),
    projects: nonEmptyStrings.optional(),
    issueTypes: nonEmptyStrings.optional(),
    on: z.array(z.enum(TRIGGERS)).min(1).optional(),
    continue: z.boolean().default(false),
    // --- modes (issue 11): off = never matches; shadow = runs as a dry run ending `shadow`; live = acts (default).
    mode: z.enum(RULE_MODES).default('live'),
    // --- end modes
    // --- scope (issue 11: early adopters; see src/rules/scope.ts) ---
    reporters: nonEmptyStrings.max(1000).optional(),
    groups: nonEmptyStrings.max(100).optional(),
    scopeMessage: z.string().trim().min(1).max(2000).optional(),
    // --- end scope ---
    // (approvals) per-rule handler options, validated by the handler's `options` schema; approval gate.
    with: z.record(z.string(), z.unknown()).optional(),
    approval: approvalSchema.optional(),
    // (verified resolution) the resolving run's comment invites the reporter to answer /thanks or /reopen.
    feedback: z.boolean().default(false),
    // (Slack, issue 15) where requests filed from Slack go: offered in the Slack front door only when set.
    slack: z.object({ project: z.string().trim().regex(/^[A-Za-z][A-Za-z0-9_]{0,19}$/, 'must be a Jira project key such as PLAT'), issueType: z.string().trim().min(1).max(60) }).strict().optional(),
  })
  .strict();

const minutes = z.number().positive().max(10_000);
const estimatesSchema = z
  .object({
    defaultMinutes: minutes.default(15),
    labels: z.record(z.string(), minutes).default({}),
    handlers: z.record(z.string(), minutes).default({}),
    templates: z.record(z.string(), minutes).default({}),
  })
  .strict();

const rulesFileSchema = z.object({ rules: z.array(ruleSchema), estimates: estimatesSchema.optional() }).strict();

/**
 * Minutes of manual work one ticket costs, for the report's hours spent/saved and unmet demand. Looked up by the
 * group's label, then by the handler its label routes to, then (text groups) by template, else `defaultMinutes`.
 * ```yaml
 * estimates:
 *   defaultMinutes: 15
 *   labels: { access-request: 10 }
 *   handlers: { create-repository: 45 }
 *   templates: { "Reset <*> token": 20 }
 * ```
 */
export interface Estimates {
  defaultMinutes: number;
  labels: Record<string, number>;
  handlers: Record<string, number>;
  templates: Record<string, number>;
}

export const DEFAULT_ESTIMATES: Estimates = Object.freeze({ defaultMinutes: 15, labels: {}, handlers: {}, templates: {} });

/** A parsed rules file: the rules and the report's estimates. */
export interface RulesConfig {
  rules: Rule[];
  estimates: Estimates;
}

/** One validated rule; label, project and issue type filters are lower-cased for matching. */
export interface Rule {
  name: string;
  /** Position in the file, from 1 (for reasons and errors). */
  index: number;
  labels: string[];
  handler: string;
  /** Only tickets of these trackers; null = any. */
  trackers: TrackerName[] | null;
  projects: string[] | null;
  issueTypes: string[] | null;
  on: Trigger[];
  continue: boolean;
  // --- modes (issue 11)
  /** `off` | `shadow` | `live` (see {@link RULE_MODES}); the parser always sets it, absent (rules built in code) = `live`. */
  mode?: RuleMode;
  // --- end modes
  // --- scope (issue 11: early adopters; see src/rules/scope.ts) ---
  /** Only tickets whose reporter (account id / login / email, lower-cased) is listed, or is in one of `groups`; null = anyone. */
  reporters?: string[] | null;
  /** Tracker groups / teams (as written: Jira group name, GitHub `org/team-slug`, Linear team key or name); null = none. */
  groups?: string[] | null;
  /** Text of the one comment an out-of-scope reporter gets (once per ticket and rule); null = no comment. */
  scopeMessage?: string | null;
  // --- end scope ---
  // (approvals)
  /** The handler's options (`with:`), parsed by its `options` schema (defaults applied); `{}` when it has none. */
  with?: Record<string, unknown>;
  /** Who must approve which runs (see `automation/approval-rule.ts`); null = no approval gate. */
  approval?: ApprovalSettings | null;
  /** (verified resolution) After a run resolves a ticket, invite the reporter to answer `/thanks` or `/reopen`; absent = false. */
  feedback?: boolean;
  /** (Slack) Jira project key and issue type of requests filed from Slack; null = not offered in Slack. */
  slack?: { project: string; issueType: string } | null;
}

/**
 * (approvals) A handler as the rules file needs to know it: its name, and the zod schema of its per-rule options
 * (`with:`), when it takes any. A plain string is a handler without options.
 */
export type KnownHandler =
  | string
  | { name: string; options?: z.ZodType; loadOptions?(options: never, file: { rulesPath: string }): unknown };

/** A rules file that cannot be used: `message` starts with `path:line:column`. */
export class RulesFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RulesFileError';
  }
}

/**
 * Reads and validates the rules file at `path`.
 * @param knownHandlers handler names that exist; a rule naming another handler is an error.
 * @throws RulesFileError `"<path>:<line>:<col>: rules.2.handler: unknown handler \"x\" (known: a, b)"` for the first
 *   problems (all zod issues are listed, each with its own line), YAML syntax errors, or a missing file.
 */
export function loadRulesFile(path: string, knownHandlers: readonly KnownHandler[]): Rule[] {
  return loadRulesConfig(path, knownHandlers).rules;
}

/** Like {@link loadRulesFile}, with the `estimates` section too. */
export function loadRulesConfig(path: string, knownHandlers: readonly KnownHandler[]): RulesConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RulesFileError(`${path}: cannot read the rules file: ${(error as Error).message} (check DEFLECT_RULES)`);
  }
  return parseRulesConfig(text, path, knownHandlers);
}

/** Same as {@link loadRulesFile} for text already in memory; `path` is only used in messages. */
export function parseRules(text: string, path: string, knownHandlers: readonly KnownHandler[]): Rule[] {
  return parseRulesConfig(text, path, knownHandlers).rules;
}

/** Same as {@link loadRulesConfig} for text already in memory. */
export function parseRulesConfig(text: string, path: string, knownHandlers: readonly KnownHandler[]): RulesConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const { line, col } = lineCounter.linePos(first.pos[0]);
    throw new RulesFileError(`${path}:${line}:${col}: YAML syntax error: ${first.message.split('\n')[0]}`);
  }
  const where = (issuePath: PropertyKey[]): string => {
    // Walk up the path until a node exists, so a missing key points at its parent object.
    for (let n = issuePath.length; n >= 0; n--) {
      const node = doc.getIn(issuePath.slice(0, n) as Array<string | number>, true) as { range?: [number, number, number] } | undefined;
      const range = node && (isMap(node) || isSeq(node) || 'range' in node) ? node.range : undefined;
      if (range) {
        const { line, col } = lineCounter.linePos(range[0]);
        return `${path}:${line}:${col}`;
      }
    }
    return `${path}:1:1`;
  };

  const parsed = rulesFileSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${where(issue.path)}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    throw new RulesFileError(lines.join('\n'));
  }
  // A name alone (tools that list handler names only) leaves `with:` unvalidated; a handler object validates it.
  const known = new Map<string, z.ZodType | null | undefined>(knownHandlers.map((h) => (typeof h === 'string' ? [h, undefined] : [h.name, h.options ?? null])));
  const loaders = new Map(knownHandlers.flatMap((h) => (typeof h !== 'string' && h.loadOptions ? [[h.name, h.loadOptions.bind(h)] as const] : [])));
  const problems: string[] = [];
  const rules = parsed.data.rules.map((raw, i): Rule => {
    if (!known.has(raw.handler)) {
      problems.push(
        `${where(['rules', i, 'handler'])}: rules.${i}.handler: unknown handler "${raw.handler}" (known: ${[...known.keys()].sort().join(', ') || 'none'})`,
      );
    }
    const before = problems.length;
    const parsedOptions = handlerOptions(raw.handler, raw.with, known.get(raw.handler), ['rules', i, 'with'], where, problems);
    const options = problems.length > before ? parsedOptions : loadHandlerOptions(loaders.get(raw.handler), parsedOptions, path, ['rules', i, 'with'], where, problems);
    if (raw.slack && raw.trackers && !raw.trackers.includes('jira')) {
      problems.push(`${where(['rules', i, 'slack'])}: rules.${i}.slack: Slack requests are filed in Jira, so trackers must include jira (or drop slack:)`);
    }
    return {
      name: raw.name ?? raw.handler,
      index: i + 1,
      labels: raw.labels.map((l) => l.toLowerCase()),
      handler: raw.handler,
      trackers: raw.trackers ?? null,
      projects: raw.projects?.map((p) => p.toLowerCase()) ?? null,
      issueTypes: raw.issueTypes?.map((t) => t.toLowerCase()) ?? null,
      on: raw.on ?? [...DEFAULT_TRIGGERS],
      continue: raw.continue,
      mode: raw.mode, // modes (issue 11)
      // --- scope ---
      reporters: raw.reporters?.map((r) => r.toLowerCase()) ?? null,
      groups: raw.groups ?? null,
      scopeMessage: raw.scopeMessage ?? null,
      with: options,
      approval: raw.approval ? toApprovalSettings(raw.approval) : null,
      feedback: raw.feedback,
      slack: raw.slack ?? null,
    };
  });
  if (problems.length > 0) throw new RulesFileError(problems.join('\n'));
  const e = parsed.data.estimates;
  const lower = (record: Record<string, number>) => Object.fromEntries(Object.entries(record).map(([k, v]) => [k.toLowerCase(), v]));
  const estimates = e ? { defaultMinutes: e.defaultMinutes, labels: lower(e.labels), handlers: e.handlers, templates: e.templates } : DEFAULT_ESTIMATES;
  return { rules, estimates };
}

/**
 * Completes valid options with the handler's `loadOptions` (paths relative to the rules file, files it names); a thrown
 * error becomes a problem at the option it names (`OptionsError.option`), else at `with:`.
 */
function loadHandlerOptions(
  load: ((options: never, file: { rulesPath: string }) => unknown) | undefined,
  options: Record<string, unknown>,
  rulesPath: string,
  at: Array<string | number>,
  where: (path: PropertyKey[]) => string,
  problems: string[],
): Record<string, unknown> {
  if (!load) return options;
  try {
    return (load(options as never, { rulesPath }) ?? options) as Record<string, unknown>;
  } catch (error) {
    const option = (error as { option?: unknown }).option;
    const path = typeof option === 'string' ? [...at, option] : at;
    problems.push(`${where(path)}: ${path.map(String).join('.')}: ${(error as Error).message}`);
    return {};
  }
}

/**
 * (approvals) Validates a rule's `with:` by the handler's `options` schema; each problem is pushed as
 * `path:line:col: rules.N.with.field: message`. A handler without options accepts no `with:`; a handler known by name
 * only (`schema` undefined) keeps `with:` as given.
 * @returns the parsed options (defaults applied), `{}` when invalid or absent.
 */
function handlerOptions(
  handler: string,
  given: Record<string, unknown> | undefined,
  schema: z.ZodType | null | undefined,
  at: Array<string | number>,
  where: (path: PropertyKey[]) => string,
  problems: string[],
): Record<string, unknown> {
  if (schema === undefined) return given ?? {};
  if (schema === null) {
    if (given !== undefined) problems.push(`${where(at)}: ${at.join('.')}: handler "${handler}" takes no options`);
    return {};
  }
  const parsed = schema.safeParse(given ?? {});
  if (parsed.success) return (parsed.data ?? {}) as Record<string, unknown>;
  for (const issue of parsed.error.issues) {
    const path = [...at, ...issue.path];
    problems.push(`${where(path)}: ${path.map(String).join('.')}: ${issue.message}`);
  }
  return {};
}
