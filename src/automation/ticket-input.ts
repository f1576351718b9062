/**
 * Turns a ticket into a handler's `input`: reads the "simple form" in the description, adds the ticket's own
 * fields, and validates the result with the handler's zod schema. When validation fails it writes the comment
 * that tells the reporter exactly what to fix.
 *
 * @example
 * ```ts
 * // Ticket description (wiki markup, as Jira sends it):
 * //   Please give me access.
 * //   *Repository*: {{acme/api}}
 * //   | Permission | write |
 * const schema = z.object({
 *   repository: z.string().describe('The repository, as `org/name`.'),
 *   permission: formEnum(['read', 'write']).default('read').describe('Access level.'),
 *   summary: z.string(),
 * });
 * parseTicketInput(ticket, schema);
 * // → { ok: true, input: { repository: 'acme/api', permission: 'write', summary: '<ticket summary>' } }
 * // Without the Repository line:
 * // → { ok: false, problems: [{ field: 'repository', message: 'is missing' }], comment: 'Hi Jane, ...' }
 * ```
 */
import { z } from 'zod';
import { md, type Markdown } from '../jira/comment-markdown.js';
import type { Ticket } from '../ticket.js';

/** One thing wrong with the input: `field` is the schema key (`''` for a form-wide problem). */
export interface InputProblem {
  field: string;
  /** Reads after the field's label: `is missing`, ``"`admin` is not valid: must be one of `read`, `write`"``. */
  message: string;
}

/**
 * Result of {@link parseTicketInput}. On failure `comment` is ready for `ctx.tracker.comment` (`String(comment)` gives
 * its text); ticket text in it is literal, never markup.
 */
export type TicketInputResult =
  | { ok: true; input: unknown }
  | { ok: false; problems: InputProblem[]; comment: Markdown };

/**
 * Ticket fields a schema can ask for by name. A form line with the same key wins over the ticket field.
 * Fields that are null on the ticket are left out (so `.optional()` works as expected).
 */
export const TICKET_FIELDS = ['summary', 'labels', 'project', 'issueType', 'reporter', 'reporterId', 'key'] as const;

/**
 * Builds the raw input from the ticket (description form + {@link TICKET_FIELDS}) and validates it with `schema`.
 * Extra keys are tolerated as long as the schema tolerates them (a `z.object` strips them).
 * Form keys are matched to schema keys ignoring case and punctuation (`GitHub user`, `githubuser` → `githubUser`).
 *
 * Never throws for bad input: a failed validation returns `ok: false` with one problem per field and a comment
 * that quotes each field's `.describe()` text and shows a copy-paste form built from the schema's keys.
 */
export function parseTicketInput(ticket: Ticket, schema: z.ZodType): TicketInputResult {
  const shape = objectShapeOf(schema);
  const schemaKeys = new Map(Object.keys(shape ?? {}).map((key) => [normalizeKey(key), key]));

  const raw: Record<string, unknown> = {};
  for (const field of TICKET_FIELDS) {
    const value = ticket[field];
    if (value !== null && value !== undefined) raw[field] = value;
  }
  const fromForm = new Set<string>();
  for (const [key, value] of Object.entries(readDescriptionForm(ticket.description))) {
    const target = schemaKeys.get(normalizeKey(key)) ?? key;
    if (fromForm.has(target)) continue; // `GitHub user` and `githubuser` both given: the first line wins
    fromForm.add(target);
    raw[target] = value;
  }

  const result = schema.safeParse(raw);
  if (result.success) return { ok: true, input: result.data };

  const order = Object.keys(shape ?? {});
  const rank = (field: string) => (order.includes(field) ? order.indexOf(field) : order.length);
  const problems = problemsFrom(result.error.issues, raw).sort((a, b) => rank(a.field) - rank(b.field));
  return {
    ok: false,
    problems: problems.map(({ field, message }) => ({ field, message })),
    comment: writeProblemComment(ticket, shape, raw, problems),
  };
}

