/**
 * The documented way to add a handler works as written: in a temp copy of the project (src, handlers, test support,
 * package.json, tsconfig, vitest config, migrations, examples; node_modules symlinked), this test follows the four
 * steps of `handlers/README.md` using the code blocks printed there (`handlers/<name>.ts`, the `handlers/index.ts`
 * lines, the `rules.yaml` entry, the test file), then runs, with vitest in a child process (bounded: 150 s, 360 s on PostgreSQL), the part
 * of the suite a new handler can break: its own test and every test of the handler registry, the rules, the scaffold
 * and the hostile-text check (which runs every registered handler, the new one included, against hostile input).
 * The child suite runs on this pass's backend (`DEFLECT_TEST_BACKEND` and the test server passed on: test-backend.ts);
 * vitest.config.ts runs this file in the first pass only, since the PostgreSQL pass runs those suites itself.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlers } from '../../handlers/index.js';
import { parseRulesConfig } from '../../src/rules/rules-file.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const README = readFileSync(join(REPO_ROOT, 'handlers/README.md'), 'utf8');

/** The code block whose info string names `path` (```ts handlers/x.ts); throws when the README has none. */
function block(path: string): string {
  const match = new RegExp('```\\w+ ' + path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&') + '\\n([\\s\\S]*?)```').exec(README);
  if (!match) throw new Error(`handlers/README.md has no code block for ${path}`);
  return match[1];
}

/** The pass's backend for the child vitest: `DEFLECT_TEST_BACKEND`, and on PostgreSQL the test server it uses. */
function backendEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['DEFLECT_TEST_BACKEND', 'DEFLECT_TEST_DATABASE_URL']) if (process.env[name]) env[name] = process.env[name]!;
  return env;
}

/** The child vitest's bound: its suite takes about 2.5 min on PostgreSQL on a 2-core machine (35 s on SQLite). */
const CHILD_TIMEOUT_MS = process.env.DEFLECT_TEST_BACKEND === 'postgres' ? 360_000 : 150_000;

let project: string;
/** The test folders run in the copy (everything a new handler takes part in). */
const SUITE = ['test/handlers', 'test/rules', 'test/scaffold', 'test/automation'];

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'deflect-add-handler-'));
  for (const path of ['src', 'handlers', 'migrations', 'migrations-postgres', 'examples', 'test/support', 'package.json', 'tsconfig.json', 'vitest.config.ts']) {
    cpSync(join(REPO_ROOT, path), join(project, path), { recursive: true });
  }
  for (const dir of SUITE) cpSync(join(REPO_ROOT, dir), join(project, dir), { recursive: true });
  // Not this walkthrough itself (it would copy the project again).
  rmSync(join(project, 'test/handlers/add-handler-walkthrough.test.ts'));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(project, 'node_modules'));
});

afterAll(() => {
  // Unlink the symlink first so removing the temp copy can never reach this repository's node_modules.
  if (project && existsSync(join(project, 'node_modules'))) unlinkSync(join(project, 'node_modules'));
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('adding a handler the way handlers/README.md says', () => {
  it('takes four steps, and the new handler test and the handler, rules, scaffold and automation suites pass', () => {
    const handlerFile = /```ts (handlers\/([a-z0-9-]+)\.ts)\n/.exec(README);
    expect(handlerFile, 'step 1 names the handler file').not.toBeNull();
    const [, handlerPath, name] = handlerFile!;
    expect(handlers.map((h) => h.name)).not.toContain(name); // the walkthrough adds a handler the project does not ship

    // 1. Write the handler.
    writeFileSync(join(project, handlerPath), block(handlerPath));

    // 2. List it in handlers/index.ts: the import line and the list entry the README shows, in file-name order.
    const shown = block('handlers/index.ts');
    const importLine = /^import (\w+) from '\.\/([a-z0-9-]+)\.js';$/m.exec(shown);
    expect(importLine?.[2]).toBe(name);
    const identifier = importLine![1];
    const indexPath = join(project, 'handlers/index.ts');
    let index = readFileSync(indexPath, 'utf8');
    const imports = [...index.matchAll(/^import (\w+) from '\.\/([a-z0-9-]+)\.js';\n/gm)];
    const after = imports.filter((m) => m[2] < name).at(-1) ?? imports[0];
    const at = after.index! + (after[2] < name ? after[0].length : 0);
    index = `${index.slice(0, at)}${importLine![0]}\n${index.slice(at)}`;
    const list = /(export const handlers: AnyHandler\[\] = \[)([^\]]*)(\])/.exec(index)!;
    const entries = list[2].split(',').map((e) => e.trim()).filter(Boolean);
    const fileOf = new Map(imports.map((m) => [m[1], m[2]]));
    const position = entries.findIndex((e) => (fileOf.get(e) ?? e) > name);
    entries.splice(position < 0 ? entries.length : position, 0, identifier);
    index = index.replace(list[0], `${list[1]}${entries.join(', ')}${list[3]}`);
    writeFileSync(indexPath, index);
    expect(shown).toContain(`${identifier}, `); // the README shows the identifier in the list too

    // 3. Route a label to it: `cp examples/rules.yaml rules.yaml`, then the rule goes under `rules:`, after the last rule.
    expect(README).toContain('cp examples/rules.yaml rules.yaml');
    const rulesPath = join(project, 'rules.yaml');
    const rulesText = readFileSync(join(project, 'examples/rules.yaml'), 'utf8');
    const lastHandlerLine = [...rulesText.matchAll(/^ {4}handler: [a-z0-9-]+\n/gm)].at(-1)!;
    const end = lastHandlerLine.index! + lastHandlerLine[0].length;
    const updated = `${rulesText.slice(0, end)}\n${block('rules.yaml')}${rulesText.slice(end)}`;
    writeFileSync(rulesPath, updated);
    const rules = parseRulesConfig(updated, rulesPath, [...handlers.map((h) => h.name), name]);
    expect(rules.rules.at(-1)?.handler).toBe(name);

    // 4. Test it: the README's test, run with the suites a handler takes part in.
    const testPath = `test/handlers/${name}.test.ts`;
    writeFileSync(join(project, testPath), block(testPath));
    const vitest = spawnSync(
      process.execPath,
      [join(REPO_ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--root', project, ...SUITE],
      { cwd: project, env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...backendEnv() }, encoding: 'utf8', timeout: CHILD_TIMEOUT_MS },
    );
    const output = vitest.stdout + vitest.stderr;
    expect(vitest.status, output).toBe(0);
    expect(output).toMatch(new RegExp(`${name}\\.test\\.ts \\(\\d+ tests?\\)`));
    expect(output).toMatch(/handlers\.test\.ts \(\d+ tests\)/);
    expect(output).toMatch(/hostile-text\.test\.ts \(\d+ tests?\)/);
    expect(output).toMatch(/scaffold\.test\.ts \(\d+ tests?\)/);
    expect(output).not.toMatch(/\bfailed\b/);
  }, CHILD_TIMEOUT_MS + 30_000);
});
