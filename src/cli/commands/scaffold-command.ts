import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { commandDescription } from '../command-manifest.js';
import { cliConfig, openReadDatabase } from '../cli-database.js';
import { PACKAGE_ROOT } from '../../db/client.js';
import { scaffoldHandler, type ScaffoldPlan } from '../../scaffold/write-scaffold.js';

interface ScaffoldCommandOptions {
  name?: string;
  label?: string;
  rules?: string;
  dir: string;
  dryRun?: boolean;
  force?: boolean;
}

/**
 * `deflect scaffold <type>`: from a request type (or a label group) to an automation. Writes `handlers/<name>.ts` (a skeleton whose input is
 * inferred from the description forms of the type's tickets, all variants), lists it in `handlers/index.ts`, appends a rule to the rules file,
 * and writes a test whose fixtures are the group's real tickets. `--dry-run` prints it all and writes nothing.
 */
export function registerScaffoldCommand(program: Command): void {
  program
    .command('scaffold')
    .argument('<type>', 'a request type (its id type:…, its name, or a part of it only one type has) or a label group (label:… or the label)')
    .description(commandDescription('scaffold'))
    .option('--name <kebab-name>', 'handler name (default: derived from the type name or label)')
    .option('--label <label>', "label the rule routes (default: the group's dominant label, else the handler name)")
    .option('--rules <file>', 'rules file to append the rule to, created when missing (default: DEFLECT_RULES or ./rules.yaml)')
    .option('--dir <project root>', 'project root holding handlers/ and test/', PACKAGE_ROOT)
    .option('--dry-run', 'print every file it would write and the rule; write nothing')
    .option('--force', 'overwrite an existing handler (and its test and fixtures)')
    .action(async (group: string, options: ScaffoldCommandOptions) => {
      const config = cliConfig();
      const db = await openReadDatabase(config);
      let plan: ScaffoldPlan;
      try {
        plan = await scaffoldHandler(db, {
          group,
          name: options.name,
          label: options.label,
          rulesPath: options.rules ?? config.rulesPath ?? './rules.yaml',
          dir: options.dir,
          force: options.force ?? false,
          dryRun: options.dryRun ?? false,
        });
      } finally {
        await db.close();
      }
      console.log(options.dryRun ? describeDryRun(plan) : describeWritten(plan));
    });
}

/** A path relative to the project root (project files) or to the working directory (the rules file). */
function shown(plan: ScaffoldPlan, path: string): string {
  const base = path.startsWith(`${plan.dir}/`) ? plan.dir : process.cwd();
  const rel = relative(base, path);
  return rel.startsWith('..') ? resolve(path) : rel;
}

function headline(plan: ScaffoldPlan): string[] {
  const { spec } = plan;
  const input = spec.fields.map((f) => `${f.key} (${f.required ? 'required' : 'optional'}, in ${f.count} of ${f.total} tickets)`);
  return [
    `handler ${spec.name} from ${spec.group.id} "${spec.group.name}" (${spec.group.size} tickets), routed by label ${spec.label}`,
    `input: ${input.length > 0 ? input.join(', ') : 'none found in the description forms'}`,
    ...(spec.group.variants.length > 0
      ? [`variants: ${spec.group.variants.slice(0, 5).map((v) => `"${v.template}" (${v.count})`).join(', ')}${spec.group.variants.length > 5 ? `, and ${spec.group.variants.length - 5} more` : ''}`]
      : []),
  ];
}

/** The files in the order people read them: the handler, the registry, the rule, then the test and its fixtures. */
function inReadingOrder(plan: ScaffoldPlan) {
  const order = ['handler', 'index', 'rules', 'test', 'fixtures'];
  return [...plan.files].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
}

function fixturesLine(plan: ScaffoldPlan): string {
  const { keys, accepted } = plan.fixtures;
  return `${keys.length} tickets, ${accepted} accepted by the input and ${keys.length - accepted} refused: ${keys.join(', ')}`;
}

function describeWritten(plan: ScaffoldPlan): string {
  const [first, ...rest] = headline(plan);
  const lines = [`scaffolded ${first}`, ...rest];
  for (const file of inReadingOrder(plan)) {
    const path = shown(plan, file.path);
    if (file.kind === 'rules') {
      lines.push(file.action === 'unchanged' ? `  kept     ${path} (the rule is there already)` : `  ${file.action === 'create' ? 'created ' : 'appended'} ${path}: rule ${plan.spec.name}, labels [${plan.spec.label}] → handler ${plan.spec.name}`);
    } else {
      const verb = { create: 'created ', overwrite: 'replaced', update: 'updated ', unchanged: 'kept    ' }[file.action];
      lines.push(`  ${verb} ${path}${file.kind === 'fixtures' ? `: ${fixturesLine(plan)}` : ''}`);
    }
  }
  lines.push(...plan.notes.map((note) => `note: ${note}`), '', ...nextSteps(plan));
  return lines.join('\n');
}

function describeDryRun(plan: ScaffoldPlan): string {
  const [first, ...rest] = headline(plan);
  const lines = [`dry run: nothing written. Would scaffold ${first}`, ...rest, ''];
  for (const file of inReadingOrder(plan)) {
    const path = shown(plan, file.path);
    if (file.kind === 'fixtures') {
      lines.push(`--- ${path} (${file.action}): ${fixturesLine(plan)}`, '');
    } else if (file.kind === 'rules') {
      lines.push(
        file.action === 'unchanged'
          ? `--- ${path}: unchanged, the rule is there already`
          : file.action === 'create'
            ? `--- ${path} (create):\n${file.content}`
            : `--- ${path} (append under rules:):\n${plan.ruleBlock}`,
      );
    } else {
      lines.push(`--- ${path} (${file.action})${file.action === 'unchanged' ? '' : `:\n${file.content}`}`);
    }
  }
  lines.push(...plan.notes.map((note) => `note: ${note}`));
  return lines.join('\n');
}

function nextSteps(plan: ScaffoldPlan): string[] {
  const { spec } = plan;
  return [
    'next steps:',
    `  Until its TODO is filled the handler claims nothing: it comments "not automated yet" and leaves tickets open.`,
    `  1. Fill in the TODO in handlers/${spec.name}.ts: the real call through ctx.integrations wrapped in ctx.act, then ctx.tracker.comment and ctx.tracker.resolve; tighten the input schema (handlers/README.md).`,
    `  2. Run its test, then all of them: npx vitest run test/handlers/${spec.name}.test.ts && npm test (npm run dev reloads the running service on save)`,
    `  3. In Jira, have these requests carry the label ${spec.label} (request form, template or an Automation rule) so new tickets route to ${spec.name}.`,
    '  4. Replay a real payload against a running deflect: deflect replay <payload.json> (--fresh-id for one already received).',
    `  Review test/fixtures/handlers/${spec.name}/tickets.json before committing: it holds real ticket text.`,
  ];
}
