/**
 * `deflect scaffold`: from a group of real tickets to a handler, its registry entry, a rule and a test. Runs in a temp
 * project (a copy of handlers/, `src` and `node_modules` symlinked to this repo) against a seeded database of the pass's backend (test-backend.ts), and
 * finally runs the generated tests (and the registry test) with vitest and type-checks the generated files with tsc.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlers as shippedHandlers } from '../../handlers/index.js';
import type { AnyHandler } from '../../src/automation/define-handler.js';
import { parseTicketInput } from '../../src/automation/ticket-input.js';
import type { Store } from '../../src/db/store.js';
import { regroupTickets } from '../../src/reports/regroup.js';
import { parseRulesConfig } from '../../src/rules/rules-file.js';
import { addToHandlerIndex, appendRuleText, deriveHandlerName, selectFixtureTickets, type ScaffoldSpec } from '../../src/scaffold/scaffold-handler.js';
import { planScaffold, resolveGroup, scaffoldHandler } from '../../src/scaffold/write-scaffold.js';
import type { Ticket } from '../../src/ticket.js';
import { freshDatabase, type TestDatabase } from '../support/test-backend.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const SECRET = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';

let day = 0;
function ticket(n: number, summary: string, description: string | null, labels: string[] = []): Ticket {
  day++;
  return {
    id: String(20_000 + n),
    key: `PLAT-${n}`,
    project: 'PLAT',
    issueType: 'Task',
    status: 'To Do',
    labels,
    summary,
    description,
    reporter: ['Sam Okafor', 'Lena Fischer', 'Ada Mensah'][n % 3],
    reporterId: `5b10a2844c20165700ede${n}`,
    created: Date.UTC(2025, 3, 1) + day * 86_400_000,
    updated: Date.UTC(2025, 3, 1) + day * 86_400_000 + 3_600_000,
    resolved: null,
    siteUrl: 'https://acme.atlassian.net',
  };
}

/** 10 feedstock token resets: Feedstock in 9 (required), Channel in 6 (optional), Reason in 3 (left out). */
const FEEDSTOCKS = ['sweet-chem', 'tiny-lib', 'geo-kit', 'bio-utils', 'numpy-lite', 'pandas-mini', 'astro-py', 'sci-io', 'hydro-flux', 'ml-core'];
const feedstockTickets = FEEDSTOCKS.map((name, i) => {
  const n = 101 + i;
  const lines = [`Hi, the upload token for ${name}-feedstock is rejected (403) since this morning.`, ''];
  if (n !== 105) lines.push(i % 2 ? `*Feedstock*: {{${name}-feedstock}}` : `| Feedstock | ${name}-feedstock |`);
  if (i < 6) lines.push(`* Channel: ${i % 2 ? 'conda-forge' : 'bioconda'}`);
  if (i % 3 === 0) lines.push(`Reason: ${i ? 'expired' : 'leaked in a build log'}`);
  if (n === 110) lines.push(`Old token: ${SECRET}`);
  const summary = i % 3 === 0 ? `Reset ${name} feedstock token` : i % 3 === 1 ? `Reset the ${name} feedstock token` : `reset ${name} feedstock upload token`;
  return ticket(n, summary, lines.join('\n'), i < 7 ? ['feedstock-token'] : []);
});
const otherTickets = [
  ...['lfischer', 'sokafor', 'amensah', 'mode'].map((user, i) => ticket(121 + i, `VPN access for ${user}`, `Email: ${user}@example.com\nTeam: payments`, i < 3 ? ['vpn'] : [])),
  ticket(131, 'Add DNS A record for grafana.acme.io', 'Points at the new load balancer.'),
  ticket(132, 'Add DNS A record for status.acme.io', null),
  ticket(133, 'Add DNS A record for docs.acme.io', 'Needed for the docs migration.'),
  ticket(141, 'Kafka topic for payments events', null),
  ticket(142, 'Upgrade node pool to 1.29', null),
];

/** The shipped handlers' names: read from the registry, never hard-coded (adding a handler must not break this file). */
const SHIPPED = shippedHandlers.map((h) => h.name);

/**
 * The registry file's handler list as file names, in list order (each identifier mapped back through its import line).
 * @throws Error when the file has no `handlers` list.
 */
