/**
 * `deflect scaffold`, the pure half: from a group (a repeated request type) and its member tickets, the handler's
 * name, its inferred input fields, and the text of every file the scaffold writes — the handler skeleton, its test,
 * the registry (`handlers/index.ts`) with the handler added, and the rules file with a rule appended.
 * Nothing here touches the file system or the database (`write-scaffold.ts` does).
 *
 * @example
 * ```ts
 * const fields = inferInputFields(members);           // [{ key: 'feedstock', required: true, ... }]
 * const spec = { name: deriveHandlerName('Reset <*> feedstock token'), label: 'feedstock-token', group, fields };
 * renderHandlerSource(spec);                          // handlers/reset-feedstock-token.ts
 * ```
 */
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { z } from 'zod';
import { formLabelFor, looksLikeSecret, readDescriptionForm, TICKET_FIELDS } from '../automation/ticket-input.js';
import { compareIssueKeys } from '../reports/report-window.js';
import type { Ticket } from '../ticket.js';

/** A form key found in at least this share of a group's tickets becomes an input field... */
export const FIELD_MIN_SHARE = 0.5;
/** ...and a required one from this share up (else optional). */
export const REQUIRED_MIN_SHARE = 0.8;
/** Most tickets written to a handler's fixtures. */
export const FIXTURE_LIMIT = 20;

/** The group a handler is scaffolded from, as the report names it: a request type, or a label group. */
export interface ScaffoldGroup {
  /** `type:<hash>` or `label:<label>`. */
  id: string;
  kind: 'type' | 'label';
  /** The request type's name (`Reset … feedstock token`), or the label. */
  name: string;
  /** A type's variants (wordings), largest first, each with its member count; empty for a label group. */
  variants: Array<{ template: string; count: number }>;
  /** Member tickets. */
  size: number;
  /** The label carried by at least half of the members (a label group's own label), else null. */
  dominantLabel: string | null;
}

/** One input field inferred from the members' description forms. */
export interface InferredField {
  /** Schema key, the most common spelling among the members (`repositoryName`). */
  key: string;
  /** Members whose description gives it. */
  count: number;
  /** Members in all. */
  total: number;
  required: boolean;
  /** A real value from a member, for the `.describe()` text; null when none is short and safe to quote. */
  example: string | null;
}

/** What the generated files are built from. */
export interface ScaffoldSpec {
  name: string;
  /** The label the rule routes to the handler. */
  label: string;
  group: ScaffoldGroup;
  fields: InferredField[];
}

const HANDLER_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** Words that say nothing about the request type; left out of derived names (unless nothing else is left). */
const NAME_STOP_WORDS = new Set(
  ('a an the for to of on in at by with from into and or is are be been it its this that my our me we us i you your ' +
    'please pls need needs needed want wants can could would should request requests requesting help').split(' '),
);
const RESERVED = new Set(
  ('break case catch class const continue debugger default delete do else enum export extends false finally for function ' +
    'if import in instanceof new null return super switch this throw true try typeof var void while with yield let static ' +
    'implements interface package private protected public await async handlers findHandler z defineHandler').split(' '),
);

/** Checks a handler name. @throws Error when it is not kebab-case or is `index` (the registry file). */
export function checkHandlerName(name: string): void {
  if (!HANDLER_NAME.test(name)) throw new Error(`invalid handler name "${name}": use kebab-case, like "reset-ci-token"`);
  if (name === 'index') throw new Error('invalid handler name "index": handlers/index.ts is the registry');
}

/**
 * A kebab-case handler name from a template or label: its non-placeholder words, without filler words, at most 4.
 * @example deriveHandlerName('Reset <*> feedstock token') // 'reset-feedstock-token'
 * @example deriveHandlerName('<*> DNS A record for <url>') // 'dns-record'
 */
export function deriveHandlerName(text: string): string {
  const words = text
    .replace(/<[^<>\s]*>/g, ' ')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  while (words.length > 0 && /^[0-9]/.test(words[0])) words.shift();
  const meaningful = words.filter((word) => !NAME_STOP_WORDS.has(word));
  const chosen = (meaningful.length > 0 ? meaningful : words).slice(0, 4);
  return chosen.length > 0 ? chosen.join('-') : 'new-handler';
}

