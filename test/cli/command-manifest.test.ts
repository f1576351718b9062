/**
 * The command manifest (src/cli/command-manifest.ts) that lets `deflect --help` start without loading any command
 * module stays true: each entry's module registers a command of that name with exactly that description, and every
 * command module under src/cli/commands/ that registers a top-level command is in the manifest.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/command-manifest.js';
import { REPO_ROOT } from '../support/deflect-under-test.js';
import { runCli } from '../support/run-cli.js';

describe('the command manifest', () => {
  it.each(COMMANDS.map((c) => [c.name, c] as const))('%s: its module registers it with the manifest description', async (name, entry) => {
    const program = new Command();
    (await entry.load())(program);
    const command = program.commands.find((c) => c.name() === name);
    expect(command, `${name} is registered by its module`).toBeDefined();
    if (name !== 'group') expect(command!.description()).toBe(entry.description);
  });

  it('lists every module that registers a top-level command', () => {
    const dir = join(REPO_ROOT, 'src/cli/commands');
    const registered = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/\bprogram\s*\.command\('([a-z-]+)'\)/g)].map((m) => m[1]));
    expect(new Set(COMMANDS.map((c) => c.name))).toEqual(new Set(registered));
  });

  it('deflect --help lists every command with its description, and a command\'s own help is its module\'s', async () => {
    const root = await runCli(['--help'], {});
    expect(root.code).toBe(0);
    for (const c of COMMANDS) expect(root.stdout).toMatch(new RegExp(`^  ${c.name}\\b`, 'm'));
    const own = await runCli(['explain', '--help'], {});
    expect(own.code).toBe(0);
    expect(own.stdout).toContain('Usage: deflect explain [options] <key>');
  });
});