function registryFiles(indexText: string): string[] {
  const fileOf = new Map([...indexText.matchAll(/^import (\w+) from '\.\/([a-z0-9-]+)\.js';$/gm)].map((m) => [m[1], m[2]]));
  const list = /export const handlers: AnyHandler\[\] = \[([^\]]*)\]/.exec(indexText);
  if (!list) throw new Error('no handlers list in handlers/index.ts');
  return list[1].split(',').map((e) => e.trim()).filter(Boolean).map((e) => fileOf.get(e) ?? `?${e}`);
}

/** A string as a literal RegExp source. */
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let project: string;
let database: TestDatabase;
let rulesPath: string;
let store: Store;

/** Every file under `dir` (not following the src/node_modules symlinks) with its content. */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (sub: string) => {
    for (const entry of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const rel = join(sub, entry.name);
      if (entry.isSymbolicLink()) continue;
      if (entry.isDirectory()) walk(rel);
      else files.set(rel, readFileSync(join(dir, rel), 'utf8'));
    }
  };
  walk('');
  return files;
}

const deflect = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: project,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...database.env },
    encoding: 'utf8',
  });

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'deflect-scaffold-'));
  mkdirSync(join(project, 'handlers'));
  const index = readFileSync(join(REPO_ROOT, 'handlers/index.ts'), 'utf8');
  writeFileSync(join(project, 'handlers/index.ts'), index);
  for (const [, file] of index.matchAll(/from '\.\/([a-z0-9-]+)\.js'/g)) copyFileSync(join(REPO_ROOT, 'handlers', `${file}.ts`), join(project, 'handlers', `${file}.ts`));
  symlinkSync(join(REPO_ROOT, 'src'), join(project, 'src'));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(project, 'node_modules'));
  writeFileSync(join(project, 'package.json'), '{ "private": true, "type": "module" }\n');
  rulesPath = join(project, 'rules.yaml');
  copyFileSync(join(REPO_ROOT, 'examples/rules.yaml'), rulesPath);
  database = await freshDatabase('deflect-scaffold-db-');
  store = await database.open();
  await store.upsertTickets([...feedstockTickets, ...otherTickets].map((t) => ({ ticket: t })), 'import');
  await regroupTickets(store);
});

