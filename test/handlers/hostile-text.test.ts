/**
 * Text from tickets is data, not markup, in every comment deflect writes.
 *
 * Every handler in the registry (`handlers/index.ts`, not a hard-coded list) gets hostile strings through each field
 * it reads: the reporter's display name, the summary and each field of its input schema (a description form line).
 * Each case is a signed webhook to the real server (on the pass's backend: test-backend.ts), which runs the handler against the fake Jira (a real HTTP
 * server), without a GitHub token and with the fake GitHub. On the ADF bodies Jira received, the test asserts:
 * - no node or mark that makes a link, mention, card or image out of ticket text (`link` marks only with hrefs the
 *   handler built itself, never a hostile host or a `javascript:` URL; no `inlineCard`, `mention`, `media*`, `emoji`);
 * - the hostile text is still there as literal text wherever the same field shows a harmless marker in a control
 *   run (nothing silently dropped), in full or in the documented quoted form (one line, 57 characters + `...`).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handlers } from '../../handlers/index.js';
import type { AnyHandler } from '../../src/automation/define-handler.js';
import { formLabelFor, looksLikeSecret, parseTicketInput, TICKET_FIELDS } from '../../src/automation/ticket-input.js';
import { adfToText } from '../../src/jira/adf-to-text.js';
import { MAX_VALUE_CHARS } from '../../src/jira/comment-markdown.js';
import type { AdfNode } from '../../src/jira/jira-actions.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { startFakeJira, type FakeJira } from '../support/fake-jira.js';
import { freshDir, postWebhook, startDeflect, waitFor, type DeflectUnderTest } from '../support/deflect-under-test.js';
import { onPostgres } from '../support/test-backend.js';
import { ticketWith } from '../support/ticket-fixture.js';

const EVIL = 'evil.example';
/** One line each, so they also fit in a description form line. */
const ONE_LINE = [
  `[click](https://${EVIL}/a)`,
  `<https://${EVIL}/b>`,
  `see https://${EVIL}/c now`,
  `![img](https://${EVIL}/d.png)`,
  `<a href="https://${EVIL}/f">x</a> <script>alert(1)</script>`,
  '[js](javascript:alert(1))',
  `<adf>{"type":"inlineCard","attrs":{"url":"https://${EVIL}/g"}}</adf>`,
  '{"type":"mention","attrs":{"id":"5b10a2844c20165700ede21g","text":"@admin"}}',
  '@admin [~accountid:5b10a2844c20165700ede21g] @here',
  '{{issue.reporter.emailAddress}} ${secrets.TOKEN}',
  'x `tick` ``double`` y',
  `mail evil@${EVIL} or www.${EVIL}/h`,
  '**bold** _em_ ~~strike~~ | table | cell | :smile: &lt;b&gt; &amp;',
  `abc\u202Eexe.gpj\u202C and \u2066iso\u2069 ${'\u200B'}zw`,
];
/** Hostile only where a field can hold several lines (display name, summary). */
const MULTI_LINE = [
  `[text][ref]\n\n[ref]: https://${EVIL}/e`,
  'line\n# heading\n- [ ] task\n> quote\n\n---\n1. one',
  '```\ncode fence\n```',
  `${'A'.repeat(MAX_VALUE_CHARS + 3000)} https://${EVIL}/long`,
];
const MARKER = 'zzmarkerzz';

// ----------------------------------------------------------------------------------------------------------------
// A valid form for any handler, built from its schema: each field's `.describe()` examples in backticks, tried in
// order until the field parses (the handlers README asks for an example in every description).

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
}
function layers(schema: z.ZodType): z.ZodType[] {
  const out: z.ZodType[] = [];
  const queue = [schema];
  while (queue.length > 0 && out.length < 20) {
    const layer = queue.shift()!;
    out.push(layer);
    const def = layer.def as unknown as Def;
    if (def.innerType) queue.push(def.innerType);
    if (def.type === 'pipe' && def.in && def.out) queue.push(def.in, def.out);
  }
  return out;
}
const shapeOf = (schema: z.ZodType) => (layers(schema).find((layer) => layer instanceof z.ZodObject) as z.ZodObject).shape as Record<string, z.ZodType>;
const formKeys = (handler: AnyHandler) => Object.keys(shapeOf(handler.input)).filter((key) => !(TICKET_FIELDS as readonly string[]).includes(key));

