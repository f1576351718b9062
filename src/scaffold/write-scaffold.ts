/**
 * `deflect scaffold`, the side-effecting half: finds the group in the database, plans every file (handler, registry,
 * fixtures, test, rules file) with the pure builders of `scaffold-handler.ts`, checks the plan (names free, rules file
 * still valid with the new rule), and only then writes. A dry run is the plan without the writing.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { parseTicketInput } from '../automation/ticket-input.js';
import type { Store } from '../db/store.js';
import { GROUPING_VERSION } from '../grouping/group-tickets.js';
import { parseRulesConfig, type Rule } from '../rules/rules-file.js';
import type { Ticket } from '../ticket.js';
import {
  addToHandlerIndex,
  appendRuleText,
  buildInputSchema,
  checkHandlerName,
  deriveHandlerName,
  inferInputFields,
  redactTicket,
  renderHandlerSource,
  renderHandlerTest,
  renderRuleBlock,
  selectFixtureTickets,
  type ScaffoldGroup,
  type ScaffoldSpec,
} from './scaffold-handler.js';

export interface ScaffoldOptions {
  /** A request type (`type:…`, its name or a unique part of it or of a variant's template) or a label group (`label:…`, a bare label). */
  group: string;
  /** Handler name; default derived from the type's name or the label. */
  name?: string;
  /** Label the rule routes; default the group's dominant label, else the handler name. */
  label?: string;
  /** The rules file (created when missing). */
  rulesPath: string;
  /** Project root: holds `handlers/index.ts`, receives `handlers/`, `test/handlers/`, `test/fixtures/handlers/`. */
  dir: string;
  /** Overwrite an existing handler, test and fixtures of the same name. */
  force?: boolean;
}

/** One file the scaffold writes; paths are absolute. `unchanged` files are not written. */
export interface PlannedFile {
  path: string;
  content: string;
  action: 'create' | 'overwrite' | 'update' | 'unchanged';
  kind: 'handler' | 'index' | 'fixtures' | 'test' | 'rules';
}

/** Everything the scaffold would do, and what the person running it should know. */
export interface ScaffoldPlan {
  spec: ScaffoldSpec;
  dir: string;
  rulesPath: string;
  /** In write order: fixtures, test, handler, registry, rules file. */
  files: PlannedFile[];
  /** The YAML appended to the rules file (empty when the same rule is there already). */
  ruleBlock: string;
  fixtures: { keys: string[]; accepted: number; redacted: number };
  notes: string[];
}

/** A group the query could mean, for error messages. */
export interface GroupCandidate {
  id: string;
  template: string;
  size: number;
}

/**
 * Plans the scaffold for `options.group` without writing anything.
 * @throws Error for an unknown or ambiguous group (listing the closest candidates), a handler name that is taken
 *   (without `force`), a registry or rules file that cannot be updated safely.
 */