afterAll(() => {
  // Unlink the symlinks first so removing the temp project can never reach this repository.
  for (const link of ['src', 'node_modules']) if (project && existsSync(join(project, link))) unlinkSync(join(project, link));
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('deflect scaffold', () => {
  it('finds a request type by id, name or a unique part of its name or variants, a label group by label, and lists the closest groups otherwise', async () => {
    const feedstock = await resolveGroup(store, 'feedstock');
    expect(feedstock.group).toMatchObject({ kind: 'type', size: 10, dominantLabel: 'feedstock-token' });
    expect(feedstock.group.id).toMatch(/^type:[0-9a-f]{12}$/);
    // All the type's wordings: its variants' tickets are its members.
    expect(feedstock.group.variants.length).toBeGreaterThanOrEqual(2);
    expect(feedstock.group.variants.reduce((n, v) => n + v.count, 0)).toBe(10);
    expect(feedstock.members.map((t) => t.key).sort()).toEqual(feedstockTickets.map((t) => t.key).sort());
    expect((await resolveGroup(store, feedstock.group.id)).group.id).toBe(feedstock.group.id);
    expect((await resolveGroup(store, feedstock.group.name)).group.id).toBe(feedstock.group.id);
    // The name without its "…" names the type too.
    expect(feedstock.group.name).toContain('…');
    expect((await resolveGroup(store, feedstock.group.name.replace(/…/g, ' '))).group.id).toBe(feedstock.group.id);
    expect((await resolveGroup(store, 'VPN')).group).toMatchObject({ id: 'label:vpn', kind: 'label', size: 3 });
    expect((await resolveGroup(store, 'label:VPN')).group.id).toBe('label:vpn');
    const vpnType = (await resolveGroup(store, 'vpn access for')).group;
    const dnsType = (await resolveGroup(store, 'dns a record')).group;
    await expect(resolveGroup(store, ' for ')).rejects.toThrow(
      `"for" matches 2 request types:\n  ${vpnType.id}     4 tickets  ${vpnType.name}\n  ${dnsType.id}     3 tickets  ${dnsType.name}\nPass the type id, or more of its name.`,
    );
    await expect(resolveGroup(store, 'type:000000000000')).rejects.toThrow(new RegExp(`no group "type:000000000000". Closest groups:\\n {2}${feedstock.group.id} +10 tickets {2}${escape(feedstock.group.name)}\\n`));
  });

  it('writes the handler, registry entry, rule, fixtures and test from the group (exported function)', async () => {
    const before = readFileSync(rulesPath, 'utf8');
    const type = (await resolveGroup(store, 'feedstock')).group;
    const plan = await scaffoldHandler(store, { group: 'feedstock', name: 'reset-feedstock-token', rulesPath, dir: project });
    expect(plan.spec.name).toBe('reset-feedstock-token');
    expect(plan.spec.label).toBe('feedstock-token');
    expect(plan.spec.fields.map((f) => [f.key, f.required, f.count, f.total])).toEqual([
      ['feedstock', true, 9, 10],
      ['channel', false, 6, 10],
    ]);
    expect(plan.fixtures).toMatchObject({ accepted: 9, redacted: 1 });

    const source = readFileSync(join(project, 'handlers/reset-feedstock-token.ts'), 'utf8');
    expect(source).toContain("feedstock: z.string().describe('Feedstock, for example `sweet-chem-feedstock`.'),");
    expect(source).toContain("channel: z.string().optional().describe('Channel, for example `bioconda`. Optional.'),");
    expect(source).not.toMatch(/reason/i);
    expect(source).toContain("name: 'reset-feedstock-token',");
    expect(source).toContain(`description: 'Handles "${type.name}" requests (10 tickets in the group when scaffolded). Not automated yet: comments the request for a person and leaves the ticket open.',`);
    expect(source).toContain('// TODO: automate it here');
    expect(source).toContain('return ctx.notApplied(');
    const code = source.split('\n').filter((line) => !/^\s*(\/\/|\*|\/\*\*)/.test(line)).join('\n');
    expect(code).not.toMatch(/ctx\.(tracker\.resolve|jira\.transition)\(/); // only the TODO comment shows how to resolve
    expect(source).not.toMatch(/handled automatically/i);

    const index = readFileSync(join(project, 'handlers/index.ts'), 'utf8');
    expect(index).toContain("import resetFeedstockToken from './reset-feedstock-token.js';\n");
    expect(registryFiles(index)).toEqual([...SHIPPED, 'reset-feedstock-token'].sort());

    const rules = readFileSync(rulesPath, 'utf8');
    expect(rules.startsWith(before.slice(0, before.indexOf('\n# Minutes')))).toBe(true);
    expect(rules).toContain(`  # From group ${type.id} "${type.name}" (10 tickets), by deflect scaffold\n  - name: reset-feedstock-token\n    labels: [feedstock-token]\n    handler: reset-feedstock-token\n`);
    expect(rules.endsWith(before.slice(before.indexOf('\n# Minutes')))).toBe(true);
    const config = parseRulesConfig(rules, rulesPath, [...SHIPPED, 'reset-feedstock-token']);
    const rulesBefore = parseRulesConfig(before, rulesPath, SHIPPED).rules.length;
    expect(config.rules.at(-1)).toMatchObject({ name: 'reset-feedstock-token', labels: ['feedstock-token'], handler: 'reset-feedstock-token', index: rulesBefore + 1 });
    expect(config.estimates.defaultMinutes).toBe(15);

    const fixtureText = readFileSync(join(project, 'test/fixtures/handlers/reset-feedstock-token/tickets.json'), 'utf8');
    const fixtures = JSON.parse(fixtureText) as Ticket[];
    expect(fixtures.map((t) => t.key)).toEqual(feedstockTickets.map((t) => t.key));
    expect(fixtures[0]).toMatchObject({ key: 'PLAT-101', project: 'PLAT', issueType: 'Task', status: 'To Do', labels: ['feedstock-token'], reporter: 'Ada Mensah' });
    expect(fixtures[0].created).toBe(feedstockTickets[0].created);
    expect(fixtureText).not.toContain(SECRET);
    expect(fixtureText).toContain('Old token: <redacted>');
    expect(existsSync(join(project, 'test/handlers/reset-feedstock-token.test.ts'))).toBe(true);

    const handler = ((await import(pathToFileURL(join(project, 'handlers/reset-feedstock-token.ts')).href)) as { default: AnyHandler }).default;
    expect(handler.name).toBe('reset-feedstock-token');
    expect(parseTicketInput(feedstockTickets[0], handler.input)).toEqual({ ok: true, input: { feedstock: 'sweet-chem-feedstock', channel: 'bioconda' } });
    const refused = parseTicketInput(feedstockTickets[4], handler.input);
    expect(refused.ok || refused.problems).toEqual([{ field: 'feedstock', message: 'is missing' }]);
  });

  it('refuses an existing handler name without --force, and with it rewrites the files without a second rule or import', async () => {
    await expect(planScaffold(store, { group: 'feedstock', name: 'reset-feedstock-token', rulesPath, dir: project })).rejects.toThrow(
      'handler "reset-feedstock-token" already exists (handlers/reset-feedstock-token.ts, test/handlers/reset-feedstock-token.test.ts, ' +
        'test/fixtures/handlers/reset-feedstock-token/tickets.json): pass --force to overwrite, or --name to choose another name',
    );
    const derived = deriveHandlerName((await resolveGroup(store, 'feedstock')).group.name);
    writeFileSync(join(project, 'handlers', `${derived}.ts`), '// taken\n');
    await expect(planScaffold(store, { group: 'feedstock', rulesPath, dir: project })).rejects.toThrow(`(it was derived from the request type)`);
    unlinkSync(join(project, 'handlers', `${derived}.ts`));
    await expect(planScaffold(store, { group: 'feedstock', name: SHIPPED[0], rulesPath, dir: project })).rejects.toThrow(`"${SHIPPED[0]}" already exists`);
    await expect(planScaffold(store, { group: 'feedstock', name: 'index', rulesPath, dir: project })).rejects.toThrow(/invalid handler name "index"/);
    await expect(planScaffold(store, { group: 'feedstock', name: 'Reset_Token', rulesPath, dir: project })).rejects.toThrow(/must|kebab-case/);

    const before = snapshot(project);
    const plan = await scaffoldHandler(store, { group: 'feedstock', name: 'reset-feedstock-token', rulesPath, dir: project, force: true });
    expect(plan.files.map((f) => [f.kind, f.action])).toEqual([
      ['fixtures', 'overwrite'],
      ['test', 'overwrite'],
      ['handler', 'overwrite'],
      ['index', 'unchanged'],
      ['rules', 'unchanged'],
    ]);
    expect(plan.notes).toContain(`${rulesPath} already routes label feedstock-token to reset-feedstock-token: rule not appended again`);
    expect(snapshot(project)).toEqual(before);
  });

  it('runs from the CLI with --dir, on a label group, and prints what it wrote and the next steps', () => {
    const result = deflect('scaffold', 'label:vpn', '--name', 'vpn-access', '--rules', rulesPath, '--dir', project);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('scaffolded handler vpn-access from label:vpn "vpn" (3 tickets), routed by label vpn');
    expect(result.stdout).toContain('input: email (required, in 3 of 3 tickets), team (required, in 3 of 3 tickets)');
    expect(result.stdout).toMatch(/ {2}created {2}handlers\/vpn-access\.ts\n {2}updated {2}handlers\/index\.ts\n {2}appended rules\.yaml: rule vpn-access, labels \[vpn\] → handler vpn-access\n/);
    expect(result.stdout).toContain('created  test/fixtures/handlers/vpn-access/tickets.json: 3 tickets, 3 accepted by the input and 0 refused: PLAT-121, PLAT-122, PLAT-123');
    expect(result.stdout).toContain('next steps:');
    expect(result.stdout).toContain('npx vitest run test/handlers/vpn-access.test.ts');
    expect(result.stdout).toContain('have these requests carry the label vpn');
    expect(result.stdout).toContain('deflect replay <payload.json>');

    const index = readFileSync(join(project, 'handlers/index.ts'), 'utf8');
    expect(registryFiles(index)).toEqual([...SHIPPED, 'reset-feedstock-token', 'vpn-access'].sort());
    const example = parseRulesConfig(readFileSync(join(REPO_ROOT, 'examples/rules.yaml'), 'utf8'), 'examples/rules.yaml', SHIPPED);
    const config = parseRulesConfig(readFileSync(rulesPath, 'utf8'), rulesPath, [...SHIPPED, 'reset-feedstock-token', 'vpn-access']);
    expect(config.rules.map((r) => r.handler)).toEqual([...example.rules.map((r) => r.handler), 'reset-feedstock-token', 'vpn-access']);
  });

  it('--dry-run prints every file and the rule, and writes nothing', async () => {
    const before = snapshot(project);
    const result = deflect('scaffold', 'dns a record', '--name', 'add-dns-record', '--rules', rulesPath, '--dir', project, '--dry-run');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^dry run: nothing written\. Would scaffold handler add-dns-record from type:\w+ ".+" \(3 tickets\), routed by label add-dns-record\n/);
    expect(result.stdout).toMatch(/\nvariants: ".*DNS A record for <url>" \(3\)\n/);
    expect(result.stdout).toContain('--- handlers/add-dns-record.ts (create):\n/**');
    expect(result.stdout).toContain("const input = z.object({});");
    expect(result.stdout).toContain('--- handlers/index.ts (update):');
    expect(result.stdout).toContain('--- rules.yaml (append under rules:):\n# From group type:');
    expect(result.stdout).toContain('- name: add-dns-record\n  labels: [add-dns-record]\n  handler: add-dns-record\n');
    expect(result.stdout).toContain('--- test/handlers/add-dns-record.test.ts (create):');
    expect(result.stdout).toContain('--- test/fixtures/handlers/add-dns-record/tickets.json (create): 3 tickets');
    expect(result.stdout).toContain('note: no description-form field is given in 80% of the tickets');
    expect(snapshot(project)).toEqual(before);

    const plan = await scaffoldHandler(store, { group: 'dns a record', name: 'add-dns-record', rulesPath, dir: project, dryRun: true });
    expect(plan.files.find((f) => f.kind === 'handler')?.action).toBe('create');
    expect(snapshot(project)).toEqual(before);
  });

  it('says which groups are closest when the group is unknown', async () => {
    const result = deflect('scaffold', 'kubernetes token upgrade', '--rules', rulesPath, '--dir', project);
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines[0]).toBe('deflect: no group "kubernetes token upgrade". Closest groups:');
    const feedstock = (await resolveGroup(store, 'feedstock')).group;
    expect(lines[1]).toMatch(new RegExp(`^ {2}${feedstock.id} +10 tickets {2}${escape(feedstock.name)}$`));
    expect(lines.slice(1, -1)).toHaveLength(5);
    expect(lines.at(-1)).toBe('Pass a request type (its id type:…, its name or a part of it) or a label group (label:… or the label).');
  });

  it('generated tests pass and generated files type-check, and the registry test still passes', () => {
    mkdirSync(join(project, 'test/handlers'), { recursive: true });
    copyFileSync(join(REPO_ROOT, 'test/handlers/handlers.test.ts'), join(project, 'test/handlers/handlers.test.ts'));
    mkdirSync(join(project, 'test/support'), { recursive: true });
    copyFileSync(join(REPO_ROOT, 'test/support/ticket-fixture.ts'), join(project, 'test/support/ticket-fixture.ts'));
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' };
    const vitest = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--root', project, 'test/handlers'], {
      cwd: project,
      env,
      encoding: 'utf8',
    });
    const output = vitest.stdout + vitest.stderr;
    expect(vitest.status, output).toBe(0);
    expect(output).toMatch(/reset-feedstock-token\.test\.ts \(4 tests\)/);
    expect(output).toMatch(/vpn-access\.test\.ts \(5 tests\)/);
    expect(output).toMatch(/handlers\.test\.ts/);

    const compilerOptions = { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, esModuleInterop: true, skipLibCheck: true, noEmit: true, types: ['node'] };
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['handlers', 'test'] }));
    const tsc = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(project, 'tsconfig.json')], { cwd: project, env, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  }, 180_000);
});