/** The form lines of a valid request: `full` also fills optional fields that have an example. */
function validForm(handler: AnyHandler, full: boolean): Record<string, string> {
  const shape = shapeOf(handler.input);
  const form: Record<string, string> = {};
  const describe = (form: Record<string, string>) => Object.entries(form).map(([key, value]) => `${formLabelFor(key)}: ${value}`).join('\n');
  for (const key of formKeys(handler)) {
    const field = shape[key];
    if (!full && field.safeParse(undefined).success) continue;
    const help = layers(field).map((layer) => layer.description).find(Boolean) ?? '';
    // `for example \`acme/api\`` first: other code spans in the help may be placeholders such as `org/name`.
    const examples = [...help.matchAll(/for example `([^`]+)`/g), ...help.matchAll(/`([^`]+)`/g)].map((match) => match[1]);
    const fits = examples.find((example) => {
      const parsed = parseTicketInput(ticketWith(describe({ ...form, [key]: example })), handler.input);
      return parsed.ok || !parsed.problems.some((problem) => problem.field === key);
    });
    if (fits !== undefined) form[key] = fits;
  }
  const parsed = parseTicketInput(ticketWith(describe(form)), handler.input);
  if (!parsed.ok) throw new Error(`${handler.name}: no valid form from the .describe() examples (${String(parsed.comment)}): give each field an example in backticks`);
  return form;
}

// ----------------------------------------------------------------------------------------------------------------
// Cases and the webhook payload for each.

interface Case {
  key: string;
  handler: AnyHandler;
  point: string;
  value: string;
  control: boolean;
  displayName: string;
  summary: string;
  description: string;
}

let nextKey = 1;
type Variant = 'full form' | 'required fields only' | 'empty form';

function casesFor(handler: AnyHandler, variant: Variant): Case[] {
  const full = variant === 'full form';
  const base = variant === 'empty form' ? {} : validForm(handler, full);
  const cases: Case[] = [];
  const add = (point: string, value: string, control: boolean) => {
    const form = { ...base };
    if (point.startsWith('form:')) form[point.slice(5)] = value;
    cases.push({
      key: `HOST-${nextKey++}`,
      handler,
      point: `${point} (${variant})`,
      value,
      control,
      displayName: point === 'reporter' ? value : 'Jane Doe',
      summary: point === 'summary' ? value : 'Please help',
      description: ['Hi platform team,', '', ...Object.entries(form).map(([k, v]) => `${formLabelFor(k)}: ${v}`)].join('\n'),
    });
  };
  // The other forms change which paths ticket fields take: no GitHub user names the reporter; an empty form gets
  // the comment asking the reporter for the fields (which greets them by name).
  for (const point of ['reporter', 'summary', ...(full ? formKeys(handler).map((key) => `form:${key}`) : [])]) {
    add(point, MARKER, true);
    for (const value of point.startsWith('form:') ? ONE_LINE : [...ONE_LINE, ...MULTI_LINE]) add(point, value, false);
  }
  return cases;
}

function payloadFor(c: Case, id: number) {
  return {
    timestamp: Date.now(),
    webhookEvent: 'jira:issue_created',
    issue_event_type_name: 'issue_created',
    user: { accountId: 'someone-else', displayName: c.displayName },
    issue: {
      id: String(20000 + id),
      key: c.key,
      self: `https://acme-example.atlassian.net/rest/api/2/issue/${20000 + id}`,
      fields: {
        issuetype: { id: '10002', name: 'Task' },
        project: { id: '10000', key: 'HOST', name: 'Hostile' },
        summary: c.summary,
        description: c.description,
        labels: [`hostile-${c.handler.name}`],
        status: { name: 'To Do', id: '10000' },
        reporter: { accountId: '712020:reporter', displayName: c.displayName },
        created: '2026-11-21T09:00:00.000+0100',
        updated: '2026-11-21T09:00:00.000+0100',
      },
    },
  };
}

// ----------------------------------------------------------------------------------------------------------------
// What a comment may contain.

function allNodes(nodes: AdfNode[]): AdfNode[] {
  return nodes.flatMap((node) => [node, ...allNodes(node.content ?? [])]);
}
const FORBIDDEN_NODES = new Set(['inlineCard', 'blockCard', 'embedCard', 'mention', 'media', 'mediaSingle', 'mediaGroup', 'mediaInline', 'emoji']);