/** The import name for a handler in `handlers/index.ts`: camelCase, never a reserved word or a name taken there. */
export function handlerIdentifier(name: string, taken: ReadonlySet<string> = new Set()): string {
  const camel = name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  return RESERVED.has(camel) || taken.has(camel) ? `${camel}Handler` : camel;
}

/** Letters and digits, lower case: how `parseTicketInput` matches form labels to schema keys. */
function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/**
 * The input fields of a group: each description-form key (read with `readDescriptionForm`; spellings that differ
 * only in case or punctuation count as one) given by ≥ {@link FIELD_MIN_SHARE} of the tickets, required from
 * {@link REQUIRED_MIN_SHARE}. Ticket fields (`summary`, `labels`, ...) are left out: every ticket has them anyway.
 * Ordered by how many tickets give the field, then by first appearance.
 */
export function inferInputFields(tickets: readonly Ticket[]): InferredField[] {
  const ticketFields = new Set<string>(TICKET_FIELDS.map(normalizeKey));
  const seen = new Map<string, { spellings: Map<string, number>; count: number; order: number; examples: string[] }>();
  for (const ticket of tickets) {
    const given = new Set<string>();
    for (const [key, value] of Object.entries(readDescriptionForm(ticket.description))) {
      const norm = normalizeKey(key);
      if (ticketFields.has(norm) || given.has(norm)) continue;
      given.add(norm);
      let entry = seen.get(norm);
      if (!entry) seen.set(norm, (entry = { spellings: new Map(), count: 0, order: seen.size, examples: [] }));
      entry.spellings.set(key, (entry.spellings.get(key) ?? 0) + 1);
      entry.examples.push(value);
      entry.count++;
    }
  }
  const total = tickets.length;
  return [...seen.values()]
    .filter((entry) => total > 0 && entry.count / total >= FIELD_MIN_SHARE)
    .sort((a, b) => b.count - a.count || a.order - b.order)
    .map((entry) => ({
      key: [...entry.spellings].sort((a, b) => b[1] - a[1])[0][0],
      count: entry.count,
      total,
      required: entry.count / total >= REQUIRED_MIN_SHARE,
      example: entry.examples.map((value) => value.replace(/`/g, '')).find((value) => value.length <= 60 && !looksLikeSecret(value)) ?? null,
    }));
}

/** The zod schema the generated handler declares, to check tickets against it before writing anything. */
export function buildInputSchema(fields: readonly InferredField[]): z.ZodObject {
  return z.object(Object.fromEntries(fields.map((field) => [field.key, field.required ? z.string() : z.string().optional()])));
}

/**
 * A copy of the ticket with credential-shaped words of its summary and description replaced by `<redacted>`
 * (fixtures are committed). `redacted` counts the words replaced.
 */
export function redactTicket(ticket: Ticket): { ticket: Ticket; redacted: number } {
  let redacted = 0;
  const scrub = (text: string | null) =>
    text === null
      ? null
      : text.replace(/[^\s`'"{}|*]+/g, (word) => (looksLikeSecret(word) ? (redacted++, '<redacted>') : word));
  return { ticket: { ...ticket, summary: scrub(ticket.summary), description: scrub(ticket.description) }, redacted };
}

/**
 * Up to `limit` member tickets for the fixtures, in issue-key order: mostly ones the schema accepts (so the test
 * runs the handler on real input), plus up to 3 it refuses (so the test sees the reporter being asked). Most recent
 * first within each kind; with `variantOf` (a request type's members), the variants take turns, so every wording
 * of the type is in the fixtures before a second ticket of any one wording.
 */
export function selectFixtureTickets(
  tickets: readonly Ticket[],
  accepts: (ticket: Ticket) => boolean,
  limit = FIXTURE_LIMIT,
  variantOf?: (ticket: Ticket) => string | null,
): Ticket[] {
  const recent = interleave(
    [...tickets].sort((a, b) => (b.created ?? 0) - (a.created ?? 0) || compareIssueKeys(a.key, b.key)),
    variantOf ?? (() => null),
  );
  const accepted = recent.filter(accepts);
  const refused = recent.filter((ticket) => !accepts(ticket));
  // With no accepted ticket, the fixtures are all refused ones (the test then checks the reporter is asked).
  const refusedCount = Math.min(refused.length, accepted.length > 0 ? 3 : limit);
  const chosen = [...accepted.slice(0, limit - refusedCount), ...refused.slice(0, refusedCount)];
  for (const ticket of [...accepted, ...refused]) if (chosen.length < limit && !chosen.includes(ticket)) chosen.push(ticket);
  return chosen.sort((a, b) => compareIssueKeys(a.key, b.key));
}

/** The tickets, in order within each variant, taking one from each variant in turn (variants in order of first appearance). */
function interleave(tickets: Ticket[], variantOf: (ticket: Ticket) => string | null): Ticket[] {
  const queues = new Map<string | null, Ticket[]>();
  for (const ticket of tickets) {
    const variant = variantOf(ticket);
    const queue = queues.get(variant);
    if (queue) queue.push(ticket);
    else queues.set(variant, [ticket]);
  }
  const result: Ticket[] = [];
  for (let round = 0; result.length < tickets.length; round++) for (const queue of queues.values()) if (round < queue.length) result.push(queue[round]);
  return result;
}

/** A single-quoted TypeScript string literal. */
function quote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\r?\n/g, ' ')}'`;
}

/** Text safe inside a block comment and a template literal line. */
function commentSafe(text: string): string {
  return text.replace(/\*\//g, '* /').replace(/\r?\n/g, ' ');
}

/** `"Reset … feedstock token" requests` or `requests labelled token-reset`. */
function requestKind(group: ScaffoldGroup): string {
  return group.kind === 'type' ? `"${group.name}" requests` : `requests labelled ${group.name}`;
}

/**
 * The text of `handlers/<name>.ts`: a `defineHandler` skeleton that claims nothing it does not do. Until its TODO is
 * filled it ends with `ctx.notApplied`: the reporter is told the request is valid but not automated yet, the values
 * given are listed for the person who handles it, the ticket stays open, and the run is recorded `applied: false`.
 */
export function renderHandlerSource(spec: ScaffoldSpec): string {
  const { name, group, fields } = spec;
  const form = fields.map((f) => ` * ${formLabelFor(f.key)}${f.required ? '' : ' (optional)'}: ${commentSafe(f.example ?? '…')}`);
  const schema = fields.map((f) => {
    const help = `${formLabelFor(f.key)}${f.example ? `, for example \`${f.example}\`` : ''}.${f.required ? '' : ' Optional.'}`;
    return [
      `  // Given in ${f.count} of ${f.total} tickets of the group (${f.required ? 'required' : 'optional'}). TODO: tighten (formEnum, regex, default) and reword for the reporter.`,
      `  ${f.key}: z.string()${f.required ? '' : '.optional()'}.describe(${quote(help)}),`,
    ].join('\n');
  });
  const listed = fields.map((f) => {
    const line = `md\`- ${formLabelFor(f.key)}: \\\`\${ctx.input.${f.key}}\\\`\``;
    return f.required ? `        ${line},` : `        ...(ctx.input.${f.key} === undefined ? [] : [${line}]),`;
  });
  const required = fields.filter((f) => f.required);
  const summary = required.length > 0 ? required.map((f) => `${f.key}=\${ctx.input.${f.key}}`).join(', ') : `\${ctx.ticket.key}`;
  return [
    '/**',
    ` * Handles ${commentSafe(requestKind(group))}. TODO: say what it does and which system it calls.`,
    ' *',
    ` * Scaffolded by \`deflect scaffold\` from group \`${commentSafe(group.id)}\` (${group.size} tickets${spec.label ? `, routed by label \`${commentSafe(spec.label)}\`` : ''}).`,
    ...(fields.length > 0
      ? [' *', ' * Ticket description form (the fields found in at least half of the group\'s tickets):', ' * ```', ...form, ' * ```']
      : [' *', ' * No description-form field appears in half of the group\'s tickets: add the fields the handler needs to `input`.']),
    ' */',
    "import { z } from 'zod';",
    "import { defineHandler } from '../src/automation/define-handler.js';",
    "import { md } from '../src/jira/comment-markdown.js';",
    '',
    fields.length > 0 ? `const input = z.object({\n${schema.join('\n')}\n});` : 'const input = z.object({});',
    '',
    'export default defineHandler({',
    `  name: ${quote(name)},`,
    `  description: ${quote(`Handles ${requestKind(group)} (${group.size} tickets in the group when scaffolded). Not automated yet: comments the request for a person and leaves the ticket open.`)},`,
    '  input,',
    '  async run(ctx) {',
    `    ctx.log.info({ input: ctx.input, dryRun: ctx.dryRun, idempotencyKey: ctx.idempotencyKey }, ${quote(`handling ${name}`)});`,
    '',
    '    // TODO: automate it here: call the system that fulfils the request with `ctx.input`. Register the system once',
    "    // in src/integrations/index.ts, reach it as `ctx.integrations.<name>` and wrap each call in",
    "    // `await ctx.act('<system>.<operation>', { what the audit shows }, (key) => client.call(..., key))`: recorded in",
    '    // the audit, skipped when a retry finds it applied, not made in dry run; it must be idempotent (pass it `key`).',
    '    // Then say what was done, resolve, and return the summary:',
    "    //   await ctx.tracker.comment(md`Done: ...`);",
    '    //   await ctx.tracker.resolve();',
    `    //   return { summary: \`${name}: ${summary}\` };`,
    '    // Throw to fail the run (errors with `transient: true` are retried).',
    '',
    '    // Until then deflect claims nothing: the reporter hears the request is valid but not automated yet, a person',
    '    // applies it, and the ticket stays open. md: the template is Markdown, every ${value} (ticket text) is literal.',
    '    return ctx.notApplied(',
    `      md\`this request type is not automated yet (the \\\`${name}\\\` handler is a scaffold), so a person handles it.\`,`,
    "      [md`Carry out the request by hand`],",
    ...(listed.length > 0
      ? ['      {', "        summary: 'not automated yet',", '        note: md.join([', "          md`Given in the ticket:`,", "          md``,", ...listed.map((line) => `  ${line}`), '        ]),', '      },']
      : ["      { summary: 'not automated yet' },"]),
    '    );',
    '  },',
    '});',
    '',
  ].join('\n');
}