describe('scaffold builders', () => {
  const spec: ScaffoldSpec = {
    name: 'rotate-db-password',
    label: 'db-password',
    group: { id: 'type:0123456789ab', kind: 'type', name: 'Rotate … db password', size: 4, dominantLabel: null, variants: [{ template: 'Rotate <*> db password', count: 4 }] },
    fields: [],
  };
  const known = ['grant-repo-access', 'rotate-db-password'];

  it('derives kebab-case names from the non-placeholder words of a template or label', () => {
    expect(deriveHandlerName('Reset <*> feedstock token')).toBe('reset-feedstock-token');
    expect(deriveHandlerName('<*> DNS A record for <url>')).toBe('dns-record');
    expect(deriveHandlerName('Please grant <*> write access to the <repo> repository now')).toBe('grant-write-access-repository');
    expect(deriveHandlerName('Créer un dépôt')).toBe('creer-un-depot');
    expect(deriveHandlerName('token-reset')).toBe('token-reset');
    expect(deriveHandlerName('<*> <url>')).toBe('new-handler');
  });

  it('takes fixtures from every variant of a type before a second ticket of any one variant', () => {
    const wordings = new Map(feedstockTickets.map((t, i) => [t.key, i < 7 ? 'variant:a' : 'variant:b']));
    const chosen = selectFixtureTickets(feedstockTickets, () => true, 3, (t) => wordings.get(t.key) ?? null);
    // The newest wording (b) first, then a, then b again.
    expect(chosen.map((t) => t.key)).toEqual(['PLAT-107', 'PLAT-109', 'PLAT-110']);
    expect(new Set(chosen.map((t) => wordings.get(t.key)))).toEqual(new Set(['variant:a', 'variant:b']));
    // Without variants: the three most recent, all of wording b.
    expect(selectFixtureTickets(feedstockTickets, () => true, 3).map((t) => t.key)).toEqual(['PLAT-108', 'PLAT-109', 'PLAT-110']);
  });

  it('adds to a multi-line registry in file-name order', () => {
    const index = "import type { AnyHandler } from '../src/automation/define-handler.js';\nimport a from './a.js';\nimport z1 from './z1.js';\n\nexport const handlers: AnyHandler[] = [\n  a,\n  z1,\n];\n";
    expect(addToHandlerIndex(index, 'm-handler')).toBe(
      "import type { AnyHandler } from '../src/automation/define-handler.js';\nimport a from './a.js';\nimport mHandler from './m-handler.js';\nimport z1 from './z1.js';\n\nexport const handlers: AnyHandler[] = [\n  a,\n  mHandler,\n  z1,\n];\n",
    );
    expect(() => addToHandlerIndex('export default [];\n', 'x')).toThrow(/expected shape/);
  });

  it('appends a rule to any usable rules file, keeping what is there, and the result parses', () => {
    for (const text of ['', '# rules for deflect\n', 'rules: []\n', 'rules:\nestimates:\n  defaultMinutes: 5\n', 'estimates:\n  defaultMinutes: 5', 'rules:\n- labels: x\n  handler: grant-repo-access  # keep me\n']) {
      const updated = appendRuleText(text, spec);
      for (const line of text.split('\n').filter((l) => l.trim() && l !== 'rules: []')) expect(updated, text).toContain(line);
      const rules = parseRulesConfig(updated, 'rules.yaml', known).rules;
      expect(rules.at(-1), text).toMatchObject({ name: 'rotate-db-password', labels: ['db-password'], handler: 'rotate-db-password' });
    }
    expect(appendRuleText('rules:\n- labels: x\n  handler: grant-repo-access  # keep me\n', spec)).toBe(
      'rules:\n- labels: x\n  handler: grant-repo-access  # keep me\n\n# From group type:0123456789ab "Rotate … db password" (4 tickets), by deflect scaffold\n- name: rotate-db-password\n  labels: [db-password]\n  handler: rotate-db-password\n',
    );
    expect(() => appendRuleText('rules: [{labels: x, handler: y}]\n', spec)).toThrow(/not a block list/);
  });
});