export async function planScaffold(db: Store, options: ScaffoldOptions): Promise<ScaffoldPlan> {
  const dir = resolve(options.dir);
  const rulesPath = resolve(options.rulesPath);
  const { group, members, variantOf } = await resolveGroup(db, options.group);
  const name = options.name ?? deriveHandlerName(group.name);
  checkHandlerName(name);

  const indexPath = join(dir, 'handlers', 'index.ts');
  if (!existsSync(indexPath)) throw new Error(`no handlers/index.ts under ${dir}: pass --dir <project root>`);
  const known = readdirSync(join(dir, 'handlers'))
    .filter((file) => file.endsWith('.ts') && file !== 'index.ts' && !file.endsWith('.d.ts'))
    .map((file) => file.slice(0, -'.ts'.length));
  const paths = {
    handler: join(dir, 'handlers', `${name}.ts`),
    test: join(dir, 'test', 'handlers', `${name}.test.ts`),
    fixtures: join(dir, 'test', 'fixtures', 'handlers', name, 'tickets.json'),
  };
  const taken = Object.values(paths).filter((path) => existsSync(path));
  if (taken.length > 0 && !options.force) {
    throw new Error(
      `handler "${name}" already exists (${taken.map((path) => path.slice(dir.length + 1)).join(', ')}): ` +
        `pass --force to overwrite, or --name to choose another name${options.name ? '' : ` (it was derived from the ${group.kind === 'type' ? 'request type' : 'label'})`}`,
    );
  }
  const label = (options.label ?? group.dominantLabel ?? name).trim();
  if (!label || /\s/.test(label)) throw new Error(`invalid label "${label}": a Jira label has no spaces`);

  const notes: string[] = [];
  let redacted = 0;
  const tickets = members.map((member) => {
    const result = redactTicket(member);
    redacted += result.redacted;
    return result.ticket;
  });
  const fields = inferInputFields(tickets);
  const spec: ScaffoldSpec = { name, label, group, fields };
  const schema = buildInputSchema(fields);
  const accepts = (ticket: Ticket) => parseTicketInput(ticket, schema).ok;
  // Redaction keeps keys, so the variant of a redacted ticket is its original's.
  const fixtures = selectFixtureTickets(tickets, accepts, undefined, variantOf);
  const accepted = fixtures.filter(accepts).length;
  if (!fields.some((field) => field.required)) {
    notes.push(
      'no description-form field is given in 80% of the tickets, so the input accepts every ticket: add the fields the handler needs ' +
        '(test/handlers/handlers.test.ts expects every handler to refuse a ticket without a description form)',
    );
  }
  if (redacted > 0) notes.push(`${redacted} credential-shaped word(s) in the fixtures were replaced by <redacted>`);
  if (group.kind === 'type') {
    const meta = await db.groupingMeta();
    if (meta.algorithm !== GROUPING_VERSION || meta.ticketsSince > 0) notes.push('the stored text grouping is not current: run `deflect group` to refresh it');
  }

  const indexText = readFileSync(indexPath, 'utf8');
  const newIndex = addToHandlerIndex(indexText, name);
  const rules = planRules(rulesPath, spec, [...new Set([...known, name])], notes);
  const action = (path: string): PlannedFile['action'] => (existsSync(path) ? 'overwrite' : 'create');
  const files: PlannedFile[] = [
    { kind: 'fixtures', path: paths.fixtures, content: `${JSON.stringify(fixtures, null, 2)}\n`, action: action(paths.fixtures) },
    { kind: 'test', path: paths.test, content: renderHandlerTest(spec, accepted), action: action(paths.test) },
    { kind: 'handler', path: paths.handler, content: renderHandlerSource(spec), action: action(paths.handler) },
    { kind: 'index', path: indexPath, content: newIndex, action: newIndex === indexText ? 'unchanged' : 'update' },
    { kind: 'rules', path: rulesPath, content: rules.text, action: rules.action },
  ];
  return { spec, dir, rulesPath, files, ruleBlock: rules.block, fixtures: { keys: fixtures.map((t) => t.key), accepted, redacted }, notes };
}

/** Writes the planned files (creating folders), skipping `unchanged` ones. */
export function writeScaffold(plan: ScaffoldPlan): void {
  for (const file of plan.files) {
    if (file.action === 'unchanged') continue;
    mkdirSync(dirname(file.path), { recursive: true });
    writeFileSync(file.path, file.content);
  }
}

/** {@link planScaffold}, then {@link writeScaffold} unless `dryRun`. */
export async function scaffoldHandler(db: Store, options: ScaffoldOptions & { dryRun?: boolean }): Promise<ScaffoldPlan> {
  const plan = await planScaffold(db, options);
  if (!options.dryRun) writeScaffold(plan);
  return plan;
}

/**
 * The rules file with the rule appended, checked with `parseRulesConfig` (knowing the new handler) before anything is
 * written. Appends nothing when a rule already routes the label to this handler; notes an earlier rule that would win.
 */
function planRules(path: string, spec: ScaffoldSpec, knownHandlers: string[], notes: string[]) {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  let existing: Rule[] = [];
  if (parseDocument(text).contents !== null) {
    try {
      existing = parseRulesConfig(text, path, knownHandlers).rules;
    } catch (error) {
      throw new Error(`the rules file is not valid, fix it first:\n${(error as Error).message}`, { cause: error });
    }
  }
  const label = spec.label.toLowerCase();
  const routing = existing.filter((rule) => rule.labels.includes(label));
  if (routing.some((rule) => rule.handler === spec.name)) {
    notes.push(`${path} already routes label ${spec.label} to ${spec.name}: rule not appended again`);
    return { text, block: '', action: 'unchanged' as const };
  }
  const first = routing.find((rule) => !rule.continue);
  if (first) {
    notes.push(
      `rule ${first.index} ("${first.name}") already routes label ${spec.label} to ${first.handler} and comes first: ` +
        `the new rule will not run for that label until you change it (or pass --label)`,
    );
  }
  const updated = appendRuleText(text, spec);
  const parsed = parseRulesConfig(updated, path, knownHandlers);
  if (!parsed.rules.some((rule) => rule.handler === spec.name && rule.labels.includes(label))) {
    throw new Error(`could not append the rule to ${path}: add it by hand:\n${renderRuleBlock(spec)}`);
  }
  return { text: updated, block: renderRuleBlock(spec, 0), action: text ? ('update' as const) : ('create' as const) };
}

