/**
 * The compiled code the bench runs, as production runs it (`npm start` → `node bin/deflect.js serve`, compiled by
 * `npm ci`'s `prepare` step): tsx adds ~55 MB of RSS and a slower start to every process it loads, which would skew
 * the memory and CLI figures. Once per bench run, the current sources (src/, handlers/, and bench/servers/ so the
 * ceiling and peer run compiled too) are compiled with the project's tsconfig.build.json into a private temp folder
 * laid out like the package (dist/, bin/, links to node_modules, migrations and src for static files); the
 * repository's own dist/ is never touched. If compiling fails, or with BENCH_SERVE=tsx, everything runs through tsx
 * and the table says so.
 */
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runNode, tempDir, tsNode, REPO_ROOT } from './processes.js';

export interface Launcher {
  /** `node` arguments for `deflect <args>`. */
  deflect(...args: string[]): string[];
  /** `node` arguments for a bench/servers script by base name, e.g. `ceiling-server`. */
  server(name: string): string[];
  /** How the code runs, for the table. */
  how: string;
  compiled: boolean;
}

const tsxLauncher = (why: string): Launcher => ({
  deflect: (...args) => tsNode('src/cli/main.ts', ...args),
  server: (name) => tsNode(`bench/servers/${name}.ts`),
  how: `tsx on the sources (${why})`,
  compiled: false,
});

let pending: Promise<Launcher> | null = null;

/** The launcher for this bench run (compiles on first call). */
export function launcher(): Promise<Launcher> {
  pending ??= build();
  return pending;
}

async function build(): Promise<Launcher> {
  if (process.env.BENCH_SERVE === 'tsx') return tsxLauncher('BENCH_SERVE=tsx');
  const tmp = tempDir('build-');
  process.once('exit', () => rmSync(tmp.path, { recursive: true, force: true }));
  const root = join(tmp.path, 'package');
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync(join(REPO_ROOT, 'package.json'), join(root, 'package.json'));
  copyFileSync(join(REPO_ROOT, 'bin/deflect.js'), join(root, 'bin/deflect.js'));
  for (const name of ['node_modules', 'migrations', 'migrations-postgres', 'src', 'examples']) symlinkSync(join(REPO_ROOT, name), join(root, name));
  const tsconfig = join(tmp.path, 'tsconfig.bench.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(REPO_ROOT, 'tsconfig.build.json'),
      compilerOptions: { rootDir: REPO_ROOT, outDir: join(root, 'dist'), sourceMap: false, typeRoots: [join(REPO_ROOT, 'node_modules/@types')] },
      include: ['src', 'handlers', 'bench/servers'].map((dir) => join(REPO_ROOT, dir)),
    }),
  );
  const started = performance.now();
  const tsc = await runNode([join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], { PATH: process.env.PATH ?? '' }, 300_000);
  const seconds = (performance.now() - started) / 1000;
  // tsc emits even with type errors (someone may be mid-edit); what matters is that the entry points were emitted.
  const main = join(root, 'dist/src/cli/main.js');
  if (!existsSync(main) || !existsSync(join(root, 'dist/bench/servers/ceiling-server.js'))) {
    return tsxLauncher(`compiling failed: ${tsc.stdout.split('\n')[0] ?? ''}`.slice(0, 120));
  }
  return {
    deflect: (...args) => [join(root, 'bin/deflect.js'), ...args],
    server: (name) => [join(root, `dist/bench/servers/${name}.js`)],
    how: `compiled from the current sources by tsc in ${seconds.toFixed(0)} s${tsc.code ? ' (with type errors)' : ''}, run as bin/deflect.js like npm start`,
    compiled: true,
  };
}

/**
 * `node` arguments for `deflect serve`. With BENCH_CPU_PROF=<dir>, the server writes a V8 CPU profile there when it
 * exits gracefully (not after the SIGKILL that ends the ingest scenario).
 */
export const serveArgs = (l: Launcher): string[] => [
  ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${resolve(process.env.BENCH_CPU_PROF)}`] : []),
  ...l.deflect('serve', '--grace', '2000'),
];