/** Problems of one comment body: forbidden nodes, links to hostile or non-http targets. */
function unsafeParts(body: { content: AdfNode[] }): string[] {
  const problems: string[] = [];
  for (const node of allNodes(body.content)) {
    if (FORBIDDEN_NODES.has(node.type)) problems.push(`${node.type} node ${JSON.stringify(node.attrs ?? {})}`);
    for (const mark of node.marks ?? []) {
      if (mark.type !== 'link') continue;
      const href = String(mark.attrs?.href ?? '');
      if (href.includes(EVIL) || !/^https?:\/\//.test(href) || node.text?.includes(EVIL)) problems.push(`link ${href} on "${node.text}"`);
    }
  }
  return problems;
}

/** Comment text as a reader sees it, with `[U+202E]`-style markers read back and whitespace collapsed. */
function readable(body: unknown): string {
  return adfToText(body)
    .replace(/\[U\+([0-9A-F]{4,6})\]/g, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/\s+/g, ' ');
}

/** True when `text` shows `value`: in full, cut at the value limit, as a quoted form value, or withheld as a secret. */
function shows(text: string, value: string): boolean {
  const flat = value.replace(/\s+/g, ' ').trim();
  if (text.includes(flat)) return true;
  if (value.length > MAX_VALUE_CHARS && text.includes(value.slice(0, MAX_VALUE_CHARS).replace(/\s+/g, ' ').trim())) return true;
  const quoted = flat.replace(/`/g, "'");
  if (text.includes(quoted.length > 60 ? `${quoted.slice(0, 57)}...` : quoted)) return true;
  return looksLikeSecret(value) && text.includes('it looks like a secret');
}

// ----------------------------------------------------------------------------------------------------------------

describe.each([
  { mode: 'without a GitHub token', withGitHub: false },
  { mode: 'with GitHub', withGitHub: true },
])('hostile ticket text through every handler, $mode', ({ withGitHub }) => {
  let jira: FakeJira;
  let github: FakeGitHub | undefined;
  let deflect: DeflectUnderTest;
  // The empty-form path (the comment asking for the fields) does not depend on GitHub: run it once.
  const variants: Variant[] = withGitHub ? ['full form', 'required fields only'] : ['full form', 'required fields only', 'empty form'];
  const cases = handlers.flatMap((handler) => variants.flatMap((variant) => casesFor(handler, variant)));

  // SQLite only: PostgreSQL's fsyncs are its server's (the test server's settings).
  const shmDir = !onPostgres && existsSync('/dev/shm') ? mkdtempSync('/dev/shm/deflect-hostile-') : null;

  beforeAll(async () => {
    jira = await startFakeJira();
    github = withGitHub ? await startFakeGitHub() : undefined;
    const dir = freshDir('deflect-hostile-');
    mkdirSync(dir, { recursive: true });
    const rules = join(dir, 'rules.yaml');
    // Handlers whose options have a required field get them here (answer-with-runbook needs a runbook file).
    mkdirSync(join(dir, 'runbooks'), { recursive: true });
    writeFileSync(join(dir, 'runbooks', 'hostile.md'), '# Runbook\n\nSteps written by the platform team.\n');
    const withOf = (name: string) => (name === 'answer-with-runbook' ? '    with: { runbook: runbooks/hostile.md }\n' : '');
    writeFileSync(rules, `rules:\n${handlers.map((h) => `  - name: hostile-${h.name}\n    labels: [hostile-${h.name}]\n    handler: ${h.name}\n${withOf(h.name)}`).join('')}`);
    for (const c of cases) jira.seedIssue({ key: c.key });
    deflect = await startDeflect({
      fakeJira: jira,
      env: {
        // On SQLite a real file on tmpfs where there is one, since each of the ~900 runs fsyncs several times (so
        // `deflect.database` is not this file: the test reads through the server's own Store, `deflect.db`).
        ...(shmDir ? { DEFLECT_DB: join(shmDir, 'deflect.db') } : {}),
        DEFLECT_RULES: rules,
        DEFLECT_CONCURRENCY: '8',
        DEFLECT_RETRY_BASE_MS: '20',
        DEFLECT_MAX_ATTEMPTS: '2',
        DEFLECT_PAUSE_AFTER_FAILURES: '0', // failed runs are expected with GitHub (name taken); never pause a handler here
        // Every case is filed by the same reporter, so each resolved ticket counts as re-filed by the next one
        // (verified resolution): never demote a handler to shadow here.
        DEFLECT_VERIFY_DEMOTE_BELOW: 'off',
        ...(github ? { GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url } : {}),
      },
    });
    for (let start = 0; start < cases.length; start += 16) {
      const batch = cases.slice(start, start + 16);
      const answers = await Promise.all(batch.map((c, i) => postWebhook(deflect.url, payloadFor(c, start + i))));
      answers.forEach((answer, i) => expect(answer.status, batch[i].key).toBe(200));
    }
    const counts = async () => {
      const { byStatus } = await deflect.db.countRuns();
      const total = Object.values(byStatus).reduce((sum, n) => sum + n, 0);
      return { total, pending: (byStatus.queued ?? 0) + (byStatus.running ?? 0), byStatus };
    };
    await waitFor('every hostile run to finish', async () => {
      const { total, pending } = await counts();
      return total === cases.length && pending === 0;
    }, 60_000).catch(async (error: unknown) => {
      const errors = [...new Set((await deflect.db.listRuns({ limit: cases.length * 2 })).map((r) => r.error).filter(Boolean))].slice(0, 5);
      throw new Error(`${String(error)}: ${cases.length} cases, runs ${JSON.stringify((await counts()).byStatus)}, errors ${JSON.stringify(errors)}`);
    });
  }, 120_000);
  afterAll(async () => {
    await deflect?.close(1000);
    await jira?.close();
    await github?.close();
    if (shmDir) rmSync(shmDir, { recursive: true, force: true });
  });

  it('runs every case to an outcome, and comments on each ticket', async () => {
    const statuses = (await deflect.db.listRuns({ limit: cases.length * 2 })).map((run) => ({ key: run.ticketKey, status: run.status, error: run.error }));
    expect(statuses).toHaveLength(cases.length);
    // With GitHub, a run may fail because GitHub refused it (a repository name already taken: 422; an organization
    // that does not exist: 404): those fail before commenting. Nothing else may fail.
    const refusedByGitHub = (error: string | null) => /^GitHub \S+ \S+ → (404|422)/.test(error ?? '');
    const unexpected = statuses.filter((run) => !['succeeded', 'skipped'].includes(run.status) && !(withGitHub && refusedByGitHub(run.error)));
    expect(unexpected).toEqual([]);
    const commented = cases.filter((c) => jira.commentsFor(c.key).length > 0);
    expect(commented.length).toBeGreaterThan(cases.length * 0.8);
  });

  it('no comment makes a link, mention, card or image out of ticket text', () => {
    const found = cases.flatMap((c) => jira.commentsFor(c.key).flatMap((comment) => unsafeParts(comment.body as { content: AdfNode[] }).map((p) => `${c.key} ${c.handler.name} ${c.point}: ${p}`)));
    expect(found).toEqual([]);
    // The check can fail: the handlers' own links (md.link) are there and pass it.
    if (withGitHub) expect(cases.some((c) => jira.commentsFor(c.key).some((comment) => JSON.stringify(comment.body).includes('"type":"link"')))).toBe(true);
  });

  it('shows hostile text literally wherever the same field shows a harmless marker', () => {
    const shownPoints = new Set(
      cases.filter((c) => c.control && jira.commentsFor(c.key).some((comment) => readable(comment.body).includes(MARKER))).map((c) => `${c.handler.name} ${c.point}`),
    );
    expect(shownPoints.size).toBeGreaterThan(0);
    const missing = cases
      .filter((c) => !c.control && shownPoints.has(`${c.handler.name} ${c.point}`) && jira.commentsFor(c.key).length > 0)
      .filter((c) => !jira.commentsFor(c.key).some((comment) => shows(readable(comment.body), c.value)))
      .map((c) => `${c.key} ${c.handler.name} ${c.point}: ${JSON.stringify(c.value.slice(0, 80))} not in ${JSON.stringify(jira.commentsFor(c.key).map((comment) => readable(comment.body).slice(0, 300)))}`);
    expect(missing).toEqual([]);
  });
});