/** The generated test's helper that removes a field's lines from a ticket description. */
const WITHOUT_FIELD = `/** The ticket without the description lines that give \`field\` (however the reporter spelled its label). */
function withoutField(ticket: Ticket, field: string): Ticket {
  const same = (key: string) => key.toLowerCase().replace(/[^a-z0-9]/g, '') === field.toLowerCase().replace(/[^a-z0-9]/g, '');
  const lines = (ticket.description ?? '').split(/\\r?\\n/).filter((line) => !Object.keys(readDescriptionForm(line)).some(same));
  return { ...ticket, description: lines.join('\\n') };
}

`;

/**
 * The text of `test/handlers/<name>.test.ts`: runs the handler with `runHandler` (the shipped test context,
 * `src/automation/test-context.ts`) on every fixture ticket its input accepts (one "not automated yet" comment, the
 * ticket left open, `applied: false`), checks that the others are refused with the field named, and
 * that removing each required field from an accepted ticket's description makes `parseTicketInput` ask for it.
 */
export function renderHandlerTest(spec: ScaffoldSpec, fixtureAccepted: number): string {
  const { name, group, fields } = spec;
  const required = fields.filter((f) => f.required).map((f) => f.key);
  const perField = (fixtureAccepted > 0 ? required : []).map((key) =>
    [
      '',
      `  it(${quote(`refuses a ticket without ${formLabelFor(key)}, naming that field`)}, () => {`,
      `    const parsed = parseTicketInput(withoutField(accepted[0], ${quote(key)}), subject.input);`,
      '    expect(parsed.ok).toBe(false);',
      `    if (!parsed.ok) expect(parsed.problems).toContainEqual({ field: ${quote(key)}, message: 'is missing' });`,
      '  });',
    ].join('\n'),
  );
  const noRequired = [
    '',
    "  it('accepts a ticket without a description form: every input field is optional', () => {",
    '    expect(parseTicketInput({ ...tickets[0], description: null }, subject.input).ok).toBe(true);',
    '  });',
  ].join('\n');
  return `/**
 * Tests for \`handlers/${name}.ts\`, generated by \`deflect scaffold\` from group \`${commentSafe(group.id)}\`
 * (${commentSafe(requestKind(group))}, ${group.size} tickets). The fixtures are real tickets of that group
 * (\`test/fixtures/handlers/${name}/tickets.json\`): each one the handler's input accepts is run with the shipped
 * test context (\`runHandler\`: records comments, resolutions, labels and \`act\` calls instead of sending them);
 * the others must be refused with the missing field named. When the TODO is done, change the first case to expect
 * the real work (pass fake integrations: \`runHandler(subject, { ticket, integrations: { ... } })\`).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import handler from '../../handlers/${name}.js';
import type { AnyHandler } from '../../src/automation/define-handler.js';
import { runHandler } from '../../src/automation/test-context.js';
import { formLabelFor, parseTicketInput${perField.length > 0 ? ', readDescriptionForm' : ''} } from '../../src/automation/ticket-input.js';
import type { Ticket } from '../../src/ticket.js';

const subject: AnyHandler = handler;
const tickets = JSON.parse(readFileSync(new URL('../fixtures/handlers/${name}/tickets.json', import.meta.url), 'utf8')) as Ticket[];
const accepted = tickets.filter((ticket) => parseTicketInput(ticket, subject.input).ok);
const refused = tickets.filter((ticket) => !parseTicketInput(ticket, subject.input).ok);

${perField.length > 0 ? WITHOUT_FIELD : ''}describe(${quote(name)}, () => {
  it('has fixtures from the group${fixtureAccepted > 0 ? ', some accepted by the input schema' : ''}', () => {
    expect(tickets.length).toBeGreaterThan(0);${fixtureAccepted > 0 ? '\n    expect(accepted.length).toBeGreaterThan(0);' : ''}
  });

  it('claims nothing yet: says every accepted request is not automated yet, and leaves the ticket open', async () => {
    for (const ticket of accepted) {
      const run = await runHandler(subject, { ticket });
      expect(run.calls.map((call) => call.method), ticket.key).toEqual(['comment']);
      expect(run.resolutions, ticket.key).toEqual([]);
      expect(run.comments[0], ticket.key).toContain('not automated yet');
      expect(run.comments[0], ticket.key).toContain(\`Request id: \\\`\${run.ctx.idempotencyKey}\\\`\`);
      expect(run.result, ticket.key).toMatchObject({ applied: false });
    }
  });

  it('refuses the other tickets and names each field to fix in the comment to the reporter', () => {
    for (const ticket of refused) {
      const parsed = parseTicketInput(ticket, subject.input);
      expect(parsed.ok, ticket.key).toBe(false);
      if (parsed.ok) continue;
      expect(parsed.problems.length, ticket.key).toBeGreaterThan(0);
      for (const problem of parsed.problems) expect(String(parsed.comment), ticket.key).toContain(\`**\${formLabelFor(problem.field)}**\`);
    }
  });
${required.length === 0 ? noRequired : perField.join('\n')}
});
`;
}