/**
 * Finds the group `query` names — a request type (by id `type:…`, by name, or by a part of its name or of one of its
 * variants' templates that only one type has) or a label group (`label:…` or a bare label) — with its member tickets
 * (all variants of a type).
 * @throws Error listing the closest groups (id, size, name) when no group or several groups match.
 */
export async function resolveGroup(db: Store, query: string): Promise<{ group: ScaffoldGroup; members: Ticket[]; variantOf: (ticket: Ticket) => string | null }> {
  const q = query.trim();
  const lower = q.toLowerCase();
  const types = await db.listRequestTypes();
  const variants = await db.listVariants();
  const labels = await db.labelSizes();
  const variantsOf = (typeId: string) => variants.filter((v) => v.typeId === typeId);
  const typeGroup = async (t: { id: string; name: string }) => {
    const members = await db.listGroupMembers('type', t.id);
    const byKey = await db.memberVariants(t.id);
    const group: ScaffoldGroup = {
      id: t.id,
      kind: 'type',
      name: t.name,
      size: members.length,
      dominantLabel: dominantLabel(members),
      variants: variantsOf(t.id).map((v) => ({ template: v.template, count: v.size })),
    };
    return { group, members, variantOf: (ticket: Ticket) => byKey.get(ticket.key) ?? null };
  };
  const labelGroup = async (label: string) => {
    const members = await db.listGroupMembers('label', label);
    const group: ScaffoldGroup = { id: `label:${label}`, kind: 'label', name: label, size: members.length, dominantLabel: label, variants: [] };
    return { group, members, variantOf: () => null };
  };
  const candidates: GroupCandidate[] = [
    ...types.map((t) => ({ id: t.id, template: t.name, size: t.size })),
    ...[...labels].filter(([, size]) => size >= 2).map(([label, size]) => ({ id: `label:${label}`, template: label, size })),
  ].sort((a, b) => b.size - a.size || (a.id < b.id ? -1 : 1));

  if (q.startsWith('type:')) {
    const found = types.find((t) => t.id === q);
    if (found) return await typeGroup(found);
  } else if (q.startsWith('label:') && labels.has(q.slice('label:'.length).toLowerCase())) {
    return await labelGroup(q.slice('label:'.length).toLowerCase());
  } else if (q && labels.has(lower)) {
    return await labelGroup(lower);
  } else if (q) {
    // A name without its `…` (what varies) also counts as exact: "Add members" is the type "Add members …".
    const bare = (text: string) => text.replace(/…/g, ' ').replace(/\s+/g, ' ').trim().toLowerCase();
    const exact = types.filter((t) => t.name.toLowerCase() === lower || bare(t.name) === bare(q));
    const matches = types.filter((t) => t.name.toLowerCase().includes(lower) || variantsOf(t.id).some((v) => v.template.toLowerCase().includes(lower)));
    if (exact.length === 1 || matches.length === 1) return await typeGroup(exact[0] ?? matches[0]);
    if (matches.length > 1) {
      const listed = candidates.filter((c) => matches.some((m) => m.id === c.id));
      throw new Error(`"${q}" matches ${matches.length} request types:\n${formatCandidates(listed)}\nPass the type id, or more of its name.`);
    }
  }
  if (candidates.length === 0) {
    throw new Error(`no group "${q}": the database has no groups yet (import tickets with \`deflect import\`, then \`deflect group\`)`);
  }
  throw new Error(
    `no group "${q}". Closest groups:\n${formatCandidates(closest(q, candidates))}\n` +
      'Pass a request type (its id type:…, its name or a part of it) or a label group (label:… or the label).',
  );
}

/** The candidates sharing most words with the query, then the largest. */
function closest(query: string, candidates: GroupCandidate[]): GroupCandidate[] {
  const words = query.toLowerCase().split(/[^a-z0-9]+/).filter((word) => word.length >= 2);
  const score = (c: GroupCandidate) => words.filter((word) => c.template.toLowerCase().includes(word)).length;
  return [...candidates].sort((a, b) => score(b) - score(a) || b.size - a.size).slice(0, 5);
}

function formatCandidates(candidates: GroupCandidate[]): string {
  const width = Math.max(...candidates.map((c) => c.id.length));
  return candidates
    .slice(0, 5)
    .map((c) => `  ${c.id.padEnd(width)}  ${String(c.size).padStart(4)} tickets  ${c.template}`)
    .join('\n');
}

/** The label at least half of the tickets carry (the most common one), else null. */
function dominantLabel(tickets: Ticket[]): string | null {
  const counts = new Map<string, number>();
  for (const ticket of tickets) for (const label of new Set((ticket.labels ?? []).map((l) => l.toLowerCase()))) counts.set(label, (counts.get(label) ?? 0) + 1);
  const [top] = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return top && top[1] * 2 >= tickets.length ? top[0] : null;
}