/**
 * Reads `Label: value` pairs from a description. Recognised line shapes (one pair per line):
 * `Repository: acme/api`, `* Team: payments` / `- Team: payments` / `# Team: payments` (list items),
 * `*Repository*: acme/api` / `*Repository:* acme/api` / `**Repository**: acme/api` (bold labels),
 * `| Repository | acme/api |` (table rows; `||header||` rows are skipped), `h3. Repository: acme/api`, and lines
 * inside `{code}` / `{noformat}` / `{quote}` / `{panel}` blocks (where a copied form often lands).
 * Labels become camelCase keys (`Permission level` → `permissionLevel`), text in parentheses is dropped
 * (`GitHub user (optional)` → `githubUser`); values are trimmed and lose surrounding `{{…}}`, backticks and quotes.
 * Empty values are left out; when a key repeats, the first non-empty value wins.
 * @returns `{}` for a null or empty description.
 */
export function readDescriptionForm(description: string | null | undefined): Record<string, string> {
  const form: Record<string, string> = {};
  for (const line of (description ?? '').split(/\r?\n/)) {
    const pair = readFormLine(line);
    if (pair && !(pair[0] in form)) form[pair[0]] = pair[1];
  }
  return form;
}

function readFormLine(line: string): [string, string] | null {
  // A pasted form often sits in a wiki block macro that shares a line with it: `{noformat}Repository: acme/api`.
  let text = line.replace(/\{(code|noformat|quote|panel)(:[^}]*)?\}/g, '').trim();
  let label: string;
  let value: string;
  if (text.startsWith('||')) return null;
  if (text.startsWith('|')) {
    const cells = text.split('|').slice(1);
    if (cells.length > 0 && cells[cells.length - 1].trim() === '') cells.pop();
    if (cells.length < 2) return null;
    [label, value] = [cells[0], cells[1]];
  } else {
    text = text.replace(/^(?:[*#-]+|•)\s+/, '').replace(/^h[1-6]\.\s+/, '');
    const colon = text.indexOf(':');
    if (colon <= 0) return null;
    label = text.slice(0, colon);
    // `*Label:* value` leaves the closing bold marker at the start of the value.
    value = text.slice(colon + 1).replace(/^[*_+]+(?=\s|$)/, '');
    if (value.startsWith('//')) return null; // `https://…` on its own line is not a form field
  }
  label = label.replace(/[*_+`]/g, '').replace(/\([^)]*\)/g, '').replace(/\?\s*$/, '').trim();
  if (!/^[A-Za-z][A-Za-z0-9 _\-/.'’]{0,59}$/.test(label) || label.split(/\s+/).length > 6) return null;
  const key = formKeyFor(label);
  const cleaned = cleanValue(value);
  return key && cleaned ? [key, cleaned] : null;
}

function cleanValue(value: string): string {
  let text = value.trim();
  for (let previous = ''; previous !== text; ) {
    previous = text;
    text = text
      .replace(/^\{\{([\s\S]*)\}\}$/, '$1')
      .replace(/^```([\s\S]*)```$/, '$1')
      .replace(/^`([\s\S]*)`$/, '$1')
      .replace(/^"([\s\S]*)"$/, '$1')
      .replace(/^'([\s\S]*)'$/, '$1')
      .replace(/^“([\s\S]*)”$/, '$1')
      .replace(/^‘([\s\S]*)’$/, '$1')
      .trim();
  }
  return text;
}

/** `Permission level` → `permissionLevel`, `GitHub user` → `githubUser`, `CI/CD system` → `ciCdSystem`. */
export function formKeyFor(label: string): string {
  const words = label.split(/[^A-Za-z0-9]+/).filter(Boolean).map((word) => word.toLowerCase());
  return words.map((word, i) => (i === 0 ? word : word[0].toUpperCase() + word.slice(1))).join('');
}

const LABEL_WORDS: Record<string, string> = {
  api: 'API', cd: 'CD', ci: 'CI', dns: 'DNS', github: 'GitHub', gitlab: 'GitLab', id: 'ID', url: 'URL',
};

/**
 * The form label for a schema key, used in the example form and in problem lists; it reads back to the same key.
 * @example formLabelFor('githubUser') // 'GitHub User'
 * @example formLabelFor('repositoryName') // 'Repository Name'
 */
export function formLabelFor(key: string): string {
  if (key === '') return 'Form';
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .filter(Boolean)
    .map((word) => LABEL_WORDS[word.toLowerCase()] ?? word[0].toUpperCase() + word.slice(1))
    .join(' ');
}

/**
 * A case-insensitive enum for form fields: the value is matched ignoring case and surrounding space, and parses to
 * the enum's own spelling. `formEnum(['read', 'write'])`: `Write`, ` WRITE ` → `'write'`;
 * `formEnum(['A', 'CNAME', 'TXT'])`: `cname` → `'CNAME'`. A value matching none is refused as written (trimmed), and
 * the options are listed to the reporter. Chain `.default()` and `.describe()` as usual.
 * @example permission: formEnum(['read', 'write']).default('read').describe('Access level you need.')
 */
export function formEnum<const Values extends readonly [string, ...string[]]>(values: Values) {
  const byFolded = new Map(values.map((value) => [value.toLowerCase(), value]));
  return z.preprocess((value) => {
    if (typeof value !== 'string') return value;
    const trimmed = value.trim();
    return byFolded.get(trimmed.toLowerCase()) ?? trimmed;
  }, z.enum(values));
}

/**
 * Options for an object-level `.superRefine` that checks several fields together (cross-field rules). zod skips
 * such refinements while *any* field has a problem, so the reporter would learn about them only on a second try;
 * with these options the refinement runs as soon as the `fields` it reads are valid.
 * @example z.object({ ... }).superRefine(checkNaming, whenValid('repositoryName', 'template'))
 */
export function whenValid(...fields: string[]): { when: (payload: z.core.ParsePayload) => boolean } {
  return { when: (payload) => !payload.issues.some((issue) => fields.includes(String(issue.path?.[0] ?? ''))) };
}

/**
 * True for values that look like credentials (known token prefixes, JWTs, long random strings). deflect never
 * quotes such a value back in a comment; `reset-ci-token` also rejects them as token names.
 */
export function looksLikeSecret(value: string): boolean {
  if (/^(gh[pousr]_|github_pat_|glpat-|xox[abpr]-|AKIA[0-9A-Z]{12}|sk_live_|eyJ[A-Za-z0-9_-]{10,}\.)/.test(value)) return true;
  // Random strings have long runs mixing letters and digits; names (`DEPLOY_TOKEN_2`) are split by separators.
  return (value.match(/[A-Za-z0-9]{24,}/g) ?? []).some((run) => /[0-9]/.test(run) && /[A-Za-z]/.test(run));
}

/** One field of a handler's form, as the description form and the Slack modal show it (ticket fields excluded). */
export interface FormField {
  /** The schema key (`githubUser`); its form label is {@link formLabelFor} of it. */
  key: string;
  label: string;
  /** The field's `.describe()` text, or null. */
  description: string | null;
  /** `enum`: one of `options`; `boolean`: yes / no; otherwise free text. */
  kind: 'text' | 'enum' | 'boolean';
  options: string[] | null;
  /** The schema's default (as text), or null. */
  defaultValue: string | null;
  /** The schema accepts the field left out (optional or defaulted). */
  optional: boolean;
}

/** The form fields of `schema` in schema order, without {@link TICKET_FIELDS} (those come from the ticket itself). */
export function formFieldsOf(schema: z.ZodType): FormField[] {
  const ticketFields: readonly string[] = TICKET_FIELDS;
  return Object.entries(objectShapeOf(schema) ?? {})
    .filter(([key]) => !ticketFields.includes(key))
    .map(([key, field]) => {
      const info = fieldInfo(field);
      const boolean = layersOf(field).some((layer) => layer instanceof z.ZodBoolean);
      return {
        key,
        label: formLabelFor(key),
        description: info.description ?? null,
        kind: info.options ? 'enum' : boolean ? 'boolean' : 'text',
        options: info.options ?? null,
        defaultValue: info.defaultValue === undefined ? null : String(info.defaultValue),
        optional: info.optional,
      };
    });
}

/**
 * The description form for `values` (schema key → text): one `Label: value` line per non-empty value, in the order
 * given, which {@link readDescriptionForm} reads back to the same keys and values (the Slack front door files it).
 * Line breaks inside a value become spaces (the form is one pair per line).
 */
export function writeDescriptionForm(values: ReadonlyArray<[key: string, value: string]>): string[] {
  return values
    .map(([key, value]) => [key, value.replace(/\s*\r?\n\s*/g, ' ').trim()] as const)
    .filter(([, value]) => value !== '')
    .map(([key, value]) => `${formLabelFor(key)}: ${value}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Schema introspection. zod 4 keeps `.describe()` text on the exact instance it was called on, so
// `z.string().describe('x').optional()` has it on the inner schema: walk wrappers until one has it.

interface SchemaDef {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  defaultValue?: unknown;
}

/** The schema itself, then the schemas it wraps (optional, default, nullable, pipe/preprocess, ...), outermost first. */
function layersOf(schema: z.ZodType): z.ZodType[] {
  const layers: z.ZodType[] = [];
  const queue = [schema];
  while (queue.length > 0 && layers.length < 20) {
    const layer = queue.shift() as z.ZodType;
    layers.push(layer);
    const def = layer.def as unknown as SchemaDef;
    if (def.innerType) queue.push(def.innerType);
    if (def.type === 'pipe' && def.in && def.out) queue.push(def.in, def.out);
  }
  return layers;
}

function objectShapeOf(schema: z.ZodType): Record<string, z.ZodType> | null {
  const object = layersOf(schema).find((layer) => layer instanceof z.ZodObject);
  return object ? (object as z.ZodObject).shape : null;
}

/** What the reporter needs to know about one field: its help text, options, default and whether it may be left out. */
function fieldInfo(field: z.ZodType | undefined) {
  const layers = field ? layersOf(field) : [];
  const description = layers.map((layer) => layer.description).find((text) => text);
  const enumLayer = layers.find((layer) => layer instanceof z.ZodEnum) as z.ZodEnum | undefined;
  const defaultLayer = layers.find((layer) => layer.def.type === 'default');
  const defaultValue = defaultLayer ? (defaultLayer.def as unknown as SchemaDef).defaultValue : undefined;
  const optional = field ? field.safeParse(undefined).success : false;
  return { description, options: enumLayer?.options.map(String), defaultValue, optional };
}

// ---------------------------------------------------------------------------------------------------------------
// Problems and the comment to the reporter.

/** An {@link InputProblem} plus its text for the comment, where the quoted value is literal text. */
interface ProblemText extends InputProblem {
  markdown: Markdown;
}

function problemsFrom(issues: z.core.$ZodIssue[], raw: Record<string, unknown>): ProblemText[] {
  const byField = new Map<string, Array<{ message: string; markdown: Markdown }>>();
  for (const issue of issues) {
    const field = issue.path.length > 0 ? String(issue.path[0]) : '';
    const parts = byField.get(field) ?? [];
    const part = describeIssue(issue, field === '' ? undefined : raw[field], field !== '' && !(field in raw));
    if (!parts.some((known) => known.message === part.message)) parts.push(part);
    byField.set(field, parts);
  }
  return [...byField].map(([field, parts]) => ({
    field,
    message: parts.map((part) => part.message).join('; '),
    markdown: md.join(parts.map((part) => part.markdown), '; '),
  }));
}

/**
 * One issue as text for logs and the run summary (`message`) and for the comment (`markdown`): there the quoted
 * value is literal text in a code span, and the reason (a zod or schema message written by the handler's author)
 * is literal except its `` `code` `` spans.
 */
function describeIssue(issue: z.core.$ZodIssue, value: unknown, missing: boolean): { message: string; markdown: Markdown } {
  if (missing && issue.code === 'invalid_type') return { message: 'is missing', markdown: md`is missing` };
  let reason = issue.message;
  if (issue.code === 'invalid_value' && issue.values.length > 0) {
    reason = `must be one of ${issue.values.map((option) => `\`${String(option)}\``).join(', ')}`;
  } else if (issue.code === 'invalid_type') {
    reason = `must be ${issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}`;
  }
  if (missing) return { message: reason, markdown: md.codeSpans(reason) };
  const quoted = quoteValue(value);
  return {
    message: `${quoted.code ? `\`${quoted.text}\`` : quoted.text} is not valid: ${reason}`,
    markdown: md`${quoted.code ? md`\`${quoted.text}\`` : quoted.text} is not valid: ${md.codeSpans(reason)}`,
  };
}

/** The value as quoted back to the reporter: one line, at most 60 characters, never a secret. */
function quoteValue(value: unknown): { text: string; code: boolean } {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  if (looksLikeSecret(text)) return { text: '(value not repeated here: it looks like a secret)', code: false };
  const shown = text.replace(/`/g, "'").replace(/\s+/g, ' ');
  return { text: shown.length > 60 ? `${shown.slice(0, 57)}...` : shown, code: true };
}

/**
 * The comment to the reporter. Everything taken from the ticket (reporter name, values, the pre-filled form) is
 * interpolated with `md`, so it is literal text in the ADF sent to Jira, never a link or markup.
 */
function writeProblemComment(
  ticket: Ticket,
  shape: Record<string, z.ZodType> | null,
  raw: Record<string, unknown>,
  problems: ProblemText[],
): Markdown {
  const greeting = ticket.reporter ? md`Hi ${ticket.reporter},` : md`Hi,`;
  const lines: Markdown[] = [
    md`${greeting} this request can't be handled automatically yet: the ticket description is missing details or has values that are not valid.`,
    md``,
    md`**What to fix**`,
    md``,
  ];
  for (const problem of problems) {
    const { description } = fieldInfo(shape?.[problem.field]);
    lines.push(md`- **${formLabelFor(problem.field)}** ${problem.markdown}${description ? md` — ${md.codeSpans(description)}` : md`.`}`);
  }
  const form = shape ? exampleForm(shape, raw, new Set(problems.map((problem) => problem.field))) : [];
  if (form.length > 0) {
    lines.push(
      md``,
      md`**How to fix it:** edit the ticket description so it contains these lines (one per line, fill in the blanks; fields marked optional can be left out) and save. If the request is not picked up again, remove its label and add it back.`,
      md``,
      md`\`\`\``,
      // Each line is a value: text a reporter typed (even a line with ```) cannot end the code block early.
      ...form.map((line) => md`${line}`),
      md`\`\`\``,
    );
  }
  return md.join(lines);
}

/**
 * The copy-paste form: one `Label (hint): value` line per schema key (ticket fields excluded). Values the reporter
 * already gave correctly are kept, otherwise the default (if any) is filled in. The hint in parentheses is ignored
 * when the form is read back.
 */
function exampleForm(shape: Record<string, z.ZodType>, raw: Record<string, unknown>, wrong: Set<string>): string[] {
  const ticketFields: readonly string[] = TICKET_FIELDS;
  return Object.entries(shape)
    .filter(([key]) => !ticketFields.includes(key))
    .map(([key, field]) => {
      const info = fieldInfo(field);
      const hints = [info.optional && !wrong.has(key) ? 'optional' : '', info.options ? info.options.join(' / ') : ''].filter(Boolean);
      const given = raw[key];
      const value = !wrong.has(key) && typeof given === 'string' ? given : info.defaultValue ?? '';
      const label = `${formLabelFor(key)}${hints.length > 0 ? ` (${hints.join(', ')})` : ''}`;
      return `${label}: ${String(value)}`.trimEnd();
    });
}

/** Normalises keys for matching form labels to schema keys: lower case, letters and digits only. */
function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}