/**
 * `handlers/index.ts` with the handler imported and listed, both in file-name order; unchanged when it is there.
 * @throws Error when the file does not have the expected shape (handler imports, `export const handlers: AnyHandler[] = [...]`).
 */
export function addToHandlerIndex(indexText: string, name: string): string {
  const imports = [...indexText.matchAll(/^import (\w+) from '\.\/([a-z0-9-]+)\.js';\n/gm)].map((m) => ({
    text: m[0], identifier: m[1], file: m[2], start: m.index, end: m.index + m[0].length,
  }));
  if (imports.some((i) => i.file === name)) return indexText;
  const list = /(export const handlers: AnyHandler\[\] = \[)([^\]]*)(\];)/.exec(indexText);
  const anchor = /^import type \{ AnyHandler \} from [^\n]*\n/m.exec(indexText);
  if (!list || !anchor) {
    throw new Error('handlers/index.ts does not have the expected shape (`export const handlers: AnyHandler[] = [...]`): add the handler to it by hand');
  }
  const identifier = handlerIdentifier(name, new Set(indexText.match(/\b\w+\b/g) ?? []));
  const fileOf = new Map(imports.map((i) => [i.identifier, i.file]));
  const entries = list[2].split(',').map((e) => e.trim()).filter(Boolean);
  const at = entries.findIndex((e) => (fileOf.get(e) ?? e) > name);
  entries.splice(at < 0 ? entries.length : at, 0, identifier);
  const multiLine = list[2].includes('\n');
  const oneLine = `${list[1]}${entries.join(', ')}${list[3]}`;
  const listText = !multiLine && oneLine.length <= 120 ? oneLine : `${list[1]}\n${entries.map((e) => `  ${e},`).join('\n')}\n${list[3]}`;
  const before = imports.find((i) => i.file > name);
  const importAt = before ? before.start : imports.length > 0 ? imports[imports.length - 1].end : anchor.index + anchor[0].length;
  const importLine = `import ${identifier} from './${name}.js';\n`;
  // The list comes after the imports: replace it first so `importAt` stays valid.
  const withList = indexText.slice(0, list.index) + listText + indexText.slice(list.index + list[0].length);
  return withList.slice(0, importAt) + importLine + withList.slice(importAt);
}

/** A rule's label as YAML: plain when safe, else double-quoted (JSON strings are valid YAML). */
function yamlScalar(text: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(text) ? text : JSON.stringify(text);
}

/** The comment line written above the rule, naming the group it came from. */
export function ruleComment(spec: ScaffoldSpec): string {
  return `# From group ${spec.group.id} ${JSON.stringify(spec.group.name)} (${spec.group.size} tickets), by deflect scaffold`.replace(/\r?\n/g, ' ');
}

/** The YAML of the rule (comment line, then the list item), indented by `indent` spaces. */
export function renderRuleBlock(spec: ScaffoldSpec, indent = 2): string {
  const pad = ' '.repeat(indent);
  return [ruleComment(spec), `- name: ${spec.name}`, `  labels: [${yamlScalar(spec.label)}]`, `  handler: ${spec.name}`]
    .map((line) => `${pad}${line}\n`)
    .join('');
}

/**
 * The rules file text with the rule appended to `rules:` and everything else kept byte for byte: after the last
 * rule (at its indentation), or as a new `rules:` key when there is none. An empty or missing file becomes `rules:`.
 * @throws Error for YAML that is not a mapping, or rules written as a non-empty flow list (`rules: [{...}]`).
 */
export function appendRuleText(rulesText: string, spec: ScaffoldSpec): string {
  const text = rulesText.length > 0 && !rulesText.endsWith('\n') ? `${rulesText}\n` : rulesText;
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`the rules file is not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  const contents = doc.contents;
  if (contents === null || (isScalar(contents) && contents.value === null)) return `${text}rules:\n${renderRuleBlock(spec)}`;
  if (!isMap(contents)) throw new Error('the rules file is not a YAML mapping with a `rules:` list');
  const pair = contents.items.find((p) => isScalar(p.key) && p.key.value === 'rules');
  if (!pair) return `${text}${text.trim() ? '\n' : ''}rules:\n${renderRuleBlock(spec)}`;
  const value = pair.value;
  if (isSeq(value) && !value.flow && value.items.length > 0 && value.range) {
    // Insert after the line where the last rule ends (its range may run past a trailing comment and newline).
    const last = value.items[value.items.length - 1] as { range?: [number, number, number] };
    let end = last.range ? last.range[1] : value.range[1];
    while (end > 0 && /\s/.test(text[end - 1])) end--;
    const at = lineEndAt(text, end);
    const indent = value.range[0] - (text.lastIndexOf('\n', value.range[0] - 1) + 1);
    return `${text.slice(0, at)}\n${renderRuleBlock(spec, indent)}${text.slice(at)}`;
  }
  const empty = (isSeq(value) && value.items.length === 0) || value === null || (isScalar(value) && value.value === null);
  if (!empty) throw new Error('`rules:` in the rules file is not a block list (one `- ` item per rule): add the rule by hand');
  // `rules:`, `rules: []` or `rules: ~`: drop the empty value's text and start a block list under the key.
  const range = (value as { range?: [number, number, number] } | null)?.range;
  const keyEnd = (pair.key as { range?: [number, number, number] }).range?.[1] ?? 0;
  const hasText = range !== undefined && range[1] > range[0];
  const cleared = hasText ? text.slice(0, range[0]) + text.slice(range[1]) : text;
  const at = lineEndAt(cleared, range?.[0] ?? keyEnd);
  return `${cleared.slice(0, at).replace(/[ \t]+\n$/, '\n')}${renderRuleBlock(spec)}${cleared.slice(at)}`;
}

/** The offset just after the end of the line holding `pos`. */
function lineEndAt(text: string, pos: number): number {
  const newline = text.indexOf('\n', pos);
  return newline < 0 ? text.length : newline + 1;
}
